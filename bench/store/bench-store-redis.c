/*
 * bench-store-redis.c: issue 3's store benchmark for the Redis store.  In
 * one run, against one redis-server, it times the store driven through its
 * contract (commit, then the event loop until the callback) and a bare
 * hiredis program sending the same writes as one pipeline:
 *   - a baseline commit of 10,000 versions (store: one Lua script; bare:
 *     DEL versions, HSET marker, 10,000 HSET, pipelined);
 *   - a steady-state poll with nothing new, as the core sends it (an empty
 *     commit; bare: HGET of the marker's epoch) and with all 10,000 known
 *     versions again (store: compared in the script and dropped; bare:
 *     10,000 HGET pipelined and compared here);
 * and checks that the nothing-new polls wrote nothing: Redis's count of
 * changes since the last save (INFO persistence), which each baseline
 * raises by at least the number of versions, stays the same.  Rounds
 * alternate store and bare; prints medians and store/bare ratios.  Not part
 * of make check.
 *
 * usage: bench-store-redis -u redis://127.0.0.1:PORT/0 [-n versions]
 *	  [-r rounds]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "store.h"

extern const struct store_entry store_redis_entry;

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

/* A reply that must be there and not an error. */
static redisReply *
checked(redisReply *reply, redisContext *c, const char *what)
{
	if (reply == NULL)
		fatalx("%s: %s", what, c->errstr);
	if (reply->type == REDIS_REPLY_ERROR)
		fatalx("%s: %s", what, reply->str);
	return (reply);
}

/* Redis's count of changes since the last save: writes bump it. */
static long long
dirty(redisContext *c)
{
	redisReply	*r;
	const char	*p;
	long long	 n;

	r = checked(redisCommand(c, "INFO persistence"), c, "INFO");
	if ((p = strstr(r->str, "rdb_changes_since_last_save:")) == NULL)
		fatalx("INFO persistence has no rdb_changes_since_last_save");
	n = strtoll(p + strlen("rdb_changes_since_last_save:"), NULL, 10);
	freeReplyObject(r);
	return (n);
}

static void
flush(redisContext *c)
{
	freeReplyObject(checked(redisCommand(c, "FLUSHDB"), c, "FLUSHDB"));
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
run_store(redisContext *rc, const char *url, const struct store_change *ch,
    size_t n, int round, struct figures *f)
{
	struct event_base	*base = event_base_new();
	struct store_conf	 conf = { .type = STORE_REDIS };
	struct store		 st = { .entry = &store_redis_entry,
				    .conf = &conf, .base = base };
	struct store_commit	 c = { .source = "bench", .epoch = "ep1" };
	long long		 before;
	char			*cause;
	double			 t;
	int			 i;

	flush(rc);
	conf.url = (char *)url;
	conf.prefix = (char *)"bench";
	if (st.entry->open(&st, &cause) != 0)
		fatalx("open: %s", cause);
	/* The first command also waits for the connection: not timed. */
	c.nchanges = 0;
	c.baseline = 1;
	c.epoch = "warm";
	store_commit_wait(&st, &c);

	c.epoch = "ep1";
	c.changes = ch;
	c.nchanges = n;
	before = dirty(rc);
	t = clock_ms();
	store_commit_wait(&st, &c);
	f->baseline[round] = clock_ms() - t;
	if (dirty(rc) < before + (long long)n)
		fatalx("store: the baseline did not count as %zu changes", n);

	before = dirty(rc);
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
	if (dirty(rc) != before)
		fatalx("store: a poll with nothing new wrote %lld changes",
		    dirty(rc) - before);

	st.entry->close(&st);
	event_base_free(base);
}

/* Bare hiredis: the same keys and values, one pipeline per step. */
static void
bare_drain(redisContext *c, size_t replies, const char *what)
{
	redisReply	*r;
	size_t		 i;

	for (i = 0; i < replies; i++) {
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			fatalx("bare %s: %s", what, c->errstr);
		freeReplyObject(checked(r, c, what));
	}
}

static void
bare_poll(redisContext *c, const struct store_change *ch, size_t n)
{
	redisReply	*r;
	size_t		 i;

	redisAppendCommand(c, "HGET bench:marker:bench epoch");
	for (i = 0; i < n; i++)
		redisAppendCommand(c, "HGET bench:versions:bench %s",
		    ch[i].name);
	for (i = 0; i <= n; i++) {
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			fatalx("bare poll: %s", c->errstr);
		checked(r, c, "bare poll");
		if (r->type != REDIS_REPLY_STRING ||
		    strcmp(r->str, i == 0 ? "ep1" : ch[i - 1].digest) != 0)
			fatalx("bare poll: %s differs",
			    i == 0 ? "the marker" : ch[i - 1].name);
		freeReplyObject(r);
	}
}

static void
run_bare(redisContext *rc, const struct store_change *ch, size_t n,
    int round, struct figures *f)
{
	long long	 before;
	double		 t;
	size_t		 i;
	int		 k;

	flush(rc);
	before = dirty(rc);
	t = clock_ms();
	redisAppendCommand(rc, "DEL bench:versions:bench");
	redisAppendCommand(rc, "HSET bench:marker:bench epoch ep1 "
	    "baselineAt %lld", (long long)now_ms());
	for (i = 0; i < n; i++)
		redisAppendCommand(rc, "HSET bench:versions:bench %s %s",
		    ch[i].name, ch[i].digest);
	bare_drain(rc, n + 2, "baseline");
	f->baseline[round] = clock_ms() - t;
	if (dirty(rc) < before + (long long)n)
		fatalx("bare: the baseline did not count as %zu changes", n);

	before = dirty(rc);
	t = clock_ms();
	for (k = 0; k < STEADY_EMPTY; k++)
		bare_poll(rc, NULL, 0);
	f->empty[round] = (clock_ms() - t) * 1e3 / STEADY_EMPTY;
	t = clock_ms();
	bare_poll(rc, ch, n);
	f->again[round] = clock_ms() - t;
	if (dirty(rc) != before)
		fatalx("bare: a poll with nothing new wrote something");
}

static void
figures_alloc(struct figures *f, int rounds)
{
	f->baseline = xcalloc(rounds, sizeof *f->baseline);
	f->empty = xcalloc(rounds, sizeof *f->empty);
	f->again = xcalloc(rounds, sizeof *f->again);
}

static void
figures_free(struct figures *f)
{
	free(f->baseline);
	free(f->empty);
	free(f->again);
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
	redisContext		*rc;
	redisReply		*fsync_mode;
	const char		*url = NULL, *host, *p;
	char			 name[32], digest[80], *hostbuf;
	size_t			 n = 10000, i;
	int			 rounds = 15, r, opt, port;

	while ((opt = getopt(argc, argv, "u:n:r:")) != -1) {
		switch (opt) {
		case 'u':
			url = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			url = NULL;
			optind = argc;
			break;
		}
	}
	if (url == NULL || strncmp(url, "redis://", 8) != 0) {
		fprintf(stderr, "usage: %s -u redis://HOST:PORT/0 "
		    "[-n versions] [-r rounds]\n", argv[0]);
		return (2);
	}
	if (n == 0 || rounds < 1)
		fatalx("want at least one version and one round");
	host = url + 8;
	if ((p = strchr(host, ':')) == NULL)
		fatalx("%s: want redis://HOST:PORT/0", url);
	hostbuf = xstrndup(host, p - host);
	port = atoi(p + 1);
	if ((rc = redisConnect(hostbuf, port)) == NULL || rc->err)
		fatalx("connect %s: %s", url, rc != NULL ? rc->errstr : "");
	free(hostbuf);

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
		run_store(rc, url, ch, n, r, &fs);
		run_bare(rc, ch, n, r, &fb);
	}
	fsync_mode = checked(redisCommand(rc, "CONFIG GET appendfsync"), rc,
	    "CONFIG GET");
	printf("Redis store vs bare hiredis pipeline, %zu versions, %d rounds, "
	    "medians, appendfsync %s\n", n, rounds,
	    fsync_mode->elements == 2 ? fsync_mode->element[1]->str : "?");
	freeReplyObject(fsync_mode);
	report("baseline commit", "ms", fs.baseline, fb.baseline, rounds);
	report("poll, nothing new (empty commit)", "us", fs.empty, fb.empty,
	    rounds);
	report("poll, nothing new (all again)", "ms", fs.again, fb.again,
	    rounds);
	printf("nothing-new polls wrote nothing: Redis's changes since the "
	    "last save unchanged (store and bare)\n");
	flush(rc);
	redisFree(rc);
	for (i = 0; i < n; i++) {
		free((char *)ch[i].name);
		free((char *)ch[i].digest);
	}
	free(ch);
	figures_free(&fs);
	figures_free(&fb);
	return (0);
}
