/*
 * limit.c: the limiters of limit.h.  One registry (struct limits) per
 * watcher holds a limiter per connector and the global cap on requests in
 * flight; it outlives reloads, so a pause survives a SIGHUP.
 *
 * A request is queued on its connector and sent by limits_pump() when the
 * connector may send: not paused, under maxConcurrency, a token in its
 * bucket, and the watcher under its global cap.  The pump sends one request
 * per connector per round so that one busy connector cannot starve the
 * others, and arms the one timer for the earliest moment something may go.
 * Completions, submissions and the timer pump; nothing spins.
 *
 * Answers: 429/503 pause the whole connector for Retry-After (30 s when
 * absent); the request goes back to the head of its queue when the pause is
 * at most maxRetryWait, else its caller gets the answer and ends the poll.
 * 500/502/504, timeouts and broken connections are sent again after a short
 * jittered backoff, LIMIT_ERROR_RETRIES times.  Budget headers that run low
 * spread what is left over the rest of their window.
 */
#include <sys/queue.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "http.h"
#include "limit.h"

#define LIMIT_RETRY_BASE_MS	500	/* first retry of a 5xx, jittered */
#define LIMIT_RETRY_CAP_MS	4000
#define LIMIT_LOW_BUDGET_PCT	20	/* slow down below this share */
#define LIMIT_LOW_BUDGET_ABS	10	/* ... or this count, limit unknown */
#define LIMIT_SLOWEST_RPS	(1.0 / 60)	/* never slower than this */

struct limit_req {
	struct limits		*ls;
	struct limiter		*l;
	char			*method;
	char			*url;
	char			**headers;	/* NULL-terminated, wiped */
	char			*body;
	size_t			 body_len;
	long			 timeout_ms;
	long			 connect_timeout_ms;
	size_t			 max_body;
	int			 no_redirects;
	const struct http_tls	*tls;
	http_done_cb		 done;
	void			*arg;

	struct http_req		*http;		/* in flight, or NULL */
	unsigned		 errors;	/* 5xx/timeouts retried */
	unsigned		 throttles;	/* 429/503 retried */
	int64_t			 not_before;	/* retry backoff (io clock) */
	int64_t			 queued_at;
	TAILQ_ENTRY(limit_req)	 entry;
};
TAILQ_HEAD(limit_req_list, limit_req);

struct limiter {
	struct limits		*ls;
	char			*id;
	struct limit_conf	 conf;

	double			 tokens;
	int64_t			 refilled;	/* io clock, ms */
	size_t			 inflight;
	int			 paused;
	int64_t			 pause_start;
	int64_t			 pause_until;
	double			 slow_rps;	/* budget headers; 0: none */
	int64_t			 slow_until;
	struct limit_counters	 c;

	struct limit_req_list	 queue;		/* waiting, FIFO */
	struct limit_req_list	 active;	/* in flight */
	TAILQ_ENTRY(limiter)	 entry;
};

struct limits {
	struct event_base	*base;
	struct limits_io	 io;
	size_t			 max_inflight;
	size_t			 inflight;
	struct event		*timer;
	int			 pumping;
	TAILQ_HEAD(, limiter)	 limiters;
};

static int64_t
io_now(void *arg __unused)
{
	return (mono_ms());
}

static struct http_req *
io_submit(void *arg, const struct http_request *hr, http_done_cb done,
    void *cb_arg)
{
	return (http_submit(arg, hr, done, cb_arg));
}

static void
io_cancel(void *arg __unused, struct http_req *req)
{
	http_cancel(req);
}

static uint32_t
io_random(void *arg __unused)
{
	return (random32());
}

static void
limits_timer_cb(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	limits_pump(arg);
}

struct limits *
limits_create_io(struct event_base *base, const struct limits_io *io,
    size_t max_inflight)
{
	struct limits	*ls;

	ls = xcalloc(1, sizeof *ls);
	ls->base = base;
	ls->io = *io;
	ls->max_inflight = max_inflight > 0 ? max_inflight : LIMIT_MAX_INFLIGHT;
	TAILQ_INIT(&ls->limiters);
	if ((ls->timer = evtimer_new(base, limits_timer_cb, ls)) == NULL)
		fatalx("evtimer_new failed");
	return (ls);
}

struct limits *
limits_create(struct event_base *base, struct http *http, size_t max_inflight)
{
	struct limits_io	 io;

	io.now_ms = io_now;
	io.submit = io_submit;
	io.cancel = io_cancel;
	io.random = io_random;
	io.arg = http;
	return (limits_create_io(base, &io, max_inflight));
}

static void
limit_req_free(struct limit_req *r)
{
	size_t	 i;

	for (i = 0; r->headers[i] != NULL; i++) {
		explicit_bzero(r->headers[i], strlen(r->headers[i]));
		free(r->headers[i]);
	}
	free(r->headers);
	if (r->body != NULL) {
		explicit_bzero(r->body, r->body_len);
		free(r->body);
	}
	free(r->method);
	free(r->url);
	free(r);
}

void
limits_free(struct limits *ls)
{
	struct limiter		*l;
	struct limit_req	*r;

	if (ls == NULL)
		return;
	while ((l = TAILQ_FIRST(&ls->limiters)) != NULL) {
		TAILQ_REMOVE(&ls->limiters, l, entry);
		while ((r = TAILQ_FIRST(&l->queue)) != NULL) {
			TAILQ_REMOVE(&l->queue, r, entry);
			limit_req_free(r);
		}
		while ((r = TAILQ_FIRST(&l->active)) != NULL) {
			TAILQ_REMOVE(&l->active, r, entry);
			ls->io.cancel(ls->io.arg, r->http);
			limit_req_free(r);
		}
		free(l->id);
		free(l);
	}
	event_free(ls->timer);
	free(ls);
}

void
limits_set_max_inflight(struct limits *ls, size_t n)
{
	ls->max_inflight = n > 0 ? n : LIMIT_MAX_INFLIGHT;
}

static double
limiter_capacity(const struct limiter *l)
{
	if (l->slow_rps > 0)
		return (1);
	return (l->conf.burst > 0 ? (double)l->conf.burst : 1);
}

struct limiter *
limits_get(struct limits *ls, const char *id, const struct limit_conf *conf)
{
	struct limiter	*l;

	TAILQ_FOREACH(l, &ls->limiters, entry) {
		if (strcmp(l->id, id) == 0)
			break;
	}
	if (l == NULL) {
		l = xcalloc(1, sizeof *l);
		l->ls = ls;
		l->id = xstrdup(id);
		l->refilled = ls->io.now_ms(ls->io.arg);
		TAILQ_INIT(&l->queue);
		TAILQ_INIT(&l->active);
		TAILQ_INSERT_TAIL(&ls->limiters, l, entry);
		l->conf = *conf;
		l->tokens = limiter_capacity(l);
		return (l);
	}
	l->conf = *conf;
	if (l->tokens > limiter_capacity(l))
		l->tokens = limiter_capacity(l);
	return (l);
}

/* Requests per second now, or 0 for no limit. */
static double
limiter_rate(const struct limiter *l)
{
	double	 rps = l->conf.rps;

	if (l->slow_rps > 0 && (rps <= 0 || l->slow_rps < rps))
		rps = l->slow_rps;
	return (rps);
}

static void
limiter_refill(struct limiter *l, int64_t now)
{
	double	 rps = limiter_rate(l), cap = limiter_capacity(l);

	if (now > l->refilled && rps > 0)
		l->tokens += (double)(now - l->refilled) * rps / 1000;
	if (rps <= 0 || l->tokens > cap)
		l->tokens = cap;
	l->refilled = now;
}

/* A pause or a slow pace that is over: say so, once. */
static void
limiter_expire(struct limiter *l, int64_t now)
{
	if (l->paused && now >= l->pause_until) {
		l->paused = 0;
		l->c.paused_ms += l->pause_until - l->pause_start;
		log_info("connector resumed", "connector=%s paused_ms=%lld "
		    "requests=%llu throttled=%llu retries=%llu "
		    "total_paused_ms=%lld", log_q(l->id),
		    (long long)(l->pause_until - l->pause_start),
		    (unsigned long long)l->c.requests,
		    (unsigned long long)l->c.throttled,
		    (unsigned long long)l->c.retries,
		    (long long)l->c.paused_ms);
	}
	if (l->slow_rps > 0 && now >= l->slow_until) {
		limiter_refill(l, now);
		l->slow_rps = 0;
		log_info("connector back to its pace", "connector=%s",
		    log_q(l->id));
	}
}

/*
 * When the head of the queue may go: 0 now, > 0 in that many ms, -1 when a
 * completion must come first (or nothing waits).
 */
static int64_t
limiter_ready_in(struct limiter *l, int64_t now)
{
	struct limit_req	*r = TAILQ_FIRST(&l->queue);
	double			 rps;
	int64_t			 wait;

	limiter_expire(l, now);
	if (l->paused)
		return (l->pause_until - now);
	if (l->slow_rps > 0 && r == NULL)
		return (l->slow_until - now);
	if (r == NULL)
		return (-1);
	if (r->not_before > now)
		return (r->not_before - now);
	if (l->conf.max_concurrency > 0 &&
	    l->inflight >= (size_t)l->conf.max_concurrency)
		return (-1);
	limiter_refill(l, now);
	if ((rps = limiter_rate(l)) > 0 && l->tokens < 1) {
		wait = (int64_t)ceil((1 - l->tokens) * 1000 / rps);
		return (wait > 0 ? wait : 1);
	}
	return (0);
}

static void	limit_done(const struct http_response *, void *);

static void
limiter_send(struct limiter *l, int64_t now)
{
	struct limits		*ls = l->ls;
	struct limit_req	*r = TAILQ_FIRST(&l->queue);
	struct http_request	 hr;

	TAILQ_REMOVE(&l->queue, r, entry);
	if (limiter_rate(l) > 0)
		l->tokens -= 1;
	l->c.queued_ms += now - r->queued_at;
	l->c.requests++;
	l->inflight++;
	ls->inflight++;
	memset(&hr, 0, sizeof hr);
	hr.method = r->method;
	hr.url = r->url;
	hr.headers = (const char *const *)r->headers;
	hr.body = r->body;
	hr.body_len = r->body_len;
	hr.timeout_ms = r->timeout_ms;
	hr.connect_timeout_ms = r->connect_timeout_ms;
	hr.max_body = r->max_body;
	hr.no_redirects = r->no_redirects;
	hr.tls = r->tls;
	TAILQ_INSERT_TAIL(&l->active, r, entry);
	r->http = ls->io.submit(ls->io.arg, &hr, limit_done, r);
}

void
limits_pump(struct limits *ls)
{
	struct limiter	*l;
	struct timeval	 tv;
	int64_t		 now, wait, next;
	int		 sent;

	if (ls->pumping)
		return;
	ls->pumping = 1;
	now = ls->io.now_ms(ls->io.arg);
	do {
		sent = 0;
		next = -1;
		TAILQ_FOREACH(l, &ls->limiters, entry) {
			wait = limiter_ready_in(l, now);
			if (wait == 0 && ls->inflight < ls->max_inflight) {
				limiter_send(l, now);
				sent = 1;
			} else if (wait > 0 && (next < 0 || wait < next))
				next = wait;
		}
	} while (sent && ls->inflight < ls->max_inflight);
	ls->pumping = 0;
	evtimer_del(ls->timer);
	if (next >= 0) {
		tv.tv_sec = next / 1000;
		tv.tv_usec = (next % 1000) * 1000;
		evtimer_add(ls->timer, &tv);
	}
}

/* Pump from the loop: for calls that must not send at once. */
static void
limits_kick(struct limits *ls)
{
	struct timeval	 tv = { 0, 0 };

	evtimer_del(ls->timer);
	evtimer_add(ls->timer, &tv);
}

struct limit_req *
limiter_submit(struct limiter *l, const struct http_request *hr,
    http_done_cb done, void *arg)
{
	struct limit_req	*r;
	size_t			 n = 0, i;

	r = xcalloc(1, sizeof *r);
	r->ls = l->ls;
	r->l = l;
	r->method = xstrdup(hr->method != NULL ? hr->method : "GET");
	r->url = xstrdup(hr->url);
	while (hr->headers != NULL && hr->headers[n] != NULL)
		n++;
	r->headers = xcalloc(n + 1, sizeof *r->headers);
	for (i = 0; i < n; i++)
		r->headers[i] = xstrdup(hr->headers[i]);
	if (hr->body != NULL) {
		r->body = xmalloc(hr->body_len + 1);
		memcpy(r->body, hr->body, hr->body_len);
		r->body[hr->body_len] = '\0';
		r->body_len = hr->body_len;
	}
	r->timeout_ms = hr->timeout_ms;
	r->connect_timeout_ms = hr->connect_timeout_ms;
	r->max_body = hr->max_body;
	r->no_redirects = hr->no_redirects;
	r->tls = hr->tls;		/* the caller's, outlives the request */
	r->done = done;
	r->arg = arg;
	r->queued_at = l->ls->io.now_ms(l->ls->io.arg);
	TAILQ_INSERT_TAIL(&l->queue, r, entry);
	limits_pump(l->ls);
	return (r);
}

void
limit_cancel(struct limit_req *r)
{
	struct limiter	*l;

	if (r == NULL)
		return;
	l = r->l;
	if (r->http != NULL) {
		TAILQ_REMOVE(&l->active, r, entry);
		r->ls->io.cancel(r->ls->io.arg, r->http);
		l->inflight--;
		r->ls->inflight--;
		limits_kick(r->ls);
	} else
		TAILQ_REMOVE(&l->queue, r, entry);
	limit_req_free(r);
}

/* 429/503: nobody on this connector sends until the pause is over. */
static void
limiter_pause(struct limiter *l, int64_t now, int64_t ms, long status)
{
	if (now + ms <= l->pause_until)
		return;
	if (!l->paused) {
		l->paused = 1;
		l->pause_start = now;
	}
	l->pause_until = now + ms;
	log_warn("connector paused", "connector=%s status=%ld pause_ms=%lld "
	    "queued=%s", log_q(l->id), status, (long long)ms,
	    TAILQ_EMPTY(&l->queue) ? "no" : "yes");
}

/*
 * Budget headers: spread what is left over the window when it runs low.
 * Returns the window in ms when the budget is spent, else 0.
 */
static int64_t
limiter_budget(struct limiter *l, const struct http_response *resp,
    int64_t now)
{
	struct limit_budget	 b;
	const char		*rem, *lim, *reset = NULL;
	double			 rps;
	int			 low;

	if ((rem = http_header(resp, "ratelimit-remaining")) != NULL)
		lim = http_header(resp, "ratelimit-limit");
	else if ((rem = http_header(resp, "x-ratelimit-remaining")) != NULL) {
		lim = http_header(resp, "x-ratelimit-limit");
		reset = http_header(resp, "x-ratelimit-reset");
	} else
		return (0);
	if (limit_budget_parse(rem, lim, reset, (int64_t)time(NULL), &b) != 0 ||
	    b.window_ms <= 0)
		return (0);
	if (b.limit > 0)
		low = b.remaining * 100 < b.limit * LIMIT_LOW_BUDGET_PCT;
	else
		low = b.remaining < LIMIT_LOW_BUDGET_ABS;
	if (!low) {
		if (l->slow_rps > 0) {
			l->slow_until = now;
			limiter_expire(l, now);
		}
		return (0);
	}
	rps = (double)(b.remaining > 0 ? b.remaining : 1) * 1000 /
	    (double)b.window_ms;
	if (rps < LIMIT_SLOWEST_RPS)
		rps = LIMIT_SLOWEST_RPS;
	if (l->conf.rps > 0 && rps >= l->conf.rps)
		return (b.remaining == 0 ? b.window_ms : 0);
	limiter_refill(l, now);
	if (l->slow_rps <= 0 || fabs(rps - l->slow_rps) > l->slow_rps / 4) {
		if (l->slow_rps <= 0)
			l->c.slowed++;
		log_warn("connector slowed: rate budget runs low",
		    "connector=%s remaining=%lld limit=%lld window_s=%lld "
		    "rps=%.4f", log_q(l->id), b.remaining, b.limit,
		    (long long)(b.window_ms / 1000), rps);
	}
	l->slow_rps = rps;
	l->slow_until = now + b.window_ms;
	if (l->tokens > 1)
		l->tokens = 1;
	return (b.remaining == 0 ? b.window_ms : 0);
}

/* Worth sending again soon: the server or the path hiccuped. */
static int
limit_transient(const struct http_response *resp)
{
	switch (resp->error) {
	case CURLE_OK:
		return (resp->status == 500 || resp->status == 502 ||
		    resp->status == 504);
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return (1);
	default:
		return (0);
	}
}

static void
limit_requeue(struct limit_req *r, int64_t not_before)
{
	struct limiter	*l = r->l;

	l->c.retries++;
	r->not_before = not_before;
	TAILQ_INSERT_HEAD(&l->queue, r, entry);
}

static void
limit_done(const struct http_response *resp, void *arg)
{
	struct limit_req	*r = arg;
	struct limiter		*l = r->l;
	struct limits		*ls = r->ls;
	struct backoff		 b = { .base_ms = LIMIT_RETRY_BASE_MS,
	    .cap_ms = LIMIT_RETRY_CAP_MS };
	int64_t			 now = ls->io.now_ms(ls->io.arg), ms;
	int64_t			 spent = 0;
	const char		*after;

	TAILQ_REMOVE(&l->active, r, entry);
	r->http = NULL;
	l->inflight--;
	ls->inflight--;
	if (resp->error == 0)
		spent = limiter_budget(l, resp, now);
	/* GitHub says "spent" with a 403 and x-ratelimit-remaining: 0. */
	if (resp->error == 0 && (resp->status == 429 || resp->status == 503 ||
	    (resp->status == 403 && spent > 0))) {
		l->c.throttled++;
		if ((after = http_header(resp, "Retry-After")) == NULL)
			after = http_header(resp, "X-Retry-After");
		ms = limit_retry_after_ms(after, (int64_t)time(NULL),
		    spent > 0 ? spent : LIMIT_DEFAULT_PAUSE_MS);
		limiter_pause(l, now, ms, resp->status);
		if (ms <= l->conf.max_retry_wait_ms &&
		    r->throttles < LIMIT_THROTTLE_RETRIES) {
			r->throttles++;
			limit_requeue(r, 0);
			limits_pump(ls);
			return;
		}
	} else if (limit_transient(resp) && r->errors < LIMIT_ERROR_RETRIES) {
		r->errors++;
		ms = backoff_delay(&b, r->errors, ls->io.random(ls->io.arg));
		log_info("request retried", "connector=%s url=%s error=%s "
		    "status=%ld delay_ms=%lld", log_q(l->id), log_q(r->url),
		    log_q(resp->error != 0 ? resp->cause : "-"), resp->status,
		    (long long)ms);
		limit_requeue(r, now + ms);
		limits_pump(ls);
		return;
	}
	r->done(resp, r->arg);
	limit_req_free(r);
	limits_pump(ls);
}

void
limiter_throttle(struct limiter *l, int64_t ms, long status)
{
	l->c.throttled++;
	limiter_pause(l, l->ls->io.now_ms(l->ls->io.arg), ms, status);
	limits_pump(l->ls);
}

int64_t
limiter_pause_left(const struct limiter *l)
{
	int64_t	 now = l->ls->io.now_ms(l->ls->io.arg);

	return (l->pause_until > now ? l->pause_until - now : 0);
}

const char *
limiter_id(const struct limiter *l)
{
	return (l->id);
}

void
limiter_counters(const struct limiter *l, struct limit_counters *c)
{
	int64_t	 now = l->ls->io.now_ms(l->ls->io.arg);

	*c = l->c;
	if (l->paused)
		c->paused_ms += (now < l->pause_until ? now : l->pause_until) -
		    l->pause_start;
}

cJSON *
limiter_json(const struct limiter *l)
{
	struct limit_counters	 c;
	struct limit_req	*r;
	cJSON			*o;
	size_t			 queued = 0;
	double			 rps = limiter_rate(l);

	limiter_counters(l, &c);
	TAILQ_FOREACH(r, &l->queue, entry)
		queued++;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "connector", l->id);
	cJSON_AddNumberToObject(o, "requests", (double)c.requests);
	cJSON_AddNumberToObject(o, "throttled", (double)c.throttled);
	cJSON_AddNumberToObject(o, "retries", (double)c.retries);
	cJSON_AddNumberToObject(o, "slowed", (double)c.slowed);
	cJSON_AddNumberToObject(o, "pausedMs", (double)c.paused_ms);
	cJSON_AddNumberToObject(o, "queuedMs", (double)c.queued_ms);
	cJSON_AddNumberToObject(o, "pauseLeftMs",
	    (double)limiter_pause_left(l));
	cJSON_AddNumberToObject(o, "queued", (double)queued);
	cJSON_AddNumberToObject(o, "inFlight", (double)l->inflight);
	if (rps > 0)
		cJSON_AddNumberToObject(o, "requestsPerSecond", rps);
	else
		cJSON_AddNullToObject(o, "requestsPerSecond");
	return (o);
}

cJSON *
limits_json(const struct limits *ls)
{
	const struct limiter	*l;
	cJSON			*arr;

	arr = cJSON_CreateArray();
	TAILQ_FOREACH(l, &ls->limiters, entry)
		cJSON_AddItemToArray(arr, limiter_json(l));
	return (arr);
}
