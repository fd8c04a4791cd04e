/*
 * probe.h: one list-only poll of some sources, outside the daemon, for
 * `versions` (what a source lists now) and `check --connect` (can every
 * source be reached).  No store is opened and nothing is recorded.
 */
#ifndef PROBE_H
#define PROBE_H

#include "watcher.h"
#include "config.h"

struct probe_result {
	const struct source_conf *src;
	int			 ok;
	char			*cause;		/* when not ok */
	struct versions		*versions;	/* when ok */
};

/*
 * Poll each of srcs[0..n) once, list only, all at once on a base of their
 * own; results[i] is srcs[i]'s.  *connectors (if not NULL) gets the
 * connectors' rate counters (limits_json).  Returns -1 with *cause when
 * the HTTP engine cannot start; else 0, whatever the polls did.
 */
int	 probe_sources(struct config *, const struct source_conf **srcs,
	    size_t n, struct probe_result *results, cJSON **connectors,
	    char **cause);
void	 probe_results_free(struct probe_result *, size_t);

/*
 * check --connect of connectors: each connector's own probe (one cheap
 * authenticated request), for the ones no source names.  ok[i] (1
 * reachable, 0 failed, -1 not probed: its type has no probe) and causes[i]
 * (allocated, NULL unless failed) are ccs[i]'s.  -1 with *cause when the
 * HTTP engine cannot start.
 */
int	 probe_connectors(struct config *, const struct connector_conf **ccs,
	    size_t n, int *ok, char **causes, char **cause);

#endif
