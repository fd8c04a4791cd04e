/*
 * bench-store-lmdb.c: issue 3's store benchmark for the LMDB store.  In one
 * run it times, on the store and on a bare LMDB program doing the same
 * writes with the same layout:
 *   - a baseline commit of 10,000 versions (one write transaction);
 *   - a steady-state poll with nothing new, both as the core sends it (an
 *     empty commit) and as a careless caller might (all 10,000 versions
 *     again), and checks that neither wrote anything: LMDB's last
 *     transaction id and data.mdb's size and mtime stay the same.
 * Prints medians and the store/bare ratios.  Not part of make check.
 *
 * usage: bench-store-lmdb [-n versions] [-r rounds] [-d dir]
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <lmdb.h>

#include "config.h"
#include "store-lmdb.h"

extern const struct store_entry store_lmdb_entry;

#define STEADY_EMPTY	200	/* empty commits per round */

struct figures {
	double	*baseline;	/* ms per baseline commit */
	double	*empty;		/* us per empty commit */
	double	*again;		/* ms per commit of known versions */
};

static double
clock_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

static int
rm_one(const char *path, __unused const struct stat *sb, __unused int flag,
    __unused struct FTW *ftw)
{
	return (remove(path));
}

static char *
fresh_dir(const char *parent)
{
	char	*dir;

	xasprintf(&dir, "%s/bench-XXXXXX", parent);
	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp %s", dir);
	return (dir);
}

/* What must not change in a poll that finds nothing new. */
struct footprint {
	size_t		 txnid;
	off_t		 size;
	struct timespec	 mtime;
};

static void
footprint(MDB_env *env, const char *dir, struct footprint *f)
{
	MDB_envinfo	 info;
	struct stat	 sb;
	char		*file;

	mdb_env_info(env, &info);
	f->txnid = info.me_last_txnid;
	xasprintf(&file, "%s/data.mdb", dir);
	if (stat(file, &sb) != 0)
		fatal("stat %s", file);
	f->size = sb.st_size;
	f->mtime = sb.st_mtim;
	free(file);
}

static void
same_footprint(const struct footprint *a, const struct footprint *b,
    const char *what)
{
	if (a->txnid != b->txnid || a->size != b->size ||
	    a->mtime.tv_sec != b->mtime.tv_sec ||
	    a->mtime.tv_nsec != b->mtime.tv_nsec)
		fatalx("%s wrote to the environment (txn %zu -> %zu)", what,
		    a->txnid, b->txnid);
}

/* The store, driven through its contract. */
static void
on_done(int status, const char *cause, void *arg)
{
	int	*done = arg;

	if (status != STORE_OK)
		fatalx("commit: %s", cause);
	*done = 1;
}

static void
store_commit_wait(struct store *st, const struct store_commit *c)
{
	int	 done = 0;

	st->entry->commit(st, c, on_done, &done);
	while (!done)
		event_base_loop(st->base, EVLOOP_ONCE);
}

static void
run_store(const char *parent, const struct store_change *ch, size_t n,
    int round, struct figures *f)
{
	struct event_base	*base = event_base_new();
	struct store_conf	 conf = { .type = STORE_LMDB };
	struct store		 st = { .entry = &store_lmdb_entry,
				    .conf = &conf, .base = base };
	struct store_commit	 c = { .source = "bench", .epoch = "ep1" };
	struct footprint	 before, after;
	struct lmdb_store	*s;
	char			*cause;
	double			 t;
	int			 i;

	conf.path = fresh_dir(parent);
	if (st.entry->open(&st, &cause) != 0)
		fatalx("open: %s", cause);
	s = st.data;

	c.baseline = 1;
	c.changes = ch;
	c.nchanges = n;
	t = clock_ms();
	store_commit_wait(&st, &c);
	f->baseline[round] = clock_ms() - t;

	footprint(s->env, conf.path, &before);
	c.baseline = 0;
	c.nchanges = 0;
	t = clock_ms();
	for (i = 0; i < STEADY_EMPTY; i++)
		store_commit_wait(&st, &c);
	f->empty[round] = (clock_ms() - t) * 1e3 / STEADY_EMPTY;
	c.nchanges = n;
	t = clock_ms();
	store_commit_wait(&st, &c);
	f->again[round] = clock_ms() - t;
	footprint(s->env, conf.path, &after);
	same_footprint(&before, &after, "store: a poll with nothing new");

	st.entry->close(&st);
	event_base_free(base);
	nftw(conf.path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(conf.path);
}

/* Bare LMDB: the same keys and values, no store around them. */
static void
bare_check(int rc, const char *what)
{
	if (rc != 0)
		fatalx("bare %s: %s", what, mdb_strerror(rc));
}

static void
bare_key(struct buf *b, const char *name)
{
	b->len = 0;
	buf_add(b, "bench", 6);
	buf_adds(b, name);
}

static void
bare_value(struct buf *b, const struct store_change *c)
{
	b->len = 0;
	buf_add(b, c->name, strlen(c->name) + 1);
	if (c->digest != NULL)
		buf_add(b, c->digest, strlen(c->digest) + 1);
}

/* One read transaction: the marker, and optionally every version. */
static void
bare_poll(MDB_env *env, MDB_dbi markers, MDB_dbi versions,
    const struct store_change *ch, size_t n)
{
	struct buf	 k = { 0 }, v = { 0 };
	MDB_txn		*txn;
	MDB_val		 mk, mv;
	size_t		 i;

	bare_check(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "begin");
	mk.mv_data = "bench";
	mk.mv_size = 5;
	bare_check(mdb_get(txn, markers, &mk, &mv), "marker");
	for (i = 0; i < n; i++) {
		bare_key(&k, ch[i].name);
		bare_value(&v, &ch[i]);
		mk.mv_data = k.data;
		mk.mv_size = k.len;
		bare_check(mdb_get(txn, versions, &mk, &mv), "get");
		if (mv.mv_size != v.len || memcmp(mv.mv_data, v.data, v.len))
			fatalx("bare: version %s differs", ch[i].name);
	}
	mdb_txn_abort(txn);
	buf_free(&k);
	buf_free(&v);
}

static void
run_bare(const char *parent, const struct store_change *ch, size_t n,
    int round, struct figures *f)
{
	struct footprint	 before, after;
	struct buf		 k = { 0 }, v = { 0 };
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 versions, markers;
	MDB_val			 mk, mv;
	char			*dir = fresh_dir(parent);
	unsigned char		 marker[8 + 3] = "........ep1";
	double			 t;
	size_t			 i;

	bare_check(mdb_env_create(&env), "create");
	bare_check(mdb_env_set_maxdbs(env, 8), "maxdbs");
	bare_check(mdb_env_set_mapsize(env, (size_t)1 << 30), "mapsize");
	bare_check(mdb_env_open(env, dir, 0, 0600), "open");
	bare_check(mdb_txn_begin(env, NULL, 0, &txn), "begin");
	bare_check(mdb_dbi_open(txn, "versions", MDB_CREATE, &versions),
	    "dbi");
	bare_check(mdb_dbi_open(txn, "markers", MDB_CREATE, &markers), "dbi");
	bare_check(mdb_txn_commit(txn), "commit");

	t = clock_ms();
	bare_check(mdb_txn_begin(env, NULL, 0, &txn), "begin");
	mk.mv_data = "bench";
	mk.mv_size = 5;
	mv.mv_data = marker;
	mv.mv_size = sizeof marker;
	bare_check(mdb_put(txn, markers, &mk, &mv, 0), "put marker");
	for (i = 0; i < n; i++) {
		bare_key(&k, ch[i].name);
		bare_value(&v, &ch[i]);
		mk.mv_data = k.data;
		mk.mv_size = k.len;
		mv.mv_data = v.data;
		mv.mv_size = v.len;
		bare_check(mdb_put(txn, versions, &mk, &mv, 0), "put");
	}
	bare_check(mdb_txn_commit(txn), "commit");
	f->baseline[round] = clock_ms() - t;

	footprint(env, dir, &before);
	t = clock_ms();
	for (i = 0; i < STEADY_EMPTY; i++)
		bare_poll(env, markers, versions, NULL, 0);
	f->empty[round] = (clock_ms() - t) * 1e3 / STEADY_EMPTY;
	t = clock_ms();
	bare_poll(env, markers, versions, ch, n);
	f->again[round] = clock_ms() - t;
	footprint(env, dir, &after);
	same_footprint(&before, &after, "bare: a poll with nothing new");

	mdb_env_close(env);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	buf_free(&k);
	buf_free(&v);
}

static void
figures_alloc(struct figures *f, int rounds)
{
	f->baseline = xcalloc(rounds, sizeof *f->baseline);
	f->empty = xcalloc(rounds, sizeof *f->empty);
	f->again = xcalloc(rounds, sizeof *f->again);
}

static void
report(const char *what, const char *unit, double *store, double *bare,
    int rounds)
{
	double	 s = median(store, rounds), b = median(bare, rounds);

	printf("%-34s store %10.3f %s   bare %10.3f %s   ratio %6.2f\n", what,
	    s, unit, b, unit, b > 0 ? s / b : 0);
}

int
main(int argc, char **argv)
{
	struct figures		 fs, fb;
	struct store_change	*ch;
	const char		*parent = "/tmp";
	char			 name[32], digest[80];
	size_t			 n = 10000, i;
	int			 rounds = 15, r, opt;

	while ((opt = getopt(argc, argv, "n:r:d:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'd':
			parent = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-n versions] [-r rounds] "
			    "[-d dir]\n", argv[0]);
			return (2);
		}
	}
	if (n == 0 || rounds < 1)
		fatalx("want at least one version and one round");
	log_set_level(LOG_WARN);
	ch = xcalloc(n, sizeof *ch);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "1.%zu.%zu", i / 100, i % 100);
		snprintf(digest, sizeof digest, "sha256:%064zx", i * 7919);
		ch[i].name = xstrdup(name);
		ch[i].digest = xstrdup(digest);
	}
	figures_alloc(&fs, rounds);
	figures_alloc(&fb, rounds);
	/* Alternate, so that drift in the machine hits both alike. */
	for (r = 0; r < rounds; r++) {
		run_store(parent, ch, n, r, &fs);
		run_bare(parent, ch, n, r, &fb);
	}
	printf("LMDB store vs bare LMDB, %zu versions, %d rounds, medians, "
	    "state under %s\n", n, rounds, parent);
	report("baseline commit", "ms", fs.baseline, fb.baseline, rounds);
	report("poll, nothing new (empty commit)", "us", fs.empty, fb.empty,
	    rounds);
	report("poll, nothing new (all again)", "ms", fs.again, fb.again,
	    rounds);
	printf("nothing-new polls wrote nothing: txn id, data.mdb size and "
	    "mtime unchanged (store and bare)\n");
	for (i = 0; i < n; i++) {
		free((char *)ch[i].name);
		free((char *)ch[i].digest);
	}
	free(ch);
	return (0);
}
