/*
 * api.h: the HTTP surface of DESIGN §7 (docs/api.md): health, readiness,
 * Prometheus metrics, source and sink status, event history and the admin
 * actions, served by libevent's evhttp on the daemon's one event base.
 */
#ifndef API_H
#define API_H

#include "watcher.h"

struct api;
struct daemon;

/*
 * Listen on the daemon config's api.listen, with its tokenRef resolved.
 * NULL with *cause when the address cannot be bound or the secret read.
 */
struct api	*api_create(struct daemon *, char **cause);
/* Closes the listener and every connection.  Accepts NULL. */
void		 api_free(struct api *);
/*
 * The daemon swapped in a new config and new sources: re-read the token
 * and pause again the sources an operator paused.  Accepts NULL.
 */
void		 api_reloaded(struct api *);

/*
 * api-guard.c: without a token, a state-changing request must not be one
 * a browser page can send.  api_guard_check() returns NULL when the
 * request may go on, else why not.  port: the port the API listens on.
 */
int		 api_guard_json_type(const char *content_type);
int		 api_guard_own_origin(const char *origin, unsigned port);
const char	*api_guard_check(const char *content_type, const char *origin,
		    unsigned port);

/* api-json.c: what the endpoints answer; the caller deletes it. */
struct source;
struct dispatch;
struct sink_conf;
struct history_entry;
/* limits: limits_json() of the daemon, for the "rate" member (or NULL). */
cJSON	*api_source_json(struct source *, cJSON *limits);
/* sc: the sink's config, for its type (or NULL). */
cJSON	*api_sink_json(struct dispatch *, const struct sink_conf *);

/*
 * api-metrics.c: Prometheus text exposition format 0.0.4.  A family is
 * its HELP and TYPE lines; a sample one line, with at most one label.
 */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
void	 metrics_family(struct buf *, const char *name, const char *type,
	    const char *help);
void	 metrics_sample(struct buf *, const char *name, const char *label,
	    const char *value, double);
/* Everything the daemon counts, as one exposition. */
void	 metrics_write(struct buf *, struct daemon *);

#endif
