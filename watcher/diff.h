/*
 * diff.h: what a poll changed against the known set: the versions to record
 * and the events to emit (DESIGN §2: baseline, created, updated).
 */
#ifndef DIFF_H
#define DIFF_H

#include "watcher.h"
#include "event.h"
#include "index.h"
#include "provider.h"
#include "store.h"

struct diff_event {
	enum event_type		 type;
	const struct version	*version;	/* into the poll's versions */
	char			*previous_digest; /* updated: the old one */
};

struct diff {
	struct store_change	*changes;	/* point into the versions */
	size_t			 nchanges;
	struct diff_event	*events;
	size_t			 nevents;
	size_t			 created;
	size_t			 updated;
};

/*
 * Compare a poll's versions with the known index.  baseline: the source has
 * no state; record everything, emit nothing (everything if emit_existing).
 * A name listed twice counts once.
 */
void	 diff_compute(const struct index *, const struct versions *,
	    int baseline, int emit_existing, struct diff *);
void	 diff_free(struct diff *);
/* Keep only the last n events (the newest, in the poll's order). */
void	 diff_keep_newest(struct diff *, size_t n);
/* After a successful commit (or when nothing changed): update the index. */
void	 diff_apply(struct index *, const struct versions *, int64_t now_s);

#endif
