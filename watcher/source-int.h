/*
 * source-int.h: the parts of a source (source.h) shared by its files, and
 * only by them:
 *
 *   source.c		life: create, load the state, stop, free, status,
 *			operator actions
 *   source-schedule.c	when: timers, backoff, the lease
 *   source-poll.c	a poll: list, filter, pick, resolve, diff, burst
 *   source-emit.c	the commit: events, routing, the store, the index
 */
#ifndef SOURCE_INT_H
#define SOURCE_INT_H

#include <event2/util.h>

#include "diff.h"
#include "provider.h"
#include "source.h"

enum source_phase {
	PHASE_IDLE,		/* waiting for the timer */
	PHASE_LOADING,		/* store load in flight */
	PHASE_POLLING,		/* provider list or resolve in flight */
	PHASE_COMMITTING,	/* store commit in flight */
};

struct source {
	struct env			*env;
	const struct source_conf	*conf;
	struct source_hooks		 hooks;
	struct provider			*provider;
	struct filter			*filter;
	struct source_mutable		*mutable_tags;	/* NULL: no checks */
	struct index			*index;
	struct index			*mutable;	/* known mutable tags */
	char				*fingerprint;	/* what it watches */
	struct event			*timer;
	enum source_phase		 phase;
	int				 stopped;
	int				 freed;	/* free when the store answers */
	int				 loaded;
	char				*epoch;	/* NULL: no marker yet */
	int				 remark; /* next commit: a new marker */
	struct lease			*lease;	/* NULL: no replicas */
	uint64_t			 token;	/* lease token of the state */

	/* The cycle in flight. */
	struct versions			*versions;
	struct version			**todo;	/* resolve() asked for these */
	size_t				 ntodo;
	struct diff			 diff;
	char				*new_epoch;
	int64_t				 poll_start_ms;
	int64_t				 detected_s;
	unsigned			 requests;
	int				 baseline;

	/* Status. */
	unsigned			 failures;
	int64_t				 last_poll_s;
	int				 last_ok;
	char				*last_error;
	int				 truncated;
	int				 held;	/* burstAction hold */
	uint64_t			 polls, errors, created, updated;
	uint64_t			 filtered, bursts;
	unsigned			 last_checks;	/* digest checks */
	uint64_t			 checks;

	/* Operator actions (the admin API). */
	int				 paused;
	int				 poll_again;	/* resync during a poll */
	int				 release;	/* next burst: release_action */
	int				 release_action; /* enum burst_action */
};

/* source-schedule.c */
void	source_schedule(struct source *, int64_t ms);
void	source_schedule_next(struct source *);
void	source_schedule_backoff(struct source *, int64_t retry_after_s);
void	source_timer_cb(evutil_socket_t, short, void *);
int	source_leased(struct source *);
void	source_lease_gained(struct lease *, uint64_t, void *);

/* source-poll.c */
void	source_poll(struct source *);
/* Is this tag one whose digest is checked every poll (mutableTagRegex)? */
int	source_is_mutable(const struct source *, const char *name);
void	source_cycle_clear(struct source *);
void	source_cycle_end(struct source *, int ok, const char *error,
	    int64_t retry_after_s);

/* source-emit.c */
void	source_commit(struct source *, int rebaseline);
/* The index after a commit (or a poll that changed nothing). */
void	source_index_apply(struct source *);

/* source.c */
void	source_load(struct source *);
/* "RANDOM.FINGERPRINT": a new marker for this source. */
char	*source_new_epoch(const struct source *);

#endif
