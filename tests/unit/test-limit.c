/*
 * test-limit.c: the politeness layer (limit.c, limit-parse.c) with a clock
 * and an HTTP engine the test drives by hand: time moves only when a test
 * says so, a "sent" request is a record, and an answer is a struct
 * http_response handed to the limiter's callback.  Nothing waits on a real
 * clock.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <event2/event.h>

#include "watcher.h"
#include "http.h"
#include "limit.h"

#define MAX_SENT	64

struct sent {
	char		*url;
	http_done_cb	 done;
	void		*arg;
	int		 cancelled;
	int		 answered;
};

static struct event_base *base;
static struct limits	*ls;
static int64_t		 clock_now;
static struct sent	 sent[MAX_SENT];
static size_t		 nsent;

struct got {
	int		 calls;
	long		 status;
};

static int64_t
fake_now(void *arg __unused)
{
	return (clock_now);
}

static struct http_req *
fake_submit(void *arg __unused, const struct http_request *hr,
    http_done_cb done, void *cb_arg)
{
	cr_assert(nsent < MAX_SENT);
	sent[nsent].url = xstrdup(hr->url);
	sent[nsent].done = done;
	sent[nsent].arg = cb_arg;
	return ((struct http_req *)&sent[nsent++]);
}

static void
fake_cancel(void *arg __unused, struct http_req *req)
{
	((struct sent *)req)->cancelled = 1;
}

static uint32_t
fake_random(void *arg __unused)
{
	return (0);
}

static void
setup_cap(size_t cap)
{
	struct limits_io	 io = { fake_now, fake_submit, fake_cancel,
	    fake_random, NULL };

	base = event_base_new();
	clock_now = 1000000;
	nsent = 0;
	memset(sent, 0, sizeof sent);
	ls = limits_create_io(base, &io, cap);
}

static void
setup(void)
{
	setup_cap(0);
}

static void
teardown(void)
{
	size_t	 i;

	limits_free(ls);
	event_base_free(base);
	for (i = 0; i < nsent; i++)
		free(sent[i].url);
}

static void
got_cb(const struct http_response *r, void *arg)
{
	struct got	*g = arg;

	g->calls++;
	g->status = r->status;
}

static struct limit_req *
submit(struct limiter *l, const char *url, struct got *g)
{
	struct http_request	 hr;

	memset(&hr, 0, sizeof hr);
	hr.url = url;
	return (limiter_submit(l, &hr, got_cb, g));
}

/* The server answers sent request i. */
static void
answer(size_t i, long status, const char *h1, const char *v1, const char *h2,
    const char *v2)
{
	struct http_response	 r;
	struct http_header	 hs[2];

	cr_assert(i < nsent && !sent[i].answered && !sent[i].cancelled);
	memset(&r, 0, sizeof r);
	r.status = status;
	r.url = sent[i].url;
	hs[0].name = (char *)h1;
	hs[0].value = (char *)v1;
	hs[1].name = (char *)h2;
	hs[1].value = (char *)v2;
	r.headers = hs;
	r.nheaders = h2 != NULL ? 2 : h1 != NULL ? 1 : 0;
	sent[i].answered = 1;
	sent[i].done(&r, sent[i].arg);
}

static void
advance(int64_t ms)
{
	clock_now += ms;
	limits_pump(ls);
}

TestSuite(limit, .init = setup, .fini = teardown);

Test(limit, bucket_spends_burst_then_refills_at_its_rate)
{
	struct limit_conf	 c = { .rps = 2, .burst = 2 };
	struct limiter		*l = limits_get(ls, "hub", &c);
	struct got		 g = { 0 };
	int			 i;

	for (i = 0; i < 6; i++)
		submit(l, "http://x/a", &g);
	cr_expect_eq(nsent, 2, "burst of 2 goes at once, got %zu", nsent);
	advance(499);
	cr_expect_eq(nsent, 2, "no token before 500 ms");
	advance(1);
	cr_expect_eq(nsent, 3);
	advance(500);
	cr_expect_eq(nsent, 4);
	advance(10000);		/* bucket refills to its burst, no more */
	cr_expect_eq(nsent, 6);
}

Test(limit, queue_is_fifo)
{
	struct limit_conf	 c = { .rps = 1, .burst = 1 };
	struct limiter		*l = limits_get(ls, "a", &c);
	struct got		 g = { 0 };

	submit(l, "http://x/1", &g);
	submit(l, "http://x/2", &g);
	submit(l, "http://x/3", &g);
	advance(1000);
	advance(1000);
	cr_assert_eq(nsent, 3);
	cr_expect_str_eq(sent[0].url, "http://x/1");
	cr_expect_str_eq(sent[1].url, "http://x/2");
	cr_expect_str_eq(sent[2].url, "http://x/3");
}

Test(limit, max_concurrency_waits_for_a_completion)
{
	struct limit_conf	 c = { .max_concurrency = 2 };
	struct limiter		*l = limits_get(ls, "a", &c);
	struct got		 g = { 0 };
	int			 i;

	for (i = 0; i < 4; i++)
		submit(l, "http://x/", &g);
	advance(60000);
	cr_expect_eq(nsent, 2);
	answer(0, 200, NULL, NULL, NULL, NULL);
	cr_expect_eq(g.calls, 1);
	cr_expect_eq(nsent, 3);
	answer(1, 200, NULL, NULL, NULL, NULL);
	answer(2, 200, NULL, NULL, NULL, NULL);
	cr_expect_eq(nsent, 4);
}

Test(limit, global_cap_spans_connectors)
{
	struct limit_conf	 c = { 0 };
	struct limiter		*a, *b;
	struct got		 g = { 0 };
	int			 i;

	/* .init = NULL does not skip the suite's setup: undo it first. */
	teardown();
	setup_cap(3);
	a = limits_get(ls, "a", &c);
	b = limits_get(ls, "b", &c);
	for (i = 0; i < 3; i++) {
		submit(a, "http://a/", &g);
		submit(b, "http://b/", &g);
	}
	cr_expect_eq(nsent, 3, "global cap 3, got %zu", nsent);
	answer(0, 200, NULL, NULL, NULL, NULL);
	cr_expect_eq(nsent, 4);
}

Test(limit, cancel_a_queued_request)
{
	struct limit_conf	 c = { .max_concurrency = 1 };
	struct limiter		*l = limits_get(ls, "a", &c);
	struct got		 g1 = { 0 }, g2 = { 0 }, g3 = { 0 };
	struct limit_req	*r2;

	submit(l, "http://x/1", &g1);
	r2 = submit(l, "http://x/2", &g2);
	submit(l, "http://x/3", &g3);
	limit_cancel(r2);
	answer(0, 200, NULL, NULL, NULL, NULL);
	cr_assert_eq(nsent, 2);
	cr_expect_str_eq(sent[1].url, "http://x/3");
	answer(1, 200, NULL, NULL, NULL, NULL);
	cr_expect_eq(g2.calls, 0);
	cr_expect_eq(g1.calls + g3.calls, 2);
}

Test(limit, cancel_in_flight_frees_its_slot)
{
	struct limit_conf	 c = { .max_concurrency = 1 };
	struct limiter		*l = limits_get(ls, "a", &c);
	struct got		 g = { 0 };
	struct limit_req	*r;

	r = submit(l, "http://x/1", &g);
	submit(l, "http://x/2", &g);
	limit_cancel(r);
	cr_expect(sent[0].cancelled);
	advance(0);
	cr_expect_eq(nsent, 2);
	cr_expect_eq(g.calls, 0);
}

Test(limit, short_429_pauses_connector_and_retries_in_the_poll)
{
	struct limit_conf	 c = { .max_retry_wait_ms = 60000 };
	struct limiter		*a = limits_get(ls, "a", &c);
	struct limiter		*b = limits_get(ls, "b", &c);
	struct limit_counters	 k;
	struct got		 ga = { 0 }, ga2 = { 0 }, gb = { 0 };

	submit(a, "http://a/1", &ga);
	answer(0, 429, "Retry-After", "5", NULL, NULL);
	cr_expect_eq(ga.calls, 0, "a short pause is waited out");
	cr_expect_eq(limiter_pause_left(a), 5000);
	submit(a, "http://a/2", &ga2);
	submit(b, "http://b/1", &gb);
	cr_expect_eq(nsent, 2, "the other connector is not paused");
	cr_expect_str_eq(sent[1].url, "http://b/1");
	advance(4999);
	cr_expect_eq(nsent, 2);
	advance(1);
	cr_assert_eq(nsent, 4);
	cr_expect_str_eq(sent[2].url, "http://a/1", "the retry goes first");
	answer(2, 200, NULL, NULL, NULL, NULL);
	cr_expect_eq(ga.calls, 1);
	cr_expect_eq(ga.status, 200);
	limiter_counters(a, &k);
	cr_expect_eq(k.throttled, 1);
	cr_expect_eq(k.retries, 1);
	cr_expect_eq(k.paused_ms, 5000);
	cr_expect_eq(k.requests, 3);
}

Test(limit, long_503_ends_the_request_with_its_answer)
{
	struct limit_conf	 c = { .max_retry_wait_ms = 60000 };
	struct limiter		*a = limits_get(ls, "a", &c);
	struct got		 g = { 0 };

	submit(a, "http://a/1", &g);
	answer(0, 503, "Retry-After", "120", NULL, NULL);
	cr_expect_eq(g.calls, 1);
	cr_expect_eq(g.status, 503);
	cr_expect_eq(limiter_pause_left(a), 120000);
}

Test(limit, 429_without_retry_after_pauses_by_default)
{
	struct limit_conf	 c = { .max_retry_wait_ms = 0 };
	struct limiter		*a = limits_get(ls, "a", &c);
	struct got		 g = { 0 };

	submit(a, "http://a/1", &g);
	answer(0, 429, NULL, NULL, NULL, NULL);
	cr_expect_eq(g.calls, 1);
	cr_expect_eq(limiter_pause_left(a), LIMIT_DEFAULT_PAUSE_MS);
	submit(a, "http://a/2", &g);
	advance(LIMIT_DEFAULT_PAUSE_MS - 1);
	cr_expect_eq(nsent, 1);
	advance(1);
	cr_expect_eq(nsent, 2);
}

Test(limit, 5xx_is_retried_twice_with_backoff)
{
	struct limit_conf	 c = { 0 };
	struct limiter		*a = limits_get(ls, "a", &c);
	struct limit_counters	 k;
	struct got		 g = { 0 };

	submit(a, "http://a/1", &g);
	answer(0, 500, NULL, NULL, NULL, NULL);
	cr_expect_eq(nsent, 1, "a retry waits for its backoff");
	advance(LIMIT_DEFAULT_PAUSE_MS);
	cr_assert_eq(nsent, 2);
	answer(1, 502, NULL, NULL, NULL, NULL);
	advance(LIMIT_DEFAULT_PAUSE_MS);
	cr_assert_eq(nsent, 3);
	answer(2, 500, NULL, NULL, NULL, NULL);
	cr_expect_eq(g.calls, 1);
	cr_expect_eq(g.status, 500);
	limiter_counters(a, &k);
	cr_expect_eq(k.retries, LIMIT_ERROR_RETRIES);
}

Test(limit, 404_is_not_retried)
{
	struct limit_conf	 c = { 0 };
	struct limiter		*a = limits_get(ls, "a", &c);
	struct got		 g = { 0 };

	submit(a, "http://a/1", &g);
	answer(0, 404, NULL, NULL, NULL, NULL);
	cr_expect_eq(g.calls, 1);
	cr_expect_eq(g.status, 404);
}

Test(limit, low_docker_hub_budget_spreads_over_the_window)
{
	struct limit_conf	 c = { 0 };
	struct limiter		*a = limits_get(ls, "hub", &c);
	struct limit_counters	 k;
	struct got		 g = { 0 };

	submit(a, "http://a/1", &g);
	/* 5 left of 100 in a 100 s window: one every 20 s. */
	answer(0, 200, "ratelimit-remaining", "5;w=100", "ratelimit-limit",
	    "100;w=100");
	submit(a, "http://a/2", &g);
	cr_expect_eq(nsent, 2, "one token is kept");
	submit(a, "http://a/3", &g);
	advance(19999);
	cr_expect_eq(nsent, 2);
	advance(1);
	cr_expect_eq(nsent, 3);
	limiter_counters(a, &k);
	cr_expect_eq(k.slowed, 1);
}

Test(limit, plenty_of_budget_keeps_the_pace)
{
	struct limit_conf	 c = { 0 };
	struct limiter		*a = limits_get(ls, "gh", &c);
	struct got		 g = { 0 };
	char			 reset[32];
	int			 i;

	snprintf(reset, sizeof reset, "%lld", (long long)time(NULL) + 3600);
	submit(a, "http://a/1", &g);
	answer(0, 200, "x-ratelimit-remaining", "4000", "x-ratelimit-limit",
	    "5000");
	for (i = 0; i < 5; i++)
		submit(a, "http://a/n", &g);
	cr_expect_eq(nsent, 6);
}

Test(limit, json_shows_counters)
{
	struct limit_conf	 c = { .rps = 1, .burst = 1 };
	struct limiter		*a = limits_get(ls, "a", &c);
	struct got		 g = { 0 };
	cJSON			*j, *o;

	submit(a, "http://a/1", &g);
	submit(a, "http://a/2", &g);
	j = limits_json(ls);
	cr_assert_eq(cJSON_GetArraySize(j), 1);
	o = cJSON_GetArrayItem(j, 0);
	cr_expect_str_eq(cJSON_GetObjectItem(o, "connector")->valuestring, "a");
	cr_expect_eq(cJSON_GetObjectItem(o, "requests")->valuedouble, 1);
	cr_expect_eq(cJSON_GetObjectItem(o, "queued")->valuedouble, 1);
	cr_expect_eq(cJSON_GetObjectItem(o, "requestsPerSecond")->valuedouble,
	    1);
	cJSON_Delete(j);
}

Test(limit, github_403_with_spent_budget_pauses_until_reset)
{
	struct limit_conf	 c = { .max_retry_wait_ms = 0 };
	struct limiter		*a = limits_get(ls, "gh", &c);
	struct limit_counters	 k;
	struct got		 g = { 0 };
	char			 reset[32];

	snprintf(reset, sizeof reset, "%lld", (long long)time(NULL) + 600);
	submit(a, "http://a/1", &g);
	answer(0, 403, "x-ratelimit-remaining", "0", "x-ratelimit-reset",
	    reset);
	cr_expect_eq(g.calls, 1);
	cr_expect_eq(g.status, 403);
	cr_expect_geq(limiter_pause_left(a), 599000);
	cr_expect_leq(limiter_pause_left(a), 600000);
	limiter_counters(a, &k);
	cr_expect_eq(k.throttled, 1);
}

Test(limit, plain_403_is_not_throttling)
{
	struct limit_conf	 c = { 0 };
	struct limiter		*a = limits_get(ls, "gh", &c);
	struct got		 g = { 0 };

	submit(a, "http://a/1", &g);
	answer(0, 403, NULL, NULL, NULL, NULL);
	cr_expect_eq(g.calls, 1);
	cr_expect_eq(limiter_pause_left(a), 0);
}

Test(limit, reload_keeps_the_pause)
{
	struct limit_conf	 c = { .max_retry_wait_ms = 0 }, c2 = { .rps = 5 };
	struct limiter		*a = limits_get(ls, "a", &c);
	struct got		 g = { 0 };

	submit(a, "http://a/1", &g);
	answer(0, 429, "Retry-After", "10", NULL, NULL);
	cr_expect_eq(limits_get(ls, "a", &c2), a);
	cr_expect_eq(limiter_pause_left(a), 10000);
}

Test(limit_parse, retry_after_forms)
{
	cr_expect_eq(limit_retry_after_ms("7", 1000, 30000), 7000);
	cr_expect_eq(limit_retry_after_ms(" 0 ", 1000, 30000), 0);
	/* Wed, 21 Oct 2026 07:28:00 GMT = 1792567680 */
	cr_expect_eq(limit_retry_after_ms("Wed, 21 Oct 2026 07:28:00 GMT",
	    1792567680 - 12, 30000), 12000);
	cr_expect_eq(limit_retry_after_ms("Wed, 21 Oct 2026 07:28:00 GMT",
	    1792567680 + 50, 30000), 0, "a date in the past: no wait");
	cr_expect_eq(limit_retry_after_ms(NULL, 0, 30000), 30000);
	cr_expect_eq(limit_retry_after_ms("soon", 0, 30000), 30000);
	cr_expect_eq(limit_retry_after_ms("-5", 0, 30000), 30000);
	cr_expect_eq(limit_retry_after_ms("99999999", 0, 30000),
	    24LL * 3600 * 1000, "capped at a day");
	cr_expect_eq(limit_retry_after_ms("1800000045", 1800000000, 30000),
	    45000, "a unix time (X-Retry-After)");
}

Test(limit_parse, docker_hub_budget)
{
	struct limit_budget	 b;

	cr_assert_eq(limit_budget_parse("76;w=21600", "100;w=21600", NULL,
	    0, &b), 0);
	cr_expect_eq(b.remaining, 76);
	cr_expect_eq(b.limit, 100);
	cr_expect_eq(b.window_ms, 21600000);
	cr_assert_eq(limit_budget_parse("3", "100;w=60", NULL, 0, &b), 0);
	cr_expect_eq(b.window_ms, 60000, "window from the limit header");
	cr_expect_eq(limit_budget_parse("3", NULL, NULL, 0, &b), -1,
	    "no window: no budget");
	cr_expect_eq(limit_budget_parse("x;w=5", NULL, NULL, 0, &b), -1);
	cr_expect_eq(limit_budget_parse("5;w=", NULL, NULL, 0, &b), -1);
	cr_expect_eq(limit_budget_parse("5 junk", NULL, NULL, 0, &b), -1);
}

Test(limit_parse, github_budget)
{
	struct limit_budget	 b;

	cr_assert_eq(limit_budget_parse("42", "5000", "1800000600",
	    1800000000, &b), 0);
	cr_expect_eq(b.remaining, 42);
	cr_expect_eq(b.limit, 5000);
	cr_expect_eq(b.window_ms, 600000);
	cr_assert_eq(limit_budget_parse("0", "60", "1700000000",
	    1800000000, &b), 0);
	cr_expect_eq(b.window_ms, 0, "a reset in the past");
	cr_expect_eq(limit_budget_parse("1", "60", "12abc", 1800000000, &b),
	    -1);
	cr_expect_eq(limit_budget_parse(NULL, "60", "1", 1800000000, &b), -1);
}
