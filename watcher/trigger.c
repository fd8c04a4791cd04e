/*
 * trigger.c: routing one event to its sinks by the `triggers:` of the
 * config.  Each trigger that names the event's source is decided once
 * (enabled, conditions), then the sinks are collected in config order so
 * the same event always gets the same list, whatever order triggers are in.
 * A sink's own filter (`types`, `sources`) applies on top, with or without
 * triggers.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cond.h"
#include "trigger.h"

static int
trigger_names(const struct cfg_strlist *l, const char *id)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], id) == 0)
			return (1);
	}
	return (0);
}

/* Does trigger tc fire for this event of src? */
static int
trigger_fires(const struct trigger_conf *tc, const struct source_conf *src,
    const cJSON *event)
{
	const cJSON	*id;
	char		*cause = NULL;
	int		 rc;

	if (!tc->enabled || !trigger_names(&tc->sources, src->id))
		return (0);
	if (tc->conds == NULL)
		return (1);
	rc = cond_list_match(tc->conds, event, &cause);
	if (rc == -1) {
		id = cJSON_GetObjectItemCaseSensitive(event, "id");
		log_warn("trigger condition failed", "trigger=%s source=%s "
		    "event=%s error=%s", log_q(tc->id), log_q(src->id),
		    log_q(cJSON_IsString(id) ? id->valuestring : "-"),
		    log_q(cause));
		free(cause);
	}
	return (rc == 1);
}

/* The sink's own filter: does it want events of this type from src? */
static int
trigger_sink_wants(const struct sink_conf *sc, const struct source_conf *src,
    const cJSON *event)
{
	const cJSON	*type;

	if (sc->sources.n != 0 && !trigger_names(&sc->sources, src->id))
		return (0);
	if (sc->types.n == 0)
		return (1);
	type = cJSON_GetObjectItemCaseSensitive(event, "type");
	return (cJSON_IsString(type) && trigger_names(&sc->types,
	    type->valuestring));
}

int
trigger_route(const struct config *conf, const struct source_conf *src,
    const cJSON *event, const char **sinks, size_t *nsinks)
{
	const struct trigger_conf	*tc;
	char				*fires;
	size_t				 i, j;

	*nsinks = 0;
	if (conf->ntriggers == 0) {
		for (i = 0; i < conf->nsinks; i++) {
			if (trigger_sink_wants(&conf->sinks[i], src, event))
				sinks[(*nsinks)++] = conf->sinks[i].id;
		}
		return (0);
	}
	fires = xcalloc(conf->ntriggers, 1);
	for (j = 0; j < conf->ntriggers; j++)
		fires[j] = trigger_fires(&conf->triggers[j], src, event);
	for (i = 0; i < conf->nsinks; i++) {
		for (j = 0; j < conf->ntriggers; j++) {
			tc = &conf->triggers[j];
			if (fires[j] && trigger_names(&tc->sinks,
			    conf->sinks[i].id))
				break;
		}
		if (j < conf->ntriggers &&
		    trigger_sink_wants(&conf->sinks[i], src, event))
			sinks[(*nsinks)++] = conf->sinks[i].id;
	}
	free(fires);
	return (0);
}
