/*
 * broker.h: what the sinks that keep one connection to a broker and drive
 * its protocol on the event loop (Amqp, Mqtt) share:
 *
 * - the deliveries held until the broker answers, in delivery order: each
 *   sink's message struct starts with a `struct broker_msg`;
 * - their `done`s, run from the loop (never inside deliver()), oldest
 *   finished first, one per turn, since a `done` may deliver again or free
 *   the sink;
 * - the pacing of reconnections after a lost connection (backoff from
 *   500 ms to 30 s, reset by a connection that worked).
 */
#ifndef BROKER_H
#define BROKER_H

#include <event2/event.h>

#include "sink.h"

struct broker_msg {
	struct broker_msg	*next;
	int			 finished;
	enum delivery		 result;
	char			*cause;
	sink_done_cb		 done;		/* NULL once cancelled */
	void			*arg;
};

struct broker {
	struct broker_msg	*msgs;		/* in delivery order */
	struct event		*flush;		/* runs finished `done`s */
	struct event		*reconnect;	/* after a failure's backoff */
	unsigned		 failures;	/* connections lost in a row */
	int64_t			 retry_at;	/* mono ms: connect again */
	void			(*free_msg)(struct broker_msg *);
	void			(*connect)(void *);	/* broker_wake() */
	void			*arg;
};

/*
 * Set up b (zeroed by the caller): free_msg frees a whole message (cause
 * included: broker_msg_clear()), connect(arg) opens the connection.
 */
void	 broker_init(struct broker *, struct event_base *,
	    void (*free_msg)(struct broker_msg *), void (*connect)(void *),
	    void *arg);
/* Free every message (their `done`s never run) and the events. */
void	 broker_free(struct broker *);
/* What a message's free_msg frees of the common part. */
void	 broker_msg_clear(struct broker_msg *);

/* Hold m (zeroed but for the sink's part) until it is answered. */
void	 broker_hold(struct broker *, struct broker_msg *, sink_done_cb,
	    void *arg);
/* m is answered: its `done` runs soon, from the loop.  Once only. */
void	 broker_finish(struct broker *, struct broker_msg *, enum delivery,
	    const char *cause);
/*
 * The connection is lost (`ready`: it had worked): every held message is
 * retried with `cause`, and the next connection waits its backoff.
 * Returns 1 when the loss is worth a log line (once per outage).
 */
int	 broker_lost(struct broker *, int ready, const char *cause);
/* A connection worked: the next loss starts the backoff afresh. */
void	 broker_ready(struct broker *);
/*
 * Connect now if the backoff allows, else when it ends (while messages
 * are held).  For a sink whose connection is down.
 */
void	 broker_wake(struct broker *);
/* Forget every message (cancel()): their `done`s never run. */
void	 broker_cancel(struct broker *);

#endif
