/*
 * token-cache.c: the waiters and the renewal timer of an expiring
 * credential (token-cache.h), shared by the Aws, Gcp and Azure connectors.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "token-cache.h"

static void
token_cache_timer(evutil_socket_t fd __unused, short ev __unused, void *arg)
{
	struct token_cache	*tc = arg;

	tc->renew(tc->arg);
}

void
token_cache_init(struct token_cache *tc, struct event_base *base,
    void (*renew)(void *), void *arg)
{
	tc->waiters = NULL;
	tc->renew = renew;
	tc->arg = arg;
	tc->timer = evtimer_new(base, token_cache_timer, tc);
	if (tc->timer == NULL)
		fatalx("evtimer_new failed");
}

void
token_cache_clear(struct token_cache *tc)
{
	struct token_waiter	*w;

	while ((w = tc->waiters) != NULL) {
		tc->waiters = w->next;
		free(w);
	}
	if (tc->timer != NULL)
		event_free(tc->timer);
	tc->timer = NULL;
}

int
token_cache_fresh(int64_t obtained_s, int64_t expires_s, int64_t good_s,
    int64_t now_s)
{
	int64_t	 margin = good_s;

	if (expires_s == 0)
		return (1);
	if (obtained_s > 0 && (expires_s - obtained_s) / 4 < margin)
		margin = (expires_s - obtained_s) / 4;
	return (expires_s - now_s > margin);
}

void
token_cache_wait(struct token_cache *tc, token_fn fn, void *arg)
{
	struct token_waiter	*w = xcalloc(1, sizeof *w), **end;

	w->fn = fn;
	w->arg = arg;
	for (end = &tc->waiters; *end != NULL; end = &(*end)->next)
		;
	*end = w;
}

void
token_cache_cancel(struct token_cache *tc, void *arg)
{
	struct token_waiter	**w, *gone;

	for (w = &tc->waiters; *w != NULL;) {
		if ((*w)->arg == arg) {
			gone = *w;
			*w = gone->next;
			free(gone);
		} else
			w = &(*w)->next;
	}
}

struct token_waiter *
token_cache_take(struct token_cache *tc)
{
	struct token_waiter	*list = tc->waiters;

	tc->waiters = NULL;
	return (list);
}

int
token_cache_pop(struct token_waiter **list, token_fn *fn, void **arg)
{
	struct token_waiter	*w = *list;

	if (w == NULL)
		return (0);
	*list = w->next;
	*fn = w->fn;
	*arg = w->arg;
	free(w);
	return (1);
}

void
token_cache_plan(struct token_cache *tc, int64_t expires_s, int64_t ahead_s)
{
	struct timeval	 tv = { 0, 0 };
	int64_t		 now = now_ms() / 1000, at;

	at = expires_s - ahead_s;
	if (at - now < (expires_s - now) / 2)
		at = now + (expires_s - now) / 2;
	tv.tv_sec = at > now ? at - now : 1;
	evtimer_add(tc->timer, &tv);
}

void
token_cache_retry(struct token_cache *tc, int64_t s)
{
	struct timeval	 tv = { 0, 0 };

	tv.tv_sec = s;
	evtimer_add(tc->timer, &tv);
}

void
token_cache_stop(struct token_cache *tc)
{
	evtimer_del(tc->timer);
}
