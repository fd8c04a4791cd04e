/*
 * dispatch.c: one dispatcher per sink (DESIGN §6).  It reads the sink's
 * unacked outbox entries in outbox order and keeps up to `window` of them
 * at the sink at once (the sink's maxInFlight, else its entry's
 * max_inflight, else one).  Confirmations may come in any order; acks go to
 * the store in outbox order: an entry confirmed before an earlier one waits
 * for it.  With a store that has ack_many, while deliveries keep coming
 * the acks of ~10 ms go out as one call (one write); a confirmed entry
 * waiting for its ack does not hold a place in the window.  A failed entry is retried with backoff until it
 * succeeds, or is dead-lettered (maxAttempts, maxAge, permanent failure).
 * When no entry is left to send it
 * reads again, while the rest are still in flight; when the outbox is empty
 * it re-reads every couple of seconds, so that events committed by another
 * replica, or left pending, show up without a wake-up.
 *
 * Order per source.  The earliest entry of a source that failed and is not
 * confirmed yet is the source's head: while there is one, no later entry of
 * that source is sent, and only the head is retried (a sink that is down is
 * probed by one entry per source); entries of other sources go on.  The
 * later entries of its source that were already at the sink when it failed
 * may have got there first: those the sink confirms (or had confirmed) go
 * back to be sent again after it, so that from the head on the sink gets
 * the source's entries in outbox order.  When the head is confirmed (or
 * dead-lettered), the source's held entries go out in order, in the window.
 *
 * The entries taken are slots in outbox order.  A read answers the held
 * entries first (the store returns every unacked entry, oldest first), then
 * new ones: held ones are recognised by key and skipped.  Both stores answer
 * their calls in call order, so a read never sees an entry as unacked after
 * its ack's callback has run.
 *
 * Store operations cannot be cancelled, so each outstanding store or sink
 * operation travels as a small `dispatch_op` on the dispatcher's list, which
 * dispatch_free() orphans: its callback then frees it and stops.  A store
 * failure drops every slot (the sink's deliveries are cancelled) and reads
 * again later: the entries come back, at least once, with their failure
 * counts.
 *
 * Under `run` (env->leases set), a dispatcher starts work only while its
 * replica holds the lease "sink:ID" (lease.h), so that replicas sharing a
 * store do not deliver the same entries twice or out of order; without it,
 * it lets what is in flight finish, and looks again at every re-read, and
 * the lease wakes it up when it is taken.
 */
#include <sys/queue.h>

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
#define DISPATCH_ACK_MAX	1024	/* entries per ack_many */
#define DISPATCH_ACK_DELAY_MS	10	/* gathering them */
#define DISPATCH_READ_AHEAD	4096	/* entries read past the held */

enum slot_state {
	SLOT_NEW,		/* read, not handed to the sink yet */
	SLOT_SENDING,		/* at the sink */
	SLOT_WAIT,		/* failed: sent again at retry_at */
	SLOT_OK,		/* confirmed: acked once those before it are */
	SLOT_DEAD,		/* given up: dead-lettered in order too */
	SLOT_ACKING,		/* its ack or dead-letter is with the store */
};

/* One outbox entry taken by the dispatcher. */
struct dispatch_slot {
	struct outbox_entry	 e;		/* copies, in `text` */
	enum slot_state		 state;
	unsigned		 failures;	/* failed attempts */
	char			*reason;	/* SLOT_DEAD: why */
	int64_t			 retry_at;	/* SLOT_WAIT: mono ms */
	uint64_t		 seq;		/* outbox order */
	int			 head;		/* its source's head */
	struct dispatch_op	*op;		/* SENDING, ACKING */
	TAILQ_ENTRY(dispatch_slot) entry;
	TAILQ_ENTRY(dispatch_slot) hentry;	/* on heads, when head */
	char			 text[];	/* key, id, source, json */
};
TAILQ_HEAD(dispatch_slots, dispatch_slot);

enum op_kind { OP_READ, OP_STORE, OP_SINK };

/* One outstanding store or sink operation. */
struct dispatch_op {
	struct dispatch		*d;		/* NULL once orphaned */
	enum op_kind		 kind;
	struct dispatch_slot	*slot;		/* NULL: none, or dropped */
	int			 stale;		/* slots dropped since */
	TAILQ_ENTRY(dispatch_op) entry;
};
TAILQ_HEAD(dispatch_ops, dispatch_op);

/* A failure count kept across the re-read of a dropped slot. */
struct dispatch_memo {
	char		*key;
	unsigned	 failures;
};

struct dispatch {
	struct env		*env;
	struct sink		*sink;
	const char		*id;		/* sink identifier */
	struct dispatch_opts	 opts;
	unsigned		 window;	/* entries at the sink at once */
	enum dispatch_state	 state;
	struct event		*timer;		/* re-read, retry or store wait */
	struct event		*ack_ev;	/* acks, once per loop run */
	int			 acks_due;	/* ack_ev is armed */
	int			 acks_now;	/* ... to run at once */
	struct dispatch_ops	 ops;		/* what is outstanding */
	size_t			 nops;
	int			 reading;	/* a read is outstanding */
	int			 exhausted;	/* it found nothing new */
	int			 wake;		/* events committed meanwhile */
	int			 store_wait;	/* after a store failure */
	int			 stopping;	/* dispatch_stop() was called */
	struct lease		*lease;		/* NULL: no replicas */

	struct dispatch_slots	 slots;		/* in outbox order */
	size_t			 nslots, nnew, nwait, nacking;
	size_t			 nsending;	/* at the sink */
	size_t			 nconfirmed;	/* OK or DEAD, not acking */
	uint64_t		 seq;		/* of the last slot taken */
	/* Where sending looks next: every NEW slot before it is held. */
	struct dispatch_slot	*scan;		/* NULL: past the last */
	struct dispatch_slot	*first_unacked;	/* not ACKING; NULL: none */
	struct dispatch_slots	 heads;		/* one per failed source */

	struct dispatch_memo	*memo;
	size_t			 nmemo;

	unsigned		 store_failures;
	struct dispatch_counters counters;

	dispatch_notify_cb	 notify;
	void			*notify_arg;
};

static void	dispatch_pump(struct dispatch *);
static void	dispatch_acks(struct dispatch *);

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
	if (o->ack_delay_ms <= 0)
		o->ack_delay_ms = DISPATCH_ACK_DELAY_MS;
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

unsigned
dispatch_window(const struct sink *s)
{
	long long	 n = s->conf->max_inflight;

	if (s->entry->max_inflight == 0)
		return (1);		/* one at a time only */
	if (n <= 0)
		n = s->entry->max_inflight;
	return (n > DISPATCH_MAX_WINDOW ? DISPATCH_MAX_WINDOW : (unsigned)n);
}

static struct dispatch_op *
dispatch_op_new(struct dispatch *d, enum op_kind kind,
    struct dispatch_slot *sl)
{
	struct dispatch_op	*op;

	op = xcalloc(1, sizeof *op);
	op->d = d;
	op->kind = kind;
	op->slot = sl;
	if (sl != NULL)
		sl->op = op;
	TAILQ_INSERT_TAIL(&d->ops, op, entry);
	d->nops++;
	return (op);
}

/*
 * The op's callback ran: free it.  Returns its dispatcher, or NULL if that
 * was freed; *slp is its slot, or NULL; *stale says the slots it saw were
 * dropped since (its answer is of no use).
 */
static struct dispatch *
dispatch_op_end(struct dispatch_op *op, struct dispatch_slot **slp,
    int *stale)
{
	struct dispatch	*d = op->d;

	if (d != NULL) {
		TAILQ_REMOVE(&d->ops, op, entry);
		d->nops--;
	}
	if (op->slot != NULL)
		op->slot->op = NULL;
	if (slp != NULL)
		*slp = op->slot;
	if (stale != NULL)
		*stale = op->stale;
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

/* Copy s (NULL stays NULL) to *p, moving *p past it. */
static char *
slot_copy(char **p, const char *s, size_t len)
{
	char	*at = *p;

	if (s == NULL)
		return (NULL);
	memcpy(at, s, len + 1);
	*p += len + 1;
	return (at);
}

/* A slot for e, its strings in the same allocation (one per entry). */
static struct dispatch_slot *
dispatch_slot_new(const struct outbox_entry *e)
{
	struct dispatch_slot	*sl;
	size_t			 kl, il, sol, jl;
	char			*p;

	kl = strlen(e->key);
	il = e->id != NULL ? strlen(e->id) : 0;
	sol = e->source != NULL ? strlen(e->source) : 0;
	jl = e->json != NULL ? strlen(e->json) : 0;
	sl = xcalloc(1, sizeof *sl + kl + il + sol + jl + 4);
	p = sl->text;
	sl->e.key = slot_copy(&p, e->key, kl);
	sl->e.id = slot_copy(&p, e->id, il);
	sl->e.source = slot_copy(&p, e->source, sol);
	sl->e.json = slot_copy(&p, e->json, jl);
	sl->e.committed_at = e->committed_at;
	return (sl);
}

static void
dispatch_memo_clear(struct dispatch *d)
{
	size_t	 i;

	for (i = 0; i < d->nmemo; i++)
		free(d->memo[i].key);
	free(d->memo);
	d->memo = NULL;
	d->nmemo = 0;
}

static unsigned
dispatch_memo_failures(const struct dispatch *d, const char *key)
{
	size_t	 i;

	for (i = 0; i < d->nmemo; i++) {
		if (strcmp(d->memo[i].key, key) == 0)
			return (d->memo[i].failures);
	}
	return (0);
}

static void
dispatch_slot_free(struct dispatch_slot *sl)
{
	free(sl->reason);
	free(sl);
}

/* Its ack is done: it leaves the window. */
static void
dispatch_slot_remove(struct dispatch *d, struct dispatch_slot *sl)
{
	if (sl == d->first_unacked)
		d->first_unacked = TAILQ_NEXT(sl, entry);
	if (sl == d->scan)
		d->scan = TAILQ_NEXT(sl, entry);
	TAILQ_REMOVE(&d->slots, sl, entry);
	d->nslots--;
	d->nacking--;
	dispatch_slot_free(sl);
}

/*
 * Forget every slot (store failure, lost lease): the sink's deliveries are
 * cancelled, the store's answers about them ignored, and the failure counts
 * remembered for when the entries are read again.
 */
static void
dispatch_drop(struct dispatch *d)
{
	struct dispatch_slot	*sl;
	struct dispatch_op	*op, *next;
	int			 sending = 0;

	TAILQ_FOREACH(op, &d->ops, entry)
		sending |= op->kind == OP_SINK;
	if (sending && d->sink->entry->cancel != NULL) {
		d->sink->entry->cancel(d->sink);
		for (op = TAILQ_FIRST(&d->ops); op != NULL; op = next) {
			next = TAILQ_NEXT(op, entry);
			if (op->kind != OP_SINK)
				continue;
			TAILQ_REMOVE(&d->ops, op, entry);
			d->nops--;
			if (op->slot != NULL)
				op->slot->op = NULL;
			free(op);
		}
	}
	TAILQ_FOREACH(op, &d->ops, entry) {
		op->slot = NULL;
		op->stale = 1;
	}
	d->reading = 0;
	dispatch_memo_clear(d);
	while ((sl = TAILQ_FIRST(&d->slots)) != NULL) {
		TAILQ_REMOVE(&d->slots, sl, entry);
		if (sl->failures != 0 && sl->state != SLOT_DEAD) {
			d->memo = xreallocarray(d->memo, d->nmemo + 1,
			    sizeof *d->memo);
			d->memo[d->nmemo].key = xstrdup(sl->e.key);
			d->memo[d->nmemo++].failures = sl->failures;
		}
		dispatch_slot_free(sl);
	}
	d->nslots = d->nnew = d->nwait = d->nacking = 0;
	d->nsending = d->nconfirmed = 0;
	d->scan = d->first_unacked = NULL;
	TAILQ_INIT(&d->heads);
}

/* Tell the owner the dispatcher stopped working for now; last: it may free
 * the dispatcher. */
static void
dispatch_enter(struct dispatch *d, enum dispatch_state state)
{
	enum dispatch_state	 was = d->state;

	d->state = state;
	if (state != was && state != DISPATCH_BUSY && d->notify != NULL)
		d->notify(d, state, d->notify_arg);
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
	dispatch_drop(d);
	d->store_wait = 1;
	if (!d->stopping)
		dispatch_arm(d, delay);
	dispatch_pump(d);
}

static void
dispatch_store_ok(struct dispatch *d)
{
	if (d->store_failures != 0)
		log_info("dispatch: store is back", "sink=%s", log_q(d->id));
	d->store_failures = 0;
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

/* Append what the read found that is not held already. */
static size_t
dispatch_take(struct dispatch *d, const struct outbox_entry *e, size_t n)
{
	struct dispatch_slot	*held = TAILQ_FIRST(&d->slots), *h, *sl;
	size_t			 i, added = 0;

	for (i = 0; i < n; i++) {
		/*
		 * Held entries come first, in the order they are held; once
		 * one is not held, neither is any after it.
		 */
		for (h = held; h != NULL; h = TAILQ_NEXT(h, entry)) {
			if (strcmp(h->e.key, e[i].key) == 0)
				break;
		}
		if (h != NULL) {
			held = TAILQ_NEXT(h, entry);
			continue;
		}
		held = NULL;
		sl = dispatch_slot_new(&e[i]);
		sl->state = SLOT_NEW;
		sl->failures = dispatch_memo_failures(d, sl->e.key);
		sl->seq = ++d->seq;
		TAILQ_INSERT_TAIL(&d->slots, sl, entry);
		d->nslots++;
		d->nnew++;
		if (d->scan == NULL)
			d->scan = sl;
		if (d->first_unacked == NULL)
			d->first_unacked = sl;
		added++;
	}
	return (added);
}

static void
dispatch_read_done(int status, struct outbox_entry *e, size_t n,
    const char *cause, void *arg)
{
	struct dispatch	*d;
	size_t		 i;
	int		 stale;

	if ((d = dispatch_op_end(arg, NULL, &stale)) == NULL)
		return;
	if (stale) {
		dispatch_pump(d);
		return;
	}
	d->reading = 0;
	if (status != STORE_OK) {
		dispatch_store_failed(d, "read", cause);
		return;
	}
	for (i = 0; i < n; i++) {
		if (e[i].key == NULL) {
			dispatch_store_failed(d, "read",
			    "outbox entry without a key");
			return;
		}
	}
	dispatch_store_ok(d);
	if (dispatch_take(d, e, n) == 0 && !d->wake)
		d->exhausted = 1;
	d->wake = 0;
	dispatch_memo_clear(d);
	dispatch_pump(d);
}

static void
dispatch_read(struct dispatch *d)
{
	struct store		*st = d->env->store;
	struct dispatch_op	*op;
	size_t			 n;

	/*
	 * The answer repeats what is held before anything new.  So first ack
	 * what is confirmed (it need not gather any longer: the store is
	 * being asked anyway), and read well ahead of the window, so that a
	 * read and an ack come once per several windows.
	 */
	if (d->acks_due) {
		event_del(d->ack_ev);
		d->acks_due = d->acks_now = 0;
	}
	dispatch_acks(d);
	n = d->window;
	if (n > 1)
		n = n * 8 < DISPATCH_READ_AHEAD ? n * 8 : (n > DISPATCH_READ_AHEAD ?
		    n : DISPATCH_READ_AHEAD);
	if (n < d->opts.batch)
		n = d->opts.batch;
	d->reading = 1;
	d->wake = 0;
	op = dispatch_op_new(d, OP_READ, NULL);
	st->entry->read(st, d->id, d->nslots - d->nacking + n,
	    dispatch_read_done, op);
}

static void
dispatch_ack_done(int status, const char *cause, void *arg)
{
	struct dispatch		*d;
	struct dispatch_slot	*sl;

	if ((d = dispatch_op_end(arg, &sl, NULL)) == NULL)
		return;
	if (sl == NULL) {
		dispatch_pump(d);
		return;
	}
	if (status != STORE_OK) {
		/* Read again later: the entry comes back, at least once. */
		dispatch_store_failed(d, "ack", cause);
		return;
	}
	dispatch_store_ok(d);
	dispatch_slot_remove(d, sl);
	dispatch_pump(d);
}

/* Several acks in one store call: each op answered as if alone. */
struct dispatch_group {
	struct dispatch_op	**ops;
	size_t			 n;
};

static void
dispatch_group_done(int status, const char *cause, void *arg)
{
	struct dispatch_group	*g = arg;
	size_t			 i;

	/* An op whose dispatcher is gone, or whose slot was dropped after
	 * the first failure, only frees itself. */
	for (i = 0; i < g->n; i++)
		dispatch_ack_done(status, cause, g->ops[i]);
	free(g->ops);
	free(g);
}

/* Ack a run of n delivered entries from sl on with one ack_many. */
static void
dispatch_ack_run(struct dispatch *d, struct dispatch_slot *sl, size_t n)
{
	struct store		*st = d->env->store;
	struct dispatch_group	*g;
	const char		**keys;
	size_t			 i;

	g = xcalloc(1, sizeof *g);
	g->ops = xcalloc(n, sizeof *g->ops);
	keys = xcalloc(n, sizeof *keys);
	for (i = 0; i < n; i++, sl = TAILQ_NEXT(sl, entry)) {
		g->ops[g->n++] = dispatch_op_new(d, OP_STORE, sl);
		d->nacking++;
		d->nconfirmed--;
		sl->state = SLOT_ACKING;
		keys[i] = sl->e.key;
		d->first_unacked = TAILQ_NEXT(sl, entry);
	}
	st->entry->ack_many(st, d->id, keys, n, dispatch_group_done, g);
	free(keys);
}

/* How many delivered entries follow each other from sl on. */
static size_t
dispatch_ok_run(struct dispatch_slot *sl)
{
	size_t	 n = 0;

	for (; sl != NULL && sl->state == SLOT_OK && n < DISPATCH_ACK_MAX;
	    sl = TAILQ_NEXT(sl, entry))
		n++;
	return (n);
}

/*
 * Ack (or dead-letter) the confirmed entries that have no unacked one
 * before them; a run of delivered ones in one store call when the store
 * can.
 */
static void
dispatch_acks(struct dispatch *d)
{
	struct store		*st = d->env->store;
	struct dispatch_slot	*sl;
	struct dispatch_op	*op;
	size_t			 n;

	while ((sl = d->first_unacked) != NULL &&
	    (sl->state == SLOT_OK || sl->state == SLOT_DEAD)) {
		if (st->entry->ack_many != NULL &&
		    (n = dispatch_ok_run(sl)) > 1) {
			dispatch_ack_run(d, sl, n);
			continue;
		}
		d->first_unacked = TAILQ_NEXT(sl, entry);
		op = dispatch_op_new(d, OP_STORE, sl);
		d->nacking++;
		d->nconfirmed--;
		if (sl->state == SLOT_OK) {
			sl->state = SLOT_ACKING;
			st->entry->ack(st, d->id, sl->e.key, dispatch_ack_done,
			    op);
		} else {
			sl->state = SLOT_ACKING;
			st->entry->dead(st, d->id, sl->e.key, sl->reason,
			    dispatch_ack_done, op);
		}
	}
}

static const char *
slot_source(const struct dispatch_slot *sl)
{
	return (sl->e.source != NULL ? sl->e.source : "");
}

/* The head of sl's source, or NULL when none of it failed. */
static struct dispatch_slot *
dispatch_head_of(const struct dispatch *d, const struct dispatch_slot *sl)
{
	struct dispatch_slot	*h;

	TAILQ_FOREACH(h, &d->heads, hentry) {
		if (strcmp(slot_source(h), slot_source(sl)) == 0)
			return (h);
	}
	return (NULL);
}

/* sl goes back to be sent again, in order, behind its source's head. */
static void
dispatch_renew(struct dispatch *d, struct dispatch_slot *sl)
{
	switch (sl->state) {
	case SLOT_OK:
		d->nconfirmed--;
		d->counters.delivered--;
		break;
	case SLOT_WAIT:
		d->nwait--;
		break;
	default:
		break;
	}
	sl->state = SLOT_NEW;
	d->nnew++;
}

/* h is no longer its source's head. */
static void
dispatch_head_clear(struct dispatch *d, struct dispatch_slot *h)
{
	TAILQ_REMOVE(&d->heads, h, hentry);
	h->head = 0;
}

/*
 * The head h is confirmed or dead: its source's held entries may go, from
 * where sending looks next or from h on, whichever comes first.
 */
static void
dispatch_head_release(struct dispatch *d, struct dispatch_slot *h)
{
	struct dispatch_slot	*next = TAILQ_NEXT(h, entry);

	dispatch_head_clear(d, h);
	if (next != NULL && (d->scan == NULL || d->scan->seq > next->seq))
		d->scan = next;
}

/*
 * sl failed and is its source's head now: the later entries of its source
 * the sink confirmed got there before it; they go again after it.
 */
static void
dispatch_head_set(struct dispatch *d, struct dispatch_slot *sl)
{
	struct dispatch_slot	*old, *t;

	if ((old = dispatch_head_of(d, sl)) != NULL) {
		/* A later one failed first: sl, earlier, leads. */
		dispatch_head_clear(d, old);
		if (old->state == SLOT_WAIT)
			dispatch_renew(d, old);
	}
	sl->head = 1;
	TAILQ_INSERT_TAIL(&d->heads, sl, hentry);
	for (t = TAILQ_NEXT(sl, entry); t != NULL; t = TAILQ_NEXT(t, entry)) {
		if (t->state == SLOT_OK &&
		    strcmp(slot_source(t), slot_source(sl)) == 0)
			dispatch_renew(d, t);
	}
}

/* 1 when sl comes after its source's head: it waits for it. */
static int
dispatch_held(const struct dispatch *d, const struct dispatch_slot *sl)
{
	const struct dispatch_slot	*h;

	if (TAILQ_EMPTY(&d->heads))
		return (0);
	h = dispatch_head_of(d, sl);
	return (h != NULL && h != sl && h->seq < sl->seq);
}

static void
dispatch_dead(struct dispatch *d, struct dispatch_slot *sl,
    const char *reason)
{
	if (sl->head)
		dispatch_head_release(d, sl);
	log_warn("dispatch: event dead-lettered", "sink=%s id=%s source=%s "
	    "reason=%s", log_q(d->id), log_q(sl->e.id != NULL ? sl->e.id : ""),
	    log_q(sl->e.source != NULL ? sl->e.source : ""), log_q(reason));
	d->counters.dead++;
	free(sl->reason);
	sl->reason = xstrdup(reason);
	sl->state = SLOT_DEAD;
	d->nconfirmed++;
}

static unsigned
dispatch_max_attempts(const struct dispatch *d)
{
	long long	 n = d->sink->conf->max_attempts;

	if (n <= 0)
		return (DISPATCH_MAX_ATTEMPTS);
	return (n > UINT32_MAX ? UINT32_MAX : (unsigned)n);
}

/* A failed attempt that may work later: retry, or give up. */
static void
dispatch_failed(struct dispatch *d, struct dispatch_slot *sl,
    int64_t retry_after_ms, const char *cause)
{
	int64_t	 age, delay;
	char	*reason;

	sl->failures++;
	age = now_ms() - sl->e.committed_at;
	if (sl->failures >= dispatch_max_attempts(d)) {
		xasprintf(&reason, "gave up after %u attempts: %s",
		    sl->failures, cause);
		dispatch_dead(d, sl, reason);
		free(reason);
		return;
	}
	if (d->sink->conf->max_age_ms > 0 && age >= d->sink->conf->max_age_ms) {
		xasprintf(&reason, "older than maxAge after %u attempts: %s",
		    sl->failures, cause);
		dispatch_dead(d, sl, reason);
		free(reason);
		return;
	}
	d->counters.retried++;
	if (dispatch_held(d, sl)) {
		/* Behind its source's head: sent again after it. */
		log_info("dispatch: delivery failed, will retry", "sink=%s "
		    "id=%s attempt=%u after=%s error=%s", log_q(d->id),
		    log_q(sl->e.id), sl->failures,
		    log_q(dispatch_head_of(d, sl)->e.id), log_q(cause));
		dispatch_renew(d, sl);
		return;
	}
	if (!sl->head)
		dispatch_head_set(d, sl);
	delay = dispatch_retry_delay(&d->opts, sl->failures, retry_after_ms,
	    d->opts.random());
	log_info("dispatch: delivery failed, will retry", "sink=%s id=%s "
	    "attempt=%u delay_ms=%lld error=%s", log_q(d->id), log_q(sl->e.id),
	    sl->failures, (long long)delay, log_q(cause));
	sl->state = SLOT_WAIT;
	sl->retry_at = mono_ms() + delay;
	d->nwait++;
}

static void
dispatch_delivered(enum delivery result, int64_t retry_after_ms,
    const char *cause, void *arg)
{
	struct dispatch		*d;
	struct dispatch_slot	*sl;

	if ((d = dispatch_op_end(arg, &sl, NULL)) == NULL)
		return;
	if (sl == NULL) {
		dispatch_pump(d);
		return;
	}
	d->nsending--;
	if (cause == NULL)
		cause = "delivery failed";
	switch (result) {
	case DELIVERY_OK:
		if (log_enabled(LOG_DEBUG))
			log_debug("dispatch: delivered", "sink=%s id=%s",
			    log_q(d->id), log_q(sl->e.id));
		if (dispatch_held(d, sl)) {
			/* It overtook its source's head: again after it. */
			sl->state = SLOT_NEW;
			d->nnew++;
			break;
		}
		d->counters.delivered++;
		sl->state = SLOT_OK;
		d->nconfirmed++;
		if (sl->head)
			dispatch_head_release(d, sl);
		break;
	case DELIVERY_PERMANENT:
		dispatch_dead(d, sl, cause);
		break;
	case DELIVERY_RETRY:
		dispatch_failed(d, sl, retry_after_ms, cause);
		break;
	}
	dispatch_pump(d);
}

static void
dispatch_send(struct dispatch *d, struct dispatch_slot *sl)
{
	struct dispatch_op	*op;

	if (sl->e.json == NULL || sl->e.id == NULL) {
		dispatch_dead(d, sl, "outbox entry without an event");
		return;
	}
	sl->state = SLOT_SENDING;
	d->nsending++;
	op = dispatch_op_new(d, OP_SINK, sl);
	d->sink->entry->deliver(d->sink, &sl->e, dispatch_delivered, op);
}

/*
 * Room for one more at the sink: the window counts the entries at the
 * sink; confirmed ones waiting for their ack and failed ones waiting for a
 * retry do not count (other sources go on), but all that is held is
 * bounded.
 */
static int
dispatch_room(const struct dispatch *d)
{
	return (d->nsending < d->window &&
	    d->nslots - d->nnew < d->window + DISPATCH_ACK_MAX);
}

/*
 * Arm the timer for the next retry; with `send`, first send those that are
 * due (from the timer only: a retry always waits for the loop).
 */
static void
dispatch_retries(struct dispatch *d, int send)
{
	struct dispatch_slot	*sl;
	int64_t			 now, next;

	if (d->nwait == 0)
		return;
	now = mono_ms();
	/* Only heads wait; a send may answer at once and change them. */
again:
	next = INT64_MAX;
	TAILQ_FOREACH(sl, &d->heads, hentry) {
		if (sl->state != SLOT_WAIT)
			continue;
		if (send && sl->retry_at <= now) {
			d->nwait--;
			dispatch_send(d, sl);
			goto again;
		}
		if (sl->retry_at < next)
			next = sl->retry_at;
	}
	if (next != INT64_MAX)
		dispatch_arm(d, next - now);
}

/*
 * Start new entries, in outbox order, while the window has room; those
 * behind their source's head are passed over (sending looks at them again
 * when it is released).
 */
static void
dispatch_sends(struct dispatch *d)
{
	struct dispatch_slot	*sl;

	while ((sl = d->scan) != NULL && dispatch_room(d)) {
		d->scan = TAILQ_NEXT(sl, entry);
		if (sl->state != SLOT_NEW || dispatch_held(d, sl))
			continue;
		d->nnew--;
		dispatch_send(d, sl);
	}
}

/*
 * Ack what can be acked soon.  While more deliveries are at the sink and
 * the store has ack_many, ack_delay_ms after the first
 * confirmation, so that the confirmations of several batches make one
 * store write; otherwise (nothing more coming, DISPATCH_ACK_MAX waiting,
 * stopping, or a store that acks one by one) once this run of the loop is
 * over.
 */
static void
dispatch_acks_soon(struct dispatch *d)
{
	struct dispatch_slot	*sl = d->first_unacked;
	struct timeval		 tv;
	int			 now;

	if (sl == NULL || (sl->state != SLOT_OK && sl->state != SLOT_DEAD))
		return;
	now = d->env->store->entry->ack_many == NULL || d->stopping ||
	    d->nconfirmed >= DISPATCH_ACK_MAX || d->nsending == 0;
	if (d->acks_due && (d->acks_now || !now))
		return;
	if (d->acks_due)
		event_del(d->ack_ev);
	d->acks_due = 1;
	d->acks_now = now;
	if (now)
		event_active(d->ack_ev, 0, 0);
	else {
		tv.tv_sec = d->opts.ack_delay_ms / 1000;
		tv.tv_usec = (d->opts.ack_delay_ms % 1000) * 1000;
		event_add(d->ack_ev, &tv);
	}
}

static void
dispatch_ack_event(evutil_socket_t fd __unused, short what __unused,
    void *arg)
{
	struct dispatch	*d = arg;

	d->acks_due = d->acks_now = 0;
	if (!d->store_wait)
		dispatch_acks(d);
	dispatch_pump(d);
}

/*
 * Settle the state after whatever happened: keep working, or say why not.
 * `working`: neither stopping nor without the lease.
 */
static void
dispatch_settle(struct dispatch *d, int working)
{
	if (d->acks_due) {
		if (!d->stopping)
			d->state = DISPATCH_BUSY;
		return;
	}
	if (d->stopping) {
		if (d->nops == 0) {
			evtimer_del(d->timer);
			dispatch_enter(d, DISPATCH_STOPPED);
		}
		return;
	}
	if (d->store_wait) {
		dispatch_enter(d, DISPATCH_STORE_WAIT);
		return;
	}
	if (d->nops > 0)
		d->state = DISPATCH_BUSY;
	else if (working && d->nwait > 0)
		dispatch_enter(d, DISPATCH_RETRY_WAIT);
	else if (working && d->nslots > 0)
		d->state = DISPATCH_BUSY;	/* cannot be: pump sends */
	else {
		/* Empty, or the lease is gone: look again later. */
		dispatch_drop(d);
		dispatch_arm(d, d->opts.reread_ms);
		dispatch_enter(d, DISPATCH_IDLE);
	}
}

/* Do whatever can be done now. */
static void
dispatch_pump(struct dispatch *d)
{
	int	 working;

	if (d->store_wait) {
		dispatch_settle(d, 0);
		return;
	}
	dispatch_acks_soon(d);
	working = !d->stopping && dispatch_leased(d);
	if (working) {
		dispatch_retries(d, 0);
		dispatch_sends(d);
		dispatch_acks_soon(d);	/* entries dead without a send */
		if (!d->reading && !d->exhausted && d->scan == NULL &&
		    (TAILQ_EMPTY(&d->heads) || d->nnew < DISPATCH_READ_AHEAD))
			dispatch_read(d);
	}
	dispatch_settle(d, working);
}

static void
dispatch_timer(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct dispatch	*d = arg;

	switch (d->state) {
	case DISPATCH_STOPPED:
		return;
	case DISPATCH_IDLE:
	case DISPATCH_STORE_WAIT:
		d->store_wait = 0;
		d->exhausted = 0;
		d->state = DISPATCH_BUSY;
		break;
	case DISPATCH_RETRY_WAIT:
	case DISPATCH_BUSY:
		d->state = DISPATCH_BUSY;
		if (!d->store_wait && dispatch_leased(d))
			dispatch_retries(d, 1);
		break;
	}
	dispatch_pump(d);
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
	d->window = dispatch_window(sink);
	TAILQ_INIT(&d->ops);
	TAILQ_INIT(&d->slots);
	TAILQ_INIT(&d->heads);
	d->timer = evtimer_new(env->base, dispatch_timer, d);
	d->ack_ev = event_new(env->base, -1, 0, dispatch_ack_event, d);
	if (d->timer == NULL || d->ack_ev == NULL)
		fatalx("evtimer_new failed");
	d->state = DISPATCH_BUSY;	/* the first read is due */
	dispatch_arm(d, 0);
	return (d);
}

void
dispatch_free(struct dispatch *d)
{
	struct dispatch_op	*op;
	int			 cancel;

	if (d == NULL)
		return;
	lease_free(d->lease);
	event_free(d->timer);
	event_free(d->ack_ev);
	cancel = 0;
	TAILQ_FOREACH(op, &d->ops, entry)
		cancel |= op->kind == OP_SINK;
	cancel = cancel && d->sink->entry->cancel != NULL;
	if (cancel)
		d->sink->entry->cancel(d->sink);
	while ((op = TAILQ_FIRST(&d->ops)) != NULL) {
		TAILQ_REMOVE(&d->ops, op, entry);
		if (op->slot != NULL)
			op->slot->op = NULL;
		op->slot = NULL;
		if (op->kind == OP_SINK && cancel)
			free(op);
		else
			op->d = NULL;	/* its callback frees it */
	}
	d->nops = 0;
	dispatch_drop(d);
	dispatch_memo_clear(d);
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
	if (d->acks_due && !d->acks_now) {
		/* What is confirmed is acked now, not later. */
		d->acks_now = 1;
		event_del(d->ack_ev);
		event_active(d->ack_ev, 0, 0);
	}
	if (d->nops == 0 && !d->acks_due)
		d->state = DISPATCH_STOPPED;
}

int
dispatch_busy(const struct dispatch *d)
{
	return (d->nops != 0 || d->acks_due);
}

void
dispatch_wake(struct dispatch *d)
{
	if (d->stopping)
		return;		/* whatever it is doing is the last thing */
	d->wake = 1;
	d->exhausted = 0;
	switch (d->state) {
	case DISPATCH_IDLE:
	case DISPATCH_STORE_WAIT:
		d->state = DISPATCH_BUSY;
		dispatch_arm(d, 0);
		break;
	case DISPATCH_BUSY:
	case DISPATCH_RETRY_WAIT:
		/*
		 * Read as soon as nothing is left to send: other sources go
		 * on while one waits for a retry.
		 */
		if (!d->reading && d->scan == NULL)
			dispatch_arm(d, 0);
		break;
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
