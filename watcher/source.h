/*
 * source.h: one watched source at run time: its provider instance, its
 * known-version index, its timer, and the poll -> diff -> commit cycle.
 */
#ifndef SOURCE_H
#define SOURCE_H

#include "watcher.h"
#include "config.h"

struct source;

/* What the owner is told; both may be NULL. */
struct source_hooks {
	/* A commit with nevents events succeeded (wake the dispatchers). */
	void	(*committed)(struct source *, size_t nevents, void *arg);
	/* A poll cycle ended (ok or not): `once` counts these. */
	void	(*polled)(struct source *, int ok, void *arg);
	void	*arg;
};

struct source_status {
	const char	*id;
	int		 loaded;	/* state read from the store */
	int		 baselined;	/* has a state marker */
	size_t		 known;
	int64_t		 last_poll_s;	/* unix s of the last poll end, 0 never */
	int		 last_ok;
	const char	*last_error;	/* NULL when the last poll was ok */
	int		 truncated;	/* last listing hit maxTags */
	unsigned	 failures;	/* consecutive */
	int		 held;		/* a burst is held (burstAction hold) */
	uint64_t	 polls, errors, created, updated;
	uint64_t	 filtered;	/* versions dropped by filters/order */
	uint64_t	 bursts;	/* times the burst policy acted */
	int		 paused;	/* by an operator (source_pause) */
	unsigned	 last_checks;	/* digest checks the last poll made */
	uint64_t	 checks;	/* all of them */
};

/*
 * mutableTagRegex of a source (its default: every tag that is not a full
 * version): NULL when the source checks no digests (not a source of tags,
 * or digestChecksPerPoll 0), and NULL with *cause on a bad pattern.
 */
struct source_mutable;
struct source_mutable *source_mutable_create(const struct source_conf *,
		    char **cause);
void		 source_mutable_free(struct source_mutable *);
int		 source_mutable_match(const struct source_mutable *,
		    const char *tag);

struct source	*source_create(struct env *, const struct source_conf *,
		    const struct source_hooks *, char **cause);
/* Load state from the store, then poll every interval: first after delay. */
void		 source_start(struct source *, int64_t first_delay_ms);
/* Stop polling: the timer and any poll in flight (a commit completes). */
void		 source_stop(struct source *);
/* Frees now, or when the commit or load in flight ends.  Accepts NULL. */
void		 source_free(struct source *);
/* A store operation is in flight (stop and wait before freeing config). */
int		 source_busy(const struct source *);
void		 source_status(const struct source *, struct source_status *);
const struct source_conf *source_conf(const struct source *);

/*
 * Operator actions (the admin API, docs/api.md).  Pause: no poll starts
 * until resume (one in flight finishes); resume polls soon.  Resync: poll
 * now, or right after the poll in flight; -1 when paused.  Release: a held
 * burst is decided by `action` (BURST_FAST_FORWARD or BURST_EMIT_NEWEST)
 * at the next poll, which starts now; -1 when no burst is held or paused.
 */
void		 source_pause(struct source *);
void		 source_resume(struct source *);
int		 source_resync(struct source *);
int		 source_release(struct source *, int action);

#endif
