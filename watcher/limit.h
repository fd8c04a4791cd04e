/*
 * limit.h: politeness (DESIGN §2, docs/politeness.md).  Every HTTP request
 * of a provider goes through the limiter of its connector, shared by all the
 * sources on that connector: a token bucket (rateLimit), a cap on requests
 * in flight (maxConcurrency), a pause when the server says 429 or 503, a
 * slower pace when its rate-limit headers say the budget runs low, and a few
 * quick retries of 5xx answers and timeouts.  Above all connectors, one cap
 * on requests in flight for the whole watcher.
 *
 * Requests wait in a FIFO queue per connector; one timer wakes the queue
 * when the next one may go.  Time and the HTTP engine come through struct
 * limits_io, so the unit tests drive the clock by hand.
 */
#ifndef LIMIT_H
#define LIMIT_H

#include "watcher.h"
#include "http.h"

#define LIMIT_MAX_INFLIGHT	256	/* default global cap */
#define LIMIT_DEFAULT_PAUSE_MS	30000	/* 429/503 without Retry-After */
#define LIMIT_MAX_RETRY_WAIT_MS	60000	/* default maxRetryWait */
#define LIMIT_ERROR_RETRIES	2	/* 5xx and timeouts, per request */
#define LIMIT_THROTTLE_RETRIES	3	/* short 429/503 waits, per request */

/* A connector's knobs (its rateLimit, maxConcurrency, maxRetryWait). */
struct limit_conf {
	double		 rps;		/* requestsPerSecond; 0: no limit */
	long long	 burst;		/* tokens the bucket holds; 0: 1 */
	long long	 max_concurrency; /* in flight; 0: the global cap */
	int64_t		 max_retry_wait_ms; /* wait for a pause in a poll */
};

/* What a connector did, since the watcher started. */
struct limit_counters {
	uint64_t	 requests;	/* sent to the server */
	uint64_t	 throttled;	/* 429 and 503 answers */
	uint64_t	 retries;	/* requests sent again */
	uint64_t	 slowed;	/* budget headers slowed us down */
	int64_t		 paused_ms;	/* time spent paused */
	int64_t		 queued_ms;	/* time requests waited in the queue */
};

/* The clock and the engine: http.c and mono_ms(), or a test's. */
struct limits_io {
	int64_t		 (*now_ms)(void *arg);
	struct http_req	*(*submit)(void *arg, const struct http_request *,
			    http_done_cb, void *cb_arg);
	void		 (*cancel)(void *arg, struct http_req *);
	uint32_t	 (*random)(void *arg);
	void		*arg;
};

struct limits;
struct limiter;
struct limit_req;

/* The registry of limiters, on `base`, sending through `http`. */
struct limits	*limits_create(struct event_base *, struct http *,
		    size_t max_inflight);
struct limits	*limits_create_io(struct event_base *,
		    const struct limits_io *, size_t max_inflight);
/* Drops every queued request (no callbacks), cancels those in flight. */
void		 limits_free(struct limits *);	/* accepts NULL */
void		 limits_set_max_inflight(struct limits *, size_t);
/*
 * The limiter of connector `id`, made on first use; a later call updates
 * its knobs (a reload) and keeps its state (pause, counters).  Owned by
 * the registry.
 */
struct limiter	*limits_get(struct limits *, const char *id,
		    const struct limit_conf *);
/* Every connector's counters and state, as a JSON array. */
cJSON		*limits_json(const struct limits *);
/* Send what may go now and arm the timer; the timer calls it too. */
void		 limits_pump(struct limits *);

/*
 * Queue a request (copied, like http_submit).  `done` runs exactly once,
 * from the event loop, with the final answer: a 429/503 whose pause is
 * longer than maxRetryWait, an error or 5xx that stayed one after the
 * retries, or anything else.  Never NULL; valid until `done` returns or
 * limit_cancel().
 */
struct limit_req *limiter_submit(struct limiter *, const struct http_request *,
		    http_done_cb done, void *arg);
/* Abandon a request, queued or in flight: its callback never runs. */
void		 limit_cancel(struct limit_req *);	/* accepts NULL */
/*
 * A throttling answer the limiter cannot see in the status (AWS's
 * ThrottlingException is a 400): pause the connector for ms, as a 429.
 */
void		 limiter_throttle(struct limiter *, int64_t ms, long status);
/* How long the connector stays paused, in ms (0: not paused). */
int64_t		 limiter_pause_left(const struct limiter *);
const char	*limiter_id(const struct limiter *);
void		 limiter_counters(const struct limiter *,
		    struct limit_counters *);
cJSON		*limiter_json(const struct limiter *);

/* limit-parse.c: the headers that tell us to slow down, pure. */

/*
 * Retry-After of a 429/503 in ms from now: default when absent or bad.  A
 * number that can only be a unix time (Docker Hub's X-Retry-After) counts
 * from now_unix_s.
 */
int64_t	 limit_retry_after_ms(const char *value, int64_t now_unix_s,
	    int64_t default_ms);
/*
 * A budget: `remaining` requests until `window_ms` from now.  From Docker
 * Hub's "ratelimit-remaining: 76;w=21600" (+ "ratelimit-limit: 100;w=…")
 * or GitHub's x-ratelimit-remaining / x-ratelimit-limit /
 * x-ratelimit-reset (unix seconds).  limit is 0 when unknown.  Returns 0
 * when the headers gave one, -1 when none or malformed.
 */
struct limit_budget {
	long long	 remaining;
	long long	 limit;
	int64_t		 window_ms;
};
int	 limit_budget_parse(const char *remaining, const char *limit,
	    const char *reset, int64_t now_unix_s, struct limit_budget *);

#endif
