/*
 * test-store-lmdb.c: the LMDB store.  The shared conformance suite
 * (store-suite.h) runs on a store in a fresh temporary directory; the tests
 * after it are the LMDB store's own promises: one writer per directory, a
 * clear error for an unreadable, damaged or misconfigured directory, a map
 * that grows, callbacks only from the loop, and a poll with nothing new
 * writing nothing.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "config.h"
#include "store-lmdb.h"
#include "store-suite.h"

extern const struct store_entry store_lmdb_entry;

static int
rm_one(const char *path, __unused const struct stat *sb, __unused int flag,
    __unused struct FTW *ftw)
{
	return (remove(path));
}

static void
rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
temp_dir(void)
{
	char	*dir = xstrdup("/tmp/aw-lmdb-XXXXXX");

	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	return (dir);
}

/* Open an LMDB store on path (NULL: the default directory). */
static struct store *
lmdb_try_open(struct event_base *base, const char *path, char **cause)
{
	struct store_conf	*conf = xcalloc(1, sizeof *conf);
	struct store		*st = xcalloc(1, sizeof *st);

	conf->type = STORE_LMDB;
	conf->path = path != NULL ? xstrdup(path) : NULL;
	st->entry = &store_lmdb_entry;
	st->conf = conf;
	st->base = base;
	*cause = NULL;
	if (st->entry->open(st, cause) != 0) {
		free(conf->path);
		free(conf);
		free(st);
		return (NULL);
	}
	return (st);
}

/* Close, keeping the data; returns the directory (caller frees). */
static char *
lmdb_shut(struct store *st)
{
	struct store_conf	*conf = (struct store_conf *)st->conf;
	char			*path = conf->path;

	st->entry->close(st);
	free(st);
	free(conf);
	return (path);
}

static struct store *
lmdb_open_ok(struct event_base *base, const char *path)
{
	struct store	*st;
	char		*cause;

	st = lmdb_try_open(base, path, &cause);
	cr_assert_not_null(st, "open %s: %s", path, cause);
	return (st);
}

static struct store *
backend_setup(struct event_base *base)
{
	char		*dir = temp_dir();
	struct store	*st;

	st = lmdb_open_ok(base, dir);
	free(dir);
	return (st);
}

static void
backend_teardown(struct store *st)
{
	char	*path;

	if (st == NULL)
		return;
	path = lmdb_shut(st);
	rm_tree(path);
	free(path);
}

static struct store *
backend_restart(struct event_base *base, struct store *st)
{
	char	*path = lmdb_shut(st);

	st = lmdb_open_ok(base, path);
	free(path);
	return (st);
}

/* The state directory deleted while the watcher was down. */
static struct store *
backend_wipe(struct event_base *base, struct store *st)
{
	char	*path = lmdb_shut(st);

	rm_tree(path);
	st = lmdb_open_ok(base, path);
	free(path);
	return (st);
}

static const struct store_backend lmdb_backend = {
	.name = "lmdb",
	.setup = backend_setup,
	.teardown = backend_teardown,
	.restart = backend_restart,
	.wipe = backend_wipe,
};

static const struct store_backend *
suite_backend(void)
{
	return (&lmdb_backend);
}

/* LMDB's own tests use the suite's base and store (st_base, st_store). */
#define LMDB_TEST(name) \
	Test(lmdb, name, .init = st_init, .fini = st_fini, .timeout = 60)

static const char *
store_path(struct store *st)
{
	return (st->conf->path);
}

static size_t
last_txn(struct store *st)
{
	struct lmdb_store	*s = st->data;
	MDB_envinfo		 info;

	cr_assert_eq(mdb_env_info(s->env, &info), 0);
	return (info.me_last_txnid);
}

LMDB_TEST(second_opener_refused)
{
	char	*cause, pid[32];

	cr_assert_null(lmdb_try_open(st_base, store_path(st_store), &cause));
	cr_assert_not_null(cause);
	snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
	cr_assert_not_null(strstr(cause, store_path(st_store)), "%s", cause);
	cr_assert_not_null(strstr(cause, "in use by another"), "%s", cause);
	cr_assert_not_null(strstr(cause, pid), "%s", cause);
	free(cause);

	/* The first one still works, and once it is closed the lock is free. */
	st_baseline("s", "ep1");
	st_restart();
	st_baseline("s", "ep2");
}

LMDB_TEST(path_is_a_file)
{
	char	*file, *cause;
	int	 fd;

	xasprintf(&file, "%s/plain", store_path(st_store));
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_null(lmdb_try_open(st_base, file, &cause));
	cr_assert_not_null(strstr(cause, file), "%s", cause);
	cr_assert_not_null(strstr(cause, "not a directory"), "%s", cause);
	free(cause);
	free(file);
}

/*
 * A directory the watcher may not read.  Root reads everything, so as root
 * the open runs with the effective uid of nobody.
 */
LMDB_TEST(unreadable_directory)
{
	char	*dir, *cause;
	uid_t	 uid = geteuid();

	xasprintf(&dir, "%s/locked", store_path(st_store));
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(chmod(store_path(st_store), 0755), 0);
	if (uid == 0)
		cr_assert_eq(seteuid(65534), 0, "seteuid: %s", strerror(errno));
	else
		cr_assert_eq(chmod(dir, 0), 0);
	cr_assert_null(lmdb_try_open(st_base, dir, &cause));
	if (uid == 0)
		cr_assert_eq(seteuid(0), 0);
	chmod(dir, 0700);
	cr_assert_not_null(strstr(cause, dir), "%s", cause);
	cr_assert_not_null(strstr(cause, "Permission denied"), "%s", cause);
	cr_assert_not_null(strstr(cause, "read and write access"), "%s",
	    cause);
	free(cause);
	free(dir);
}

LMDB_TEST(damaged_data_file)
{
	char	*path, *file, *cause, junk[8192];
	int	 fd;

	st_baseline("s", "ep1");
	path = lmdb_shut(st_store);
	st_store = NULL;
	xasprintf(&file, "%s/data.mdb", path);
	fd = open(file, O_WRONLY);
	cr_assert_geq(fd, 0);
	memset(junk, 'x', sizeof junk);
	cr_assert_eq(pwrite(fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
	close(fd);

	cr_assert_null(lmdb_try_open(st_base, path, &cause));
	cr_assert_not_null(strstr(cause, path), "%s", cause);
	cr_assert_not_null(strstr(cause, "damaged"), "%s", cause);
	cr_assert_not_null(strstr(cause, "backup"), "%s", cause);
	free(cause);
	/* Nothing was overwritten: the junk is still there for a post-mortem. */
	fd = open(file, O_RDONLY);
	cr_assert_eq(pread(fd, junk, 4, 0), 4);
	cr_assert_eq(memcmp(junk, "xxxx", 4), 0);
	close(fd);
	rm_tree(path);
	free(file);
	free(path);
}

/* A record damaged inside a sound environment: an error, not a crash. */
LMDB_TEST(damaged_record)
{
	struct lmdb_store	*s;
	struct st_result	 r;
	MDB_txn			*txn;
	MDB_val			 k, v;

	st_baseline("s", "ep1");
	s = st_store->data;
	cr_assert_eq(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	k.mv_data = "s";
	k.mv_size = 1;
	v.mv_data = "abc";
	v.mv_size = 3;
	cr_assert_eq(mdb_put(txn, s->markers, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	st_load("s", &r);
	cr_assert_eq(r.status, STORE_ERROR);
	cr_assert_not_null(strstr(r.cause, store_path(st_store)), "%s",
	    r.cause);
	cr_assert_not_null(strstr(r.cause, "damaged"), "%s", r.cause);
	st_result_free(&r);
}

/* Commit n versions named PREFIX-i; the callback's result in r. */
static void
commit_many(const char *prefix, size_t n, int baseline, struct st_result *r)
{
	struct store_change	*c = xcalloc(n, sizeof *c);
	struct store_commit	 sc = { .source = "s", .baseline = baseline,
				    .epoch = "ep1", .changes = c,
				    .nchanges = n };
	size_t			 i;

	for (i = 0; i < n; i++) {
		xasprintf((char **)&c[i].name, "%s-%zu", prefix, i);
		c[i].digest = "sha256:0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcdef";
	}
	st_begin(r);
	st_store->entry->commit(st_store, &sc, st_done_cb, r);
	st_calling = 0;
	st_wait(r);
	for (i = 0; i < n; i++)
		free((char *)c[i].name);
	free(c);
}

/*
 * A full disk: a 256 KiB tmpfs, mounted in a mount namespace of this test's
 * own (so it goes with the process).  Skipped without the privilege.
 */
LMDB_TEST(full_disk)
{
	struct st_result	 r;
	char			*dir, *parent;

	if (unshare(CLONE_NEWNS) != 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
		cr_skip_test("no mount namespace: %s", strerror(errno));
	xasprintf(&dir, "%s/small", store_path(st_store));
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(mount("tmpfs", dir, "tmpfs", 0, "size=256k"), 0,
	    "mount: %s", strerror(errno));
	parent = lmdb_shut(st_store);
	st_store = lmdb_open_ok(st_base, dir);

	commit_many("a", 500, 1, &r);
	cr_assert_eq(r.status, STORE_OK, "%s", r.cause);
	st_result_free(&r);
	commit_many("b", 5000, 0, &r);
	cr_assert_eq(r.status, STORE_ERROR);
	cr_assert_not_null(strstr(r.cause, dir), "%s", r.cause);
	cr_assert_not_null(strstr(r.cause, "No space left"), "%s", r.cause);
	cr_assert_not_null(strstr(r.cause, "free disk space"), "%s", r.cause);
	st_result_free(&r);

	/* Nothing lost, nothing half-written, and small commits go on. */
	st_load("s", &r);
	cr_assert_eq(r.state.versions.n, 500);
	st_result_free(&r);
	commit_many("c", 10, 0, &r);
	cr_assert_eq(r.status, STORE_OK, "%s", r.cause);
	st_result_free(&r);
	st_load("s", &r);
	cr_assert_eq(r.state.versions.n, 510);
	st_result_free(&r);

	/* Back on the test's directory, so that teardown removes it all. */
	free(lmdb_shut(st_store));
	cr_assert_eq(umount(dir), 0, "umount: %s", strerror(errno));
	st_store = lmdb_open_ok(st_base, parent);
	free(parent);
	free(dir);
}

LMDB_TEST(bad_map_size_setting)
{
	char	*cause, *dir;

	xasprintf(&dir, "%s/other", store_path(st_store));
	setenv("ARTIFACT_WATCHER_LMDB_MAPSIZE", "12k", 1);
	cr_assert_null(lmdb_try_open(st_base, dir, &cause));
	cr_assert_not_null(strstr(cause, "ARTIFACT_WATCHER_LMDB_MAPSIZE=12k"),
	    "%s", cause);
	free(cause);
	free(dir);
}

/* 10,000 versions into a 64 KiB map: it grows, and all of them are kept. */
LMDB_TEST(map_grows)
{
	enum { N = 10000 };
	struct store_change	*c = xcalloc(N, sizeof *c);
	struct lmdb_store	*s;
	struct st_result	 r;
	char			 name[32];
	size_t			 i;

	setenv("ARTIFACT_WATCHER_LMDB_MAPSIZE", "65536", 1);
	st_store = backend_restart(st_base, st_store);
	s = st_store->data;
	cr_assert_eq(s->map_size, 65536);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof name, "tag-%05zu", i);
		c[i].name = xstrdup(name);
		c[i].digest = "sha256:0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcdef";
	}
	cr_assert_eq(st_commit("big", 1, "ep1", c, N, st_events, 2),
	    STORE_OK);
	s = st_store->data;
	cr_assert_gt(s->map_size, 65536 * 8, "map %zu", s->map_size);

	st_restart();
	st_load("big", &r);
	cr_assert_eq(r.state.versions.n, N);
	cr_assert_str_eq(r.state.versions.v[N - 1].name, "tag-09999");
	st_result_free(&r);
	st_read("b", 10, &r);
	cr_assert_eq(r.n, 2);
	st_result_free(&r);
	for (i = 0; i < N; i++)
		free((char *)c[i].name);
	free(c);
}

/* Steady state: committing what is already known writes nothing. */
LMDB_TEST(nothing_new_writes_nothing)
{
	enum { N = 10000 };
	struct store_change	*c = xcalloc(N, sizeof *c);
	char			 name[32];
	size_t			 i, txn;

	for (i = 0; i < N; i++) {
		snprintf(name, sizeof name, "%zu.0", i);
		c[i].name = xstrdup(name);
		c[i].digest = i % 2 ? "sha256:aa" : NULL;
	}
	cr_assert_eq(st_commit("s", 1, "ep1", c, N, NULL, 0), STORE_OK);
	txn = last_txn(st_store);
	cr_assert_eq(st_commit("s", 0, "ep1", c, N, NULL, 0), STORE_OK);
	cr_assert_eq(st_commit("s", 0, "ep1", NULL, 0, NULL, 0), STORE_OK);
	cr_assert_eq(last_txn(st_store), txn);

	/* A changed digest is written. */
	c[0].digest = "sha256:bb";
	cr_assert_eq(st_commit("s", 0, "ep1", c, 1, NULL, 0), STORE_OK);
	cr_assert_eq(last_txn(st_store), txn + 1);
	for (i = 0; i < N; i++)
		free((char *)c[i].name);
	free(c);
}

/* Names longer than an LMDB key are kept whole and apart. */
LMDB_TEST(long_version_names)
{
	struct store_change	 c[2];
	struct st_result	 r;
	char			 a[2000], b[2000];

	memset(a, 'a', sizeof a - 1);
	a[sizeof a - 1] = '\0';
	memcpy(b, a, sizeof b);
	b[sizeof b - 2] = 'b';
	c[0].name = a;
	c[0].digest = "sha256:a";
	c[1].name = b;
	c[1].digest = "sha256:b";
	cr_assert_eq(st_commit("s", 1, "ep1", c, 2, NULL, 0), STORE_OK);
	st_load("s", &r);
	cr_assert_eq(r.state.versions.n, 2);
	cr_assert_str_eq(st_digest(&r.state, a), "sha256:a");
	cr_assert_str_eq(st_digest(&r.state, b), "sha256:b");
	st_result_free(&r);
}

static void
count_done(int status, const char *cause, void *arg)
{
	int	*calls = arg;

	cr_assert_eq(status, STORE_OK, "%s", cause);
	cr_assert_eq(*calls % 10, 0, "the commit's callback ran first");
	(*calls)++;
}

static void
count_read(int status, __unused struct outbox_entry *e, size_t n,
    const char *cause, void *arg)
{
	int	*calls = arg;

	cr_assert_eq(status, STORE_OK, "%s", cause);
	cr_assert_eq(n, 1);
	cr_assert_eq(*calls, 1, "the read's callback ran out of order");
	*calls += 10;
}

/* Callbacks run from the loop, in call order; close runs what is left. */
LMDB_TEST(callbacks_later_in_order)
{
	struct store_commit	 c = { .source = "s", .baseline = 1,
				    .epoch = "ep1", .changes = st_changes,
				    .nchanges = 2, .events = st_events,
				    .nevents = 1 };
	int			 calls = 0;

	st_store->entry->commit(st_store, &c, count_done, &calls);
	st_store->entry->read(st_store, "a", 10, count_read, &calls);
	cr_assert_eq(calls, 0);
	while (calls != 11)
		cr_assert_eq(event_base_loop(st_base, EVLOOP_ONCE), 0);

	calls = 0;
	c.baseline = 0;
	c.nevents = 0;
	st_store->entry->commit(st_store, &c, count_done, &calls);
	cr_assert_eq(calls, 0);
	st_restart();
	cr_assert_eq(calls, 1, "close did not run the pending callback");
}

struct closer {
	struct store	*st;
	int		 calls;
};

static void
close_from_callback(int status, const char *cause, void *arg)
{
	struct closer	*c = arg;

	cr_assert_eq(status, STORE_OK, "%s", cause);
	c->calls++;
	if (c->st != NULL) {
		free(lmdb_shut(c->st));
		c->st = NULL;
	}
}

/* A callback may close the store; the replies behind it still run once. */
LMDB_TEST(close_inside_callback)
{
	struct store_commit	 c = { .source = "s", .baseline = 1,
				    .epoch = "ep1" };
	struct closer		 first = { .st = st_store }, second = { 0 };

	st_store->entry->commit(st_store, &c, close_from_callback, &first);
	st_store->entry->commit(st_store, &c, close_from_callback, &second);
	st_store = NULL;
	while (first.calls == 0)
		cr_assert_eq(event_base_loop(st_base, EVLOOP_ONCE), 0);
	cr_assert_eq(first.calls, 1);
	cr_assert_eq(second.calls, 1);
	cr_assert_eq(event_base_loop(st_base, EVLOOP_NONBLOCK), 1,
	    "an event of the closed store is still registered");
}

LMDB_TEST(default_directory)
{
	struct store	*st;
	char		*dirs, *file;
	struct stat	 sb;

	xasprintf(&dirs, "%s/unit:%s/other", store_path(st_store),
	    store_path(st_store));
	setenv("STATE_DIRECTORY", dirs, 1);
	st = lmdb_open_ok(st_base, NULL);
	xasprintf(&file, "%s/unit/data.mdb", store_path(st_store));
	cr_assert_eq(stat(file, &sb), 0, "%s: %s", file, strerror(errno));
	free(lmdb_shut(st));
	free(file);
	free(dirs);
}
