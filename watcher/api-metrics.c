/*
 * api-metrics.c: /metrics, in the Prometheus text exposition format 0.0.4.
 *
 * Every family is written whole (HELP, TYPE, then one sample per source,
 * sink or connector) so that scrapers that want a family's samples together
 * get them.  The counters come from source_status(), dispatch_counters()
 * and the politeness layer's limits_json(); sources and sinks are rebuilt
 * on reload, so their counters start again at zero then (a counter reset,
 * which Prometheus' rate() understands), while connector counters live as
 * long as the daemon.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "daemon.h"
#include "dispatch.h"
#include "limit.h"
#include "source.h"

enum field_kind { F_U64, F_INT, F_UNSIGNED, F_SIZE, F_I64 };

/* A metric read from a struct at `off`. */
struct metric_field {
	const char	*name;
	const char	*type;
	const char	*help;
	size_t		 off;
	enum field_kind	 kind;
};

#define SRC(f)	offsetof(struct source_status, f)
static const struct metric_field source_fields[] = {
	{ "aw_source_polls_total", "counter", "Polls finished (ok or not).",
	  SRC(polls), F_U64 },
	{ "aw_source_errors_total", "counter",
	  "Polls and state loads that failed.", SRC(errors), F_U64 },
	{ "aw_source_created_total", "counter",
	  "artifact.created events committed.", SRC(created), F_U64 },
	{ "aw_source_updated_total", "counter",
	  "artifact.updated events committed (a tag re-pointed).",
	  SRC(updated), F_U64 },
	{ "aw_source_filtered_total", "counter",
	  "Versions dropped by tag filters and ordering.", SRC(filtered),
	  F_U64 },
	{ "aw_source_bursts_total", "counter",
	  "Polls that found more new versions than burstLimit.",
	  SRC(bursts), F_U64 },
	{ "aw_source_held", "gauge",
	  "1 while a burst is held for an operator (burstAction: hold).",
	  SRC(held), F_INT },
	{ "aw_source_truncated", "gauge",
	  "1 when the last listing stopped at maxTags.", SRC(truncated),
	  F_INT },
	{ "aw_source_known_versions", "gauge",
	  "Versions the source remembers.", SRC(known), F_SIZE },
	{ "aw_source_last_poll_timestamp_seconds", "gauge",
	  "Unix time the last poll ended (0: none yet).", SRC(last_poll_s),
	  F_I64 },
	{ "aw_source_last_poll_ok", "gauge",
	  "1 when the last poll succeeded.", SRC(last_ok), F_INT },
	{ "aw_source_consecutive_failures", "gauge",
	  "Polls failed in a row.", SRC(failures), F_UNSIGNED },
	{ "aw_source_paused", "gauge",
	  "1 while an operator has paused the source.", SRC(paused), F_INT },
	{ "aw_source_state_loaded", "gauge",
	  "1 once the source's state was read from the store.", SRC(loaded),
	  F_INT },
};
#undef SRC

#define SNK(f)	offsetof(struct dispatch_counters, f)
static const struct metric_field sink_fields[] = {
	{ "aw_sink_delivered_total", "counter", "Events delivered.",
	  SNK(delivered), F_U64 },
	{ "aw_sink_retried_total", "counter",
	  "Failed deliveries that will be tried again.", SNK(retried),
	  F_U64 },
	{ "aw_sink_dead_total", "counter",
	  "Events moved to the dead-letter list.", SNK(dead), F_U64 },
	{ "aw_sink_store_errors_total", "counter",
	  "Store reads and acks of the sink's cursor that failed.",
	  SNK(store_errors), F_U64 },
};
#undef SNK

/* A connector metric: a number of limiter_json(), times scale. */
struct connector_field {
	const char	*name;
	const char	*type;
	const char	*help;
	const char	*key;
	double		 scale;
};

static const struct connector_field connector_fields[] = {
	{ "aw_connector_requests_total", "counter",
	  "HTTP requests sent to the connector's server.", "requests", 1 },
	{ "aw_connector_throttled_total", "counter",
	  "429 and 503 answers.", "throttled", 1 },
	{ "aw_connector_retries_total", "counter",
	  "Requests sent again after a 5xx, a timeout or a short pause.",
	  "retries", 1 },
	{ "aw_connector_slowed_total", "counter",
	  "Times rate-limit headers slowed the connector down.", "slowed",
	  1 },
	{ "aw_connector_paused_seconds_total", "counter",
	  "Time spent paused by 429/503.", "pausedMs", 0.001 },
	{ "aw_connector_queued_seconds_total", "counter",
	  "Time requests waited in the connector's queue.", "queuedMs",
	  0.001 },
	{ "aw_connector_pause_left_seconds", "gauge",
	  "How long the connector stays paused.", "pauseLeftMs", 0.001 },
	{ "aw_connector_queued_requests", "gauge",
	  "Requests waiting in the queue.", "queued", 1 },
	{ "aw_connector_in_flight_requests", "gauge",
	  "Requests in flight.", "inFlight", 1 },
};

/* s with backslash, newline and (in labels) the double quote escaped. */
static void
metrics_escape(struct buf *b, const char *s, int label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_adds(b, "\\\\");
		else if (*s == '\n')
			buf_adds(b, "\\n");
		else if (*s == '"' && label)
			buf_adds(b, "\\\"");
		else
			buf_add(b, s, 1);
	}
}

void
metrics_family(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_printf(b, "# HELP %s ", name);
	metrics_escape(b, help, 0);
	buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

void
metrics_sample(struct buf *b, const char *name, const char *label,
    const char *value, double v)
{
	buf_adds(b, name);
	if (label != NULL) {
		buf_printf(b, "{%s=\"", label);
		metrics_escape(b, value, 1);
		buf_adds(b, "\"}");
	}
	buf_printf(b, " %.15g\n", v);
}

static double
metric_field_value(const struct metric_field *f, const void *base)
{
	const char	*p = (const char *)base + f->off;

	switch (f->kind) {
	case F_U64:
		return ((double)*(const uint64_t *)p);
	case F_INT:
		return ((double)*(const int *)p);
	case F_UNSIGNED:
		return ((double)*(const unsigned *)p);
	case F_SIZE:
		return ((double)*(const size_t *)p);
	case F_I64:
		return ((double)*(const int64_t *)p);
	}
	return (0);
}

static void
metrics_sources(struct buf *b, struct daemon *d)
{
	struct source *const	*sources;
	struct source_status	*st;
	const struct metric_field *f;
	size_t			 n, i, j;

	sources = daemon_sources(d, &n);
	st = xcalloc(n + 1, sizeof *st);
	for (i = 0; i < n; i++)
		source_status(sources[i], &st[i]);
	for (j = 0; j < nitems(source_fields); j++) {
		f = &source_fields[j];
		metrics_family(b, f->name, f->type, f->help);
		for (i = 0; i < n; i++)
			metrics_sample(b, f->name, "source", st[i].id,
			    metric_field_value(f, &st[i]));
	}
	free(st);
}

static void
metrics_sinks(struct buf *b, struct daemon *d)
{
	struct dispatch *const	*dps;
	const struct metric_field *f;
	size_t			 n, i, j;

	dps = daemon_dispatchers(d, &n);
	for (j = 0; j < nitems(sink_fields); j++) {
		f = &sink_fields[j];
		metrics_family(b, f->name, f->type, f->help);
		for (i = 0; i < n; i++)
			metrics_sample(b, f->name, "sink",
			    dispatch_sink_id(dps[i]),
			    metric_field_value(f, dispatch_counters(dps[i])));
	}
}

static void
metrics_connectors(struct buf *b, struct daemon *d)
{
	const struct connector_field *f;
	cJSON			*all, *c, *v;
	const char		*id;
	size_t			 j;

	all = limits_json(daemon_env(d)->limits);
	for (j = 0; j < nitems(connector_fields); j++) {
		f = &connector_fields[j];
		metrics_family(b, f->name, f->type, f->help);
		cJSON_ArrayForEach(c, all) {
			id = cJSON_GetStringValue(cJSON_GetObjectItem(c,
			    "connector"));
			v = cJSON_GetObjectItem(c, f->key);
			if (id == NULL || !cJSON_IsNumber(v))
				continue;
			metrics_sample(b, f->name, "connector", id,
			    f->scale * v->valuedouble);
		}
	}
	cJSON_Delete(all);
}

void
metrics_write(struct buf *b, struct daemon *d)
{
	metrics_family(b, "aw_build_info", "gauge",
	    "Always 1; the label says which version runs.");
	metrics_sample(b, "aw_build_info", "version", AW_VERSION, 1);
	metrics_sources(b, d);
	metrics_sinks(b, d);
	metrics_connectors(b, d);
}
