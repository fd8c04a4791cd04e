/*
 * source-schedule.c: when a source polls (source-int.h).  One timer per
 * source, armed again only when a cycle has ended, so polls never overlap:
 * the next poll is an interval (±10 %) after the start of the last one, or
 * a backoff after a failure.  Under `run` with replicas, a source polls
 * only while it holds its lease "source:ID"; under a new token the state is
 * loaded again first, since another replica may have moved it on.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "lease.h"
#include "source-int.h"

void
source_schedule(struct source *s, int64_t ms)
{
	struct timeval	 tv;

	if (s->stopped || s->paused)
		return;
	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->timer, &tv);
}

/* The next poll, counted from the start of this one, ±10 %. */
void
source_schedule_next(struct source *s)
{
	int64_t	 delay, spent;

	delay = jitter(s->conf->interval_ms, 10, random32());
	spent = mono_ms() - s->poll_start_ms;
	source_schedule(s, delay - spent);
}

/*
 * After k failures: uniform in [0, interval * 2^k] (full jitter), capped at
 * 30 min, never sooner than a second, never before the server's Retry-After.
 */
void
source_schedule_backoff(struct source *s, int64_t retry_after_s)
{
	struct backoff	 b = {
		.base_ms = s->conf->interval_ms,
		.cap_ms = 30 * 60 * 1000,
		.full_jitter = 1,
	};
	int64_t		 delay;

	if (b.cap_ms < b.base_ms)
		b.cap_ms = b.base_ms;
	delay = backoff_delay(&b, s->failures + 1,
	    env_random(s->env, s->conf->id, s->failures));
	if (delay < 1000)
		delay = 1000;
	if (retry_after_s * 1000 > delay)
		delay = retry_after_s * 1000;
	log_info("poll backoff", "source=%s failures=%u next_ms=%lld",
	    log_q(s->conf->id), s->failures, (long long)delay);
	source_schedule(s, delay);
}

/*
 * Poll only under the lease (its gained callback restarts the polls); under
 * a new token, forget the state: it is loaded again before the poll.
 */
int
source_leased(struct source *s)
{
	uint64_t	 token;

	if (!lease_held(s->lease, &token))
		return (0);
	if (token != s->token) {
		s->token = token;
		if (s->loaded) {
			index_free(s->index);
			s->index = index_create();
			index_free(s->mutable);
			s->mutable = index_create();
			free(s->epoch);
			s->epoch = NULL;
			s->loaded = 0;
		}
	}
	return (1);
}

void
source_lease_gained(__unused struct lease *l, __unused uint64_t token,
    void *arg)
{
	struct source	*s = arg;

	if (s->phase == PHASE_IDLE && !evtimer_pending(s->timer, NULL))
		source_schedule(s, 0);
}

void
source_timer_cb(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct source	*s = arg;

	if (s->stopped || s->paused || s->phase != PHASE_IDLE)
		return;
	if (s->lease != NULL && !source_leased(s))
		return;
	if (!s->loaded) {
		source_load(s);
		return;
	}
	source_poll(s);
}
