/*
 * diff.c: the pure heart of "what is new": a poll's versions against the
 * known index.  New name: record it, emit created.  Known name whose digest
 * was fetched and differs: record it, emit updated with the previous digest.
 * Known name whose digest was unknown: record it, emit nothing.  A baseline
 * records all and emits nothing (unless emitExisting), so that a first start
 * or a detected state loss never floods the sinks.
 */
#include <stdlib.h>
#include <string.h>

#include "diff.h"

static void
diff_add_change(struct diff *d, const struct version *v, size_t *size)
{
	if (d->nchanges == *size) {
		*size = *size == 0 ? 16 : *size * 2;
		d->changes = xreallocarray(d->changes, *size,
		    sizeof *d->changes);
	}
	d->changes[d->nchanges].name = v->name;
	d->changes[d->nchanges].digest = v->digest;
	d->nchanges++;
}

static void
diff_add_event(struct diff *d, enum event_type type, const struct version *v,
    const char *previous, size_t *size)
{
	struct diff_event	*e;

	if (d->nevents == *size) {
		*size = *size == 0 ? 16 : *size * 2;
		d->events = xreallocarray(d->events, *size, sizeof *d->events);
	}
	e = &d->events[d->nevents++];
	e->type = type;
	e->version = v;
	e->previous_digest = previous == NULL ? NULL : xstrdup(previous);
	if (type == EVENT_CREATED)
		d->created++;
	else
		d->updated++;
}

/*
 * The seen set of a poll, built only when a version is about to count: then
 * from every version before it, so the first of a repeated name decides.  A
 * poll where nothing counts (every name known, no new digest) never builds
 * it.  1 when v->name came earlier in the poll.
 */
static int
diff_seen_before(struct index **seen, const struct versions *vs, size_t i)
{
	size_t	 j;

	if (*seen == NULL) {
		*seen = index_create();
		for (j = 0; j < i; j++)
			index_put(*seen, vs->v[j].name, NULL, 0);
	}
	if (index_get(*seen, vs->v[i].name, NULL))
		return (1);
	index_put(*seen, vs->v[i].name, NULL, 0);
	return (0);
}

void
diff_compute(const struct index *known, const struct versions *vs,
    int baseline, int emit_existing, struct diff *d)
{
	struct index		*seen = NULL;
	const struct version	*v;
	const char		*old;
	size_t			 i, csize = 0, esize = 0;
	int			 is_known;

	memset(d, 0, sizeof *d);
	for (i = 0; i < vs->n; i++) {
		v = &vs->v[i];
		/* Only a listed digest needs the known one, as text. */
		old = NULL;
		is_known = !baseline && index_get(known, v->name,
		    v->digest != NULL ? &old : NULL);
		/* Known without a new digest: nothing, first time or not. */
		if (is_known && v->digest == NULL && seen == NULL)
			continue;
		if (diff_seen_before(&seen, vs, i))
			continue;
		if (!is_known) {
			diff_add_change(d, v, &csize);
			if (!baseline || emit_existing)
				diff_add_event(d, EVENT_CREATED, v, NULL, &esize);
			continue;
		}
		if (v->digest == NULL)
			continue;
		if (old == NULL) {
			diff_add_change(d, v, &csize);
			continue;
		}
		if (strcmp(old, v->digest) != 0) {
			diff_add_change(d, v, &csize);
			diff_add_event(d, EVENT_UPDATED, v, old, &esize);
		}
	}
	index_free(seen);
}

void
diff_free(struct diff *d)
{
	size_t	 i;

	for (i = 0; i < d->nevents; i++)
		free(d->events[i].previous_digest);
	free(d->events);
	free(d->changes);
	memset(d, 0, sizeof *d);
}

void
diff_keep_newest(struct diff *d, size_t n)
{
	size_t	 drop, i;

	if (d->nevents <= n)
		return;
	drop = d->nevents - n;
	for (i = 0; i < drop; i++)
		free(d->events[i].previous_digest);
	memmove(d->events, d->events + drop, n * sizeof *d->events);
	d->nevents = n;
	d->created = d->updated = 0;
	for (i = 0; i < d->nevents; i++) {
		if (d->events[i].type == EVENT_CREATED)
			d->created++;
		else
			d->updated++;
	}
}

void
diff_apply(struct index *idx, const struct versions *vs, int64_t now_s)
{
	const struct version	*v;
	size_t			 i;

	for (i = 0; i < vs->n; i++) {
		v = &vs->v[i];
		if (v->digest != NULL)
			index_put(idx, v->name, v->digest, now_s);
		else if (!index_get(idx, v->name, NULL))
			index_put(idx, v->name, NULL, 0);
	}
}
