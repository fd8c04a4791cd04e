/*
 * broker.c: the held deliveries and reconnection pacing of the Amqp and
 * Mqtt sinks (broker.h).
 */
#include <stdlib.h>

#include "broker.h"

#define BROKER_BACKOFF_BASE_MS	500
#define BROKER_BACKOFF_CAP_MS	30000

/* Run the `done`s of finished messages, oldest first, one per turn. */
static void
broker_flush(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct broker		*b = arg;
	struct broker_msg	**pp, *m;
	sink_done_cb		 done;
	void			*done_arg;
	enum delivery		 result;
	char			*cause;

	for (;;) {
		for (pp = &b->msgs; *pp != NULL && !(*pp)->finished;
		    pp = &(*pp)->next)
			;
		if ((m = *pp) == NULL)
			return;
		*pp = m->next;
		done = m->done;
		done_arg = m->arg;
		result = m->result;
		cause = m->cause;
		m->cause = NULL;
		b->free_msg(m);
		/* May deliver again or free the sink: read nothing after. */
		if (done != NULL) {
			event_active(b->flush, EV_TIMEOUT, 0);	/* the rest */
			done(result, -1, cause, done_arg);
			free(cause);
			return;
		}
		free(cause);
	}
}

static void
broker_reconnect(evutil_socket_t fd __unused, short what __unused,
    void *arg)
{
	struct broker	*b = arg;

	if (b->msgs != NULL)
		b->connect(b->arg);
}

void
broker_init(struct broker *b, struct event_base *base,
    void (*free_msg)(struct broker_msg *), void (*connect)(void *),
    void *arg)
{
	b->free_msg = free_msg;
	b->connect = connect;
	b->arg = arg;
	b->flush = event_new(base, -1, 0, broker_flush, b);
	b->reconnect = evtimer_new(base, broker_reconnect, b);
	if (b->flush == NULL || b->reconnect == NULL)
		fatalx("event_new failed");
}

void
broker_msg_clear(struct broker_msg *m)
{
	free(m->cause);
	m->cause = NULL;
}

void
broker_cancel(struct broker *b)
{
	struct broker_msg	*m;

	while ((m = b->msgs) != NULL) {
		b->msgs = m->next;
		b->free_msg(m);
	}
	if (b->flush != NULL)
		event_del(b->flush);
}

void
broker_free(struct broker *b)
{
	broker_cancel(b);
	if (b->flush != NULL)
		event_free(b->flush);
	if (b->reconnect != NULL)
		event_free(b->reconnect);
	b->flush = b->reconnect = NULL;
}

void
broker_hold(struct broker *b, struct broker_msg *m, sink_done_cb done,
    void *arg)
{
	struct broker_msg	**pp;

	m->done = done;
	m->arg = arg;
	for (pp = &b->msgs; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = m;
}

void
broker_finish(struct broker *b, struct broker_msg *m, enum delivery result,
    const char *cause)
{
	if (m->finished)
		return;
	m->finished = 1;
	m->result = result;
	m->cause = cause != NULL ? xstrdup(cause) : NULL;
	event_active(b->flush, EV_TIMEOUT, 0);
}

int
broker_lost(struct broker *b, int ready, const char *cause)
{
	struct backoff		 bo = { .base_ms = BROKER_BACKOFF_BASE_MS,
				    .cap_ms = BROKER_BACKOFF_CAP_MS };
	struct broker_msg	*m;
	int			 worth = ready || b->failures == 0;

	b->failures = ready ? 1 : b->failures + 1;
	b->retry_at = mono_ms() + backoff_delay(&bo, b->failures,
	    random32());
	for (m = b->msgs; m != NULL; m = m->next)
		broker_finish(b, m, DELIVERY_RETRY, cause);
	return (worth);
}

void
broker_ready(struct broker *b)
{
	b->failures = 0;
}

void
broker_wake(struct broker *b)
{
	struct timeval	 tv;
	int64_t		 wait;

	if ((wait = b->retry_at - mono_ms()) <= 0) {
		b->connect(b->arg);
		return;
	}
	if (!evtimer_pending(b->reconnect, NULL)) {
		tv.tv_sec = wait / 1000;
		tv.tv_usec = (wait % 1000) * 1000;
		evtimer_add(b->reconnect, &tv);
	}
}
