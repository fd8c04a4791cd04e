/*
 * source.c: the life of one watched source (DESIGN §2).
 *
 *   start -> load state from the store (retried until it works)
 *         -> timer -> poll (source-poll.c) -> commit (source-emit.c)
 *         -> timer ... (source-schedule.c)
 *
 * The state of a source is keyed by its identifier and its marker (the
 * epoch) carries the fingerprint of what it watches (provider.h): when the
 * configured target changed (another imagePath, registry, bucket…), the
 * state found is another target's, so the source re-baselines silently and
 * says why, and never emits the new target's tags as new.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lease.h"
#include "order.h"
#include "source-int.h"
#include "store.h"

char *
source_new_epoch(const struct source *s)
{
	char	*e;

	xasprintf(&e, "%08x%08x.%s", random32(), random32(), s->fingerprint);
	return (e);
}

/* The fingerprint a marker carries, or NULL (a marker from before them). */
static const char *
epoch_fingerprint(const char *epoch)
{
	const char	*dot = strchr(epoch, '.');

	return (dot != NULL ? dot + 1 : NULL);
}

static void
source_load_done(int status, struct store_state *st, const char *cause,
    void *arg)
{
	struct source	*s = arg;
	const char	*fp;
	size_t		 i;

	s->phase = PHASE_IDLE;
	if (s->freed) {
		source_free(s);
		return;
	}
	if (status != STORE_OK) {
		log_error("cannot load state", "source=%s error=%s",
		    log_q(s->conf->id), log_q(cause));
		s->failures++;
		s->errors++;
		free(s->last_error);
		s->last_error = xstrdup(cause);
		source_schedule_backoff(s, 0);
		if (s->hooks.polled != NULL)
			s->hooks.polled(s, 0, s->hooks.arg);
		return;
	}
	s->failures = 0;
	s->loaded = 1;
	fp = st->present ? epoch_fingerprint(st->epoch) : NULL;
	if (fp != NULL && strcmp(fp, s->fingerprint) != 0) {
		log_warn("the source watches something else now (its "
		    "connector URL, repository, bucket or path changed): "
		    "re-baselining silently", "source=%s was=%s now=%s "
		    "known=%zu", log_q(s->conf->id), fp, s->fingerprint,
		    st->versions.n);
	} else if (st->present) {
		free(s->epoch);
		s->epoch = xstrdup(st->epoch);
		/* A marker older than fingerprints: the next commit adds. */
		s->remark = fp == NULL;
		for (i = 0; i < st->versions.n; i++) {
			index_put(s->index, st->versions.v[i].name,
			    st->versions.v[i].digest, 0);
			if (source_is_mutable(s, st->versions.v[i].name))
				index_put(s->mutable, st->versions.v[i].name,
				    NULL, 0);
		}
	}
	log_info("state loaded", "source=%s known=%zu marker=%s",
	    log_q(s->conf->id), index_count(s->index),
	    s->epoch != NULL ? "present" : "absent");
	source_timer_cb(-1, 0, s);
}

void
source_load(struct source *s)
{
	s->phase = PHASE_LOADING;
	s->env->store->entry->load(s->env->store, s->conf->id,
	    source_load_done, s);
}

struct source *
source_create(struct env *env, const struct source_conf *conf,
    const struct source_hooks *hooks, char **cause)
{
	struct source		*s;
	struct filter_conf	 fc;
	struct filter		*f;

	memset(&fc, 0, sizeof fc);
	fc.include = conf->tag_regex;
	fc.exclude = conf->tag_regex_exclude;
	fc.keep_noise = conf->include_signatures;
	fc.order = (enum order_kind)conf->order;
	fc.prereleases = conf->prereleases;
	if ((f = filter_create(&fc, cause)) == NULL)
		return (NULL);
	s = xcalloc(1, sizeof *s);
	s->env = env;
	s->conf = conf;
	s->filter = f;
	if (hooks != NULL)
		s->hooks = *hooks;
	s->mutable_tags = source_mutable_create(conf, cause);
	if (s->mutable_tags == NULL && *cause != NULL) {
		filter_free(f);
		free(s);
		return (NULL);
	}
	if ((s->provider = provider_create(env, conf, cause)) == NULL) {
		source_mutable_free(s->mutable_tags);
		filter_free(f);
		free(s);
		return (NULL);
	}
	s->fingerprint = provider_fingerprint(conf);
	s->index = index_create();
	s->mutable = index_create();
	s->timer = evtimer_new(env->base, source_timer_cb, s);
	return (s);
}

void
source_start(struct source *s, int64_t first_delay_ms)
{
	char	*name;

	s->stopped = 0;
	if (s->env->leases != NULL && s->lease == NULL) {
		xasprintf(&name, "source:%s", s->conf->id);
		s->lease = lease_create(s->env->leases, name,
		    lease_ttl_for_interval(s->conf->interval_ms),
		    source_lease_gained, s);
		free(name);
	}
	source_schedule(s, first_delay_ms);
}

void
source_stop(struct source *s)
{
	s->stopped = 1;
	evtimer_del(s->timer);
	lease_free(s->lease);	/* given up: another replica may poll */
	s->lease = NULL;
	if (s->phase == PHASE_POLLING) {
		if (s->provider->entry->cancel != NULL)
			s->provider->entry->cancel(s->provider);
		source_cycle_clear(s);
		s->phase = PHASE_IDLE;
	}
}

void
source_free(struct source *s)
{
	if (s == NULL)
		return;
	source_stop(s);
	if (s->phase == PHASE_LOADING || s->phase == PHASE_COMMITTING) {
		s->freed = 1;	/* the store callback frees */
		return;
	}
	source_cycle_clear(s);
	provider_free(s->provider);
	filter_free(s->filter);
	source_mutable_free(s->mutable_tags);
	index_free(s->index);
	index_free(s->mutable);
	free(s->fingerprint);
	event_free(s->timer);
	free(s->epoch);
	free(s->last_error);
	free(s);
}

void
source_status(const struct source *s, struct source_status *st)
{
	memset(st, 0, sizeof *st);
	st->id = s->conf->id;
	st->loaded = s->loaded;
	st->baselined = s->epoch != NULL;
	st->known = index_count(s->index);
	st->last_poll_s = s->last_poll_s;
	st->last_ok = s->last_ok;
	st->last_error = s->last_error;
	/* Not polling because the store cannot be asked for the lease. */
	if (st->last_error == NULL && s->lease != NULL &&
	    !lease_held(s->lease, NULL))
		st->last_error = lease_error(s->lease);
	st->truncated = s->truncated;
	st->failures = s->failures;
	st->polls = s->polls;
	st->errors = s->errors;
	st->created = s->created;
	st->updated = s->updated;
	st->held = s->held;
	st->filtered = s->filtered;
	st->bursts = s->bursts;
	st->paused = s->paused;
	st->last_checks = s->last_checks;
	st->checks = s->checks;
}

int
source_busy(const struct source *s)
{
	return (s->phase == PHASE_LOADING || s->phase == PHASE_COMMITTING);
}

const struct source_conf *
source_conf(const struct source *s)
{
	return (s->conf);
}

void
source_pause(struct source *s)
{
	s->paused = 1;
	evtimer_del(s->timer);
}

void
source_resume(struct source *s)
{
	if (!s->paused)
		return;
	s->paused = 0;
	if (s->phase == PHASE_IDLE)
		source_schedule(s, 0);
}

int
source_resync(struct source *s)
{
	if (s->paused)
		return (-1);
	if (s->phase == PHASE_IDLE)
		source_schedule(s, 0);
	else
		s->poll_again = 1;
	return (0);
}

int
source_release(struct source *s, int action)
{
	if (!s->held || s->paused)
		return (-1);
	s->release = 1;
	s->release_action = action;
	log_info("held burst released by an operator", "source=%s action=%s",
	    log_q(s->conf->id), action == BURST_FAST_FORWARD ? "fastForward" :
	    "emitNewest");
	return (source_resync(s));
}
