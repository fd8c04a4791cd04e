/*
 * store-suite.h: the store conformance suite (DESIGN §5, issue 3).  The same
 * Criterion tests run against every store implementation, so both stores
 * keep the same promises: load, atomic commit, the state marker, per-sink
 * cursors, ack, dead letters, history, replay, trim, restarts, state loss,
 * and leases with their fencing tokens.
 *
 * How to use it: a test file includes this header, then defines
 *
 *	static const struct store_backend *
 *	suite_backend(void)
 *	{
 *		return (&my_backend);
 *	}
 *
 * where my_backend says how to make, restart, wipe and remove a store of
 * that kind.  Every test gets a fresh event base and a fresh, empty store
 * from setup(); no two tests share data, and tests may run in parallel.
 *
 * Each helper below starts one operation and drives the event loop until its
 * callback has run (no sleeps); it also checks that the callback ran exactly
 * once and never before the operation's call returned.
 */
#ifndef STORE_SUITE_H
#define STORE_SUITE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "store.h"

struct store_backend {
	const char	*name;
	/* Open a new, empty store on base; NULL fails the test. */
	struct store	*(*setup)(struct event_base *);
	/* Close the store (it may be NULL) and remove its data. */
	void		 (*teardown)(struct store *);
	/* Close the store and open it again on the same data. */
	struct store	*(*restart)(struct event_base *, struct store *);
	/*
	 * Simulate state loss (Redis flushed, state directory deleted): the
	 * store's data is gone.  Returns the store to use from now on (the same
	 * one, or a store reopened on the emptied data).
	 */
	struct store	*(*wipe)(struct event_base *, struct store *);
};

/* Defined by the file that includes this one. */
static const struct store_backend *suite_backend(void);

static struct event_base	*st_base;
static struct store		*st_store;

/* What one operation's callback handed back, copied out of it. */
struct st_result {
	int			 calls;
	int			 status;
	char			*cause;
	struct store_state	 state;
	struct outbox_entry	*entries;
	size_t			 n;
	struct history_entry	*hist;
	size_t			 nhist;
};
static int	 st_calling;	/* an operation's call has not returned yet */

static void
st_init(void)
{
	st_base = event_base_new();
	cr_assert_not_null(st_base);
	st_store = suite_backend()->setup(st_base);
	cr_assert_not_null(st_store, "%s: setup failed", suite_backend()->name);
}

static void
st_fini(void)
{
	suite_backend()->teardown(st_store);
	st_store = NULL;
	event_base_free(st_base);
	st_base = NULL;
}

static void
st_restart(void)
{
	st_store = suite_backend()->restart(st_base, st_store);
	cr_assert_not_null(st_store, "%s: restart failed",
	    suite_backend()->name);
}

static void
st_wipe(void)
{
	st_store = suite_backend()->wipe(st_base, st_store);
	cr_assert_not_null(st_store, "%s: wipe failed", suite_backend()->name);
}

/* Run the loop until the operation's callback has run. */
static void
st_wait(struct st_result *r)
{
	while (r->calls == 0) {
		cr_assert_eq(event_base_loop(st_base, EVLOOP_ONCE), 0,
		    "the loop has nothing left and the callback never ran");
	}
}

static void
st_begin(struct st_result *r)
{
	memset(r, 0, sizeof *r);
	st_calling = 1;
}

static void
st_called(struct st_result *r, int status, const char *cause)
{
	cr_assert_eq(st_calling, 0, "callback ran before the call returned");
	cr_assert_eq(r->calls, 0, "callback ran twice");
	r->calls++;
	r->status = status;
	if (status != STORE_OK)
		r->cause = xstrdup(cause != NULL ? cause : "(no cause)");
}

static void
st_result_free(struct st_result *r)
{
	size_t	 i, j;

	free(r->cause);
	store_state_clear(&r->state);
	outbox_entries_free(r->entries, r->n);
	for (i = 0; i < r->nhist; i++) {
		free(r->hist[i].e.key);
		free(r->hist[i].e.id);
		free(r->hist[i].e.source);
		free(r->hist[i].e.json);
		for (j = 0; j < r->hist[i].nsinks; j++) {
			free(r->hist[i].sinks[j].sink);
			free(r->hist[i].sinks[j].reason);
		}
		free(r->hist[i].sinks);
	}
	free(r->hist);
	memset(r, 0, sizeof *r);
}

static char *
st_dup(const char *s)
{
	return (s == NULL ? NULL : xstrdup(s));
}

static void
st_copy_entry(struct outbox_entry *to, const struct outbox_entry *from)
{
	to->key = st_dup(from->key);
	to->id = st_dup(from->id);
	to->source = st_dup(from->source);
	to->json = st_dup(from->json);
	to->committed_at = from->committed_at;
	cr_assert_not_null(to->key);
	cr_assert_not_null(to->id);
	cr_assert_not_null(to->source);
	cr_assert_not_null(to->json);
}

static void
st_done_cb(int status, const char *cause, void *arg)
{
	st_called(arg, status, cause);
}

static void
st_load_cb(int status, struct store_state *s, const char *cause, void *arg)
{
	struct st_result	*r = arg;
	struct version		*v;
	size_t			 i;

	st_called(r, status, cause);
	if (status != STORE_OK)
		return;
	cr_assert_not_null(s);
	r->state.present = s->present;
	r->state.epoch = st_dup(s->epoch);
	r->state.baseline_at = s->baseline_at;
	for (i = 0; i < s->versions.n; i++) {
		v = versions_add(&r->state.versions, s->versions.v[i].name);
		v->digest = st_dup(s->versions.v[i].digest);
	}
}

static void
st_read_cb(int status, struct outbox_entry *e, size_t n, const char *cause,
    void *arg)
{
	struct st_result	*r = arg;
	size_t			 i;

	st_called(r, status, cause);
	if (status != STORE_OK || n == 0)
		return;
	r->entries = xcalloc(n, sizeof *r->entries);
	for (i = 0; i < n; i++)
		st_copy_entry(&r->entries[i], &e[i]);
	r->n = n;
}

static void
st_history_cb(int status, struct history_entry *h, size_t n,
    const char *cause, void *arg)
{
	struct st_result	*r = arg;
	struct history_entry	*to;
	size_t			 i, j;

	st_called(r, status, cause);
	if (status != STORE_OK || n == 0)
		return;
	r->hist = xcalloc(n, sizeof *r->hist);
	for (i = 0; i < n; i++) {
		to = &r->hist[i];
		st_copy_entry(&to->e, &h[i].e);
		to->sinks = xcalloc(h[i].nsinks + 1, sizeof *to->sinks);
		for (j = 0; j < h[i].nsinks; j++) {
			to->sinks[j].sink = xstrdup(h[i].sinks[j].sink);
			to->sinks[j].state = h[i].sinks[j].state;
			to->sinks[j].reason = st_dup(h[i].sinks[j].reason);
		}
		to->nsinks = h[i].nsinks;
	}
	r->nhist = n;
}

/* The operations, each run to completion. */
static void
st_load(const char *source, struct st_result *r)
{
	st_begin(r);
	st_store->entry->load(st_store, source, st_load_cb, r);
	st_calling = 0;
	st_wait(r);
}

static int
st_commit(const char *source, int baseline, const char *epoch,
    const struct store_change *changes, size_t nchanges,
    const struct store_event *events, size_t nevents)
{
	struct store_commit	 c;
	struct st_result	 r;
	int			 status;

	memset(&c, 0, sizeof c);
	c.source = source;
	c.baseline = baseline;
	c.epoch = epoch;
	c.changes = changes;
	c.nchanges = nchanges;
	c.events = events;
	c.nevents = nevents;
	st_begin(&r);
	st_store->entry->commit(st_store, &c, st_done_cb, &r);
	st_calling = 0;
	st_wait(&r);
	status = r.status;
	if (status == STORE_ERROR)
		cr_log_warn("commit: %s", r.cause);
	st_result_free(&r);
	return (status);
}

static void
st_read(const char *sink, size_t n, struct st_result *r)
{
	st_begin(r);
	st_store->entry->read(st_store, sink, n, st_read_cb, r);
	st_calling = 0;
	st_wait(r);
	cr_assert_eq(r->status, STORE_OK, "read %s: %s", sink, r->cause);
}

static void
st_ack(const char *sink, const char *key)
{
	struct st_result	 r;

	st_begin(&r);
	st_store->entry->ack(st_store, sink, key, st_done_cb, &r);
	st_calling = 0;
	st_wait(&r);
	cr_assert_eq(r.status, STORE_OK, "ack %s: %s", sink, r.cause);
	st_result_free(&r);
}

static void
st_dead(const char *sink, const char *key, const char *reason)
{
	struct st_result	 r;

	st_begin(&r);
	st_store->entry->dead(st_store, sink, key, reason, st_done_cb, &r);
	st_calling = 0;
	st_wait(&r);
	cr_assert_eq(r.status, STORE_OK, "dead %s: %s", sink, r.cause);
	st_result_free(&r);
}

static void
st_history(const char *source, int64_t since_ms, const char *event_id,
    struct st_result *r)
{
	struct history_query	 q = { source, since_ms, event_id };

	st_begin(r);
	st_store->entry->history(st_store, &q, st_history_cb, r);
	st_calling = 0;
	st_wait(r);
	cr_assert_eq(r->status, STORE_OK, "history: %s", r->cause);
}

static void
st_replay(const char *sink, const char *source, const char *event_id)
{
	struct history_query	 q = { source, 0, event_id };
	struct st_result	 r;

	st_begin(&r);
	st_store->entry->replay(st_store, sink, &q, st_done_cb, &r);
	st_calling = 0;
	st_wait(&r);
	cr_assert_eq(r.status, STORE_OK, "replay %s: %s", sink, r.cause);
	st_result_free(&r);
}

static void
st_trim(int64_t before_ms)
{
	struct st_result	 r;

	st_begin(&r);
	st_store->entry->trim(st_store, before_ms, st_done_cb, &r);
	st_calling = 0;
	st_wait(&r);
	cr_assert_eq(r.status, STORE_OK, "trim: %s", r.cause);
	st_result_free(&r);
}

/* Lookups in results. */
static const char *
st_digest(const struct store_state *s, const char *name)
{
	size_t	 i;

	for (i = 0; i < s->versions.n; i++) {
		if (strcmp(s->versions.v[i].name, name) == 0)
			return (s->versions.v[i].digest != NULL ?
			    s->versions.v[i].digest : "(null)");
	}
	return (NULL);
}

static const struct history_entry *
st_hist_find(const struct st_result *r, const char *id)
{
	size_t	 i;

	for (i = 0; i < r->nhist; i++) {
		if (strcmp(r->hist[i].e.id, id) == 0)
			return (&r->hist[i]);
	}
	return (NULL);
}

static const struct history_sink *
st_hist_sink(const struct history_entry *h, const char *sink)
{
	size_t	 i;

	cr_assert_not_null(h);
	for (i = 0; i < h->nsinks; i++) {
		if (strcmp(h->sinks[i].sink, sink) == 0)
			return (&h->sinks[i]);
	}
	return (NULL);
}

/* Fixtures: events e1 (to sinks a and b) and e2 (to b), from source s. */
static const char *const st_ab[] = { "a", "b" };
static const char *const st_b[] = { "b" };
static const char *const st_a[] = { "a" };
static const struct store_change st_changes[] = {
	{ "1.0", "sha256:10" }, { "1.1", NULL }
};
static const struct store_event st_events[] = {
	{ "e1", "{\"id\":\"e1\"}", st_ab, 2 },
	{ "e2", "{\"id\":\"e2\"}", st_b, 1 },
};

static void
st_baseline(const char *source, const char *epoch)
{
	cr_assert_eq(st_commit(source, 1, epoch, st_changes, 2, NULL, 0),
	    STORE_OK);
}

/* Baseline of s, then a commit of 2.0 with the two events. */
static void
st_two_events(void)
{
	static const struct store_change c = { "2.0", "sha256:20" };

	st_baseline("s", "ep1");
	cr_assert_eq(st_commit("s", 0, "ep1", &c, 1, st_events, 2),
	    STORE_OK);
}

#define ST_TEST(name) \
	Test(store, name, .init = st_init, .fini = st_fini, .timeout = 60)

ST_TEST(load_unknown_source)
{
	struct st_result	 r;

	st_load("nothing-here", &r);
	cr_assert_eq(r.status, STORE_OK, "%s", r.cause);
	cr_assert_eq(r.state.present, 0);
	cr_assert_eq(r.state.versions.n, 0);
	st_result_free(&r);
}

ST_TEST(baseline_then_load)
{
	struct st_result	 r;
	int64_t			 t0 = now_ms();

	st_baseline("s", "ep1");
	st_load("s", &r);
	cr_assert_eq(r.status, STORE_OK, "%s", r.cause);
	cr_assert_eq(r.state.present, 1);
	cr_assert_str_eq(r.state.epoch, "ep1");
	cr_assert_geq(r.state.baseline_at, t0 - 5000);
	cr_assert_leq(r.state.baseline_at, now_ms() + 5000);
	cr_assert_eq(r.state.versions.n, 2);
	cr_assert_str_eq(st_digest(&r.state, "1.0"), "sha256:10");
	cr_assert_str_eq(st_digest(&r.state, "1.1"), "(null)");
	st_result_free(&r);

	/* Another source is untouched. */
	st_load("other", &r);
	cr_assert_eq(r.state.present, 0);
	st_result_free(&r);
}

ST_TEST(commit_adds_and_rebaseline_replaces)
{
	static const struct store_change more[] = {
		{ "1.1", "sha256:11" }, { "1.2", NULL }
	};
	static const struct store_change fresh[] = { { "9.9", "sha256:99" } };
	struct st_result	 r;

	st_baseline("s", "ep1");
	cr_assert_eq(st_commit("s", 0, "ep1", more, 2, NULL, 0), STORE_OK);
	st_load("s", &r);
	cr_assert_eq(r.state.versions.n, 3);
	cr_assert_str_eq(st_digest(&r.state, "1.0"), "sha256:10");
	cr_assert_str_eq(st_digest(&r.state, "1.1"), "sha256:11");
	cr_assert_str_eq(st_digest(&r.state, "1.2"), "(null)");
	st_result_free(&r);

	cr_assert_eq(st_commit("s", 1, "ep2", fresh, 1, NULL, 0), STORE_OK);
	st_load("s", &r);
	cr_assert_str_eq(r.state.epoch, "ep2");
	cr_assert_eq(r.state.versions.n, 1);
	cr_assert_str_eq(st_digest(&r.state, "9.9"), "sha256:99");
	st_result_free(&r);
}

ST_TEST(wrong_epoch_is_state_lost_and_writes_nothing)
{
	static const struct store_change c = { "2.0", "sha256:20" };
	struct st_result	 r;

	st_baseline("s", "ep1");
	cr_assert_eq(st_commit("s", 0, "ep-other", &c, 1, st_events, 2),
	    STORE_STATE_LOST);
	st_load("s", &r);
	cr_assert_str_eq(r.state.epoch, "ep1");
	cr_assert_eq(r.state.versions.n, 2);
	cr_assert_null(st_digest(&r.state, "2.0"));
	st_result_free(&r);
	st_read("b", 10, &r);
	cr_assert_eq(r.n, 0);
	st_result_free(&r);
}

ST_TEST(failed_commit_leaves_no_event_and_no_version)
{
	static const struct store_change c = { "2.0", "sha256:20" };
	struct st_result	 r;

	/* No marker at all: a non-baseline commit must not create one. */
	cr_assert_eq(st_commit("s", 0, "ep1", &c, 1, st_events, 2),
	    STORE_STATE_LOST);
	st_load("s", &r);
	cr_assert_eq(r.state.present, 0);
	cr_assert_eq(r.state.versions.n, 0);
	st_result_free(&r);
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 0);
	st_result_free(&r);
	st_history(NULL, 0, NULL, &r);
	cr_assert_eq(r.nhist, 0);
	st_result_free(&r);
}

ST_TEST(per_sink_cursors)
{
	struct st_result	 ra, rb;

	st_two_events();
	st_read("a", 10, &ra);
	cr_assert_eq(ra.n, 1);
	cr_assert_str_eq(ra.entries[0].id, "e1");
	cr_assert_str_eq(ra.entries[0].source, "s");
	cr_assert_str_eq(ra.entries[0].json, "{\"id\":\"e1\"}");
	cr_assert_geq(ra.entries[0].committed_at, now_ms() - 60000);
	cr_assert_leq(ra.entries[0].committed_at, now_ms() + 5000);
	st_read("b", 10, &rb);
	cr_assert_eq(rb.n, 2);
	cr_assert_str_eq(rb.entries[0].id, "e1");
	cr_assert_str_eq(rb.entries[1].id, "e2");

	/* b's ack of e1 leaves a's copy alone. */
	st_ack("b", rb.entries[0].key);
	st_result_free(&rb);
	st_result_free(&ra);
	st_read("a", 10, &ra);
	cr_assert_eq(ra.n, 1);
	cr_assert_str_eq(ra.entries[0].id, "e1");
	st_read("b", 10, &rb);
	cr_assert_eq(rb.n, 1);
	cr_assert_str_eq(rb.entries[0].id, "e2");
	st_result_free(&ra);
	st_result_free(&rb);

	/* A sink nothing is routed to sees nothing. */
	st_read("c", 10, &ra);
	cr_assert_eq(ra.n, 0);
	st_result_free(&ra);
}

ST_TEST(read_respects_n_and_order)
{
	struct st_result	 r;

	st_two_events();
	st_read("b", 1, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e1");
	st_ack("b", r.entries[0].key);
	st_result_free(&r);
	st_read("b", 1, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e2");
	st_result_free(&r);
}

ST_TEST(ack_removes_from_reads)
{
	struct st_result	 r;

	st_two_events();
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	st_ack("a", r.entries[0].key);
	st_result_free(&r);
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 0);
	st_result_free(&r);
}

/* Several acks in one call: gone from reads, also after a restart. */
ST_TEST(ack_many_removes_them_all)
{
	static const struct store_change c = { "3.0", "sha256:30" };
	static const struct store_event more[] = {
		{ "e3", "{\"id\":\"e3\"}", st_b, 1 },
		{ "e4", "{\"id\":\"e4\"}", st_b, 1 },
	};
	struct st_result	 r, done;
	const char		*keys[3];

	cr_assert_not_null(st_store->entry->ack_many);
	st_two_events();
	cr_assert_eq(st_commit("s", 0, "ep1", &c, 1, more, 2), STORE_OK);
	st_read("b", 10, &r);
	cr_assert_eq(r.n, 4);
	keys[0] = r.entries[0].key;
	keys[1] = r.entries[1].key;
	keys[2] = r.entries[2].key;
	st_begin(&done);
	st_store->entry->ack_many(st_store, "b", keys, 3, st_done_cb, &done);
	st_calling = 0;
	st_wait(&done);
	cr_assert_eq(done.status, STORE_OK, "ack_many: %s", done.cause);
	st_result_free(&done);
	st_result_free(&r);
	st_read("b", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e4");
	st_result_free(&r);
	st_restart();
	st_read("b", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e4");
	st_result_free(&r);
	/* Sink a still has its e1. */
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e1");
	st_result_free(&r);
}

ST_TEST(unacked_read_again_after_restart)
{
	struct st_result	 r;
	char			*key;

	st_two_events();
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	key = xstrdup(r.entries[0].key);
	st_result_free(&r);

	/* Read, not acked: the next read returns it again ... */
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].key, key);
	st_result_free(&r);

	/* ... and so does a read after a restart, with its state. */
	st_restart();
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e1");
	cr_assert_str_eq(r.entries[0].key, key);
	st_result_free(&r);
	st_load("s", &r);
	cr_assert_str_eq(r.state.epoch, "ep1");
	cr_assert_eq(r.state.versions.n, 3);
	st_result_free(&r);
	free(key);
}

ST_TEST(dead_letter)
{
	const struct history_sink	*hs;
	struct st_result		 r;

	st_two_events();
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	st_dead("a", r.entries[0].key, "HTTP 404");
	st_result_free(&r);
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 0);
	st_result_free(&r);

	st_history(NULL, 0, "e1", &r);
	cr_assert_eq(r.nhist, 1);
	hs = st_hist_sink(&r.hist[0], "a");
	cr_assert_not_null(hs);
	cr_assert_eq(hs->state, DELIVERY_DEAD);
	cr_assert_str_eq(hs->reason, "HTTP 404");
	hs = st_hist_sink(&r.hist[0], "b");
	cr_assert_not_null(hs);
	cr_assert_eq(hs->state, DELIVERY_PENDING);
	st_result_free(&r);
}

ST_TEST(history_states_and_filters)
{
	static const struct store_change c = { "7.0", NULL };
	static const struct store_event ev = { "e3", "{\"id\":\"e3\"}", st_a,
	    1 };
	const struct history_entry	*h;
	struct st_result		 r, rb;
	int64_t				 t0 = now_ms() - 1000;

	st_two_events();
	st_baseline("t", "ep9");
	cr_assert_eq(st_commit("t", 0, "ep9", &c, 1, &ev, 1), STORE_OK);

	st_history(NULL, 0, NULL, &r);
	cr_assert_eq(r.nhist, 3);
	cr_assert_str_eq(r.hist[0].e.id, "e1");
	cr_assert_str_eq(r.hist[1].e.id, "e2");
	cr_assert_str_eq(r.hist[2].e.id, "e3");
	h = st_hist_find(&r, "e1");
	cr_assert_eq(h->nsinks, 2);
	cr_assert_eq(st_hist_sink(h, "a")->state, DELIVERY_PENDING);
	cr_assert_eq(st_hist_sink(h, "b")->state, DELIVERY_PENDING);
	cr_assert_str_eq(st_hist_find(&r, "e3")->e.source, "t");
	cr_assert_eq(st_hist_find(&r, "e2")->nsinks, 1);
	st_result_free(&r);

	/* Read but not acked is still pending; acked is delivered. */
	st_read("b", 10, &rb);
	cr_assert_eq(rb.n, 2);
	st_ack("b", rb.entries[0].key);
	st_history(NULL, 0, NULL, &r);
	h = st_hist_find(&r, "e1");
	cr_assert_eq(st_hist_sink(h, "b")->state, DELIVERY_DELIVERED);
	cr_assert_eq(st_hist_sink(h, "a")->state, DELIVERY_PENDING);
	cr_assert_eq(st_hist_sink(st_hist_find(&r, "e2"), "b")->state,
	    DELIVERY_PENDING);
	st_result_free(&r);
	st_result_free(&rb);

	st_history("t", 0, NULL, &r);
	cr_assert_eq(r.nhist, 1);
	cr_assert_str_eq(r.hist[0].e.id, "e3");
	st_result_free(&r);
	st_history("s", 0, "e2", &r);
	cr_assert_eq(r.nhist, 1);
	cr_assert_str_eq(r.hist[0].e.id, "e2");
	st_result_free(&r);
	st_history("t", 0, "e2", &r);
	cr_assert_eq(r.nhist, 0);
	st_result_free(&r);
	st_history(NULL, t0, NULL, &r);
	cr_assert_eq(r.nhist, 3);
	st_result_free(&r);
	st_history(NULL, now_ms() + 60000, NULL, &r);
	cr_assert_eq(r.nhist, 0);
	st_result_free(&r);
}

ST_TEST(replay_same_id_one_sink)
{
	struct st_result	 r;
	char			*key;

	st_two_events();
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	key = xstrdup(r.entries[0].key);
	st_ack("a", key);
	st_result_free(&r);
	st_read("b", 10, &r);
	st_ack("b", r.entries[0].key);
	st_ack("b", r.entries[1].key);
	st_result_free(&r);

	st_replay("a", NULL, "e1");
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e1");
	cr_assert_str_eq(r.entries[0].source, "s");
	cr_assert_str_eq(r.entries[0].json, "{\"id\":\"e1\"}");
	st_ack("a", r.entries[0].key);
	st_result_free(&r);
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 0);
	st_result_free(&r);
	/* b, done with e1, does not get the copy. */
	st_read("b", 10, &r);
	cr_assert_eq(r.n, 0);
	st_result_free(&r);
	free(key);
}

ST_TEST(trim_keeps_undelivered)
{
	static const struct store_change c = { "3.0", NULL };
	static const struct store_event ev = { "e3", "{\"id\":\"e3\"}", st_a,
	    1 };
	struct st_result	 r;

	st_two_events();
	/* e1 done everywhere (a dead, b delivered), e2 pending at b. */
	st_read("a", 10, &r);
	st_dead("a", r.entries[0].key, "gone");
	st_result_free(&r);
	st_read("b", 10, &r);
	cr_assert_eq(r.n, 2);
	st_ack("b", r.entries[0].key);
	st_result_free(&r);
	/* e3, pending at a, committed after the cut-off. */
	cr_assert_eq(st_commit("s", 0, "ep1", &c, 1, &ev, 1), STORE_OK);

	st_trim(now_ms() + 1000 * 3600);
	st_history(NULL, 0, NULL, &r);
	cr_assert_null(st_hist_find(&r, "e1"), "delivered e1 not trimmed");
	cr_assert_not_null(st_hist_find(&r, "e2"), "pending e2 trimmed");
	cr_assert_not_null(st_hist_find(&r, "e3"), "pending e3 trimmed");
	st_result_free(&r);
	st_read("b", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e2");
	st_result_free(&r);
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e3");
	st_result_free(&r);

	/* Nothing committed before the cut-off: nothing goes. */
	st_trim(1);
	st_history(NULL, 0, NULL, &r);
	cr_assert_eq(r.nhist, 2);
	st_result_free(&r);
}

ST_TEST(trim_everything_done_then_go_on)
{
	static const struct store_change c = { "3.0", NULL };
	static const struct store_event ev = { "e3", "{\"id\":\"e3\"}", st_ab,
	    2 };
	struct st_result	 r;
	size_t			 i;

	st_two_events();
	st_read("a", 10, &r);
	st_ack("a", r.entries[0].key);
	st_result_free(&r);
	st_read("b", 10, &r);
	for (i = 0; i < r.n; i++)
		st_ack("b", r.entries[i].key);
	st_result_free(&r);
	st_trim(now_ms() + 1000 * 3600);
	st_history(NULL, 0, NULL, &r);
	cr_assert_eq(r.nhist, 0);
	st_result_free(&r);

	/* The cursors go on after an emptied outbox. */
	cr_assert_eq(st_commit("s", 0, "ep1", &c, 1, &ev, 1), STORE_OK);
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e3");
	st_result_free(&r);
	st_read("b", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].id, "e3");
	st_result_free(&r);
}

ST_TEST(state_loss_is_seen)
{
	static const struct store_change c = { "2.0", NULL };
	struct st_result	 r;

	st_baseline("s", "ep1");
	st_wipe();
	st_load("s", &r);
	cr_assert_eq(r.status, STORE_OK, "%s", r.cause);
	cr_assert_eq(r.state.present, 0);
	cr_assert_eq(r.state.versions.n, 0);
	st_result_free(&r);
	/* The core still holds epoch ep1: its next commit must fail. */
	cr_assert_eq(st_commit("s", 0, "ep1", &c, 1, st_events, 1),
	    STORE_STATE_LOST);
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 0);
	st_result_free(&r);
	/* And a re-baseline works again. */
	st_baseline("s", "ep2");
	st_load("s", &r);
	cr_assert_eq(r.state.present, 1);
	cr_assert_str_eq(r.state.epoch, "ep2");
	st_result_free(&r);
}

ST_TEST(large_baseline)
{
	enum { N = 10000 };
	struct store_change	*c = xcalloc(N, sizeof *c);
	struct st_result	 r;
	char			 name[32], digest[80];
	size_t			 i;

	for (i = 0; i < N; i++) {
		snprintf(name, sizeof name, "v%zu", i);
		c[i].name = xstrdup(name);
		if (i % 3 != 0) {
			snprintf(digest, sizeof digest, "sha256:%064zx", i);
			c[i].digest = xstrdup(digest);
		}
	}
	cr_assert_eq(st_commit("big", 1, "epb", c, N, NULL, 0), STORE_OK);
	st_load("big", &r);
	cr_assert_eq(r.status, STORE_OK, "%s", r.cause);
	cr_assert_eq(r.state.versions.n, N);
	cr_assert_str_eq(st_digest(&r.state, "v0"), "(null)");
	snprintf(digest, sizeof digest, "sha256:%064zx", (size_t)9998);
	cr_assert_str_eq(st_digest(&r.state, "v9998"), digest);
	cr_assert_str_eq(st_digest(&r.state, "v9999"), "(null)");
	st_result_free(&r);
	for (i = 0; i < N; i++) {
		free((char *)c[i].name);
		free((char *)c[i].digest);
	}
	free(c);
}

/* Leases: one request (of n leases), run to completion. */
struct st_lease_result {
	int			 calls;
	size_t			 n;
	int			*granted;
	uint64_t		*token;
	char			(*holder)[64];
};

static void
st_lease_cb(int status, const struct store_lease_answer *a, size_t n,
    const char *cause, void *arg)
{
	struct st_lease_result	*r = arg;
	size_t			 i;

	cr_assert_eq(st_calling, 0, "callback ran before the call returned");
	cr_assert_eq(r->calls, 0, "callback ran twice");
	cr_assert_eq(status, STORE_OK, "lease: %s", cause);
	cr_assert_eq(n, r->n, "%zu answers to %zu requests", n, r->n);
	r->calls++;
	for (i = 0; i < n; i++) {
		r->granted[i] = a[i].granted;
		r->token[i] = a[i].token;
		if (!a[i].granted) {
			cr_assert_not_null(a[i].holder,
			    "refused without naming the holder");
			snprintf(r->holder[i], sizeof r->holder[i], "%s",
			    a[i].holder);
		}
	}
}

/* Ask for n leases in one request; the answers in granted, token, holder. */
static void
st_lease_many(const char *owner, const struct store_lease_req *req, size_t n,
    int *granted, uint64_t *token, char (*holder)[64])
{
	struct st_lease_result	 r = { 0, n, granted, token, holder };

	st_calling = 1;
	st_store->entry->lease(st_store, owner, req, n, st_lease_cb, &r);
	st_calling = 0;
	while (r.calls == 0) {
		cr_assert_eq(event_base_loop(st_base, EVLOOP_ONCE), 0,
		    "the loop has nothing left and the callback never ran");
	}
}

/* An attempt that may take over from `dead`; *holder when refused. */
static int
st_lease_over(const char *name, const char *owner, const char *dead,
    int64_t ttl_ms, uint64_t *token, char *holder, size_t len)
{
	struct store_lease_req	 req = { name, ttl_ms, dead };
	char			 h[1][64] = { "" };
	int			 granted;

	st_lease_many(owner, &req, 1, &granted, token, h);
	snprintf(holder, len, "%s", h[0]);
	return (granted);
}

/* Take or renew; returns granted, with the token in *token. */
static int
st_lease(const char *name, const char *owner, int64_t ttl_ms,
    uint64_t *token)
{
	char	 holder[64];

	return (st_lease_over(name, owner, NULL, ttl_ms, token, holder,
	    sizeof holder));
}

static void
st_release(const char *name, const char *owner)
{
	struct st_result	 r;

	st_begin(&r);
	st_store->entry->release(st_store, name, owner, st_done_cb, &r);
	st_calling = 0;
	st_wait(&r);
	cr_assert_eq(r.status, STORE_OK, "release: %s", r.cause);
	st_result_free(&r);
}

/* Attempt until granted or until deadline_ms have passed. */
static int
st_lease_until(const char *name, const char *owner, int64_t ttl_ms,
    int64_t deadline_ms, uint64_t *token)
{
	int64_t	 end = mono_ms() + deadline_ms;

	while (!st_lease(name, owner, ttl_ms, token)) {
		if (mono_ms() > end)
			return (0);
		usleep(5000);	/* between attempts, not a wait for a result */
	}
	return (1);
}

/* A commit of one change and the two events, fenced by (lease, token). */
static int
st_commit_fenced(const char *lease, uint64_t token)
{
	static const struct store_change c = { "3.0", "sha256:30" };
	struct store_commit	 sc;
	struct st_result	 r;
	int			 status;

	memset(&sc, 0, sizeof sc);
	sc.source = "s";
	sc.epoch = "ep1";
	sc.changes = &c;
	sc.nchanges = 1;
	sc.events = st_events;
	sc.nevents = 2;
	sc.lease = lease;
	sc.token = token;
	st_begin(&r);
	st_store->entry->commit(st_store, &sc, st_done_cb, &r);
	st_calling = 0;
	st_wait(&r);
	status = r.status;
	if (status != STORE_OK)
		cr_assert_not_null(r.cause);
	st_result_free(&r);
	return (status);
}

ST_TEST(lease_take_renew_refuse_release)
{
	uint64_t	 t1, t2, t;

	cr_assert(st_lease("source:x", "A", 30000, &t1));
	cr_assert_gt(t1, 0);
	/* The owner renews under the same token. */
	cr_assert(st_lease("source:x", "A", 30000, &t2));
	cr_assert_eq(t2, t1);
	/* Another owner is refused, and cannot release it. */
	cr_assert_not(st_lease("source:x", "B", 30000, &t));
	st_release("source:x", "B");
	cr_assert_not(st_lease("source:x", "B", 30000, &t));
	/* Another lease name is independent. */
	cr_assert(st_lease("sink:y", "B", 30000, &t));
	/* Released by its owner: the next holder has a greater token. */
	st_release("source:x", "A");
	cr_assert(st_lease("source:x", "B", 30000, &t2));
	cr_assert_gt(t2, t1);
	cr_assert_not(st_lease("source:x", "A", 30000, &t));
}

ST_TEST(lease_expiry_lets_another_take_over)
{
	uint64_t	 t1, t2, t;

	cr_assert(st_lease("source:x", "A", 300, &t1));
	cr_assert_not(st_lease("source:x", "B", 30000, &t));
	/* Not renewed: B gets it once the TTL has run out. */
	cr_assert(st_lease_until("source:x", "B", 30000, 10000, &t2),
	    "the expired lease was never granted to another owner");
	cr_assert_gt(t2, t1);
	/* A's renewal is now refused. */
	cr_assert_not(st_lease("source:x", "A", 300, &t));
}

ST_TEST(lease_renewed_in_time_is_kept)
{
	uint64_t	 t1, t;
	int64_t		 end;

	cr_assert(st_lease("source:x", "A", 1000, &t1));
	/* Renewed well within its TTL for three TTLs, it stays A's. */
	end = mono_ms() + 3000;
	while (mono_ms() < end) {
		cr_assert(st_lease("source:x", "A", 1000, &t));
		cr_assert_eq(t, t1);
		cr_assert_not(st_lease("source:x", "B", 1000, &t));
		usleep(100000);
	}
}

ST_TEST(lease_fences_commits)
{
	struct st_result	 r;
	uint64_t		 ta, tb;

	st_baseline("s", "ep1");
	cr_assert(st_lease("source:s", "A", 30000, &ta));
	cr_assert_eq(st_commit_fenced("source:s", ta), STORE_OK);
	/* A stale holder: B took over; A's commit changes nothing. */
	st_release("source:s", "A");
	cr_assert(st_lease("source:s", "B", 30000, &tb));
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	st_ack("a", r.entries[0].key);
	st_result_free(&r);
	cr_assert_eq(st_commit_fenced("source:s", ta), STORE_LEASE_LOST);
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 0, "a refused commit appended events");
	st_result_free(&r);
	/* The holder's current token commits. */
	cr_assert_eq(st_commit_fenced("source:s", tb), STORE_OK);
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	st_result_free(&r);
	/* A lease nobody holds fences every commit. */
	cr_assert_eq(st_commit_fenced("source:none", tb), STORE_LEASE_LOST);
}

ST_TEST(lease_tokens_grow_across_state_loss)
{
	uint64_t	 t1, t2;

	cr_assert(st_lease("source:x", "A", 30000, &t1));
	st_wipe();
	cr_assert(st_lease("source:x", "B", 30000, &t2));
	cr_assert_gt(t2, t1, "a token was handed out again after the data "
	    "was lost");
}

ST_TEST(lease_taken_over_from_a_dead_holder)
{
	char		 holder[64];
	uint64_t	 t1, t2, t;

	cr_assert(st_lease("source:x", "A", 30000, &t1));
	cr_assert_not(st_lease_over("source:x", "B", NULL, 30000, &t, holder,
	    sizeof holder));
	cr_assert_str_eq(holder, "A");
	/* Naming another owner as dead takes nothing. */
	cr_assert_not(st_lease_over("source:x", "B", "C", 30000, &t, holder,
	    sizeof holder));
	cr_assert_str_eq(holder, "A");
	/* Naming the holder takes it over, under a greater token. */
	cr_assert(st_lease_over("source:x", "B", "A", 30000, &t2, holder,
	    sizeof holder));
	cr_assert_gt(t2, t1);
	cr_assert_not(st_lease_over("source:x", "A", NULL, 30000, &t, holder,
	    sizeof holder));
	cr_assert_str_eq(holder, "B");
	cr_assert(st_lease("source:x", "B", 30000, &t));
	cr_assert_eq(t, t2);
}

ST_TEST(many_leases_in_one_request)
{
	enum { N = 500 };
	struct store_lease_req	*req = xcalloc(N, sizeof *req);
	char			(*names)[32] = xcalloc(N, sizeof *names);
	char			(*holder)[64] = xcalloc(N, sizeof *holder);
	uint64_t		*tokens = xcalloc(N, sizeof *tokens);
	uint64_t		*again = xcalloc(N, sizeof *again);
	int			*granted = xcalloc(N, sizeof *granted);
	uint64_t		 t;
	size_t			 i;

	/* B holds every third one first. */
	for (i = 0; i < N; i += 3) {
		snprintf(names[i], sizeof names[i], "source:s%zu", i);
		cr_assert(st_lease(names[i], "B", 30000, &t));
	}
	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "source:s%zu", i);
		req[i].name = names[i];
		req[i].ttl_ms = 30000;
	}
	st_lease_many("A", req, N, granted, tokens, holder);
	for (i = 0; i < N; i++) {
		cr_assert_eq(granted[i], i % 3 != 0, "%s", names[i]);
		if (i % 3 == 0)
			cr_assert_str_eq(holder[i], "B");
	}
	/* Renewed together: the same tokens; refused to another owner. */
	st_lease_many("A", req, N, granted, again, holder);
	for (i = 0; i < N; i++) {
		if (i % 3 != 0) {
			cr_assert(granted[i]);
			cr_assert_eq(again[i], tokens[i], "%s: token changed "
			    "on renewal", names[i]);
			cr_assert_not(st_lease(names[i], "C", 30000, &t));
		}
	}
	free(req);
	free(names);
	free(holder);
	free(tokens);
	free(again);
	free(granted);
}

#endif
