/*
 * child.h: a child process run off the event loop, for the providers that
 * are not HTTP: a user's script (CustomArtifact), or a blocking library
 * call (an SFTP or SMB listing) run in a forked child so that the loop
 * never blocks and a hung server is bounded by a kill.
 *
 * The child gets its own process group; its stdout is read through a
 * non-blocking pipe up to a cap, the last line of its stderr is kept for
 * the cause; its exit is seen through a pidfd (a short poll timer where
 * the kernel has none).  At the timeout, when stdout passes the cap, or on
 * child_cancel(), the whole group is killed (SIGKILL), so what the child
 * forked dies with it.  When the child exits its group is killed as well:
 * nothing it left running survives the poll.
 */
#ifndef CHILD_H
#define CHILD_H

#include "watcher.h"

struct child;

struct child_conf {
	/*
	 * What runs: argv (execvp'd; argv[0] the program), or fn(fn_arg) in
	 * the forked child, whose return value is the exit status.  fn
	 * writes its answer to fd 1 and its complaints to fd 2.
	 */
	const char *const	*argv;
	int			(*fn)(void *fn_arg);
	void			*fn_arg;
	/* "NAME=value" added to the environment of the child, NULL-ended. */
	const char *const	*env;
	/*
	 * Start from an empty environment (PATH, HOME, LANG and TMPDIR
	 * kept) instead of the daemon's, which may hold its secrets.
	 */
	int			 clear_env;
	const char		*dir;		/* working directory, or NULL */
	int64_t			 timeout_ms;	/* 0: none */
	size_t			 max_out;	/* stdout cap, 0: 8 MiB */
};

struct child_result {
	int		 status;	/* exit status, -1 when killed */
	int		 signal;	/* the signal that ended it, else 0 */
	int		 timed_out;
	int		 overflow;	/* stdout passed max_out */
	struct buf	 out;		/* stdout (up to max_out bytes) */
	char		*err_line;	/* last non-empty line of stderr */
	int64_t		 elapsed_ms;
};
/*
 * Runs once, from the event loop, after the child was reaped and both
 * pipes closed; the result and the child are freed after it returns.
 */
typedef void (*child_done_cb)(struct child_result *, void *arg);

/* Start it; NULL and *cause when fork or pipe failed. */
struct child	*child_start(struct event_base *, const struct child_conf *,
		    child_done_cb, void *arg, char **cause);
/* Kill the group and forget it: the callback never runs.  NULL ok. */
void		 child_cancel(struct child *);
/* One line of what happened, e.g. "exit status 1: <stderr line>". */
char		*child_cause(const struct child_result *, const char *what);

#endif
