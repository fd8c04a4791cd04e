/*
 * lease.c: one replica's leases (lease.h).  Each lease has a timer; every
 * ttl/3 it sends one request, which takes the lease or renews it, and keeps
 * the answer: held (with the fencing token) until ttl after the request was
 * sent, or not held.  A request that fails leaves the lease held until that
 * deadline and is retried within a second.  Store requests cannot be
 * cancelled: each travels as a small op that lease_free() orphans, and the
 * set counts them so that a shutdown can wait for its releases.
 *
 * The owner id is hostname:pid:random:scope, where scope names the machine
 * boot and the pid namespace.  A lease refused because its holder has the
 * same scope and a pid that is gone (or is ours: an earlier life of this
 * replica, killed) is taken over at once instead of after its TTL, so a
 * watcher restarted after a crash polls again at once.
 */
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

#define LEASE_RETRY_MS		1000
#define LEASE_MIN_TTL_MS	30000
#define LEASE_MAX_TTL_MS	(10 * 60 * 1000)

struct leases {
	struct event_base	*base;
	struct store		*store;
	char			*owner;
	char			*scope;		/* "": unknown, never compared */
	int			 busy;		/* requests in flight */
};

struct lease_op {
	struct leases		*set;
	struct lease		*lease;		/* NULL once orphaned */
	int64_t			 sent;		/* mono ms */
};

struct lease {
	struct leases		*set;
	char			*name;
	int64_t			 ttl_ms;
	struct event		*timer;
	struct lease_op		*op;		/* take or renew in flight */
	int			 held;
	uint64_t		 token;
	int64_t			 deadline;	/* mono ms: held until */
	unsigned		 failures;	/* store errors in a row */
	char			*dead;		/* a gone holder to take over */
	lease_gained_cb		 gained;
	void			*arg;
};

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

static void
lease_arm(struct lease *l, int64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(l->timer, &tv);
}

static struct lease_op *
lease_op_new(struct leases *set, struct lease *l)
{
	struct lease_op	*op = xcalloc(1, sizeof *op);

	op->set = set;
	op->lease = l;
	op->sent = mono_ms();
	set->busy++;
	return (op);
}

/* The op's callback ran: its lease, or NULL if that was freed. */
static struct lease *
lease_op_done(struct lease_op *op)
{
	struct lease	*l = op->lease;

	op->set->busy--;
	if (l != NULL)
		l->op = NULL;
	free(op);
	return (l);
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

static void
lease_answer(int status, int granted, uint64_t token, const char *holder,
    const char *cause, void *arg)
{
	struct lease_op	*op = arg;
	int64_t		 sent = op->sent;
	struct lease	*l = lease_op_done(op);
	int		 was_held, takeover;

	if (l == NULL)
		return;
	was_held = lease_held(l, NULL);
	takeover = l->dead != NULL;
	free(l->dead);
	l->dead = NULL;
	if (status != STORE_OK) {
		/* Debug only: the store's own log tells of an outage once. */
		if (l->failures++ == 0) {
			log_debug("lease: store failed, will retry", "lease=%s "
			    "error=%s", log_q(l->name),
			    log_q(cause != NULL ? cause : "unknown"));
		}
		if (!was_held)
			lease_lost(l, "not renewed within its ttl");
		lease_arm(l, LEASE_RETRY_MS);
		return;
	}
	l->failures = 0;
	if (!granted) {
		lease_lost(l, "another replica holds it");
		if (holder != NULL && !takeover &&
		    leases_holder_dead(l->set, holder)) {
			log_info("lease held by a process of this machine that "
			    "is gone: taking it over", "lease=%s holder=%s",
			    log_q(l->name), log_q(holder));
			l->dead = xstrdup(holder);
			lease_arm(l, 0);
			return;
		}
		lease_arm(l, l->ttl_ms / 3);
		return;
	}
	l->held = 1;
	l->deadline = sent + l->ttl_ms;
	lease_arm(l, l->ttl_ms / 3);
	if (was_held && token == l->token)
		return;
	l->token = token;
	log_info("lease taken", "lease=%s token=%llu ttl_ms=%lld",
	    log_q(l->name), (unsigned long long)token, (long long)l->ttl_ms);
	if (l->gained != NULL)
		l->gained(l, token, l->arg);
}

static void
lease_timer(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct lease	*l = arg;
	struct store	*st = l->set->store;

	if (l->op != NULL)
		return;		/* its answer arms the timer */
	if (st->entry->lease == NULL) {
		/* A store without leases: the replica is alone. */
		l->held = 1;
		l->deadline = INT64_MAX;
		if (l->gained != NULL)
			l->gained(l, 0, l->arg);
		return;
	}
	l->op = lease_op_new(l->set, l);
	st->entry->lease(st, l->name, l->set->owner, l->dead, l->ttl_ms,
	    lease_answer, l->op);
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
	l->timer = evtimer_new(set->base, lease_timer, l);
	if (l->timer == NULL)
		fatalx("evtimer_new failed");
	lease_arm(l, 0);
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

static void
lease_released(__unused int status, __unused const char *cause, void *arg)
{
	lease_op_done(arg);
}

void
lease_free(struct lease *l)
{
	struct store	*st;

	if (l == NULL)
		return;
	st = l->set->store;
	/* Also when a take is in flight: it may be granted first. */
	if ((l->held || l->op != NULL) && st->entry->release != NULL) {
		st->entry->release(st, l->name, l->set->owner, lease_released,
		    lease_op_new(l->set, NULL));
	}
	if (l->op != NULL)
		l->op->lease = NULL;	/* its callback frees it */
	event_free(l->timer);
	free(l->dead);
	free(l->name);
	free(l);
}
