/*
 * lease.c: one replica's leases (lease.h).  A tick every second sends, in
 * one store request, every lease that is due: each is due again a third of
 * its TTL after its answer (a second after a failed request).  The answer
 * is kept: held, with the fencing token, until ttl after the request was
 * sent, or not held.  So a replica with many sources pays one store round
 * trip a second at most, never one per lease.  Store requests cannot be
 * cancelled: each travels as a small batch whose slot lease_free() clears,
 * and the set counts them so that a shutdown can wait for its releases.
 *
 * The owner id is hostname:pid:random:scope, where scope names the machine
 * boot and the pid namespace.  A lease refused because its holder has the
 * same scope and a pid that is gone (or is ours: an earlier life of this
 * replica, killed) is taken over at once instead of after its TTL, so a
 * watcher restarted after a crash polls again at once.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lease.h"
#include "store.h"

#define LEASE_TICK_MS		1000
#define LEASE_BATCH		500	/* leases per store request, at most */
#define LEASE_RETRY_MS		1000
#define LEASE_MIN_TTL_MS	30000
#define LEASE_MAX_TTL_MS	(10 * 60 * 1000)

TAILQ_HEAD(lease_list, lease);

struct leases {
	struct event_base	*base;
	struct store		*store;
	char			*owner;
	char			*scope;		/* "": unknown */
	int			 busy;		/* requests in flight */
	struct event		*tick;
	struct lease_list	 all;
};

/* One store request: its leases, NULL where freed meanwhile. */
struct lease_batch {
	struct leases		*set;
	struct lease		**slot;
	size_t			 n;
	int64_t			 sent;		/* mono ms */
};

struct lease {
	struct leases		*set;
	char			*name;
	int64_t			 ttl_ms;
	int64_t			 due;		/* mono ms: next request */
	struct lease_batch	*batch;		/* in flight, or NULL */
	size_t			 slot;
	int			 held;
	uint64_t		 token;
	int64_t			 deadline;	/* mono ms: held until */
	unsigned		 failures;	/* store errors in a row */
	char			*error;		/* the last one, until an answer */
	char			*dead;		/* a gone holder to take over */
	lease_gained_cb		 gained;
	void			*arg;
	TAILQ_ENTRY(lease)	 link;
};

static void	leases_tick(evutil_socket_t, short, void *);

/* The boot and pid namespace this process runs in, or "". */
static char *
leases_scope(void)
{
	char	 boot[64], ns[64], *scope;
	FILE	*f;
	ssize_t	 n;
	size_t	 i, j = 0;

	boot[0] = '\0';
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "r")) != NULL) {
		if (fgets(boot, sizeof boot, f) == NULL)
			boot[0] = '\0';
		fclose(f);
	}
	for (i = 0; boot[i] != '\0' && j < 8; i++) {
		if (isxdigit((unsigned char)boot[i]))
			boot[j++] = boot[i];
	}
	boot[j] = '\0';
	n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
	if (j == 0 || n <= 0)
		return (xstrdup(""));
	ns[n] = '\0';
	/* "pid:[4026531836]": keep the digits. */
	for (i = 0, j = 0; ns[i] != '\0'; i++) {
		if (isdigit((unsigned char)ns[i]))
			ns[j++] = ns[i];
	}
	ns[j] = '\0';
	xasprintf(&scope, "%s-%s", boot, ns);
	return (scope);
}

/*
 * Is holder (an owner id) a process of this machine and pid namespace that
 * is gone?  Only then may its lease be taken before it expires.
 */
static int
leases_holder_dead(const struct leases *set, const char *holder)
{
	const char	*colon[3], *p;	/* the last three ':' */
	char		*end;
	long		 pid;
	int		 n = 0;

	if (*set->scope == '\0')
		return (0);
	for (p = holder + strlen(holder); p > holder && n < 3; p--) {
		if (p[-1] == ':')
			colon[n++] = p - 1;
	}
	if (n < 3 || strcmp(colon[0] + 1, set->scope) != 0)
		return (0);
	errno = 0;
	pid = strtol(colon[2] + 1, &end, 10);
	if (errno != 0 || end != colon[1] || pid <= 0)
		return (0);
	if (pid == (long)getpid())
		return (1);	/* an earlier life: two cannot share a pid */
	return (kill((pid_t)pid, 0) == -1 && errno == ESRCH);
}

struct leases *
leases_create(struct event_base *base, struct store *store)
{
	struct leases	*set;
	char		 host[256], *p;

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	set = xcalloc(1, sizeof *set);
	set->base = base;
	set->store = store;
	set->scope = leases_scope();
	TAILQ_INIT(&set->all);
	set->tick = evtimer_new(base, leases_tick, set);
	if (set->tick == NULL)
		fatalx("evtimer_new failed");
	xasprintf(&set->owner, "%s:%ld:%08x:%s", host, (long)getpid(),
	    random32(), set->scope);
	/* Redis keeps "OWNER TOKEN"; ':' separates the owner's parts. */
	for (p = set->owner; p < set->owner + strlen(host); p++) {
		if (*p == ' ' || *p == ':')
			*p = '_';
	}
	log_info("replica owner id", "owner=%s", log_q(set->owner));
	return (set);
}

void
leases_free(struct leases *set)
{
	if (set == NULL)
		return;
	event_free(set->tick);
	free(set->owner);
	free(set->scope);
	free(set);
}

const char *
leases_owner(const struct leases *set)
{
	return (set->owner);
}

int
leases_busy(const struct leases *set)
{
	return (set != NULL && set->busy > 0);
}

int64_t
lease_ttl_for_interval(int64_t interval_ms)
{
	int64_t	 ttl = interval_ms * 3;

	if (ttl < LEASE_MIN_TTL_MS)
		ttl = LEASE_MIN_TTL_MS;
	if (ttl > LEASE_MAX_TTL_MS)
		ttl = LEASE_MAX_TTL_MS;
	return (ttl);
}

/* Send what is due now, from the loop. */
static void
leases_kick(struct leases *set)
{
	struct timeval	 now = { 0, 0 };

	evtimer_add(set->tick, &now);
}

static struct lease_batch *
lease_batch_new(struct leases *set, size_t size)
{
	struct lease_batch	*b = xcalloc(1, sizeof *b);

	b->set = set;
	b->slot = xcalloc(size + 1, sizeof *b->slot);
	b->sent = mono_ms();
	set->busy++;
	return (b);
}

static void
lease_batch_free(struct lease_batch *b)
{
	b->set->busy--;
	free(b->slot);
	free(b);
}

static void
lease_lost(struct lease *l, const char *why)
{
	if (!l->held)
		return;
	l->held = 0;
	log_warn("lease lost: this replica stops working on it", "lease=%s "
	    "token=%llu why=%s", log_q(l->name), (unsigned long long)l->token,
	    log_q(why));
}

/* One lease's answer: a is NULL when the request failed. */
static void
lease_answer(struct lease *l, const struct store_lease_answer *a,
    const char *cause, int64_t sent)
{
	int	 was_held, takeover;

	was_held = lease_held(l, NULL);
	takeover = l->dead != NULL;
	free(l->dead);
	l->dead = NULL;
	if (a == NULL) {
		free(l->error);
		l->error = xstrdup(cause != NULL ? cause : "store failed");
		/* Debug only: the store's own log tells of an outage once. */
		if (l->failures++ == 0) {
			log_debug("lease: store failed, will retry", "lease=%s "
			    "error=%s", log_q(l->name),
			    log_q(cause != NULL ? cause : "unknown"));
		}
		if (!was_held)
			lease_lost(l, "not renewed within its ttl");
		l->due = mono_ms() + LEASE_RETRY_MS;
		return;
	}
	l->failures = 0;
	free(l->error);
	l->error = NULL;
	l->due = mono_ms() + l->ttl_ms / 3;
	if (!a->granted) {
		lease_lost(l, "another replica holds it");
		if (a->holder != NULL && !takeover &&
		    leases_holder_dead(l->set, a->holder)) {
			log_info("lease held by a process of this machine that "
			    "is gone: taking it over", "lease=%s holder=%s",
			    log_q(l->name), log_q(a->holder));
			l->dead = xstrdup(a->holder);
			l->due = 0;
			leases_kick(l->set);
		}
		return;
	}
	l->held = 1;
	l->deadline = sent + l->ttl_ms;
	if (was_held && a->token == l->token)
		return;
	l->token = a->token;
	log_info("lease taken", "lease=%s token=%llu ttl_ms=%lld",
	    log_q(l->name), (unsigned long long)l->token,
	    (long long)l->ttl_ms);
	if (l->gained != NULL)
		l->gained(l, l->token, l->arg);	/* last: it may free l */
}

static void
lease_answers(int status, const struct store_lease_answer *a, size_t n,
    const char *cause, void *arg)
{
	struct lease_batch	*b = arg;
	struct lease		*l;
	size_t			 i;

	if (status == STORE_OK && n != b->n)
		cause = "the store answered for another number of leases";
	for (i = 0; i < b->n; i++) {
		if ((l = b->slot[i]) == NULL)
			continue;	/* freed meanwhile */
		l->batch = NULL;
		lease_answer(l, status == STORE_OK && n == b->n ? &a[i] : NULL,
		    cause, b->sent);
	}
	lease_batch_free(b);
}

static void
leases_send(struct leases *set, struct lease_batch *b,
    const struct store_lease_req *req)
{
	set->store->entry->lease(set->store, set->owner, req, b->n,
	    lease_answers, b);
}

static void
leases_tick(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct leases		*set = arg;
	struct lease		*l;
	struct lease_batch	*b = NULL;
	struct store_lease_req	*req;
	struct timeval		 tv = { LEASE_TICK_MS / 1000, 0 };
	int64_t			 now = mono_ms();

	req = xcalloc(LEASE_BATCH, sizeof *req);
	TAILQ_FOREACH(l, &set->all, link) {
		if (l->batch != NULL || l->due > now)
			continue;
		if (b == NULL)
			b = lease_batch_new(set, LEASE_BATCH);
		req[b->n].name = l->name;
		req[b->n].ttl_ms = l->ttl_ms;
		req[b->n].dead = l->dead;
		l->batch = b;
		l->slot = b->n;
		b->slot[b->n++] = l;
		if (b->n == LEASE_BATCH) {
			leases_send(set, b, req);
			b = NULL;
		}
	}
	if (b != NULL)
		leases_send(set, b, req);
	free(req);
	evtimer_add(set->tick, &tv);
}

struct lease *
lease_create(struct leases *set, const char *name, int64_t ttl_ms,
    lease_gained_cb gained, void *arg)
{
	struct lease	*l;

	l = xcalloc(1, sizeof *l);
	l->set = set;
	l->name = xstrdup(name);
	l->ttl_ms = ttl_ms > 0 ? ttl_ms : LEASE_MIN_TTL_MS;
	l->gained = gained;
	l->arg = arg;
	TAILQ_INSERT_TAIL(&set->all, l, link);
	leases_kick(set);
	return (l);
}

int
lease_held(const struct lease *l, uint64_t *token)
{
	if (!l->held || mono_ms() >= l->deadline)
		return (0);
	if (token != NULL)
		*token = l->token;
	return (1);
}

const char *
lease_name(const struct lease *l)
{
	return (l->name);
}

void
lease_recheck(struct lease *l)
{
	if (l == NULL)
		return;
	l->due = 0;
	leases_kick(l->set);
}

static void
lease_released(__unused int status, __unused const char *cause, void *arg)
{
	lease_batch_free(arg);
}

void
lease_free(struct lease *l)
{
	struct store	*st;

	if (l == NULL)
		return;
	st = l->set->store;
	/* Also when a take is in flight: it may be granted first. */
	if (l->held || l->batch != NULL) {
		st->entry->release(st, l->name, l->set->owner, lease_released,
		    lease_batch_new(l->set, 0));
	}
	if (l->batch != NULL)
		l->batch->slot[l->slot] = NULL;	/* its answer skips it */
	TAILQ_REMOVE(&l->set->all, l, link);
	free(l->dead);
	free(l->error);
	free(l->name);
	free(l);
}

const char *
lease_error(const struct lease *l)
{
	return (l->error);
}
