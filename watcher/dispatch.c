/*
 * dispatch.c: one dispatcher per sink (DESIGN §6).  It reads a batch of the
 * sink's unacked outbox entries, delivers them one at a time in outbox order,
 * acks each delivered one, and retries a failed one with backoff until it
 * succeeds, or dead-letters it (maxAttempts, maxAge, permanent failure).
 * After a batch it reads again at once; when the outbox is empty it re-reads
 * every couple of seconds, so that events committed by another replica, or
 * left pending, show up without a wake-up.
 *
 * It does one thing at a time: a read, a delivery, an ack or a dead-letter
 * is outstanding, or a timer is armed, never two.  Store operations cannot be
 * cancelled, so each outstanding operation travels as a small `dispatch_op`
 * that dispatch_free() orphans: its callback then frees it and stops.
 *
 * Under `run` (env->leases set), a dispatcher works only while its replica
 * holds the lease "sink:ID" (lease.h), so that replicas sharing a store do
 * not deliver the same entries twice or out of order; without it, it looks
 * again at every re-read, and the lease wakes it up when it is taken.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dispatch.h"
#include "lease.h"
#include "sink.h"
#include "store.h"

#define DISPATCH_BATCH		64
#define DISPATCH_REREAD_MS	2000
#define DISPATCH_BASE_MS	1000
#define DISPATCH_CAP_MS		(5 * 60 * 1000)
#define DISPATCH_RETRY_AFTER_MS	(60 * 60 * 1000)
#define DISPATCH_MAX_ATTEMPTS	20

/* One outstanding store or sink operation; d is NULL once orphaned. */
struct dispatch_op {
	struct dispatch	*d;
	int		 is_sink;
};

struct dispatch {
	struct env		*env;
	struct sink		*sink;
	const char		*id;		/* sink identifier */
	struct dispatch_opts	 opts;
	enum dispatch_state	 state;
	struct event		*timer;		/* re-read, retry or store wait */
	struct dispatch_op	*op;		/* what is outstanding */
	int			 wake;		/* events committed meanwhile */
	int			 stopping;	/* dispatch_stop() was called */
	struct lease		*lease;		/* NULL: no replicas */

	struct outbox_entry	*batch;		/* copies, owned */
	size_t			 n, next;

	/* The entry at batch[next], across re-reads. */
	char			*key;
	unsigned		 failures;
	char			*last_cause;

	unsigned		 store_failures;
	struct dispatch_counters counters;

	dispatch_notify_cb	 notify;
	void			*notify_arg;
};

static void	dispatch_read(struct dispatch *);
static void	dispatch_next(struct dispatch *);

static void
dispatch_defaults(struct dispatch_opts *o)
{
	if (o->batch == 0)
		o->batch = DISPATCH_BATCH;
	if (o->reread_ms <= 0)
		o->reread_ms = DISPATCH_REREAD_MS;
	if (o->backoff.base_ms <= 0)
		o->backoff.base_ms = DISPATCH_BASE_MS;
	if (o->backoff.cap_ms <= 0)
		o->backoff.cap_ms = DISPATCH_CAP_MS;
	if (o->backoff.cap_ms < o->backoff.base_ms)
		o->backoff.cap_ms = o->backoff.base_ms;
	if (o->max_retry_after_ms <= 0)
		o->max_retry_after_ms = DISPATCH_RETRY_AFTER_MS;
	if (o->random == NULL)
		o->random = random32;
}

int64_t
dispatch_retry_delay(const struct dispatch_opts *opts, unsigned failures,
    int64_t retry_after_ms, uint32_t random)
{
	struct dispatch_opts	 o = *opts;
	int64_t			 delay;

	dispatch_defaults(&o);
	delay = backoff_delay(&o.backoff, failures, random);
	if (retry_after_ms > o.max_retry_after_ms)
		retry_after_ms = o.max_retry_after_ms;
	if (retry_after_ms > delay)
		delay = retry_after_ms;
	return (delay);
}

static struct dispatch_op *
dispatch_op_new(struct dispatch *d, int is_sink)
{
	struct dispatch_op	*op;

	op = xcalloc(1, sizeof *op);
	op->d = d;
	op->is_sink = is_sink;
	d->op = op;
	return (op);
}

/* The op's callback ran: the dispatcher, or NULL if it was freed. */
static struct dispatch *
dispatch_op_done(struct dispatch_op *op)
{
	struct dispatch	*d = op->d;

	if (d != NULL)
		d->op = NULL;
	free(op);
	return (d);
}

static void
dispatch_arm(struct dispatch *d, int64_t ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(d->timer, &tv);
}

/* Stop working for now; tell the owner last, as it may free us. */
static void
dispatch_pause(struct dispatch *d, enum dispatch_state state, int64_t ms)
{
	if (d->stopping)
		state = DISPATCH_STOPPED;
	else
		dispatch_arm(d, ms);
	d->state = state;
	if (d->notify != NULL)
		d->notify(d, state, d->notify_arg);
}

static void
dispatch_clear_batch(struct dispatch *d)
{
	outbox_entries_free(d->batch, d->n);
	d->batch = NULL;
	d->n = d->next = 0;
}

static void
dispatch_forget_entry(struct dispatch *d)
{
	free(d->key);
	d->key = NULL;
	free(d->last_cause);
	d->last_cause = NULL;
	d->failures = 0;
}

static void
dispatch_store_failed(struct dispatch *d, const char *what, const char *cause)
{
	int64_t	 delay;

	d->counters.store_errors++;
	d->store_failures++;
	delay = backoff_delay(&d->opts.backoff, d->store_failures,
	    d->opts.random());
	/* Once per outage: the log stays readable while the store is down. */
	if (d->store_failures == 1) {
		log_warn("dispatch: store failed, will retry", "sink=%s op=%s "
		    "error=%s", log_q(d->id), what,
		    log_q(cause != NULL ? cause : "unknown"));
	}
	dispatch_clear_batch(d);
	dispatch_pause(d, DISPATCH_STORE_WAIT, delay);
}

static void
dispatch_store_ok(struct dispatch *d)
{
	if (d->store_failures != 0)
		log_info("dispatch: store is back", "sink=%s", log_q(d->id));
	d->store_failures = 0;
}

static char *
dup_or_null(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

static void
dispatch_read_done(int status, struct outbox_entry *e, size_t n,
    const char *cause, void *arg)
{
	struct dispatch	*d = dispatch_op_done(arg);
	size_t		 i;

	if (d == NULL)
		return;
	if (status != STORE_OK) {
		dispatch_store_failed(d, "read", cause);
		return;
	}
	dispatch_store_ok(d);
	if (n == 0) {
		dispatch_forget_entry(d);
		if (d->wake) {
			d->wake = 0;
			dispatch_read(d);
			return;
		}
		dispatch_pause(d, DISPATCH_IDLE, d->opts.reread_ms);
		return;
	}
	d->batch = xcalloc(n, sizeof *d->batch);
	for (i = 0; i < n; i++) {
		d->batch[i].key = dup_or_null(e[i].key);
		d->batch[i].id = dup_or_null(e[i].id);
		d->batch[i].source = dup_or_null(e[i].source);
		d->batch[i].json = dup_or_null(e[i].json);
		d->batch[i].committed_at = e[i].committed_at;
	}
	d->n = n;
	d->next = 0;
	dispatch_next(d);
}

static void
dispatch_lease_gained(__unused struct lease *l, __unused uint64_t token,
    void *arg)
{
	dispatch_wake(arg);
}

/* Work only under the sink's lease, when there are leases (run). */
static int
dispatch_leased(struct dispatch *d)
{
	char	*name;

	if (d->env->leases == NULL)
		return (1);
	if (d->lease == NULL) {
		xasprintf(&name, "sink:%s", d->id);
		d->lease = lease_create(d->env->leases, name,
		    LEASE_SINK_TTL_MS, dispatch_lease_gained, d);
		free(name);
	}
	return (lease_held(d->lease, NULL));
}

static void
dispatch_read(struct dispatch *d)
{
	struct store		*st = d->env->store;
	struct dispatch_op	*op;

	dispatch_clear_batch(d);
	if (d->stopping) {
		dispatch_pause(d, DISPATCH_STOPPED, 0);
		return;
	}
	if (!dispatch_leased(d)) {
		dispatch_pause(d, DISPATCH_IDLE, d->opts.reread_ms);
		return;
	}
	d->state = DISPATCH_BUSY;
	op = dispatch_op_new(d, 0);
	st->entry->read(st, d->id, d->opts.batch, dispatch_read_done, op);
}

static void
dispatch_ack_done(int status, const char *cause, void *arg)
{
	struct dispatch	*d = dispatch_op_done(arg);

	if (d == NULL)
		return;
	if (status != STORE_OK) {
		/* Read again later: the entry comes back, at least once. */
		dispatch_store_failed(d, "ack", cause);
		return;
	}
	dispatch_store_ok(d);
	dispatch_forget_entry(d);
	d->next++;
	dispatch_next(d);
}

static void
dispatch_dead(struct dispatch *d, const char *reason)
{
	struct store		*st = d->env->store;
	struct outbox_entry	*e = &d->batch[d->next];
	struct dispatch_op	*op;

	log_warn("dispatch: event dead-lettered", "sink=%s id=%s source=%s "
	    "reason=%s", log_q(d->id), log_q(e->id != NULL ? e->id : ""),
	    log_q(e->source != NULL ? e->source : ""), log_q(reason));
	d->counters.dead++;
	op = dispatch_op_new(d, 0);
	st->entry->dead(st, d->id, e->key, reason, dispatch_ack_done, op);
}

static unsigned
dispatch_max_attempts(const struct dispatch *d)
{
	long long	 n = d->sink->conf->max_attempts;

	if (n <= 0)
		return (DISPATCH_MAX_ATTEMPTS);
	return (n > UINT32_MAX ? UINT32_MAX : (unsigned)n);
}

static void
dispatch_delivered(enum delivery result, int64_t retry_after_ms,
    const char *cause, void *arg)
{
	struct dispatch		*d = dispatch_op_done(arg);
	struct store		*st;
	struct outbox_entry	*e;
	struct dispatch_op	*op;
	int64_t			 age, delay;
	char			*reason;

	if (d == NULL)
		return;
	st = d->env->store;
	e = &d->batch[d->next];
	if (cause == NULL)
		cause = "delivery failed";

	switch (result) {
	case DELIVERY_OK:
		log_debug("dispatch: delivered", "sink=%s id=%s", log_q(d->id),
		    log_q(e->id));
		d->counters.delivered++;
		op = dispatch_op_new(d, 0);
		st->entry->ack(st, d->id, e->key, dispatch_ack_done, op);
		return;
	case DELIVERY_PERMANENT:
		dispatch_dead(d, cause);
		return;
	case DELIVERY_RETRY:
		break;
	}

	d->failures++;
	free(d->last_cause);
	d->last_cause = xstrdup(cause);
	age = now_ms() - e->committed_at;
	if (d->failures >= dispatch_max_attempts(d)) {
		xasprintf(&reason, "gave up after %u attempts: %s",
		    d->failures, cause);
		dispatch_dead(d, reason);
		free(reason);
		return;
	}
	if (d->sink->conf->max_age_ms > 0 && age >= d->sink->conf->max_age_ms) {
		xasprintf(&reason, "older than maxAge after %u attempts: %s",
		    d->failures, cause);
		dispatch_dead(d, reason);
		free(reason);
		return;
	}
	d->counters.retried++;
	delay = dispatch_retry_delay(&d->opts, d->failures, retry_after_ms,
	    d->opts.random());
	log_info("dispatch: delivery failed, will retry", "sink=%s id=%s "
	    "attempt=%u delay_ms=%lld error=%s", log_q(d->id), log_q(e->id),
	    d->failures, (long long)delay, log_q(cause));
	dispatch_pause(d, DISPATCH_RETRY_WAIT, delay);
}

/* Deliver batch[next], or read the next batch when this one is done. */
static void
dispatch_next(struct dispatch *d)
{
	struct outbox_entry	*e;
	struct dispatch_op	*op;

	if (d->stopping) {
		dispatch_pause(d, DISPATCH_STOPPED, 0);
		return;
	}
	if (d->next == d->n || !dispatch_leased(d)) {
		dispatch_read(d);
		return;
	}
	e = &d->batch[d->next];
	if (e->key == NULL) {
		dispatch_store_failed(d, "read", "outbox entry without a key");
		return;
	}
	/* The same entry as before a re-read keeps its failure count. */
	if (d->key == NULL || strcmp(d->key, e->key) != 0) {
		dispatch_forget_entry(d);
		d->key = xstrdup(e->key);
	}
	if (e->json == NULL || e->id == NULL) {
		dispatch_dead(d, "outbox entry without an event");
		return;
	}
	d->state = DISPATCH_BUSY;
	op = dispatch_op_new(d, 1);
	d->sink->entry->deliver(d->sink, e, dispatch_delivered, op);
}

static void
dispatch_timer(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct dispatch	*d = arg;

	switch (d->state) {
	case DISPATCH_RETRY_WAIT:
		dispatch_next(d);
		break;
	case DISPATCH_STOPPED:
		break;
	case DISPATCH_IDLE:
	case DISPATCH_STORE_WAIT:
	case DISPATCH_BUSY:
		d->wake = 0;
		dispatch_read(d);
		break;
	}
}

struct dispatch *
dispatch_create(struct env *env, struct sink *sink,
    const struct dispatch_opts *opts)
{
	struct dispatch	*d;

	d = xcalloc(1, sizeof *d);
	d->env = env;
	d->sink = sink;
	d->id = sink->conf->id;
	if (opts != NULL)
		d->opts = *opts;
	dispatch_defaults(&d->opts);
	d->timer = evtimer_new(env->base, dispatch_timer, d);
	if (d->timer == NULL)
		fatalx("evtimer_new failed");
	d->state = DISPATCH_BUSY;	/* the first read is due */
	dispatch_arm(d, 0);
	return (d);
}

void
dispatch_free(struct dispatch *d)
{
	if (d == NULL)
		return;
	lease_free(d->lease);
	event_free(d->timer);
	if (d->op != NULL) {
		if (d->op->is_sink && d->sink->entry->cancel != NULL) {
			d->sink->entry->cancel(d->sink);
			free(d->op);
		} else
			d->op->d = NULL;	/* its callback frees it */
	}
	dispatch_clear_batch(d);
	dispatch_forget_entry(d);
	free(d);
}

void
dispatch_set_notify(struct dispatch *d, dispatch_notify_cb cb, void *arg)
{
	d->notify = cb;
	d->notify_arg = arg;
}

void
dispatch_stop(struct dispatch *d)
{
	d->stopping = 1;
	evtimer_del(d->timer);
	lease_free(d->lease);	/* given up: another replica may deliver */
	d->lease = NULL;
	if (d->op == NULL)
		d->state = DISPATCH_STOPPED;
}

int
dispatch_busy(const struct dispatch *d)
{
	return (d->op != NULL);
}

void
dispatch_wake(struct dispatch *d)
{
	if (d->stopping)
		return;		/* whatever it is doing is the last thing */
	switch (d->state) {
	case DISPATCH_IDLE:
	case DISPATCH_STORE_WAIT:
		d->state = DISPATCH_BUSY;
		dispatch_arm(d, 0);
		break;
	case DISPATCH_BUSY:
		d->wake = 1;
		break;
	case DISPATCH_RETRY_WAIT:
		break;		/* order: the waiting entry goes first */
	case DISPATCH_STOPPED:
		break;
	}
}

enum dispatch_state
dispatch_state(const struct dispatch *d)
{
	return (d->state);
}

int
dispatch_drained(const struct dispatch *d)
{
	return (d->state == DISPATCH_IDLE);
}

const struct dispatch_counters *
dispatch_counters(const struct dispatch *d)
{
	return (&d->counters);
}

const char *
dispatch_sink_id(const struct dispatch *d)
{
	return (d->id);
}
