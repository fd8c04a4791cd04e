/*
 * test-sink-file.c: the File sink on its own, in a temporary directory: JSON
 * lines appended and confirmed from the loop, a batch of deliveries made one
 * write, rotation by size keeping N files, a failed open or write retried
 * with its cause (and no half line left behind), cancel dropping what waits,
 * and the config errors of its spec.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "config.h"
#include "sink.h"
#include "store.h"

static struct event_base	*base;
static struct env		 env;
static char			 dir[] = "/tmp/aw-test-file-XXXXXX";

/* What each done said. */
struct answers {
	int		 n;
	enum delivery	 last;
	char		 cause[256];
};

static void
setup(void)
{
	strcpy(dir, "/tmp/aw-test-file-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	base = event_base_new();
	memset(&env, 0, sizeof env);
	env.base = base;
}

static void
teardown(void)
{
	char	 cmd[128];

	event_base_free(base);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(file, .init = setup, .fini = teardown, .timeout = 20);

/* Load a config whose only sink is `spec` (YAML flow map) of type File. */
static struct config *
load(const char *spec, struct cfg_errors *errs)
{
	char	 path[128];
	FILE	*f;

	snprintf(path, sizeof path, "%s/aw.yaml", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "sinks:\n  - identifier: out\n    type: File\n"
	    "    spec: %s\n", spec);
	fclose(f);
	return (config_load(path, errs));
}

static struct sink *
make_sink(struct config **confp, const char *spec)
{
	struct cfg_errors	 errs = { 0 };
	struct sink		*s;
	char			*cause = NULL;

	*confp = load(spec, &errs);
	cr_assert_not_null(*confp, "%s", errs.n > 0 ? errs.msg[0] : "?");
	cfg_errors_free(&errs);
	env.conf = *confp;
	s = sink_create(&env, &(*confp)->sinks[0], &cause);
	cr_assert_not_null(s, "%s", cause);
	return (s);
}

static void
answered(enum delivery d, int64_t retry_after_ms __unused,
    const char *cause, void *arg)
{
	struct answers	*a = arg;

	a->n++;
	a->last = d;
	snprintf(a->cause, sizeof a->cause, "%s", cause != NULL ? cause : "");
}

static void
deliver(struct sink *s, const char *id, const char *json, struct answers *a)
{
	struct outbox_entry	 e = { 0 };

	e.key = "1-0";
	e.id = (char *)id;
	e.source = "src";
	e.json = (char *)json;
	s->entry->deliver(s, &e, answered, a);
}

static void
run_until(struct answers *a, int n)
{
	while (a->n < n)
		cr_assert_geq(event_base_loop(base, EVLOOP_ONCE), 0);
}

static char *
slurp(const char *name)
{
	char		 path[256];
	FILE		*f;
	struct buf	 b = { NULL, 0, 0 };
	char		 chunk[4096];
	size_t		 n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	buf_add(&b, "", 0);
	return (buf_take(&b));
}

static int
exists(const char *name)
{
	char		 path[256];
	struct stat	 st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return (stat(path, &st) == 0);
}

Test(file, appends_json_lines_confirmed_from_the_loop)
{
	struct config	*conf;
	struct sink	*s;
	struct answers	 a = { 0 };
	char		 spec[256], *text;

	snprintf(spec, sizeof spec, "{ path: %s/events.jsonl }", dir);
	s = make_sink(&conf, spec);
	cr_assert_eq(s->entry->max_inflight, 64);
	deliver(s, "e1", "{\"id\":\"e1\"}", &a);
	deliver(s, "e2", "{\"id\":\"e2\"}", &a);
	cr_assert_eq(a.n, 0, "never from deliver()");
	run_until(&a, 2);
	cr_assert_eq(a.last, DELIVERY_OK);
	/* Stored pretty: still one line. */
	deliver(s, "e3", "{\n  \"id\": \"e3\"\n}", &a);
	run_until(&a, 3);
	text = slurp("events.jsonl");
	cr_assert_str_eq(text,
	    "{\"id\":\"e1\"}\n{\"id\":\"e2\"}\n{\"id\":\"e3\"}\n");
	free(text);
	sink_free(s);
	config_free(conf);

	/* A new instance appends to what is there. */
	s = make_sink(&conf, spec);
	deliver(s, "e4", "{\"id\":\"e4\"}", &a);
	run_until(&a, 4);
	text = slurp("events.jsonl");
	cr_assert_str_eq(text, "{\"id\":\"e1\"}\n{\"id\":\"e2\"}\n"
	    "{\"id\":\"e3\"}\n{\"id\":\"e4\"}\n");
	free(text);
	sink_free(s);
	config_free(conf);
}

/* ~300-byte lines, 1024-byte files, two kept: the newest lines survive. */
Test(file, rotates_by_size_keeping_n_files)
{
	struct config	*conf;
	struct sink	*s;
	struct answers	 a = { 0 };
	char		 spec[256], json[400], id[16], *text, *p;
	int		 i, line, prev;

	snprintf(spec, sizeof spec, "{ path: %s/ev.log, maxBytes: 1024, "
	    "keep: 2 }", dir);
	s = make_sink(&conf, spec);
	for (i = 1; i <= 20; i++) {
		snprintf(id, sizeof id, "e%d", i);
		snprintf(json, sizeof json, "{\"id\":\"%s\",\"n\":%d,"
		    "\"pad\":\"%280s\"}", id, i, "");
		deliver(s, id, json, &a);
		run_until(&a, i);
		cr_assert_eq(a.last, DELIVERY_OK);
	}
	cr_assert(exists("ev.log") && exists("ev.log.1") && exists("ev.log.2"));
	cr_assert(!exists("ev.log.3"), "only keep files are kept");
	/*
	 * Oldest to newest: ev.log.2, ev.log.1, ev.log, each under 1024
	 * bytes; together the newest lines, consecutive, ending with e20.
	 */
	prev = 0;
	for (i = 0; i < 3; i++) {
		text = slurp(i == 0 ? "ev.log.2" : i == 1 ? "ev.log.1" :
		    "ev.log");
		cr_assert_leq(strlen(text), 1024);
		cr_assert_gt(strlen(text), 0);
		for (p = text; (p = strstr(p, "\"n\":")) != NULL; p++) {
			line = atoi(p + 4);
			if (prev != 0)
				cr_assert_eq(line, prev + 1, "in order");
			prev = line;
		}
		free(text);
	}
	cr_assert_eq(prev, 20, "the newest line is in ev.log");
	sink_free(s);
	config_free(conf);
}

Test(file, failed_open_is_retried_with_its_cause)
{
	struct config	*conf;
	struct sink	*s;
	struct answers	 a = { 0 };
	char		 spec[256], sub[160], *text;

	snprintf(spec, sizeof spec, "{ path: %s/later/ev.log }", dir);
	s = make_sink(&conf, spec);
	deliver(s, "e1", "{\"id\":\"e1\"}", &a);
	run_until(&a, 1);
	cr_assert_eq(a.last, DELIVERY_RETRY);
	cr_assert(strstr(a.cause, "file out: open ") == a.cause, "%s",
	    a.cause);
	cr_assert_not_null(strstr(a.cause, "No such file or directory"));
	/* Once the directory is there, the retry goes through. */
	snprintf(sub, sizeof sub, "%s/later", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	deliver(s, "e1", "{\"id\":\"e1\"}", &a);
	run_until(&a, 2);
	cr_assert_eq(a.last, DELIVERY_OK);
	text = slurp("later/ev.log");
	cr_assert_str_eq(text, "{\"id\":\"e1\"}\n");
	free(text);
	sink_free(s);
	config_free(conf);
}

/* /dev/full takes the open and refuses every write: ENOSPC. */
Test(file, failed_write_is_retried_with_its_cause)
{
	struct config	*conf;
	struct sink	*s;
	struct answers	 a = { 0 };

	s = make_sink(&conf, "{ path: /dev/full }");
	deliver(s, "e1", "{\"id\":\"e1\"}", &a);
	deliver(s, "e2", "{\"id\":\"e2\"}", &a);
	run_until(&a, 2);
	cr_assert_eq(a.last, DELIVERY_RETRY);
	cr_assert_str_eq(a.cause,
	    "file out: write /dev/full: No space left on device");
	sink_free(s);
	config_free(conf);
}

Test(file, cancel_drops_what_waits)
{
	struct config	*conf;
	struct sink	*s;
	struct answers	 a = { 0 };
	char		 spec[256];

	snprintf(spec, sizeof spec, "{ path: %s/ev.log }", dir);
	s = make_sink(&conf, spec);
	deliver(s, "e1", "{\"id\":\"e1\"}", &a);
	s->entry->cancel(s);
	cr_assert_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1,
	    "nothing left to run");
	cr_assert_eq(a.n, 0);
	cr_assert(!exists("ev.log"));
	/* And it delivers again afterwards. */
	deliver(s, "e2", "{\"id\":\"e2\"}", &a);
	run_until(&a, 1);
	cr_assert_eq(a.last, DELIVERY_OK);
	sink_free(s);
	config_free(conf);
}

Test(file, config_errors)
{
	struct cfg_errors	 errs = { 0 };

	cr_assert_null(load("{ path: /tmp/x, maxBytes: 100 }", &errs));
	cr_assert_eq(errs.n, 1, "%zu errors", errs.n);
	cr_assert_not_null(strstr(errs.msg[0], "/aw.yaml:4:37: maxBytes of "
	    "sink \"out\" must be 0 (no rotation) or at least 1024"), "%s",
	    errs.msg[0]);
	cfg_errors_free(&errs);
	memset(&errs, 0, sizeof errs);
	cr_assert_null(load("{ path: /tmp/x, keep: 0, rotate: yes }", &errs));
	cr_assert_eq(errs.n, 2, "%zu errors", errs.n);
	cr_assert_not_null(strstr(errs.msg[0], "keep"), "%s", errs.msg[0]);
	cr_assert_not_null(strstr(errs.msg[1], "rotate"), "%s", errs.msg[1]);
	cfg_errors_free(&errs);
	memset(&errs, 0, sizeof errs);
	cr_assert_null(load("{ maxBytes: 2048 }", &errs));
	cr_assert_eq(errs.n, 1);
	cr_assert_not_null(strstr(errs.msg[0], "path"), "%s", errs.msg[0]);
	cfg_errors_free(&errs);
}
