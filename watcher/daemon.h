/*
 * daemon.h: the running watcher: the environment (base, HTTP engine, store,
 * config), one source per configured source, one sink and one dispatcher per
 * configured sink; signals, reload and the two ways of running it.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include "watcher.h"
#include "config.h"

/* Exit codes of `run` and `once` (docs/cli.md). */
#define EXIT_OK		0
#define EXIT_POLL	1	/* once: a poll failed */
#define EXIT_USAGE	2	/* bad command line or config */
#define EXIT_PENDING	3	/* once: events still undelivered at --wait */
#define EXIT_STORE	4	/* the store could not be opened */
#define EXIT_DEAD	5	/* once: an event was dead-lettered */
#define EXIT_INTERNAL	70

struct daemon;

/* Takes the config.  NULL with *cause on failure (the config is freed). */
struct daemon	*daemon_create(struct event_base *, struct config *,
		    char **cause);
void		 daemon_free(struct daemon *);
/* Watch until SIGTERM/SIGINT; SIGHUP reloads.  Returns an exit code. */
int		 daemon_run(struct daemon *);
/*
 * Poll the chosen sources once (all when only is NULL), commit, deliver
 * what is pending; returns when all is delivered or dead-lettered, or when
 * wait_ms has passed.  Returns an exit code.
 */
int		 daemon_once(struct daemon *, const char *only, int64_t wait_ms);
/* Status of every source, as JSON (for logs, the API, `versions`). */
char		*daemon_status_json(const struct daemon *);

/*
 * For the HTTP API (api.c): the instances live now.  A reload replaces
 * them, so look them up again for every request; never keep a pointer.
 */
struct source;
struct dispatch;
struct env	*daemon_env(struct daemon *);
struct source *const *daemon_sources(const struct daemon *, size_t *n);
struct dispatch	*const *daemon_dispatchers(const struct daemon *, size_t *n);
int		 daemon_stopping(const struct daemon *);

#endif
