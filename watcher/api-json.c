/*
 * api-json.c: the JSON shapes of the HTTP API (docs/api.md): a source's
 * status with its counters and its connector's rate state, a sink's
 * dispatcher, and one history entry in the shape `history --json` prints.
 * Built from what the modules report; nothing here talks HTTP.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "config.h"
#include "dispatch.h"
#include "source.h"
#include "store.h"

static const char *
api_source_state(const struct source_status *st)
{
	if (st->paused)
		return ("paused");
	if (st->held)
		return ("held");
	if (!st->loaded)
		return (st->last_error != NULL ? "error" : "loading");
	if (st->last_error != NULL)
		return ("error");
	if (st->polls == 0)
		return ("pending");
	return ("ok");
}

/* The connector's limiter state in `limits` (limits_json()), or NULL. */
static cJSON *
api_connector(cJSON *limits, const char *id)
{
	cJSON		*c;
	const char	*cid;

	cJSON_ArrayForEach(c, limits) {
		cid = cJSON_GetStringValue(cJSON_GetObjectItem(c, "connector"));
		if (id != NULL && cid != NULL && strcmp(cid, id) == 0)
			return (c);
	}
	return (NULL);
}

cJSON *
api_source_json(struct source *s, cJSON *limits)
{
	const struct source_conf *sc = source_conf(s);
	struct source_status	 st;
	cJSON			*o, *c, *budget;
	char			 when[32];

	source_status(s, &st);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", st.id);
	cJSON_AddStringToObject(o, "type", sc->type);
	if (sc->connector_ref != NULL)
		cJSON_AddStringToObject(o, "connector", sc->connector_ref);
	else
		cJSON_AddNullToObject(o, "connector");
	cJSON_AddStringToObject(o, "status", api_source_state(&st));
	cJSON_AddBoolToObject(o, "paused", st.paused);
	cJSON_AddBoolToObject(o, "loaded", st.loaded);
	cJSON_AddBoolToObject(o, "baselined", st.baselined);
	cJSON_AddNumberToObject(o, "known", (double)st.known);
	if (st.last_poll_s != 0) {
		time_format_rfc3339(st.last_poll_s, when, sizeof when);
		cJSON_AddStringToObject(o, "lastPoll", when);
	} else
		cJSON_AddNullToObject(o, "lastPoll");
	cJSON_AddBoolToObject(o, "lastPollOk", st.last_poll_s != 0 &&
	    st.last_ok);
	if (st.last_error != NULL)
		cJSON_AddStringToObject(o, "lastError", st.last_error);
	else
		cJSON_AddNullToObject(o, "lastError");
	cJSON_AddBoolToObject(o, "truncated", st.truncated);
	cJSON_AddBoolToObject(o, "held", st.held);
	cJSON_AddNumberToObject(o, "failures", st.failures);
	cJSON_AddNumberToObject(o, "lastDigestChecks", st.last_checks);
	c = cJSON_AddObjectToObject(o, "counters");
	cJSON_AddNumberToObject(c, "polls", (double)st.polls);
	cJSON_AddNumberToObject(c, "errors", (double)st.errors);
	cJSON_AddNumberToObject(c, "created", (double)st.created);
	cJSON_AddNumberToObject(c, "updated", (double)st.updated);
	cJSON_AddNumberToObject(c, "filtered", (double)st.filtered);
	cJSON_AddNumberToObject(c, "bursts", (double)st.bursts);
	cJSON_AddNumberToObject(c, "digestChecks", (double)st.checks);
	if ((budget = api_connector(limits, sc->connector_ref)) != NULL)
		cJSON_AddItemToObject(o, "rate", cJSON_Duplicate(budget, 1));
	else
		cJSON_AddNullToObject(o, "rate");
	return (o);
}

static const char *const dispatch_state_names[] = {
	"busy", "idle", "retry-wait", "store-wait", "stopped"
};

cJSON *
api_sink_json(struct dispatch *dp, const struct sink_conf *sc)
{
	const struct dispatch_counters *c = dispatch_counters(dp);
	const char		*id = dispatch_sink_id(dp);
	cJSON			*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	if (sc != NULL)
		cJSON_AddStringToObject(o, "type", sc->type);
	cJSON_AddStringToObject(o, "state",
	    dispatch_state_names[dispatch_state(dp)]);
	cJSON_AddNumberToObject(o, "delivered", (double)c->delivered);
	cJSON_AddNumberToObject(o, "retried", (double)c->retried);
	cJSON_AddNumberToObject(o, "dead", (double)c->dead);
	cJSON_AddNumberToObject(o, "storeErrors", (double)c->store_errors);
	return (o);
}

