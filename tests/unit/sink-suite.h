/*
 * sink-suite.h: what the unit suites of the queue sinks (RedisStream,
 * Nats, Kafka) share.  Each suite is one program, so everything here is
 * static, and marked unused so that a suite takes what it needs: a sink
 * made from a config text (written to a temporary file, freed by
 * suite_conf_free() in the suite's teardown), the outcome of a delivery,
 * realistic outbox entries of a source, waiting until outcomes came, and
 * the errors a config text gets.
 */
#ifndef SINK_SUITE_H
#define SINK_SUITE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "config.h"
#include "sink.h"
#include "store.h"

static struct config	*suite_conf;
static char		 suite_conf_path[64];

/* What a delivery's `done` said; `called` counts the calls. */
struct outcome {
	int		 called;
	enum delivery	 d;
	char		*cause;
};

static __unused void
outcome_cb(enum delivery d, int64_t retry_after_ms __unused,
    const char *cause, void *arg)
{
	struct outcome	*o = arg;

	o->called++;
	o->d = d;
	free(o->cause);
	o->cause = cause != NULL ? xstrdup(cause) : NULL;
}

/* Load a config text (into suite_conf); NULL with errs. */
static __unused struct config *
suite_load(const char *text, struct cfg_errors *errs)
{
	FILE	*f;
	int	 fd;

	if (suite_conf_path[0] != '\0')
		unlink(suite_conf_path);
	snprintf(suite_conf_path, sizeof suite_conf_path,
	    "/tmp/test-sink-XXXXXX");
	fd = mkstemp(suite_conf_path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return (suite_conf = config_load(suite_conf_path, errs));
}

static __unused void
suite_conf_free(void)
{
	config_free(suite_conf);
	suite_conf = NULL;
	if (suite_conf_path[0] != '\0')
		unlink(suite_conf_path);
	suite_conf_path[0] = '\0';
}

/* The sink "q" of a config text that must load. */
static __unused struct sink *
suite_sink(struct env *env, const char *text)
{
	struct cfg_errors	 errs = { 0 };
	struct sink		*s;
	char			*cause = NULL;
	size_t			 i;

	suite_load(text, &errs);
	for (i = 0; i < errs.n; i++)
		cr_log_error("%s", errs.msg[i]);
	cr_assert_not_null(suite_conf);
	cfg_errors_free(&errs);
	env->conf = suite_conf;
	s = sink_create(env, config_sink(suite_conf, "q"), &cause);
	cr_assert_not_null(s, "sink_create: %s", cause);
	return (s);
}

/* The errors of a config text that must not load, one a line. */
static __unused char *
suite_errors(const char *text)
{
	struct cfg_errors	 errs = { 0 };
	struct buf		 all = { 0 };
	size_t			 i;

	cr_assert_null(suite_load(text, &errs), "loaded: %s", text);
	for (i = 0; i < errs.n; i++) {
		buf_adds(&all, errs.msg[i]);
		buf_adds(&all, "\n");
	}
	cfg_errors_free(&errs);
	return (buf_take(&all));
}

/* Event i of `source` (version 1.0.i) as an outbox entry. */
static __unused void
entry_for(struct outbox_entry *e, int i, const char *source)
{
	memset(e, 0, sizeof *e);
	xasprintf(&e->id, "id-%s-%d", source, i);
	e->source = xstrdup(source);
	xasprintf(&e->json, "{\"specversion\":\"1.0\",\"id\":\"%s\","
	    "\"source\":\"/artifact-watcher/sources/%s\","
	    "\"type\":\"artifact.created\",\"subject\":\"x:%d\","
	    "\"time\":\"2026-11-22T10:00:00Z\","
	    "\"datacontenttype\":\"application/json\","
	    "\"data\":{\"sourceId\":\"%s\",\"version\":\"1.0.%d\"}}",
	    e->id, source, i, source, i);
}

static __unused void
entry_free(struct outbox_entry *e)
{
	free(e->id);
	free(e->source);
	free(e->json);
}

/* Run the loop until each of the n outcomes was called. */
static __unused void
wait_all(struct event_base *base, struct outcome *o, int n)
{
	int	 i, all;

	do {
		event_base_loop(base, EVLOOP_ONCE);
		for (all = 1, i = 0; i < n; i++)
			all &= o[i].called > 0;
	} while (!all);
}

#endif
