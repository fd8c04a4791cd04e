/*
 * source.c: the life of one watched source (DESIGN §2).
 *
 *   start -> load state from the store (retried until it works)
 *         -> timer -> provider poll -> diff against the known index
 *         -> commit (versions + events, one transaction) -> index updated
 *         -> timer ...
 *
 * A poll never overlaps the previous one of the same source: the timer is
 * armed again only when a cycle has ended.  Nothing is put in the index
 * before the store has it, so a failed commit is simply redone by the next
 * poll and nothing is recorded as seen without its event.  A commit refused
 * because the state marker vanished (Redis flushed, directory wiped) turns
 * into a silent re-baseline: everything known is written again under a new
 * marker, and only this poll's genuinely new versions are emitted.
 *
 * Under `run`, a source polls only while its replica holds the lease
 * "source:ID" (lease.h), and its commits carry the lease's fencing token, so
 * a replica that lost the lease mid-poll cannot commit.  Under a new token
 * the state is loaded again first: another replica may have moved it on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <cjson/cJSON.h>

#include "diff.h"
#include "event.h"
#include "lease.h"
#include "order.h"
#include "provider.h"
#include "sink.h"
#include "source.h"
#include "store.h"
#include "trigger.h"

enum source_phase {
	PHASE_IDLE,		/* waiting for the timer */
	PHASE_LOADING,		/* store load in flight */
	PHASE_POLLING,		/* provider poll in flight */
	PHASE_COMMITTING,	/* store commit in flight */
};

struct source {
	struct env			*env;
	const struct source_conf	*conf;
	struct source_hooks		 hooks;
	struct provider			*provider;
	struct filter			*filter;
	struct index			*index;
	struct event			*timer;
	enum source_phase		 phase;
	int				 stopped;
	int				 freed;	/* free when the store answers */
	int				 loaded;
	char				*epoch;	/* NULL: no marker yet */
	struct lease			*lease;	/* NULL: no replicas */
	uint64_t			 token;	/* lease token of the state */

	/* The cycle in flight. */
	struct versions			*versions;
	struct diff			 diff;
	char				*new_epoch;
	int64_t				 poll_start_ms;
	int64_t				 detected_s;

	/* Status. */
	unsigned			 failures;
	int64_t				 last_poll_s;
	int				 last_ok;
	char				*last_error;
	int				 truncated;
	int				 held;	/* burstAction hold */
	uint64_t			 polls, errors, created, updated;
	uint64_t			 filtered, bursts;

	/* Operator actions (the admin API). */
	int				 paused;
	int				 poll_again;	/* resync during a poll */
	int				 release;	/* next burst: release_action */
	int				 release_action; /* enum burst_action */
};

static void	source_timer_cb(evutil_socket_t, short, void *);
static void	source_load(struct source *);

static void
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
static void
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
static void
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

static void
source_cycle_clear(struct source *s)
{
	diff_free(&s->diff);
	if (s->versions != NULL) {
		versions_free(s->versions);
		free(s->versions);
		s->versions = NULL;
	}
	free(s->new_epoch);
	s->new_epoch = NULL;
}

static void
source_cycle_end(struct source *s, int ok, const char *error,
    int64_t retry_after_s)
{
	s->phase = PHASE_IDLE;
	s->last_poll_s = now_ms() / 1000;
	s->last_ok = ok;
	free(s->last_error);
	s->last_error = error == NULL ? NULL : xstrdup(error);
	if (ok)
		s->failures = 0;
	else {
		s->failures++;
		s->errors++;
	}
	source_cycle_clear(s);
	if (!s->stopped) {
		if (ok)
			source_schedule_next(s);
		else
			source_schedule_backoff(s, retry_after_s);
	}
	if (s->poll_again) {
		s->poll_again = 0;
		source_schedule(s, 0);
	}
	if (s->hooks.polled != NULL)
		s->hooks.polled(s, ok, s->hooks.arg);
}

static char *
source_new_epoch(void)
{
	char	*e;

	xasprintf(&e, "%08x%08x", random32(), random32());
	return (e);
}

/*
 * Events of the diff as CloudEvents, each routed (triggers and their
 * conditions) to the sinks that want it; *sinks holds every event's list.
 */
static struct store_event *
source_events(struct source *s, const char ***sinks)
{
	struct config		*conf = s->env->conf;
	struct store_event	*evs;
	struct event_info	 info;
	const char		*registry = NULL, *repository = NULL;
	const char		**route;
	cJSON			*ev;
	char			 id[33];
	size_t			 i, n;

	*sinks = xcalloc(s->diff.nevents * conf->nsinks + 1, sizeof **sinks);
	if (s->provider->entry->describe != NULL)
		s->provider->entry->describe(s->provider, &registry,
		    &repository);

	evs = xcalloc(s->diff.nevents, sizeof *evs);
	for (i = 0; i < s->diff.nevents; i++) {
		memset(&info, 0, sizeof info);
		info.type = s->diff.events[i].type;
		info.source_id = s->conf->id;
		info.source_type = s->conf->type;
		info.connector_ref = s->conf->connector_ref;
		info.registry = registry;
		info.repository = repository;
		info.version = s->diff.events[i].version;
		info.previous_digest = s->diff.events[i].previous_digest;
		info.detected_s = s->detected_s;
		ev = event_object(&info, id);
		route = *sinks + i * conf->nsinks;
		trigger_route(conf, s->conf, ev, route, &n);
		evs[i].json = event_print(ev);
		evs[i].id = xstrdup(id);
		evs[i].sinks = route;
		evs[i].nsinks = n;
		cJSON_Delete(ev);
	}
	return (evs);
}

static void
source_events_free(struct store_event *evs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free((char *)evs[i].id);
		free((char *)evs[i].json);
	}
	free(evs);
}

static int
source_collect_known(const char *name, const char *digest,
    __unused int64_t checked, void *arg)
{
	struct versions	*all = arg;
	struct version	*v;

	v = versions_add(all, name);
	if (digest != NULL)
		v->digest = xstrdup(digest);
	return (0);
}

static void	source_commit(struct source *, int rebaseline);

static void
source_commit_done(int status, const char *cause, void *arg)
{
	struct source	*s = arg;

	if (s->freed) {
		s->phase = PHASE_IDLE;
		source_free(s);
		return;
	}
	if (status == STORE_STATE_LOST && s->epoch != NULL) {
		log_warn("state lost: re-baselining silently",
		    "source=%s known=%zu", log_q(s->conf->id),
		    index_count(s->index));
		free(s->epoch);
		s->epoch = NULL;
		source_commit(s, 1);
		return;
	}
	if (status == STORE_LEASE_LOST) {
		log_warn("commit refused: the lease moved to another replica; "
		    "nothing recorded", "source=%s error=%s",
		    log_q(s->conf->id), log_q(cause));
		s->token = 0;	/* reload the state if it comes back */
		lease_recheck(s->lease);
		source_cycle_end(s, 0, cause, 0);
		return;
	}
	if (status != STORE_OK) {
		log_error("commit failed: nothing recorded, poll redone later",
		    "source=%s error=%s", log_q(s->conf->id), log_q(cause));
		source_cycle_end(s, 0, cause, 0);
		return;
	}
	if (s->epoch == NULL) {
		s->epoch = s->new_epoch;
		s->new_epoch = NULL;
	}
	diff_apply(s->index, s->versions, s->detected_s);
	s->created += s->diff.created;
	s->updated += s->diff.updated;
	log_info("poll committed", "source=%s created=%zu updated=%zu "
	    "recorded=%zu known=%zu", log_q(s->conf->id), s->diff.created,
	    s->diff.updated, s->diff.nchanges, index_count(s->index));
	if (s->hooks.committed != NULL)
		s->hooks.committed(s, s->diff.nevents, s->hooks.arg);
	source_cycle_end(s, 1, NULL, 0);
}

/*
 * Commit the cycle's diff.  rebaseline: the marker is gone; write every
 * known version again under a new marker, with this poll's events.
 */
static void
source_commit(struct source *s, int rebaseline)
{
	struct store_commit	 c;
	struct store_event	*evs;
	struct store_change	*changes = NULL;
	struct versions		 all = { 0 };
	const char		**sinks;
	size_t			 i;

	memset(&c, 0, sizeof c);
	c.source = s->conf->id;
	if (s->epoch == NULL) {
		free(s->new_epoch);
		s->new_epoch = source_new_epoch();
		c.baseline = 1;
		c.epoch = s->new_epoch;
	} else
		c.epoch = s->epoch;
	c.changes = s->diff.changes;
	c.nchanges = s->diff.nchanges;
	if (s->lease != NULL) {
		c.lease = lease_name(s->lease);
		c.token = s->token;
	}
	if (rebaseline) {
		index_foreach(s->index, source_collect_known, &all);
		for (i = 0; i < s->diff.nchanges; i++) {
			versions_add(&all, s->diff.changes[i].name)->digest =
			    s->diff.changes[i].digest == NULL ? NULL :
			    xstrdup(s->diff.changes[i].digest);
		}
		changes = xcalloc(all.n, sizeof *changes);
		for (i = 0; i < all.n; i++) {
			changes[i].name = all.v[i].name;
			changes[i].digest = all.v[i].digest;
		}
		c.changes = changes;
		c.nchanges = all.n;
	}
	evs = source_events(s, &sinks);
	c.events = evs;
	c.nevents = s->diff.nevents;

	s->phase = PHASE_COMMITTING;
	s->env->store->entry->commit(s->env->store, &c, source_commit_done, s);

	/* The store copied what it needs. */
	source_events_free(evs, s->diff.nevents);
	free(sinks);
	free(changes);
	versions_free(&all);
}

/* Drop what the filters reject, then sort by the source's order. */
static void
source_select(struct source *s, struct versions *vs)
{
	char	**keys, *key, *cause;
	size_t	 i, n = 0, errors = 0, dropped;
	int	 r;

	keys = xcalloc(vs->n + 1, sizeof *keys);
	for (i = 0; i < vs->n; i++) {
		r = filter_match(s->filter, vs->v[i].name, &key, &cause);
		if (r == -1) {
			if (errors++ < 3)
				log_warn("tag filter failed: version skipped",
				    "source=%s error=%s", log_q(s->conf->id),
				    log_q(cause));
			free(cause);
		}
		if (r != 1) {
			version_clear(&vs->v[i]);
			s->filtered++;
			continue;
		}
		vs->v[n] = vs->v[i];
		keys[n++] = key;
	}
	vs->n = n;
	order_sort(vs, keys, s->conf->order, &dropped);
	s->filtered += dropped;
	free(keys);
}

/*
 * The burst policy (DESIGN §2) for a poll that found more new versions than
 * burstLimit.  Returns 1 when the poll is held: nothing is committed.
 */
static int
source_burst(struct source *s)
{
	struct diff	*d = &s->diff;
	size_t		 limit = (size_t)s->conf->burst_limit, drop;
	int		 action = s->conf->burst_action;

	if (s->release) {	/* an operator's one-shot choice */
		action = s->release_action;
		s->release = 0;
	}
	if (d->nevents <= limit) {
		s->held = 0;
		return (0);
	}
	s->bursts++;
	drop = action == BURST_EMIT_NEWEST ? d->nevents - limit : d->nevents;
	if (action == BURST_HOLD) {
		log_error("burst held: nothing emitted or recorded until an "
		    "operator acts", "source=%s new=%zu burstLimit=%zu "
		    "bursts=%llu hint=%s", log_q(s->conf->id), d->nevents,
		    limit, (unsigned long long)s->bursts,
		    log_q("POST /api/v1/sources/ID/emit-newest|fast-forward, "
		    "or artifact-watcher once -c FILE --source ID "
		    "--burst-action emitNewest|fastForward"));
		s->held = 1;
		return (1);
	}
	log_warn(action == BURST_EMIT_NEWEST ?
	    "burst: emitting the newest only, recording all" :
	    "burst: fast-forward, recording all, emitting none",
	    "source=%s new=%zu emitted=%zu burstLimit=%zu bursts=%llu",
	    log_q(s->conf->id), d->nevents, d->nevents - drop, limit,
	    (unsigned long long)s->bursts);
	diff_keep_newest(d, d->nevents - drop);
	s->held = 0;
	return (0);
}

static void
source_poll_done(const struct poll_result *r, void *arg)
{
	struct source	*s = arg;
	int		 baseline;

	s->polls++;
	if (r->status != 0) {
		log_warn("poll failed", "source=%s error=%s retry_after_s=%lld",
		    log_q(s->conf->id), log_q(r->cause),
		    (long long)r->retry_after_s);
		source_cycle_end(s, 0, r->cause, r->retry_after_s);
		return;
	}
	if (r->unchanged) {
		/* A 304 for the listing: nothing to write, nothing to emit. */
		log_debug("poll unchanged", "source=%s requests=%u",
		    log_q(s->conf->id), r->requests);
		source_cycle_end(s, 1, NULL, 0);
		return;
	}
	s->versions = r->versions;
	s->truncated = s->versions->truncated;
	if (s->truncated) {
		log_warn("listing truncated at maxTags", "source=%s maxTags=%lld",
		    log_q(s->conf->id), s->conf->max_tags);
	}
	s->detected_s = now_ms() / 1000;
	baseline = s->epoch == NULL;
	source_select(s, s->versions);
	diff_compute(s->index, s->versions, baseline, s->conf->emit_existing,
	    &s->diff);
	if (source_burst(s)) {
		source_cycle_end(s, 1, "burst held (burstAction: hold)", 0);
		return;
	}
	log_debug("poll listed", "source=%s listed=%zu changes=%zu events=%zu "
	    "requests=%u ms=%lld", log_q(s->conf->id), s->versions->n,
	    s->diff.nchanges, s->diff.nevents, r->requests,
	    (long long)(mono_ms() - s->poll_start_ms));
	if (baseline) {
		log_info("no state for source: recording a silent baseline "
		    "(first run, or the state was lost)", "source=%s "
		    "versions=%zu emitExisting=%d", log_q(s->conf->id),
		    s->diff.nchanges, s->conf->emit_existing);
	}
	if (s->diff.nchanges == 0 && !baseline) {
		/* Nothing new: write nothing, only remember the checks. */
		diff_apply(s->index, s->versions, s->detected_s);
		source_cycle_end(s, 1, NULL, 0);
		return;
	}
	source_commit(s, 0);
}

/*
 * Poll only under the lease (its gained callback restarts the polls); under
 * a new token, forget the state: it is loaded again before the poll.
 */
static int
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
			free(s->epoch);
			s->epoch = NULL;
			s->loaded = 0;
		}
	}
	return (1);
}

static void
source_lease_gained(__unused struct lease *l, __unused uint64_t token,
    void *arg)
{
	struct source	*s = arg;

	if (s->phase == PHASE_IDLE && !evtimer_pending(s->timer, NULL))
		source_schedule(s, 0);
}

static void
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
	s->phase = PHASE_POLLING;
	s->poll_start_ms = mono_ms();
	s->provider->baseline = s->epoch == NULL;
	/* A held burst committed nothing: the index lacks that listing. */
	s->provider->last_ok = s->polls > 0 && s->last_ok && !s->held;
	s->provider->entry->poll(s->provider, s->index, source_poll_done, s);
}

static void
source_load_done(int status, struct store_state *st, const char *cause,
    void *arg)
{
	struct source	*s = arg;
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
	if (st->present) {
		free(s->epoch);
		s->epoch = xstrdup(st->epoch);
		for (i = 0; i < st->versions.n; i++) {
			index_put(s->index, st->versions.v[i].name,
			    st->versions.v[i].digest, 0);
		}
	}
	log_info("state loaded", "source=%s known=%zu marker=%s",
	    log_q(s->conf->id), index_count(s->index),
	    st->present ? "present" : "absent");
	source_timer_cb(-1, 0, s);
}

static void
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
	if ((s->provider = provider_create(env, conf, cause)) == NULL) {
		filter_free(f);
		free(s);
		return (NULL);
	}
	s->index = index_create();
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
	index_free(s->index);
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
