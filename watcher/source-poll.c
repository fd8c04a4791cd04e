/*
 * source-poll.c: one poll of a source (DESIGN §2, §8):
 *
 *   list -> filter (tagRegex, noise) and order -> pick -> resolve -> diff
 *        -> burst policy -> commit (source-emit.c)
 *
 * The provider lists with the cheap metadata its API gives; the core picks
 * what costs a request: new versions (a digest, and labels with
 * fetchLabels) and known tags due a digest check.  Mutable tags
 * (mutableTagRegex; by default every tag that is not a full version) are
 * due every poll, other known tags after digestCheckInterval; the checks
 * of one poll are at most digestChecksPerPoll, longest unchecked first.  At
 * the baseline only the mutable tags get their digest recorded, so that
 * re-pointing `latest` is seen from the next poll on.  A listing answered
 * 304 stands for what the index holds: only the due checks run.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "order.h"
#include "source-int.h"

/* The default mutableTagRegex: every tag that is not a full version. */
#define FULL_VERSION	"^v?\\d+\\.\\d+\\.\\d+$"

struct source_mutable {
	struct filter	*filter;
	int		 negate;	/* the default: not a full version */
};

struct source_mutable *
source_mutable_create(const struct source_conf *conf, char **cause)
{
	struct source_mutable	*m;
	struct filter_conf	 fc;

	*cause = NULL;
	if (!(conf->entry->flags & PROVIDER_TAGS) || conf->digest_checks <= 0)
		return (NULL);
	memset(&fc, 0, sizeof fc);
	fc.include = conf->mutable_tag_regex != NULL ?
	    conf->mutable_tag_regex : FULL_VERSION;
	fc.keep_noise = 1;
	m = xcalloc(1, sizeof *m);
	m->negate = conf->mutable_tag_regex == NULL;
	if ((m->filter = filter_create(&fc, cause)) == NULL) {
		free(m);
		return (NULL);
	}
	return (m);
}

void
source_mutable_free(struct source_mutable *m)
{
	if (m == NULL)
		return;
	filter_free(m->filter);
	free(m);
}

int
source_mutable_match(const struct source_mutable *m, const char *name)
{
	char	*key = NULL, *cause = NULL;
	int	 r;

	if (m == NULL)
		return (0);
	r = filter_match(m->filter, name, &key, &cause);
	free(key);
	free(cause);
	if (r == -1)
		return (0);
	return (m->negate ? r != 1 : r == 1);
}

int
source_is_mutable(const struct source *s, const char *name)
{
	return (source_mutable_match(s->mutable_tags, name));
}

void
source_cycle_clear(struct source *s)
{
	diff_free(&s->diff);
	if (s->versions != NULL) {
		versions_free(s->versions);
		free(s->versions);
		s->versions = NULL;
	}
	free(s->todo);
	s->todo = NULL;
	s->ntodo = 0;
	free(s->new_epoch);
	s->new_epoch = NULL;
}

void
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

/* Diff what the poll found (and resolved), then commit or end. */
static void
source_decide(struct source *s)
{
	s->detected_s = now_ms() / 1000;
	diff_compute(s->index, s->versions, s->baseline,
	    s->conf->emit_existing, &s->diff);
	if (source_burst(s)) {
		source_cycle_end(s, 1, "burst held (burstAction: hold)", 0);
		return;
	}
	log_debug("poll listed", "source=%s listed=%zu changes=%zu events=%zu "
	    "requests=%u checks=%u ms=%lld", log_q(s->conf->id),
	    s->versions->n, s->diff.nchanges, s->diff.nevents, s->requests,
	    s->last_checks, (long long)(mono_ms() - s->poll_start_ms));
	if (s->baseline) {
		log_info("no state for source: recording a silent baseline "
		    "(first run, the state was lost, or the source now watches "
		    "something else)", "source=%s versions=%zu emitExisting=%d",
		    log_q(s->conf->id), s->diff.nchanges,
		    s->conf->emit_existing);
	}
	if (s->diff.nchanges == 0 && !s->baseline) {
		/* Nothing new: write nothing, only remember the checks. */
		source_index_apply(s);
		source_cycle_end(s, 1, NULL, 0);
		return;
	}
	source_commit(s, s->remark);
}

/* Versions gone since the listing (a 404 on resolve) are not there. */
static void
source_drop_gone(struct versions *vs)
{
	size_t	 i, n = 0;

	for (i = 0; i < vs->n; i++) {
		if (vs->v[i].gone) {
			version_clear(&vs->v[i]);
			continue;
		}
		vs->v[n++] = vs->v[i];
	}
	vs->n = n;
}

static void
source_resolved(const struct provider_result *r, void *arg)
{
	struct source	*s = arg;

	s->requests += r->requests;
	free(s->todo);
	s->todo = NULL;
	s->ntodo = 0;
	if (r->status != 0) {
		log_warn("poll failed", "source=%s error=%s retry_after_s=%lld",
		    log_q(s->conf->id), log_q(r->cause),
		    (long long)r->retry_after_s);
		source_cycle_end(s, 0, r->cause, r->retry_after_s);
		return;
	}
	source_drop_gone(s->versions);
	source_decide(s);
}

/* Ask the provider for what the picked versions lack, then decide. */
static void
source_resolve(struct source *s)
{
	s->checks += s->last_checks;
	if (s->ntodo == 0 || s->provider->entry->resolve == NULL) {
		source_drop_gone(s->versions);
		source_decide(s);
		return;
	}
	s->provider->entry->resolve(s->provider, s->todo, s->ntodo,
	    source_resolved, s);
}

/* A known tag due a digest check, and when it was last checked. */
struct due {
	size_t		 i;		/* into the versions */
	int64_t		 checked;
};

static int
due_cmp(const void *a, const void *b)
{
	const struct due	*x = a, *y = b;

	if (x->checked != y->checked)
		return (x->checked < y->checked ? -1 : 1);
	return (x->i < y->i ? -1 : x->i > y->i);
}

static void
source_todo(struct source *s, struct version *v)
{
	s->todo[s->ntodo++] = v;
}

/* The checks that fit in the budget, longest unchecked first. */
static void
source_take_due(struct source *s, struct due *due, size_t ndue)
{
	size_t	 i;

	qsort(due, ndue, sizeof *due, due_cmp);
	for (i = 0; i < ndue && (long long)i < s->conf->digest_checks; i++) {
		s->versions->v[due[i].i].want |= RESOLVE_DIGEST;
		source_todo(s, &s->versions->v[due[i].i]);
		s->last_checks++;
	}
}

/* Choose, among the filtered listing, what costs a request. */
static void
source_pick(struct source *s)
{
	struct versions	*vs = s->versions;
	struct version	*v;
	struct due	*due;
	int64_t		 cutoff;
	size_t		 i, ndue = 0;
	int		 fresh, checks;
	unsigned	 want;

	fresh = !s->baseline || s->conf->emit_existing;
	checks = s->conf->digest_checks > 0 &&
	    (s->provider->entry->flags & PROVIDER_TAGS);
	cutoff = s->conf->digest_check_ms > 0 ? now_ms() / 1000 -
	    s->conf->digest_check_ms / 1000 : -1;
	if (!checks)
		cutoff = -1;
	s->todo = xcalloc(vs->n + 1, sizeof *s->todo);
	due = checks ? xcalloc(vs->n + 1, sizeof *due) : NULL;
	for (i = 0; i < vs->n; i++) {
		v = &vs->v[i];
		if (s->baseline || !index_get(s->index, v->name, NULL)) {
			/* New. */
			want = 0;
			if (fresh && v->digest == NULL)
				want |= RESOLVE_DIGEST;
			if (fresh && s->conf->fetch_labels)
				want |= RESOLVE_DETAILS;
			if (want != 0) {
				v->want = want;
				source_todo(s, v);
			} else if (checks && v->digest == NULL &&
			    source_is_mutable(s, v->name)) {
				due[ndue].i = i;
				due[ndue++].checked = 0;
			}
			continue;
		}
		if (v->digest != NULL || !checks)
			continue;	/* the listing said it: free */
		if ((s->mutable != NULL && index_count(s->mutable) > 0 &&
		    index_get(s->mutable, v->name, NULL)) ||
		    index_checked(s->index, v->name) <= cutoff) {
			due[ndue].i = i;
			due[ndue++].checked = index_checked(s->index, v->name);
		}
	}
	if (ndue > 0)
		source_take_due(s, due, ndue);
	free(due);
}

/* Known tags due a check (a 304 listing): as a list of their own. */
struct due_known {
	struct source	*s;
	struct versions	*vs;
	struct due	*due;
	size_t		 n, size;
	int64_t		 cutoff;
	int		 all;	/* from the index: skip the mutable ones */
};

static int
due_known_add(const char *name, __unused const char *digest, int64_t checked,
    void *arg)
{
	struct due_known	*dk = arg;

	if (dk->all && (checked > dk->cutoff ||
	    index_get(dk->s->mutable, name, NULL)))
		return (0);
	if (!dk->all)
		checked = index_checked(dk->s->index, name);
	if (dk->n == dk->size) {
		dk->size = dk->size == 0 ? 16 : dk->size * 2;
		dk->due = xreallocarray(dk->due, dk->size, sizeof *dk->due);
	}
	dk->due[dk->n].i = dk->vs->n;
	dk->due[dk->n++].checked = checked;
	versions_add(dk->vs, name);
	return (0);
}

/*
 * The listing is the one recorded (a 304): only the due checks, as a
 * listing of just those tags.  0 when there is nothing to check.
 */
static int
source_pick_known(struct source *s)
{
	struct due_known	 dk;
	struct versions		*vs;
	size_t			 i, n;

	if (s->conf->digest_checks <= 0 ||
	    !(s->provider->entry->flags & PROVIDER_TAGS))
		return (0);
	memset(&dk, 0, sizeof dk);
	dk.s = s;
	dk.vs = xcalloc(1, sizeof *dk.vs);
	index_foreach(s->mutable, due_known_add, &dk);
	if (s->conf->digest_check_ms > 0) {
		dk.all = 1;
		dk.cutoff = now_ms() / 1000 - s->conf->digest_check_ms / 1000;
		index_foreach(s->index, due_known_add, &dk);
	}
	if (dk.n == 0) {
		versions_free(dk.vs);
		free(dk.vs);
		return (0);
	}
	qsort(dk.due, dk.n, sizeof *dk.due, due_cmp);
	n = dk.n < (size_t)s->conf->digest_checks ? dk.n :
	    (size_t)s->conf->digest_checks;
	/* Keep the chosen ones, in the order of their checks. */
	vs = xcalloc(1, sizeof *vs);
	for (i = 0; i < n; i++)
		versions_add(vs, dk.vs->v[dk.due[i].i].name)->want =
		    RESOLVE_DIGEST;
	versions_free(dk.vs);
	free(dk.vs);
	free(dk.due);
	s->versions = vs;
	s->todo = xcalloc(n + 1, sizeof *s->todo);
	for (i = 0; i < n; i++)
		source_todo(s, &vs->v[i]);
	s->last_checks = (unsigned)n;
	return (1);
}

static void
source_listed(const struct provider_result *r, void *arg)
{
	struct source	*s = arg;

	s->polls++;
	s->requests += r->requests;
	if (r->status != 0) {
		log_warn("poll failed", "source=%s error=%s retry_after_s=%lld",
		    log_q(s->conf->id), log_q(r->cause),
		    (long long)r->retry_after_s);
		source_cycle_end(s, 0, r->cause, r->retry_after_s);
		return;
	}
	if (r->unchanged) {
		/* A 304 for the listing: only the due digest checks. */
		if (!source_pick_known(s)) {
			log_debug("poll unchanged", "source=%s requests=%u",
			    log_q(s->conf->id), s->requests);
			source_cycle_end(s, 1, NULL, 0);
			return;
		}
		source_resolve(s);
		return;
	}
	s->versions = r->versions;
	s->truncated = s->versions->truncated;
	if (s->truncated) {
		log_warn("listing truncated at maxTags", "source=%s maxTags=%lld",
		    log_q(s->conf->id), s->conf->max_tags);
	}
	source_select(s, s->versions);
	source_pick(s);
	source_resolve(s);
}

void
source_poll(struct source *s)
{
	struct list_request	 req;

	s->phase = PHASE_POLLING;
	s->poll_start_ms = mono_ms();
	s->requests = 0;
	s->last_checks = 0;
	s->baseline = s->epoch == NULL;
	memset(&req, 0, sizeof req);
	req.max = s->conf->max_tags;
	/* A held burst committed nothing: the index lacks that listing. */
	req.may_be_unchanged = s->polls > 0 && s->last_ok && !s->held &&
	    !s->baseline;
	s->provider->entry->list(s->provider, &req, source_listed, s);
}
