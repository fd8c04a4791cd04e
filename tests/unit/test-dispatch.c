/*
 * test-dispatch.c: the dispatcher's logic over an in-test store (arrays,
 * answering from the loop as the real stores do) and a scripted sink whose
 * answers each test sets: order, retries, dead-lettering, store failures,
 * independence of sinks, wake-ups and freeing with work in flight.  Retry
 * waits are made tiny through the options; tests wait for states, not time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "dispatch.h"
#include "sink.h"
#include "store.h"

#define MAXEV	16
#define MAXLOG	64

/* The in-test store: events in outbox order, each with two sink states. */
struct fake_event {
	char		 key[16];
	char		 id[16];
	char		 json[2048];
	char		 source[16];		/* "src" unless set */
	int64_t		 committed_at;
	int		 done[2];		/* acked (delivered or dead) */
	char		*dead[2];		/* dead-letter reason */
};
struct fake_store {
	struct store		 store;
	struct fake_event	 ev[MAXEV];
	size_t			 nev;
	int			 fail_reads;	/* fail this many reads */
	int			 fail_acks;
	int			 reads, pending;
	int			 hold;		/* keep answers until released */
	struct fake_call	*held[MAXEV];
	size_t			 nheld;
	char			 acked[MAXEV][16];	/* sink a, in order */
	size_t			 nacked;
	int			 twice;		/* acked an acked entry */
	int			 many_calls;	/* ack_many: calls, */
	size_t			 many_max;	/* the most keys in one */
};

/* A store call waiting for the loop. */
struct fake_call {
	struct fake_store	*fs;
	int			 op;		/* 0 read, 1 ack, 2 dead, 3 many */
	int			 sink;
	size_t			 n;
	size_t			 visible;	/* read: events as of the call */
	char			*key, *reason;
	char			**keys;		/* op 3 */
	size_t			 nkeys;
	store_read_cb		 read_cb;
	store_done_cb		 done_cb;
	void			*arg;
};

static struct event_base	*base;

static int
sink_index(const char *name)
{
	return (strcmp(name, "b") == 0);
}

/* ack_many: ack event i for sink a if one of keys is its key. */
static void
fake_ack_key(struct fake_store *fs, char **keys, size_t n, size_t i)
{
	size_t	 j;

	for (j = 0; j < n; j++) {
		if (strcmp(fs->ev[i].key, keys[j]) != 0)
			continue;
		if (fs->ev[i].done[0])
			fs->twice++;
		else if (fs->nacked < MAXEV)
			snprintf(fs->acked[fs->nacked++], sizeof fs->acked[0],
			    "%s", fs->ev[i].id);
		fs->ev[i].done[0] = 1;
	}
}

static void
fake_answer(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct fake_call	*c = arg;
	struct fake_store	*fs = c->fs;
	struct outbox_entry	 out[MAXEV];
	size_t			 i, n = 0;

	fs->pending--;
	if (c->op == 0) {
		if (fs->fail_reads > 0) {
			fs->fail_reads--;
			c->read_cb(STORE_ERROR, NULL, 0, "store is down",
			    c->arg);
			goto out;
		}
		for (i = 0; i < c->visible && n < c->n; i++) {
			if (fs->ev[i].done[c->sink])
				continue;
			out[n].key = fs->ev[i].key;
			out[n].id = fs->ev[i].id;
			out[n].source = fs->ev[i].source[0] != '\0' ?
			    fs->ev[i].source : "src";
			out[n].json = fs->ev[i].json;
			out[n].committed_at = fs->ev[i].committed_at;
			n++;
		}
		c->read_cb(STORE_OK, out, n, NULL, c->arg);
		goto out;
	}
	if (fs->fail_acks > 0) {
		fs->fail_acks--;
		c->done_cb(STORE_ERROR, "ack failed", c->arg);
		goto out;
	}
	for (i = 0; i < fs->nev; i++) {
		if (c->op == 3) {
			fake_ack_key(fs, c->keys, c->nkeys, i);
			continue;
		}
		if (strcmp(fs->ev[i].key, c->key) != 0)
			continue;
		if (fs->ev[i].done[c->sink])
			fs->twice++;
		else if (c->sink == 0 && fs->nacked < MAXEV)
			snprintf(fs->acked[fs->nacked++], sizeof fs->acked[0],
			    "%s", fs->ev[i].id);
		fs->ev[i].done[c->sink] = 1;
		if (c->op == 2)
			fs->ev[i].dead[c->sink] = xstrdup(c->reason);
	}
	c->done_cb(STORE_OK, NULL, c->arg);
out:
	for (i = 0; i < c->nkeys; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->key);
	free(c->reason);
	free(c);
}

static struct fake_call *
fake_call(struct store *st, int op, const char *sink)
{
	struct fake_call	*c;

	c = xcalloc(1, sizeof *c);
	c->fs = st->data;
	c->op = op;
	c->sink = sink_index(sink);
	c->fs->pending++;
	return (c);
}

static void
fake_later(struct fake_call *c)
{
	if (c->fs->hold) {
		cr_assert_lt(c->fs->nheld, MAXEV);
		c->fs->held[c->fs->nheld++] = c;
		return;
	}
	cr_assert_eq(event_base_once(base, -1, EV_TIMEOUT, fake_answer, c,
	    NULL), 0);
}

static void
fake_read(struct store *st, const char *sink, size_t n, store_read_cb cb,
    void *arg)
{
	struct fake_call	*c = fake_call(st, 0, sink);

	c->fs->reads++;
	c->n = n;
	c->visible = c->fs->nev;
	c->read_cb = cb;
	c->arg = arg;
	fake_later(c);
}

static void
fake_ack(struct store *st, const char *sink, const char *key,
    store_done_cb cb, void *arg)
{
	struct fake_call	*c = fake_call(st, 1, sink);

	c->key = xstrdup(key);
	c->done_cb = cb;
	c->arg = arg;
	fake_later(c);
}

static void
fake_dead(struct store *st, const char *sink, const char *key,
    const char *reason, store_done_cb cb, void *arg)
{
	struct fake_call	*c = fake_call(st, 2, sink);

	c->key = xstrdup(key);
	c->reason = xstrdup(reason);
	c->done_cb = cb;
	c->arg = arg;
	fake_later(c);
}

/* Let the held answers arrive, from the loop. */
static void
fake_release(struct fake_store *fs)
{
	size_t	 i, n = fs->nheld;

	fs->hold = 0;
	fs->nheld = 0;
	for (i = 0; i < n; i++)
		fake_later(fs->held[i]);
}

static void
fake_ack_many(struct store *st, const char *sink, const char *const *keys,
    size_t n, store_done_cb cb, void *arg)
{
	struct fake_call	*c = fake_call(st, 3, sink);
	size_t			 i;

	cr_assert_eq(c->sink, 0, "ack_many is tested with sink a");
	c->keys = xcalloc(n, sizeof *c->keys);
	for (i = 0; i < n; i++)
		c->keys[i] = xstrdup(keys[i]);
	c->nkeys = n;
	c->fs->many_calls++;
	if (n > c->fs->many_max)
		c->fs->many_max = n;
	c->done_cb = cb;
	c->arg = arg;
	fake_later(c);
}

static const struct store_entry fake_store_entry = {
	.name = "fake",
	.read = fake_read,
	.ack = fake_ack,
	.dead = fake_dead,
};

/* The same store with ack_many, as LMDB and Redis have it. */
static const struct store_entry fake_many_entry = {
	.name = "fake-many",
	.read = fake_read,
	.ack = fake_ack,
	.ack_many = fake_ack_many,
	.dead = fake_dead,
};

/* An event whose JSON carries `pad` bytes of filler. */
static void
fake_add_padded(struct fake_store *fs, const char *id, int64_t committed_at,
    int pad)
{
	struct fake_event	*e = &fs->ev[fs->nev];

	cr_assert_lt(fs->nev, MAXEV);
	cr_assert_lt((size_t)pad + 32, sizeof e->json);
	snprintf(e->key, sizeof e->key, "%zu-0", fs->nev + 1);
	snprintf(e->id, sizeof e->id, "%s", id);
	snprintf(e->json, sizeof e->json, "{\"id\":\"%s\",\"pad\":\"%*s\"}", id,
	    pad, "");
	e->committed_at = committed_at;
	fs->nev++;
}

static void
fake_add(struct fake_store *fs, const char *id, int64_t committed_at)
{
	fake_add_padded(fs, id, committed_at, 0);
}

/* The scripted sink: answers in order, then OK; logs what it was given. */
struct step {
	enum delivery	 result;
	int64_t		 retry_after_ms;
};
struct script {
	struct step		 steps[MAXLOG];
	size_t			 nsteps, next;
	int			 always_retry;
	int			 hold;		/* never answer: stays in flight */
	char			*log[MAXLOG];
	size_t			 nlog;
	int			 inflight, cancelled;
	struct event		*answer;
	sink_done_cb		 done;
	void			*arg;
};

static void
script_answer(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct script	*sc = arg;
	struct step	 st = { DELIVERY_OK, -1 };
	sink_done_cb	 done = sc->done;

	if (sc->always_retry)
		st.result = DELIVERY_RETRY;
	else if (sc->next < sc->nsteps)
		st = sc->steps[sc->next++];
	sc->inflight = 0;
	sc->done = NULL;
	done(st.result, st.retry_after_ms, st.result == DELIVERY_OK ? NULL :
	    st.result == DELIVERY_RETRY ? "scripted 503" : "scripted 404",
	    sc->arg);
}

static void
script_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct script	*sc = s->data;

	cr_assert_eq(sc->inflight, 0, "two deliveries at once");
	cr_assert_lt(sc->nlog, MAXLOG);
	sc->log[sc->nlog++] = xstrdup(e->id);
	sc->inflight = 1;
	sc->done = done;
	sc->arg = arg;
	if (!sc->hold)
		event_active(sc->answer, 0, 0);
}

static void
script_cancel(struct sink *s)
{
	struct script	*sc = s->data;

	if (!sc->inflight)
		return;
	event_del(sc->answer);
	sc->inflight = 0;
	sc->done = NULL;
	sc->cancelled++;
}

static const struct sink_entry script_entry = {
	.name = "Script",
	.deliver = script_deliver,
	.cancel = script_cancel,
};

/* One sink under test, its dispatcher, and what it was told. */
struct rig {
	struct sink_conf	 conf;
	struct sink		 sink;
	struct script		 script;
	struct dispatch		*d;
	int			 notified[5];
	int			 stop_when_idle;
};

static struct fake_store	 fs;
static struct env		 env;

static void
setup(void)
{
	base = event_base_new();
	cr_assert_not_null(base);
	memset(&fs, 0, sizeof fs);
	fs.store.entry = &fake_store_entry;
	fs.store.base = base;
	fs.store.data = &fs;
	memset(&env, 0, sizeof env);
	env.base = base;
	env.store = &fs.store;
}

static void
teardown(void)
{
	size_t	 i;

	for (i = 0; i < fs.nev; i++) {
		free(fs.ev[i].dead[0]);
		free(fs.ev[i].dead[1]);
	}
	event_base_free(base);
}

static void
rig_notify(struct dispatch *d __unused, enum dispatch_state state, void *arg)
{
	struct rig	*r = arg;

	r->notified[state]++;
	if ((state == DISPATCH_IDLE && r->stop_when_idle) ||
	    state == DISPATCH_STOPPED)
		event_base_loopbreak(base);
}

/* Tiny waits so that retries happen at once; jitter pinned to 0. */
static uint32_t
zero_random(void)
{
	return (0);
}

static void
rig_start(struct rig *r, const char *id, long long max_attempts,
    int64_t max_age_ms)
{
	struct dispatch_opts	 o = { 0 };

	memset(r, 0, sizeof *r);
	r->conf.id = (char *)id;
	r->conf.max_attempts = max_attempts;
	r->conf.max_age_ms = max_age_ms;
	r->sink.entry = &script_entry;
	r->sink.conf = &r->conf;
	r->sink.env = &env;
	r->sink.data = &r->script;
	r->script.answer = event_new(base, -1, 0, script_answer, &r->script);
	o.batch = 2;			/* several reads per test */
	o.reread_ms = 60 * 1000;	/* only a wake makes it read early */
	o.backoff.base_ms = 1;
	o.backoff.cap_ms = 2;
	o.max_retry_after_ms = 2;
	o.random = zero_random;
	r->d = dispatch_create(&env, &r->sink, &o);
	r->stop_when_idle = 1;
	dispatch_set_notify(r->d, rig_notify, r);
}

static void
rig_stop(struct rig *r)
{
	size_t	 i;

	dispatch_free(r->d);
	event_free(r->script.answer);
	for (i = 0; i < r->script.nlog; i++)
		free(r->script.log[i]);
}

static void
assert_log(const struct rig *r, const char *const *want, size_t n)
{
	size_t	 i;

	cr_assert_eq(r->script.nlog, n, "deliveries: %zu, want %zu",
	    r->script.nlog, n);
	for (i = 0; i < n; i++)
		cr_assert_str_eq(r->script.log[i], want[i], "delivery %zu", i);
}

TestSuite(dispatch, .init = setup, .fini = teardown, .timeout = 20);

Test(dispatch, delivers_in_outbox_order_and_acks)
{
	static const char *const want[] = { "e1", "e2", "e3", "e4", "e5" };
	struct rig	 r;
	size_t		 i;

	for (i = 0; i < nitems(want); i++)
		fake_add(&fs, want[i], now_ms());
	rig_start(&r, "a", 20, 0);
	event_base_dispatch(base);

	assert_log(&r, want, nitems(want));
	for (i = 0; i < nitems(want); i++) {
		cr_assert(fs.ev[i].done[0]);
		cr_assert_null(fs.ev[i].dead[0]);
		cr_assert_eq(fs.ev[i].done[1], 0, "other sink untouched");
	}
	cr_assert_eq(dispatch_counters(r.d)->delivered, 5);
	cr_assert_eq(dispatch_counters(r.d)->retried, 0);
	cr_assert(dispatch_drained(r.d));
	cr_assert_eq(dispatch_state(r.d), DISPATCH_IDLE);
	/*
	 * Batches of 2, read ahead once nothing is left to send (a confirmed
	 * entry does not wait for its ack to free the window): e1 e2, then
	 * e3 e4 (e1 e2 held), then e5, then the one that finds nothing new.
	 */
	cr_assert_eq(fs.reads, 4, "reads: %d", fs.reads);
	rig_stop(&r);
}

Test(dispatch, retries_the_same_entry_until_it_succeeds)
{
	static const char *const want[] = { "e1", "e1", "e1", "e2" };
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	fake_add(&fs, "e2", now_ms());
	rig_start(&r, "a", 20, 0);
	r.script.steps[0] = (struct step){ DELIVERY_RETRY, -1 };
	r.script.steps[1] = (struct step){ DELIVERY_RETRY, 7000 };
	r.script.nsteps = 2;
	event_base_dispatch(base);

	assert_log(&r, want, nitems(want));
	cr_assert(fs.ev[0].done[0] && fs.ev[1].done[0]);
	cr_assert_eq(dispatch_counters(r.d)->delivered, 2);
	cr_assert_eq(dispatch_counters(r.d)->retried, 2);
	cr_assert_eq(dispatch_counters(r.d)->dead, 0);
	cr_assert_eq(r.notified[DISPATCH_RETRY_WAIT], 2);
	rig_stop(&r);
}

Test(dispatch, max_attempts_dead_letters_and_goes_on)
{
	static const char *const want[] = { "e1", "e1", "e1", "e2" };
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	fake_add(&fs, "e2", now_ms());
	rig_start(&r, "a", 3, 0);
	r.script.steps[0] = (struct step){ DELIVERY_RETRY, -1 };
	r.script.steps[1] = (struct step){ DELIVERY_RETRY, -1 };
	r.script.steps[2] = (struct step){ DELIVERY_RETRY, -1 };
	r.script.nsteps = 3;
	event_base_dispatch(base);

	assert_log(&r, want, nitems(want));
	cr_assert_str_eq(fs.ev[0].dead[0],
	    "gave up after 3 attempts: scripted 503");
	cr_assert_null(fs.ev[1].dead[0]);
	cr_assert(fs.ev[1].done[0]);
	cr_assert_eq(dispatch_counters(r.d)->dead, 1);
	cr_assert_eq(dispatch_counters(r.d)->retried, 2);
	cr_assert_eq(dispatch_counters(r.d)->delivered, 1);
	rig_stop(&r);
}

Test(dispatch, default_max_attempts_is_twenty)
{
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	rig_start(&r, "a", 0, 0);
	r.script.always_retry = 1;
	event_base_dispatch(base);

	cr_assert_eq(r.script.nlog, 20);
	cr_assert_str_eq(fs.ev[0].dead[0],
	    "gave up after 20 attempts: scripted 503");
	rig_stop(&r);
}

Test(dispatch, permanent_failure_is_dead_at_once)
{
	static const char *const want[] = { "e1", "e2" };
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	fake_add(&fs, "e2", now_ms());
	rig_start(&r, "a", 20, 0);
	r.script.steps[0] = (struct step){ DELIVERY_PERMANENT, -1 };
	r.script.nsteps = 1;
	event_base_dispatch(base);

	assert_log(&r, want, nitems(want));
	cr_assert_str_eq(fs.ev[0].dead[0], "scripted 404");
	cr_assert_eq(dispatch_counters(r.d)->dead, 1);
	cr_assert_eq(dispatch_counters(r.d)->retried, 0);
	cr_assert_eq(dispatch_counters(r.d)->delivered, 1);
	rig_stop(&r);
}

Test(dispatch, max_age_dead_letters_old_entries)
{
	struct rig	 r;

	fake_add(&fs, "old", now_ms() - 3600 * 1000);
	rig_start(&r, "a", 20, 60 * 1000);
	r.script.always_retry = 1;
	event_base_dispatch(base);

	cr_assert_eq(r.script.nlog, 1);
	cr_assert_str_eq(fs.ev[0].dead[0],
	    "older than maxAge after 1 attempts: scripted 503");
	rig_stop(&r);
}

Test(dispatch, store_error_is_retried)
{
	static const char *const want[] = { "e1", "e2" };
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	fake_add(&fs, "e2", now_ms());
	fs.fail_reads = 2;
	rig_start(&r, "a", 20, 0);
	event_base_dispatch(base);

	assert_log(&r, want, nitems(want));
	cr_assert_eq(r.notified[DISPATCH_STORE_WAIT], 2);
	cr_assert_eq(dispatch_counters(r.d)->store_errors, 2);
	cr_assert_eq(dispatch_counters(r.d)->delivered, 2);
	rig_stop(&r);
}

/* A failed ack means the entry comes back: at least once, never lost. */
Test(dispatch, failed_ack_redelivers)
{
	static const char *const want[] = { "e1", "e1" };
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	fs.fail_acks = 1;
	rig_start(&r, "a", 20, 0);
	event_base_dispatch(base);

	assert_log(&r, want, nitems(want));
	cr_assert(fs.ev[0].done[0]);
	cr_assert_eq(dispatch_counters(r.d)->store_errors, 1);
	rig_stop(&r);
}

Test(dispatch, a_sink_that_is_down_holds_back_no_other)
{
	static const char *const want[] = { "e1", "e2", "e3" };
	struct rig	 a, b;

	fake_add(&fs, "e1", now_ms());
	fake_add(&fs, "e2", now_ms());
	fake_add(&fs, "e3", now_ms());
	rig_start(&a, "a", 1000000, 0);
	a.script.always_retry = 1;
	a.stop_when_idle = 0;
	rig_start(&b, "b", 20, 0);
	event_base_dispatch(base);

	assert_log(&b, want, nitems(want));
	cr_assert(fs.ev[0].done[1] && fs.ev[1].done[1] && fs.ev[2].done[1]);
	cr_assert_eq(fs.ev[0].done[0], 0);
	cr_assert_gt(a.script.nlog, 0);
	/* a never got past its first entry. */
	cr_assert_str_eq(a.script.log[a.script.nlog - 1], "e1");
	cr_assert_eq(dispatch_counters(a.d)->delivered, 0);
	cr_assert(!dispatch_drained(a.d));
	rig_stop(&a);
	rig_stop(&b);
}

Test(dispatch, wake_reads_new_events)
{
	static const char *const want[] = { "e1", "e2" };
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	rig_start(&r, "a", 20, 0);
	event_base_dispatch(base);
	cr_assert_eq(r.script.nlog, 1);

	fake_add(&fs, "e2", now_ms());
	dispatch_wake(r.d);
	cr_assert(!dispatch_drained(r.d), "a wake makes it busy at once");
	event_base_dispatch(base);
	assert_log(&r, want, nitems(want));
	rig_stop(&r);
}

/* A wake while a read is outstanding reads again after it. */
Test(dispatch, wake_while_reading_is_not_lost)
{
	static const char *const want[] = { "e1" };
	struct rig	 r;

	fs.hold = 1;
	rig_start(&r, "a", 20, 0);
	while (fs.reads == 0)
		event_base_loop(base, EVLOOP_ONCE);
	fake_add(&fs, "e1", now_ms());	/* after the read was answered */
	dispatch_wake(r.d);
	fake_release(&fs);
	event_base_dispatch(base);
	assert_log(&r, want, nitems(want));
	rig_stop(&r);
}

Test(dispatch, free_while_delivering_cancels_the_sink)
{
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	rig_start(&r, "a", 20, 0);
	r.script.hold = 1;
	while (!r.script.inflight)
		event_base_loop(base, EVLOOP_ONCE);
	rig_stop(&r);
	cr_assert_eq(r.script.cancelled, 1);
	cr_assert_eq(r.script.inflight, 0);
	/* Nothing is left to run, and nothing reaches the freed dispatcher. */
	cr_assert_eq(event_base_dispatch(base), 1);
	cr_assert_eq(fs.ev[0].done[0], 0);
}

Test(dispatch, free_while_the_store_answers_later)
{
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	fs.hold = 1;
	rig_start(&r, "a", 20, 0);
	while (fs.reads == 0)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert_eq(fs.pending, 1);
	rig_stop(&r);
	/* The read's answer arrives for a dispatcher that is gone. */
	fake_release(&fs);
	event_base_dispatch(base);
	cr_assert_eq(fs.pending, 0);
	cr_assert_eq(r.script.nlog, 0);
}

Test(dispatch, free_while_acking)
{
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	fake_add(&fs, "e2", now_ms());
	rig_start(&r, "a", 20, 0);
	r.script.hold = 1;
	while (!r.script.inflight)
		event_base_loop(base, EVLOOP_ONCE);
	fs.hold = 1;		/* from the ack on */
	event_active(r.script.answer, 0, 0);
	while (fs.nheld == 0)
		event_base_loop(base, EVLOOP_ONCE);
	/* The ack of e1, and the read ahead while e2 is at the sink. */
	cr_assert_geq(fs.pending, 1);
	rig_stop(&r);
	fake_release(&fs);
	event_base_dispatch(base);
	cr_assert(fs.ev[0].done[0], "the ack itself completes");
	cr_assert_eq(fs.ev[1].done[0], 0);
	cr_assert_eq(fs.pending, 0);
}

/* Shutdown drains: the delivery in flight is acked, nothing new starts. */
Test(dispatch, stop_finishes_the_delivery_in_flight)
{
	static const char *const want[] = { "e1" };
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	fake_add(&fs, "e2", now_ms());
	rig_start(&r, "a", 20, 0);
	r.script.hold = 1;
	while (!r.script.inflight)
		event_base_loop(base, EVLOOP_ONCE);
	dispatch_stop(r.d);
	cr_assert(dispatch_busy(r.d));
	dispatch_wake(r.d);		/* ignored now */
	event_active(r.script.answer, 0, 0);
	event_base_dispatch(base);

	assert_log(&r, want, nitems(want));
	cr_assert(fs.ev[0].done[0], "the delivered entry is acked");
	cr_assert_eq(fs.ev[1].done[0], 0);
	cr_assert_eq(dispatch_state(r.d), DISPATCH_STOPPED);
	cr_assert_eq(r.notified[DISPATCH_STOPPED], 1);
	cr_assert(!dispatch_busy(r.d));
	cr_assert_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1,
	    "no timer left armed");
	rig_stop(&r);
}

Test(dispatch, stop_during_retry_wait_gives_up_the_wait)
{
	struct rig	 r;

	fake_add(&fs, "e1", now_ms());
	rig_start(&r, "a", 20, 0);
	r.script.always_retry = 1;
	while (r.notified[DISPATCH_RETRY_WAIT] == 0)
		event_base_loop(base, EVLOOP_ONCE);
	dispatch_stop(r.d);
	cr_assert(!dispatch_busy(r.d));
	cr_assert_eq(dispatch_state(r.d), DISPATCH_STOPPED);
	cr_assert_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1);
	cr_assert_eq(r.script.nlog, 1);
	cr_assert_eq(fs.ev[0].done[0], 0, "left in the outbox");
	rig_stop(&r);
}

/* The retry schedule: bounds from the equal-jitter formula, 1 s .. 5 min. */
Test(dispatch_delay, backoff_bounds)
{
	struct dispatch_opts	 o = { 0 };
	int64_t			 lo, hi, full;
	unsigned		 k;

	for (k = 1; k <= 25; k++) {
		full = 1000;
		while (full < 300000 && full < (int64_t)1000 << (k - 1))
			full *= 2;
		if (full > 300000)
			full = 300000;
		lo = dispatch_retry_delay(&o, k, -1, 0);
		hi = dispatch_retry_delay(&o, k, -1, UINT32_MAX);
		cr_assert_eq(lo, full / 2, "attempt %u", k);
		cr_assert_geq(hi, full / 2, "attempt %u", k);
		cr_assert_leq(hi, full, "attempt %u", k);
	}
	cr_assert_eq(dispatch_retry_delay(&o, 1, -1, 500), 1000);
	cr_assert_eq(dispatch_retry_delay(&o, 1, -1, 499), 999);
	cr_assert_eq(dispatch_retry_delay(&o, 20, -1, 0), 150000);
}

Test(dispatch_delay, retry_after_wins_when_larger)
{
	struct dispatch_opts	 o = { 0 };

	cr_assert_eq(dispatch_retry_delay(&o, 1, 7000, 0), 7000);
	cr_assert_eq(dispatch_retry_delay(&o, 1, 100, 0), 500);
	cr_assert_eq(dispatch_retry_delay(&o, 20, 7000, 0), 150000);
	/* A hostile Retry-After cannot park the sink for years. */
	cr_assert_eq(dispatch_retry_delay(&o, 1, (int64_t)1 << 50, 0),
	    3600 * 1000);
	o.max_retry_after_ms = 10000;
	cr_assert_eq(dispatch_retry_delay(&o, 1, 60000, 0), 10000);
}

/* The reading end of the pipe that stands in for stdout. */
struct reader {
	int		 fd;
	struct buf	 got;
	struct event	*ev;
};

static void
reader_cb(evutil_socket_t fd, short what __unused, void *arg)
{
	struct reader	*rd = arg;
	char		 chunk[512];
	ssize_t		 n;

	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		buf_add(&rd->got, chunk, (size_t)n);
}

/*
 * The real Stdout sink behind the dispatcher, writing into a small
 * non-blocking pipe that fills up: every event arrives whole, one a line,
 * in order, and the loop never blocks.
 */
static void
stdout_run(long long max_inflight)
{
	struct sink_conf	 sc = { 0 };
	struct reader		 rd = { 0 };
	struct sink		*s;
	struct dispatch		*d;
	struct rig		 r;
	char			*cause = NULL, *line, *nl, id[16];
	int			 p[2], saved, i;

	for (i = 0; i < MAXEV; i++) {
		snprintf(id, sizeof id, "e%d", i);
		fake_add_padded(&fs, id, now_ms(), 1500);
	}
	cr_assert_eq(pipe(p), 0);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	cr_assert_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	cr_assert_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	saved = dup(STDOUT_FILENO);
	cr_assert_eq(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
	close(p[1]);
	rd.fd = p[0];
	rd.ev = event_new(base, p[0], EV_READ | EV_PERSIST, reader_cb, &rd);
	event_add(rd.ev, NULL);

	sc.id = "out";
	sc.max_inflight = max_inflight;
	sc.entry = sink_find("Stdout");
	cr_assert_not_null(sc.entry);
	sc.data = xcalloc(1, sc.entry->size);	/* pretty: false */
	s = sink_create(&env, &sc, &cause);
	cr_assert_not_null(s, "sink_create: %s", cause);
	memset(&r, 0, sizeof r);
	r.stop_when_idle = 1;
	d = dispatch_create(&env, s, NULL);
	dispatch_set_notify(d, rig_notify, &r);
	event_base_dispatch(base);

	dup2(saved, STDOUT_FILENO);
	close(saved);
	reader_cb(rd.fd, EV_READ, &rd);
	cr_assert_eq(dispatch_counters(d)->delivered, MAXEV);
	line = rd.got.data;
	cr_assert_not_null(line);
	for (i = 0; i < MAXEV; i++) {
		nl = strchr(line, '\n');
		cr_assert_not_null(nl, "line %d is not terminated", i);
		*nl = '\0';
		cr_assert_str_eq(line, fs.ev[i].json, "line %d", i);
		line = nl + 1;
	}
	cr_assert_str_eq(line, "", "nothing after the last line");
	dispatch_free(d);
	sink_free(s);
	free(sc.data);
	event_free(rd.ev);
	close(rd.fd);
	buf_free(&rd.got);
}

Test(dispatch, stdout_sink_writes_one_line_per_event)
{
	stdout_run(0);
}

/* Four lines in flight at once: still whole, one a line, in order. */
Test(dispatch, stdout_sink_with_a_window)
{
	stdout_run(4);
}

/*
 * The window sink: keeps every delivery it is given and answers one of them
 * (a seeded pseudo-random pick, so confirmations come out of order) each
 * time its answer event runs.  What each event gets is scripted by id: a
 * number of RETRY answers before OK, or PERMANENT.
 */
struct wcall {
	char		 id[16];
	size_t		 at;			/* in the log */
	sink_done_cb	 done;
	void		*arg;
};
struct wsink {
	struct wcall	 pending[MAXLOG];
	size_t		 npending, max_pending;
	int		 last_answered, inversions;	/* out of order */
	char		*log[4 * MAXLOG];	/* ids as delivered */
	size_t		 nlog;
	int		 ok[4 * MAXLOG];	/* log[i] was answered OK */
	size_t		 nok;
	const char	*retry_id;		/* RETRY this many times: */
	int		 retries;
	const char	*forever_id;		/* RETRY every time */
	const char	*permanent_id;		/* PERMANENT */
	int		 always_retry;		/* RETRY all (down) */
	int		 hold;			/* answer only when told */
	int		 cancelled;
	unsigned	 seed;
	struct event	*answer;
};

static unsigned
wsink_pick(struct wsink *ws)
{
	ws->seed = ws->seed * 1103515245 + 12345;
	return ((ws->seed >> 16) % ws->npending);
}

static size_t
wsink_count(const struct wsink *ws, const char *id)
{
	size_t	 i, n = 0;

	for (i = 0; i < ws->nlog; i++)
		n += strcmp(ws->log[i], id) == 0;
	return (n);
}

/* Answer the call at index i. */
static void
wsink_answer_at(struct wsink *ws, size_t i)
{
	struct wcall	 c = ws->pending[i];
	enum delivery	 result = DELIVERY_OK;

	ws->pending[i] = ws->pending[--ws->npending];
	if (atoi(c.id + 1) < ws->last_answered)
		ws->inversions++;
	ws->last_answered = atoi(c.id + 1);
	if (ws->always_retry)
		result = DELIVERY_RETRY;
	else if (ws->permanent_id != NULL && strcmp(c.id, ws->permanent_id) == 0)
		result = DELIVERY_PERMANENT;
	else if (ws->forever_id != NULL && strcmp(c.id, ws->forever_id) == 0)
		result = DELIVERY_RETRY;
	else if (ws->retry_id != NULL && strcmp(c.id, ws->retry_id) == 0 &&
	    wsink_count(ws, c.id) <= (size_t)ws->retries)
		result = DELIVERY_RETRY;
	if (result == DELIVERY_OK) {
		ws->ok[c.at] = 1;
		ws->nok++;
	}
	c.done(result, -1, result == DELIVERY_OK ? NULL :
	    result == DELIVERY_RETRY ? "scripted 503" : "scripted 404", c.arg);
}

static void
wsink_answer(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct wsink	*ws = arg;

	if (ws->npending > 0)
		wsink_answer_at(ws, wsink_pick(ws));
	if (ws->npending > 0 && !ws->hold)
		event_active(ws->answer, 0, 0);
}

static void
wsink_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct wsink	*ws = s->data;
	struct wcall	*c;

	cr_assert_lt(ws->npending, MAXLOG);
	cr_assert_lt(ws->nlog, nitems(ws->log));
	ws->log[ws->nlog++] = xstrdup(e->id);
	c = &ws->pending[ws->npending++];
	snprintf(c->id, sizeof c->id, "%s", e->id);
	c->at = ws->nlog - 1;
	c->done = done;
	c->arg = arg;
	if (ws->npending > ws->max_pending)
		ws->max_pending = ws->npending;
	if (!ws->hold)
		event_active(ws->answer, 0, 0);
}

static void
wsink_cancel(struct sink *s)
{
	struct wsink	*ws = s->data;

	event_del(ws->answer);
	ws->npending = 0;
	ws->cancelled++;
}

static const struct sink_entry wsink_entry = {
	.name = "Window",
	.deliver = wsink_deliver,
	.cancel = wsink_cancel,
	.max_inflight = 4,
};

struct wrig {
	struct sink_conf	 conf;
	struct sink		 sink;
	struct wsink		 ws;
	struct rig		 r;		/* notifications only */
	struct dispatch		*d;
};

static int64_t	wrig_ack_delay_ms;	/* 0: the default */

static void
wrig_start(struct wrig *w, long long max_inflight, long long max_attempts,
    unsigned seed)
{
	struct dispatch_opts	 o = { 0 };

	memset(w, 0, sizeof *w);
	w->conf.id = "a";
	w->conf.max_attempts = max_attempts;
	w->conf.max_inflight = max_inflight;
	w->sink.entry = &wsink_entry;
	w->sink.conf = &w->conf;
	w->sink.env = &env;
	w->sink.data = &w->ws;
	w->ws.seed = seed;
	w->ws.answer = event_new(base, -1, 0, wsink_answer, &w->ws);
	o.batch = 3;
	o.reread_ms = 60 * 1000;
	o.backoff.base_ms = 1;
	o.backoff.cap_ms = 2;
	o.random = zero_random;
	o.ack_delay_ms = wrig_ack_delay_ms;
	w->d = dispatch_create(&env, &w->sink, &o);
	w->r.stop_when_idle = 1;
	dispatch_set_notify(w->d, rig_notify, &w->r);
}

static void
wrig_stop(struct wrig *w)
{
	size_t	 i;

	dispatch_free(w->d);
	event_free(w->ws.answer);
	for (i = 0; i < w->ws.nlog; i++)
		free(w->ws.log[i]);
}

static void
add_events(int n)
{
	char	 id[16];
	int	 i;

	for (i = 1; i <= n; i++) {
		snprintf(id, sizeof id, "e%d", i);
		fake_add(&fs, id, now_ms());
	}
}

/* Every event acked (or dead-lettered) once, in outbox order. */
static void
assert_acked_in_order(size_t n)
{
	size_t	 i;

	cr_assert_eq(fs.twice, 0, "an entry was acked twice");
	cr_assert_eq(fs.nacked, n, "acked %zu of %zu", fs.nacked, n);
	for (i = 0; i < n; i++) {
		cr_assert_str_eq(fs.acked[i], fs.ev[i].id, "ack %zu", i);
		cr_assert(fs.ev[i].done[0]);
	}
}

/*
 * What the sink took (the deliveries answered OK, in the order they were
 * handed to it, as a broker's stream holds them) of the source whose ids
 * start with `prefix` is in outbox order from every retried event on:
 * keeping the last copy of each id, the ids come in the order of their
 * numbers.
 */
static void
assert_sink_order(const struct wsink *ws, const char *prefix)
{
	size_t	 i, j;
	int	 last = 0, n;

	for (i = 0; i < ws->nlog; i++) {
		if (!ws->ok[i] ||
		    strncmp(ws->log[i], prefix, strlen(prefix)) != 0)
			continue;
		for (j = i + 1; j < ws->nlog; j++) {
			if (ws->ok[j] && strcmp(ws->log[i], ws->log[j]) == 0)
				break;
		}
		if (j < ws->nlog)
			continue;	/* taken again later */
		n = atoi(ws->log[i] + strlen(prefix));
		cr_assert_gt(n, last, "%s taken after %s%d", ws->log[i],
		    prefix, last);
		last = n;
	}
}

/* The id of the last delivery the sink took. */
static const char *
wsink_last_taken(const struct wsink *ws)
{
	size_t	 i;

	for (i = ws->nlog; i > 0; i--) {
		if (ws->ok[i - 1])
			return (ws->log[i - 1]);
	}
	return ("");
}

TestSuite(dispatch_window, .init = setup, .fini = teardown, .timeout = 20);

/* A fresh store and loop for the next round of a test. */
static void
again(void)
{
	teardown();
	setup();
}

Test(dispatch_window, confirmed_out_of_order_acked_in_order)
{
	struct wrig	 w;
	unsigned	 seed;
	size_t		 i;

	/* Several orders of confirmation, each seeded. */
	for (seed = 1; seed <= 5; seed++) {
		if (seed > 1)
			again();
		add_events(14);
		wrig_start(&w, 0, 20, seed);
		event_base_dispatch(base);

		assert_acked_in_order(14);
		cr_assert_eq(w.ws.nlog, 14, "each delivered once");
		for (i = 0; i < 14; i++)
			cr_assert_str_eq(w.ws.log[i], fs.ev[i].id,
			    "sent in outbox order");
		cr_assert_eq(w.ws.max_pending, 4, "the entry's window, full");
		cr_assert_gt(w.ws.inversions, 0, "confirmed out of order");
		cr_assert_eq(dispatch_counters(w.d)->delivered, 14);
		cr_assert(dispatch_drained(w.d));
		wrig_stop(&w);
	}
}

Test(dispatch_window, failures_and_dead_letters_per_event)
{
	struct wrig	 w;
	unsigned	 seed;

	for (seed = 1; seed <= 5; seed++) {
		if (seed > 1)
			again();
		add_events(12);
		wrig_start(&w, 5, 3, seed);
		w.ws.retry_id = "e3";		/* fails twice, then OK */
		w.ws.retries = 2;
		w.ws.permanent_id = "e5";
		w.ws.forever_id = "e8";		/* dead after 3 attempts */
		event_base_dispatch(base);

		assert_acked_in_order(12);
		cr_assert_eq(wsink_count(&w.ws, "e3"), 3,
		    "retried with the same id");
		cr_assert_eq(wsink_count(&w.ws, "e5"), 1);
		cr_assert_eq(wsink_count(&w.ws, "e8"), 3);
		cr_assert_geq(wsink_count(&w.ws, "e12"), 1);
		assert_sink_order(&w.ws, "e");
		cr_assert_str_eq(fs.ev[4].dead[0], "scripted 404");
		cr_assert_str_eq(fs.ev[7].dead[0],
		    "gave up after 3 attempts: scripted 503");
		cr_assert_null(fs.ev[2].dead[0]);
		cr_assert_eq(dispatch_counters(w.d)->delivered, 10);
		cr_assert_eq(dispatch_counters(w.d)->dead, 2);
		cr_assert_eq(dispatch_counters(w.d)->retried, 4);
		cr_assert_leq(w.ws.max_pending, 5);
		wrig_stop(&w);
	}
}

/* Held at the sink: run the loop until n deliveries are in flight. */
static void
wait_pending(struct wrig *w, size_t n)
{
	while (w->ws.npending < n)
		event_base_loop(base, EVLOOP_ONCE);
}

/*
 * Stop with four in flight, answered newest first, the second failing: the
 * first is acked; the second's retry is given up; the third and fourth are
 * confirmed but behind it, so they stay in the outbox with the rest.
 */
Test(dispatch_window, stop_with_events_in_flight_loses_nothing)
{
	struct wrig	 w;
	size_t		 i;

	add_events(8);
	wrig_start(&w, 4, 20, 1);
	w.ws.hold = 1;
	w.ws.forever_id = "e2";
	wait_pending(&w, 4);
	dispatch_stop(w.d);
	dispatch_wake(w.d);
	while (w.ws.npending > 0)
		wsink_answer_at(&w.ws, w.ws.npending - 1);
	event_base_dispatch(base);

	cr_assert_eq(dispatch_state(w.d), DISPATCH_STOPPED);
	cr_assert(!dispatch_busy(w.d));
	cr_assert_eq(w.r.notified[DISPATCH_STOPPED], 1);
	cr_assert_eq(w.ws.nlog, 4, "nothing new started");
	cr_assert_eq(fs.nacked, 1);
	cr_assert(fs.ev[0].done[0]);
	for (i = 1; i < 8; i++)
		cr_assert_eq(fs.ev[i].done[0], 0, "e%zu left in the outbox",
		    i + 1);
	cr_assert_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1,
	    "no timer left armed");
	wrig_stop(&w);
}

Test(dispatch_window, free_with_events_in_flight_cancels_once)
{
	struct wrig	 w;
	size_t		 i;

	add_events(8);
	wrig_start(&w, 4, 20, 1);
	w.ws.hold = 1;
	wait_pending(&w, 4);
	wrig_stop(&w);
	cr_assert_eq(w.ws.cancelled, 1);
	event_base_dispatch(base);
	for (i = 0; i < 8; i++)
		cr_assert_eq(fs.ev[i].done[0], 0);
}

/*
 * A failed ack drops the window: the sink's deliveries are cancelled and
 * everything unacked is read and sent again, with the same ids; nothing
 * is lost and nothing acked twice.
 */
Test(dispatch_window, failed_ack_sends_the_unacked_again)
{
	struct wrig	 w;
	size_t		 i;

	add_events(10);
	fs.fail_acks = 1;
	wrig_start(&w, 4, 20, 3);
	event_base_dispatch(base);

	cr_assert_eq(fs.twice, 0);
	for (i = 0; i < 10; i++) {
		cr_assert(fs.ev[i].done[0], "e%zu", i + 1);
		cr_assert_null(fs.ev[i].dead[0]);
	}
	cr_assert_geq(w.ws.nlog, 11, "the failed one was sent again");
	cr_assert_eq(dispatch_counters(w.d)->store_errors, 1);
	cr_assert_eq(w.r.notified[DISPATCH_STORE_WAIT], 1);
	wrig_stop(&w);
}

/* A sink that is down holds back no other, windows or not. */
Test(dispatch_window, a_sink_that_is_down_holds_back_no_other)
{
	struct wrig	 w;
	struct rig	 b;
	size_t		 i, seen;

	add_events(6);
	wrig_start(&w, 4, 1000000, 1);
	w.ws.forever_id = "e1";
	w.r.stop_when_idle = 0;
	rig_start(&b, "b", 20, 0);
	event_base_dispatch(base);
	while (wsink_count(&w.ws, "e1") < 3)
		event_base_loop(base, EVLOOP_ONCE);

	cr_assert_eq(b.script.nlog, 6);
	cr_assert_eq(fs.nacked, 0, "a acked nothing behind e1");
	cr_assert_eq(fs.ev[5].done[1], 1);
	/* a's window: four at the sink; once e1 failed nothing new. */
	cr_assert_leq(w.ws.max_pending, 4);
	for (i = 0, seen = 0; i < w.ws.nlog; i++) {
		if (seen >= 2)
			cr_assert_str_eq(w.ws.log[i], "e1", "delivery %zu", i);
		seen += strcmp(w.ws.log[i], "e1") == 0;
	}
	cr_assert_geq(seen, 3);
	wrig_stop(&w);
	rig_stop(&b);
}

/* With ack_many, confirmations gather into few store writes, in order. */
Test(dispatch_window, ack_many_gathers_acks_in_order)
{
	struct wrig	 w;
	unsigned	 seed;

	for (seed = 1; seed <= 3; seed++) {
		if (seed > 1)
			again();
		fs.store.entry = &fake_many_entry;
		add_events(14);
		wrig_start(&w, 4, 3, seed);
		w.ws.permanent_id = "e6";
		event_base_dispatch(base);

		assert_acked_in_order(14);
		cr_assert_str_eq(fs.ev[5].dead[0], "scripted 404");
		cr_assert_gt(fs.many_calls, 0);
		cr_assert_gt(fs.many_max, 1, "several acks in one write");
		cr_assert_eq(dispatch_counters(w.d)->delivered, 13);
		wrig_stop(&w);
	}
}

/* Answer the call for id; it must be at the sink. */
static void
wsink_answer_id(struct wsink *ws, const char *id)
{
	size_t	 i;

	for (i = 0; i < ws->npending; i++) {
		if (strcmp(ws->pending[i].id, id) == 0) {
			wsink_answer_at(ws, i);
			return;
		}
	}
	cr_assert_fail("%s is not at the sink", id);
}

/*
 * Acks gather while more is at the sink; stop sends them at once.  e1..e4
 * are confirmed while e5 and e6 go out: their acks wait to gather, until
 * the stop.
 */
Test(dispatch_window, stop_acks_the_confirmed_at_once)
{
	struct wrig	 w;

	fs.store.entry = &fake_many_entry;
	add_events(6);
	wrig_ack_delay_ms = 3600 * 1000;	/* only the stop sends them */
	wrig_start(&w, 4, 20, 1);
	wrig_ack_delay_ms = 0;
	w.ws.hold = 1;
	wait_pending(&w, 4);
	wsink_answer_id(&w.ws, "e4");
	wsink_answer_id(&w.ws, "e3");
	wsink_answer_id(&w.ws, "e1");
	wsink_answer_id(&w.ws, "e2");
	cr_assert_eq(w.ws.npending, 2, "e5 and e6 at the sink");
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_assert_eq(fs.many_calls, 0, "gathering while e5, e6 are out");
	dispatch_stop(w.d);
	cr_assert(dispatch_busy(w.d));
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_assert_eq(fs.many_calls, 1, "sent without waiting");
	wsink_answer_id(&w.ws, "e6");
	wsink_answer_id(&w.ws, "e5");
	event_base_dispatch(base);

	cr_assert_eq(dispatch_state(w.d), DISPATCH_STOPPED);
	assert_acked_in_order(6);
	cr_assert_eq(fs.many_max, 4);
	cr_assert_eq(fs.many_calls, 2);
	wrig_stop(&w);
}

Test(dispatch_window, window_size)
{
	struct sink_entry	 entry = { .name = "X" };
	struct sink_conf	 conf = { 0 };
	struct sink		 s = { .entry = &entry, .conf = &conf };

	cr_assert_eq(dispatch_window(&s), 1, "0 means 1");
	conf.max_inflight = 5;
	cr_assert_eq(dispatch_window(&s), 1, "0: one at a time only");
	conf.max_inflight = 0;
	entry.max_inflight = 64;
	cr_assert_eq(dispatch_window(&s), 64, "the entry's default");
	conf.max_inflight = 3;
	cr_assert_eq(dispatch_window(&s), 3, "maxInFlight wins");
	conf.max_inflight = 1LL << 40;
	cr_assert_eq(dispatch_window(&s), DISPATCH_MAX_WINDOW);
	cr_assert_eq(sink_find("Webhook")->max_inflight, 1);
	cr_assert_eq(sink_find("Stdout")->max_inflight, 1);
}

/* Events of two sources, interleaved in the outbox: x1 y1 x2 y2 ... */
static void
add_two_sources(int nx, int ny)
{
	char	 id[16];
	int	 i;

	for (i = 1; i <= nx || i <= ny; i++) {
		if (i <= nx) {
			snprintf(id, sizeof id, "x%d", i);
			fake_add(&fs, id, now_ms());
			snprintf(fs.ev[fs.nev - 1].source, sizeof fs.ev[0].source,
			    "X");
		}
		if (i <= ny) {
			snprintf(id, sizeof id, "y%d", i);
			fake_add(&fs, id, now_ms());
			snprintf(fs.ev[fs.nev - 1].source, sizeof fs.ev[0].source,
			    "Y");
		}
	}
}

/*
 * Event 2 of 5 of source X fails while later ones are at the sink: what
 * the sink takes of X is in order from x2 on (those that overtook it are
 * sent again after it), Y's events go on meanwhile, each once, and the
 * acks are in outbox order.
 */
Test(dispatch_window, a_failed_event_keeps_its_source_in_order)
{
	struct wrig	 w;
	unsigned	 seed;
	size_t		 i, seen;

	for (seed = 1; seed <= 8; seed++) {
		if (seed > 1)
			again();
		add_two_sources(5, 3);
		wrig_start(&w, 4, 1000000, seed);
		w.ws.forever_id = "x2";
		w.r.stop_when_idle = 0;
		/* x2 fails again and again: Y is not held behind it. */
		while (wsink_count(&w.ws, "x2") < 3 || w.ws.nok < 4)
			event_base_loop(base, EVLOOP_ONCE);
		for (i = 1; i <= 3; i++) {
			char	 id[16];

			snprintf(id, sizeof id, "y%zu", i);
			cr_assert_eq(wsink_count(&w.ws, id), 1, "%s once", id);
		}
		/* Once x2 failed, nothing of X but x2 went to the sink. */
		for (i = 0, seen = 0; i < w.ws.nlog; i++) {
			if (seen >= 2 && w.ws.log[i][0] == 'x')
				cr_assert_str_eq(w.ws.log[i], "x2",
				    "delivery %zu (seed %u)", i, seed);
			seen += strcmp(w.ws.log[i], "x2") == 0;
		}
		w.ws.forever_id = NULL;
		w.r.stop_when_idle = 1;
		event_base_dispatch(base);

		assert_acked_in_order(8);
		assert_sink_order(&w.ws, "x");
		assert_sink_order(&w.ws, "y");
		cr_assert_str_eq(wsink_last_taken(&w.ws), "x5",
		    "the last of X goes last");
		cr_assert_eq(dispatch_counters(w.d)->delivered, 8);
		cr_assert_eq(dispatch_counters(w.d)->dead, 0);
		cr_assert_leq(w.ws.max_pending, 4);
		wrig_stop(&w);
	}
}

/*
 * A sink that is down: each source is probed by its head only, and when
 * the sink is back every source's events arrive in order.
 */
Test(dispatch_window, an_outage_keeps_every_source_in_order)
{
	struct wrig	 w;
	unsigned	 seed;

	for (seed = 1; seed <= 5; seed++) {
		if (seed > 1)
			again();
		add_two_sources(6, 6);
		wrig_start(&w, 8, 1000000, seed);
		w.ws.always_retry = 1;
		w.r.stop_when_idle = 0;
		while (w.ws.nlog < 40)
			event_base_loop(base, EVLOOP_ONCE);
		w.ws.always_retry = 0;
		w.r.stop_when_idle = 1;
		event_base_dispatch(base);

		assert_acked_in_order(12);
		cr_assert_eq(w.ws.nok, 12, "each taken once: none overtook");
		assert_sink_order(&w.ws, "x");
		assert_sink_order(&w.ws, "y");
		wrig_stop(&w);
	}
}
