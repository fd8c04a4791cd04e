/*
 * test-retention.c: the periodic history trim (retention.c) on a real LMDB
 * store in a temporary directory: the trim at start drops delivered events
 * older than the retention and keeps pending ones and younger ones, later
 * trims follow every period, and a reload's new retention is used.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "config.h"
#include "retention.h"
#include "store.h"
#include "unit.h"

#define WAIT_MS	5000
#define GUARD_S	20	/* the whole test, unit.h guard */

struct fixture {
	struct ut_loop		 loop;		/* unit.h: env.base, guard */
	char			 dir[32];
	struct config		 conf;
	struct env		 env;
	int			 done;
	int			 status;
	size_t			 n;
	char			*keys[4];
	char			*ids[4];
};

static int
rm_one(const char *path, __unused const struct stat *sb, __unused int flag,
    __unused struct FTW *ftw)
{
	return (remove(path));
}

/* Run the loop until *flag is set, failing after GUARD_S. */
#define run_until(f, flag)	ut_run_until(&(f)->loop, (flag))

static void
done_cb(int status, const char *cause, void *arg)
{
	struct fixture	*f = arg;

	cr_assert_eq(status, STORE_OK, "%s", cause != NULL ? cause : "");
	f->done = 1;
}

static void
read_cb(int status, struct outbox_entry *e, size_t n, const char *cause,
    void *arg)
{
	struct fixture	*f = arg;
	size_t		 i;

	cr_assert_eq(status, STORE_OK, "%s", cause != NULL ? cause : "");
	cr_assert_leq(n, nitems(f->keys));
	for (i = 0; i < n; i++)
		f->keys[i] = xstrdup(e[i].key);
	f->n = n;
	f->done = 1;
}

static void
history_cb(int status, struct history_entry *h, size_t n, const char *cause,
    void *arg)
{
	struct fixture	*f = arg;
	size_t		 i;

	cr_assert_eq(status, STORE_OK, "%s", cause != NULL ? cause : "");
	cr_assert_leq(n, nitems(f->ids));
	for (i = 0; i < n; i++)
		f->ids[i] = xstrdup(h[i].e.id);
	f->n = n;
	f->done = 1;
}

/* A store with events e1..e3 for sink "hook"; e1 is delivered. */
static void
setup(struct fixture *f, int64_t retention_ms)
{
	static const char *const sinks[] = { "hook" };
	struct store_event	 ev[3];
	struct store_commit	 c;
	char			*cause;
	int64_t			 later;
	size_t			 i;

	memset(f, 0, sizeof *f);
	strcpy(f->dir, "/tmp/aw-retention-XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir), "%s", strerror(errno));
	f->conf.store.type = STORE_LMDB;
	f->conf.store.path = f->dir;
	f->conf.store.retention_ms = retention_ms;
	f->env.conf = &f->conf;
	ut_loop_init(&f->loop, GUARD_S);
	f->env.base = f->loop.base;
	f->env.store = store_open(f->env.base, &f->conf.store, &cause);
	cr_assert_not_null(f->env.store, "%s", cause);

	memset(ev, 0, sizeof ev);
	ev[0].id = "e1";
	ev[1].id = "e2";
	ev[2].id = "e3";
	for (i = 0; i < nitems(ev); i++) {
		ev[i].json = "{}";
		ev[i].sinks = sinks;
		ev[i].nsinks = 1;
	}
	memset(&c, 0, sizeof c);
	c.source = "src";
	c.baseline = 1;
	c.epoch = "epoch-1";
	c.events = ev;
	c.nevents = nitems(ev);
	f->env.store->entry->commit(f->env.store, &c, done_cb, f);
	run_until(f, &f->done);

	f->done = 0;
	f->env.store->entry->read(f->env.store, "hook", 4, read_cb, f);
	run_until(f, &f->done);
	cr_assert_eq(f->n, 3);
	f->done = 0;
	f->env.store->entry->ack(f->env.store, "hook", f->keys[0], done_cb, f);
	run_until(f, &f->done);
	/* A retention of 1 ms must find the commits older than that. */
	later = now_ms() + 5;
	while (now_ms() < later)
		event_base_loop(f->env.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void
teardown(struct fixture *f)
{
	size_t	 i;

	for (i = 0; i < nitems(f->keys); i++) {
		free(f->keys[i]);
		free(f->ids[i]);
	}
	store_close(f->env.store);
	ut_loop_free(&f->loop);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The ids history lists now, joined by spaces. */
static char *
history_ids(struct fixture *f)
{
	struct history_query	 q;
	struct buf		 b = { 0 };
	size_t			 i;

	for (i = 0; i < nitems(f->ids); i++) {
		free(f->ids[i]);
		f->ids[i] = NULL;
	}
	memset(&q, 0, sizeof q);
	f->done = 0;
	f->env.store->entry->history(f->env.store, &q, history_cb, f);
	run_until(f, &f->done);
	for (i = 0; i < f->n; i++)
		buf_printf(&b, "%s%s", i > 0 ? " " : "", f->ids[i]);
	buf_add(&b, "", 1);
	return ((char *)b.data);
}

/* Wait for `runs` trims to have finished. */
static void
trim_runs(struct fixture *f, struct retention *r, unsigned runs)
{
	int64_t	 deadline = mono_ms() + WAIT_MS;

	while (retention_runs(r) < runs) {
		cr_assert_lt(mono_ms(), deadline, "%u trims never ran", runs);
		event_base_loop(f->env.base, EVLOOP_ONCE);
	}
}

Test(retention, trims_delivered_at_start_keeps_pending)
{
	struct fixture		 f;
	struct retention	*r;
	char			*ids;

	setup(&f, 1);
	ids = history_ids(&f);
	cr_assert_str_eq(ids, "e1 e2 e3");
	free(ids);
	r = retention_start(&f.env, 0);
	cr_assert_eq(retention_runs(r), 0, "trimmed before the loop ran");
	trim_runs(&f, r, 1);
	ids = history_ids(&f);
	cr_assert_str_eq(ids, "e2 e3", "delivered e1 kept or pending dropped");
	free(ids);
	retention_free(r);
	teardown(&f);
}

Test(retention, keeps_delivered_within_retention)
{
	struct fixture		 f;
	struct retention	*r;
	char			*ids;

	setup(&f, 30LL * 24 * 3600 * 1000);
	r = retention_start(&f.env, 0);
	trim_runs(&f, r, 1);
	ids = history_ids(&f);
	cr_assert_str_eq(ids, "e1 e2 e3");
	free(ids);
	retention_free(r);
	teardown(&f);
}

Test(retention, trims_every_period_with_the_current_retention)
{
	struct fixture		 f;
	struct retention	*r;
	char			*ids;

	setup(&f, 30LL * 24 * 3600 * 1000);
	r = retention_start(&f.env, 20);
	trim_runs(&f, r, 2);
	ids = history_ids(&f);
	cr_assert_str_eq(ids, "e1 e2 e3");
	free(ids);
	/* As a reload would: the next period's trim uses the new value. */
	f.conf.store.retention_ms = 1;
	trim_runs(&f, r, retention_runs(r) + 2);
	ids = history_ids(&f);
	cr_assert_str_eq(ids, "e2 e3");
	free(ids);
	retention_free(r);
	teardown(&f);
}

Test(retention, free_with_a_trim_in_flight)
{
	struct fixture		 f;
	struct retention	*r;
	char			*ids;

	setup(&f, 1);
	r = retention_start(&f.env, 0);
	/* The first pass runs the timer, which starts the trim. */
	event_base_loop(f.env.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	retention_free(r);
	/* The store's reply still comes, and finds nobody waiting. */
	event_base_loop(f.env.base, EVLOOP_NONBLOCK);
	ids = history_ids(&f);
	cr_assert_str_eq(ids, "e2 e3", "the trim did not run before the free");
	free(ids);
	teardown(&f);
}
