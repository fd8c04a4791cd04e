/*
 * source-emit.c: the end of a poll (source-int.h): the diff's events as
 * CloudEvents, routed by the triggers, committed with the versions in one
 * store transaction, and only then the index updated.  Nothing is put in
 * the index before the store has it, so a failed commit is simply redone by
 * the next poll and nothing is recorded as seen without its event.  A
 * commit refused because the state marker vanished (Redis flushed,
 * directory wiped) turns into a silent re-baseline: everything known is
 * written again under a new marker, and only this poll's genuinely new
 * versions are emitted.  Commits under `run` with replicas carry the
 * lease's fencing token.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "event.h"
#include "lease.h"
#include "sink.h"
#include "source-int.h"
#include "store.h"
#include "trigger.h"

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
	const char		**route;
	cJSON			*ev;
	char			 id[33];
	size_t			 i, n;

	*sinks = xcalloc(s->diff.nevents * conf->nsinks + 1, sizeof **sinks);
	evs = xcalloc(s->diff.nevents, sizeof *evs);
	for (i = 0; i < s->diff.nevents; i++) {
		memset(&info, 0, sizeof info);
		info.type = s->diff.events[i].type;
		info.source_id = s->conf->id;
		info.source_type = s->conf->type;
		info.connector_ref = s->conf->connector_ref;
		info.kind = s->provider->kind;
		info.fields = s->provider->fields;
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

/* The index, and the set of known mutable tags, after a commit. */
void
source_index_apply(struct source *s)
{
	size_t	 i;

	for (i = 0; s->mutable != NULL && i < s->diff.nchanges; i++) {
		if (!index_get(s->index, s->diff.changes[i].name, NULL) &&
		    source_is_mutable(s, s->diff.changes[i].name))
			index_put(s->mutable, s->diff.changes[i].name, NULL, 0);
	}
	diff_apply(s->index, s->versions, s->detected_s);
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
	if (s->new_epoch != NULL) {
		free(s->epoch);
		s->epoch = s->new_epoch;
		s->new_epoch = NULL;
		s->remark = 0;
	}
	source_index_apply(s);
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
 * Commit the cycle's diff.  rebaseline: the marker is gone (or carries no
 * fingerprint yet); write every known version again under a new marker,
 * with this poll's events.
 */
void
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
	if (s->epoch == NULL || rebaseline) {
		free(s->new_epoch);
		s->new_epoch = source_new_epoch(s);
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
		changes = xcalloc(all.n + 1, sizeof *changes);
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
