/*
 * history.c: one history entry (store.h) as JSON, the shape both
 * `history --json` and GET /api/v1/events answer with (docs/history.md):
 * id, source, committedAt, the CloudEvent, and each sink's state.
 */
#include <cjson/cJSON.h>

#include "store.h"

static const char *const delivery_names[] = { "pending", "delivered", "dead" };

const char *
delivery_state_name(enum delivery_state state)
{
	return (delivery_names[state]);
}

cJSON *
history_json(const struct history_entry *h)
{
	cJSON	*o, *sinks, *si;
	char	 when[32];
	size_t	 j;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", h->e.id);
	cJSON_AddStringToObject(o, "source", h->e.source);
	time_format_rfc3339(h->e.committed_at / 1000, when, sizeof when);
	cJSON_AddStringToObject(o, "committedAt", when);
	cJSON_AddItemToObject(o, "event", cJSON_Parse(h->e.json));
	sinks = cJSON_AddObjectToObject(o, "sinks");
	for (j = 0; j < h->nsinks; j++) {
		si = cJSON_AddObjectToObject(sinks, h->sinks[j].sink);
		cJSON_AddStringToObject(si, "state",
		    delivery_names[h->sinks[j].state]);
		if (h->sinks[j].reason != NULL)
			cJSON_AddStringToObject(si, "reason",
			    h->sinks[j].reason);
	}
	return (o);
}
