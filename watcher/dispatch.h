/*
 * dispatch.h: the dispatcher of DESIGN §6, one per sink.  It walks the
 * sink's cursor over the store's outbox in order, hands the entries to the
 * sink (up to its window at once), acks them in outbox order when delivered, retries it with exponential backoff and
 * jitter (Retry-After wins when larger), and dead-letters it after
 * maxAttempts or maxAge, or at once when the sink says it will never work.
 * Under failures each source's events still reach the sink in outbox
 * order: a failed event holds back the later ones of its source only
 * (dispatch.c, "Order per source").
 * Dispatchers share nothing, so a sink that is down never holds back another.
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include "watcher.h"

struct sink;
struct dispatch;

/* Tunables; zero fields take the defaults shown. */
struct dispatch_opts {
	size_t		 batch;		/* entries per read: 64 */
	int64_t		 reread_ms;	/* re-read when idle: 2000 */
	struct backoff	 backoff;	/* retries: 1 s doubling to 5 min */
	int64_t		 max_retry_after_ms;	/* cap on Retry-After: 1 h */
	int64_t		 ack_delay_ms;	/* acks gather this long: 10 */
	uint32_t	(*random)(void);	/* jitter source: random32 */
};

enum dispatch_state {
	DISPATCH_BUSY,		/* reading, delivering, acking */
	DISPATCH_IDLE,		/* the last read found nothing to deliver */
	DISPATCH_RETRY_WAIT,	/* an entry waits for its next attempt */
	DISPATCH_STORE_WAIT,	/* the store failed; reading again later */
	DISPATCH_STOPPED,	/* dispatch_stop(): starts nothing new */
};

struct dispatch_counters {
	uint64_t	 delivered;
	uint64_t	 retried;	/* failed attempts that will be retried */
	uint64_t	 dead;
	uint64_t	 store_errors;
};

/*
 * Called each time the dispatcher stops working for now: it became IDLE,
 * RETRY_WAIT or STORE_WAIT, or STOPPED once the work in flight at
 * dispatch_stop() has ended.  It may free the dispatcher.
 */
typedef void (*dispatch_notify_cb)(struct dispatch *, enum dispatch_state,
		    void *arg);

/*
 * Start dispatching the outbox of `sink` (which the caller keeps and frees
 * after dispatch_free()) from env->store; the first read happens soon, from
 * the loop.  opts may be NULL.
 */
struct dispatch	*dispatch_create(struct env *, struct sink *,
		    const struct dispatch_opts *);
/* Stops; in-flight store and sink callbacks never reach it.  Accepts NULL. */
void		 dispatch_free(struct dispatch *);
void		 dispatch_set_notify(struct dispatch *, dispatch_notify_cb,
		    void *arg);
/*
 * Drain for shutdown: the deliveries in flight finish (and are acked or
 * dead-lettered, in outbox order), nothing new starts, no retry waits.  An
 * entry confirmed behind one whose retry was given up stays unacked and is
 * sent again after a restart, as are the deliveries abandoned by freeing at
 * once instead.
 */
void		 dispatch_stop(struct dispatch *);
/* A store or sink operation is in flight. */
int		 dispatch_busy(const struct dispatch *);
/* New events were committed: read now unless busy (then read after). */
void		 dispatch_wake(struct dispatch *);
enum dispatch_state dispatch_state(const struct dispatch *);
/* Nothing left to deliver as of the last read. */
int		 dispatch_drained(const struct dispatch *);
const struct dispatch_counters *dispatch_counters(const struct dispatch *);
/* The sink's identifier, for logs and metrics. */
const char	*dispatch_sink_id(const struct dispatch *);

/*
 * The sink's window: its maxInFlight, else its entry's max_inflight; 1 for
 * an entry whose max_inflight is 0 (one at a time only); at most
 * DISPATCH_MAX_WINDOW.
 */
#define DISPATCH_MAX_WINDOW	10000
unsigned	 dispatch_window(const struct sink *);

/*
 * The wait before the next attempt after `failures` failed attempts (1 =
 * the first failure): the jittered backoff, or the receiver's Retry-After
 * (-1: none; capped at max_retry_after_ms) when that is longer.
 */
int64_t		 dispatch_retry_delay(const struct dispatch_opts *,
		    unsigned failures, int64_t retry_after_ms, uint32_t random);

#endif
