/*
 * retention.c: the periodic trim that keeps the store's history to
 * `retention`.  Every delivered event stays listed by `history` (and can be
 * replayed) until it was committed longer than the retention ago; the store
 * never drops an event some sink still has pending.  One trim runs at
 * start, then one per period; a trim still in flight when the next is due
 * makes that one wait for the following period.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "config.h"
#include "retention.h"
#include "store.h"

#define RETENTION_EVERY_MS	(60 * 60 * 1000)

/* One trim in flight; outlives the retention if that is freed first. */
struct retention_call {
	struct retention	*r;
};

struct retention {
	struct env		*env;
	int64_t			 every_ms;
	struct event		*timer;
	struct retention_call	*call;
	unsigned		 runs;
};

static void
retention_arm(struct retention *r, int64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
}

static void
retention_done(int status, const char *cause, void *arg)
{
	struct retention_call	*call = arg;
	struct retention	*r = call->r;

	free(call);
	if (r == NULL)
		return;
	r->call = NULL;
	r->runs++;
	if (status != STORE_OK) {
		log_warn("history trim failed; retried at the next period",
		    "error=%s", log_q(cause));
	}
}

static void
retention_tick(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct retention	*r = arg;
	struct store		*st = r->env->store;
	int64_t			 keep = r->env->conf->store.retention_ms;

	retention_arm(r, r->every_ms);
	if (r->call != NULL || st == NULL)
		return;
	r->call = xcalloc(1, sizeof *r->call);
	r->call->r = r;
	st->entry->trim(st, now_ms() - keep, retention_done, r->call);
}

struct retention *
retention_start(struct env *env, int64_t every_ms)
{
	struct retention	*r;

	r = xcalloc(1, sizeof *r);
	r->env = env;
	r->every_ms = every_ms > 0 ? every_ms : RETENTION_EVERY_MS;
	r->timer = evtimer_new(env->base, retention_tick, r);
	retention_arm(r, 0);
	return (r);
}

void
retention_free(struct retention *r)
{
	if (r == NULL)
		return;
	if (r->call != NULL)
		r->call->r = NULL;
	event_free(r->timer);
	free(r);
}

unsigned
retention_runs(const struct retention *r)
{
	return (r->runs);
}
