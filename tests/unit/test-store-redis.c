/*
 * test-store-redis.c: the store conformance suite (store-suite.h) against a
 * real redis-server, and what only the Redis store has to get right: its
 * URL, AUTH, a server killed mid-operation (every callback gets its error,
 * the store reconnects once the server is back), and a pending event that
 * outlives a Redis restart thanks to the append-only file.
 *
 * One server serves the whole conformance suite: it is started by the
 * Criterion runner before the tests (its port reaches the test processes
 * through the environment), and each test works under its own key prefix.
 * Tests that kill Redis start a server of their own.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <event2/event.h>

#include "config.h"
#include "redis.h"
#include "store.h"
#include "store-suite.h"
#include "redis-util.h"

#define RT_PORT_ENV	"AW_TEST_REDIS_PORT"

static struct redis_server	 rt_shared;	/* the runner's */

ReportHook(PRE_ALL)(__unused struct criterion_test_set *set)
{
	char	 port[16];

	if (redis_server_start(&rt_shared) != 0) {
		fprintf(stderr, "test-store-redis: no redis-server\n");
		exit(1);
	}
	snprintf(port, sizeof port, "%d", rt_shared.port);
	setenv(RT_PORT_ENV, port, 1);
}

ReportHook(POST_ALL)(__unused struct criterion_global_stats *stats)
{
	redis_server_remove(&rt_shared);
}

/* The store's configuration lives as long as the test's stores. */
static struct store_conf	 rt_conf;
static char			 rt_url[64];
static char			 rt_prefix[64];
static int			 rt_port;

static struct store *
rt_open(struct event_base *base, const char *password)
{
	struct store	*st;
	char		*cause = NULL;

	st = store_open_with_password(base, &rt_conf, password, &cause);
	if (st == NULL)
		cr_log_info("store_open: %s", cause);
	free(cause);
	return (st);
}

static void
rt_configure(int port, const char *url_auth)
{
	static unsigned	 n;

	rt_port = port;
	snprintf(rt_url, sizeof rt_url, "redis://%s127.0.0.1:%d/0",
	    url_auth != NULL ? url_auth : "", port);
	snprintf(rt_prefix, sizeof rt_prefix, "t%ld-%u", (long)getpid(), n++);
	memset(&rt_conf, 0, sizeof rt_conf);
	rt_conf.type = STORE_REDIS;
	rt_conf.url = rt_url;
	rt_conf.prefix = rt_prefix;
}

static struct store *
rt_setup(struct event_base *base)
{
	const char	*port = getenv(RT_PORT_ENV);

	cr_assert_not_null(port, "no shared redis-server");
	signal(SIGPIPE, SIG_IGN);
	rt_configure(atoi(port), NULL);
	return (rt_open(base, NULL));
}

static void
rt_teardown(struct store *st)
{
	store_close(st);
	redis_util_delete_prefix(rt_port, rt_prefix);
}

static struct store *
rt_restart(struct event_base *base, struct store *st)
{
	store_close(st);
	return (rt_open(base, NULL));
}

static struct store *
rt_wipe(__unused struct event_base *base, struct store *st)
{
	cr_assert_eq(redis_util_delete_prefix(rt_port, rt_prefix), 0);
	return (st);
}

static const struct store_backend rt_backend = {
	.name = "redis",
	.setup = rt_setup,
	.teardown = rt_teardown,
	.restart = rt_restart,
	.wipe = rt_wipe,
};

static const struct store_backend *
suite_backend(void)
{
	return (&rt_backend);
}

/* Redis-only tests: each with a server of its own, and its own loop. */
static struct redis_server	 rt_own;

static void
rt_own_init(void)
{
	signal(SIGPIPE, SIG_IGN);
	memset(&rt_own, 0, sizeof rt_own);
	cr_assert_eq(redis_server_start(&rt_own), 0);
	st_base = event_base_new();
	rt_configure(rt_own.port, NULL);
	st_store = rt_open(st_base, NULL);
	cr_assert_not_null(st_store);
}

static void
rt_own_fini(void)
{
	store_close(st_store);
	st_store = NULL;
	event_base_free(st_base);
	st_base = NULL;
	redis_server_remove(&rt_own);
}

static void
rt_tick_cb(__unused evutil_socket_t fd, __unused short ev, void *arg)
{
	*(int *)arg = 1;
}

/* Let the loop run for ms (timers, reconnects) without sleeping. */
static void
rt_run_for(int64_t ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	int		 fired = 0;
	struct event	*ev = evtimer_new(st_base, rt_tick_cb, &fired);

	evtimer_add(ev, &tv);
	while (!fired)
		event_base_loop(st_base, EVLOOP_ONCE);
	event_free(ev);
}

/* Load until the store answers again (it reconnects with backoff). */
static void
rt_load_until_ok(const char *source, struct st_result *r)
{
	int	 tries;

	for (tries = 0; tries < 400; tries++) {
		st_load(source, r);
		if (r->status == STORE_OK)
			return;
		st_result_free(r);
		rt_run_for(100);
	}
	cr_assert_fail("the store never reconnected");
}

/* st_read asserts success; this one expects a failure. */
static void
rt_read_status(const char *sink, struct st_result *r)
{
	st_begin(r);
	st_store->entry->read(st_store, sink, 10, st_read_cb, r);
	st_calling = 0;
	st_wait(r);
}

Test(redis, killed_mid_operation, .init = rt_own_init, .fini = rt_own_fini,
    .timeout = 60)
{
	static const struct store_change c = { "2.0", "sha256:20" };
	struct store_commit	 sc = { .source = "s", .epoch = "ep1",
	    .changes = &c, .nchanges = 1, .events = st_events, .nevents = 2 };
	struct st_result	 rl, rc, r;
	int			 i;

	st_baseline("s", "ep1");

	/* Stopped, then killed, with a load and a commit in flight. */
	redis_server_kill(&rt_own, SIGSTOP);
	st_begin(&rl);
	st_store->entry->load(st_store, "s", st_load_cb, &rl);
	memset(&rc, 0, sizeof rc);
	st_store->entry->commit(st_store, &sc, st_done_cb, &rc);
	st_calling = 0;
	for (i = 0; i < 4; i++)
		event_base_loop(st_base, EVLOOP_NONBLOCK);
	cr_assert_eq(rl.calls + rc.calls, 0, "answered by a stopped server");
	redis_server_kill(&rt_own, SIGKILL);
	st_wait(&rl);
	st_wait(&rc);
	cr_assert_eq(rl.status, STORE_ERROR);
	cr_assert_str_eq(rl.cause, "redis: connection lost");
	cr_assert_eq(rc.status, STORE_ERROR);
	cr_assert_str_eq(rc.cause, "redis: connection lost");
	st_result_free(&rl);
	st_result_free(&rc);

	/* While it is down, operations fail at once, they do not hang. */
	rt_read_status("a", &r);
	cr_assert_eq(r.status, STORE_ERROR);
	st_result_free(&r);
	st_load("s", &r);
	cr_assert_eq(r.status, STORE_ERROR);
	st_result_free(&r);

	/* Back on the same directory: reconnected, baseline still there. */
	cr_assert_eq(redis_server_start(&rt_own), 0);
	rt_load_until_ok("s", &r);
	cr_assert_eq(r.state.present, 1);
	cr_assert_str_eq(r.state.epoch, "ep1");
	cr_assert_eq(r.state.versions.n, 2);
	st_result_free(&r);
	cr_assert_eq(st_commit("s", 0, "ep1", &c, 1, st_events, 2), STORE_OK);
}

Test(redis, pending_event_survives_redis_restart, .init = rt_own_init,
    .fini = rt_own_fini, .timeout = 60)
{
	struct st_result	 r;
	char			*key;

	st_two_events();
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	key = xstrdup(r.entries[0].key);
	st_result_free(&r);

	/* The watcher stops, Redis crashes and comes back, the watcher too. */
	store_close(st_store);
	st_store = NULL;
	redis_server_kill(&rt_own, SIGKILL);
	cr_assert_eq(redis_server_start(&rt_own), 0);
	st_store = rt_open(st_base, NULL);
	cr_assert_not_null(st_store);
	st_read("a", 10, &r);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.entries[0].key, key);
	cr_assert_str_eq(r.entries[0].id, "e1");
	st_ack("a", key);
	st_result_free(&r);
	st_read("b", 10, &r);
	cr_assert_eq(r.n, 2);
	st_result_free(&r);
	free(key);
}

Test(redis, bad_sink_name_fails_later, .init = rt_own_init,
    .fini = rt_own_fini, .timeout = 30)
{
	struct st_result	 r;

	rt_read_status("a,b", &r);
	cr_assert_eq(r.status, STORE_ERROR);
	cr_assert_str_eq(r.cause, "bad sink name");
	st_result_free(&r);
	rt_read_status("", &r);
	cr_assert_eq(r.status, STORE_ERROR);
	st_result_free(&r);
}

Test(redis, unreachable_server_fails_promptly, .timeout = 30)
{
	struct st_result	 r;

	signal(SIGPIPE, SIG_IGN);
	st_base = event_base_new();
	rt_configure(redis_util_free_port(), NULL);
	st_store = rt_open(st_base, NULL);
	cr_assert_not_null(st_store);
	st_load("s", &r);
	cr_assert_eq(r.status, STORE_ERROR);
	st_result_free(&r);
	st_load("s", &r);
	cr_assert_eq(r.status, STORE_ERROR);
	cr_assert_str_eq(r.cause, "redis: not connected");
	st_result_free(&r);
	store_close(st_store);
	event_base_free(st_base);
}

Test(redis, auth_with_password, .timeout = 30)
{
	struct redis_server	 srv = { .password = "s3cret" };
	struct st_result	 r;

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(redis_server_start(&srv), 0);
	st_base = event_base_new();

	/* The resolved secret. */
	rt_configure(srv.port, NULL);
	st_store = rt_open(st_base, "s3cret");
	st_baseline("s", "ep1");
	store_close(st_store);

	/* In the URL. */
	rt_configure(srv.port, ":s3cret@");
	st_store = rt_open(st_base, NULL);
	st_load("nothing", &r);
	cr_assert_eq(r.status, STORE_OK, "%s", r.cause);
	st_result_free(&r);
	store_close(st_store);

	/* Named in the config but not resolved: refused at open. */
	rt_configure(srv.port, NULL);
	rt_conf.password = "redis_pwd";
	cr_assert_null(rt_open(st_base, NULL));
	cr_assert_not_null(st_store = rt_open(st_base, "s3cret"));
	st_load("s", &r);
	cr_assert_eq(r.status, STORE_OK, "%s", r.cause);
	st_result_free(&r);
	store_close(st_store);

	/* Wrong or missing: a clear failure, no hang. */
	rt_configure(srv.port, "default:wrong@");
	st_store = rt_open(st_base, NULL);
	st_load("s", &r);
	cr_assert_eq(r.status, STORE_ERROR);
	st_result_free(&r);
	store_close(st_store);
	rt_configure(srv.port, NULL);
	st_store = rt_open(st_base, NULL);
	st_load("s", &r);
	cr_assert_eq(r.status, STORE_ERROR);
	st_result_free(&r);
	store_close(st_store);

	event_base_free(st_base);
	redis_server_remove(&srv);
}

Test(redis, url_parsing)
{
	struct redis_url	 u;
	char			*cause = NULL;
	static const char *const bad[] = {
		"http://h:1/0", "redis://", "redis://:6379/0", "redis://h:0/0",
		"redis://h:70000/0", "redis://h:12x/0", "redis://h:1/x",
		"redis://[::1/0", "redis://h:/0", "redis://h:1/0?x=1",
		"redis://:p%4@h/0", "redis://u%zz:p@h",
	};
	size_t			 i;

	cr_assert_eq(redis_url_parse("redis://localhost", &u, &cause), 0);
	cr_assert_str_eq(u.host, "localhost");
	cr_assert_eq(u.port, 6379);
	cr_assert_eq(u.db, 0);
	cr_assert_null(u.password);
	redis_url_free(&u);

	cr_assert_eq(redis_url_parse("redis://me:p%40ss:w@10.0.0.1:6380/3",
	    &u, &cause), 0);
	cr_assert_str_eq(u.user, "me");
	cr_assert_str_eq(u.password, "p@ss:w");
	cr_assert_str_eq(u.host, "10.0.0.1");
	cr_assert_eq(u.port, 6380);
	cr_assert_eq(u.db, 3);
	redis_url_free(&u);

	cr_assert_eq(redis_url_parse("redis://wat%3Acher@h/2", &u, &cause),
	    0);
	cr_assert_str_eq(u.user, "wat:cher");
	cr_assert_null(u.password);
	cr_assert_str_eq(u.host, "h");
	cr_assert_eq(u.db, 2);
	redis_url_free(&u);

	cr_assert_eq(redis_url_parse("redis://:pw@[::1]:7000/", &u, &cause),
	    0);
	cr_assert_null(u.user);
	cr_assert_str_eq(u.password, "pw");
	cr_assert_str_eq(u.host, "::1");
	cr_assert_eq(u.port, 7000);
	redis_url_free(&u);

	for (i = 0; i < nitems(bad); i++) {
		cr_assert_eq(redis_url_parse(bad[i], &u, &cause), -1,
		    "accepted %s", bad[i]);
		cr_assert_not_null(strstr(cause, "redis URL"));
		free(cause);
		cause = NULL;
	}
}

/* The watchdog: a server that stops answering is dropped, not waited on. */
struct rt_answer {
	int	 calls;
	char	*cause;
	int	 type;
};

static void
rt_answer_cb(redisReply *reply, const char *cause, void *arg)
{
	struct rt_answer	*a = arg;

	cr_assert_eq(st_calling, 0, "callback ran before the call returned");
	a->calls++;
	a->type = reply != NULL ? reply->type : -1;
	a->cause = cause != NULL ? xstrdup(cause) : NULL;
}

static void
rt_answer_wait(struct rt_answer *a)
{
	while (a->calls == 0)
		cr_assert_eq(event_base_loop(st_base, EVLOOP_ONCE), 0);
}

Test(redis, hung_server_is_dropped, .timeout = 60)
{
	struct redis_server	 srv = { 0 };
	struct redis		*r;
	struct rt_answer	 a = { 0 };
	const char		*ping[] = { "PING" };
	char			 url[64], *cause = NULL;
	int64_t			 t0;

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(redis_server_start(&srv), 0);
	st_base = event_base_new();
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", srv.port);
	r = redis_open(st_base, url, NULL, &cause);
	cr_assert_not_null(r, "%s", cause);
	redis_set_timeout(r, 300);
	st_calling = 1;
	redis_command(r, 1, ping, NULL, rt_answer_cb, &a);
	st_calling = 0;
	rt_answer_wait(&a);
	cr_assert_eq(a.type, REDIS_REPLY_STATUS);
	cr_assert(redis_connected(r));

	redis_server_kill(&srv, SIGSTOP);
	memset(&a, 0, sizeof a);
	t0 = mono_ms();
	st_calling = 1;
	redis_command(r, 1, ping, NULL, rt_answer_cb, &a);
	st_calling = 0;
	rt_answer_wait(&a);
	cr_assert_eq(a.type, -1);
	cr_assert_str_eq(a.cause, "redis: connection lost");
	cr_assert_geq(mono_ms() - t0, 300);
	cr_assert_not(redis_connected(r));
	free(a.cause);

	redis_close(r);
	event_base_free(st_base);
	redis_server_remove(&srv);
}

Test(redis, load_100k_versions, .init = rt_own_init, .fini = rt_own_fini,
    .timeout = 120)
{
	enum { N = 100000 };
	struct store_change	*c = xcalloc(N, sizeof *c);
	struct st_result	 r;
	char			 name[32];
	size_t			 i;

	for (i = 0; i < N; i++) {
		snprintf(name, sizeof name, "1.%zu", i);
		c[i].name = xstrdup(name);
		c[i].digest = i % 2 == 0 ? "sha256:even" : NULL;
	}
	cr_assert_eq(st_commit("huge", 1, "eph", c, N, NULL, 0), STORE_OK);
	st_load("huge", &r);
	cr_assert_eq(r.status, STORE_OK, "%s", r.cause);
	cr_assert_eq(r.state.versions.n, N);
	cr_assert_str_eq(st_digest(&r.state, "1.0"), "sha256:even");
	cr_assert_str_eq(st_digest(&r.state, "1.99999"), "(null)");
	st_result_free(&r);
	for (i = 0; i < N; i++)
		free((char *)c[i].name);
	free(c);
}

Test(redis, nothing_new_writes_nothing, .init = rt_own_init,
    .fini = rt_own_fini, .timeout = 30)
{
	static const struct store_change again[] = {
		{ "1.0", "sha256:10" }, { "1.1", NULL }
	};
	static const struct store_change learnt = { "1.1", "sha256:11" };
	long long	 before;

	st_baseline("s", "ep1");
	before = redis_util_changes(rt_own.port);
	cr_assert_geq(before, 1);
	cr_assert_eq(st_commit("s", 0, "ep1", NULL, 0, NULL, 0), STORE_OK);
	cr_assert_eq(st_commit("s", 0, "ep1", again, 2, NULL, 0), STORE_OK);
	cr_assert_eq(redis_util_changes(rt_own.port), before);
	cr_assert_eq(st_commit("s", 0, "ep1", &learnt, 1, NULL, 0), STORE_OK);
	cr_assert_eq(redis_util_changes(rt_own.port), before + 1);
}

/*
 * A hostile server: answers the handshake, then `answer` to the first
 * command, whatever it was.  It runs in a child process.
 */
static pid_t
rt_fake_server(int *port, const char *answer)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	char			 buf[65536];
	int			 fd, c, n;
	pid_t			 pid;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_neq(fd, -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(listen(fd, 4), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) != 0) {
		close(fd);
		return (pid);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((c = accept(fd, NULL, NULL)) == -1)
		_exit(1);
	/* SELECT arrives alone: nothing else is sent before its answer. */
	if (read(c, buf, sizeof buf) <= 0 || write(c, "+OK\r\n", 5) != 5)
		_exit(1);
	if (read(c, buf, sizeof buf) > 0)
		n = write(c, answer, strlen(answer));
	while (read(c, buf, sizeof buf) > 0)
		continue;
	(void)n;
	_exit(0);
}

static void
rt_hostile(const char *answer)
{
	struct st_result	 r;
	pid_t			 pid;
	int			 port;

	signal(SIGPIPE, SIG_IGN);
	pid = rt_fake_server(&port, answer);
	st_base = event_base_new();
	rt_configure(port, NULL);
	st_store = rt_open(st_base, NULL);
	st_load("s", &r);
	cr_assert_eq(r.status, STORE_ERROR, "accepted %s", answer);
	cr_assert_not_null(r.cause);
	cr_log_info("%s -> %s", answer, r.cause);
	st_result_free(&r);
	store_close(st_store);
	event_base_free(st_base);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

Test(redis, hostile_answers_are_errors, .timeout = 30)
{
	rt_hostile(":5\r\n");
	rt_hostile("*1\r\n$3\r\nabc\r\n");
	rt_hostile("*2\r\n*1\r\n$5\r\nepoch\r\n*0\r\n");
	rt_hostile("*2\r\n:1\r\n:2\r\n");
	rt_hostile("*2\r\n*2\r\n$10\r\nbaselineAt\r\n$2\r\nxy\r\n*0\r\n");
	rt_hostile("-ERR no\r\n");
	rt_hostile("\x01\xff garbage that is no protocol\r\n");
}
