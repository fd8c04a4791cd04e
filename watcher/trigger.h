/*
 * trigger.h: which sinks one event goes to (DESIGN §3 `triggers:`).  The
 * core calls trigger_route() for each new event of a source before it
 * commits the event to the outbox with that list of sinks.
 */
#ifndef TRIGGER_H
#define TRIGGER_H

#include "watcher.h"
#include "config.h"

/*
 * The sinks `event` (the event JSON of event.c) goes to: sink S when some
 * enabled trigger names src and S and all of that trigger's conditions
 * hold; every sink when the config has no triggers at all.  sinks has room
 * for conf->nsinks; it is filled in the order of `sinks:` in the config,
 * each sink at most once, with the sinks' identifiers (owned by conf).
 * A condition that cannot be decided (a Regex over PCRE2's match limit)
 * is logged and counts as not holding.  Returns 0: routing cannot fail.
 */
int	 trigger_route(const struct config *, const struct source_conf *src,
	    const cJSON *event, const char **sinks, size_t *nsinks);

#endif
