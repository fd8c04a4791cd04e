/*
 * test-trigger.c: routing events to sinks (no triggers: all to all; with
 * triggers: names, conditions, enabled, config order, each sink once, a
 * Regex over its match limit), and Harness trigger YAML mapped to a source
 * plus a trigger.  tests/fixtures/triggers: good-*.yaml load, each
 * bad-NAME.yaml gives exactly the messages in bad-NAME.expect.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "cond.h"
#include "trigger.h"
#include "unit.h"

#define FIXTURES	"tests/fixtures/triggers"

/* Loads YAML text written to a file in a fresh temporary directory. */
static struct config *
load_text(const char *text, struct cfg_errors *errs)
{
	char	 dir[] = "/tmp/aw-test-trigger-XXXXXX", path[64];
	FILE	*f;
	struct config *conf;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/aw.yaml", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	conf = config_load(path, errs);
	unlink(path);
	rmdir(dir);
	return (conf);
}

static struct config *
load_ok(const char *text)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*conf;

	conf = load_text(text, &errs);
	cr_assert_not_null(conf, "%s", errs.n > 0 ? errs.msg[0] : "?");
	cfg_errors_free(&errs);
	return (conf);
}

#define HEAD \
	"connectors:\n" \
	"  - connector:\n" \
	"      identifier: hub\n" \
	"      type: DockerRegistry\n" \
	"      spec: { dockerRegistryUrl: 'https://r.example/v2/' }\n" \
	"sources:\n" \
	"  - identifier: a\n" \
	"    type: DockerRegistry\n" \
	"    spec: { connectorRef: hub, imagePath: library/a }\n" \
	"  - identifier: b\n" \
	"    type: DockerRegistry\n" \
	"    spec: { connectorRef: hub, imagePath: library/b }\n" \
	"sinks:\n" \
	"  - { identifier: s1, type: Stdout }\n" \
	"  - { identifier: s2, type: Stdout }\n" \
	"  - { identifier: s3, type: Stdout }\n"

static const char	*event_type = "artifact.created";

static cJSON *
event_of(const char *version, const char *team)
{
	cJSON	*ev, *data, *labels;

	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "id", "e1");
	cJSON_AddStringToObject(ev, "type", event_type);
	data = cJSON_AddObjectToObject(ev, "data");
	cJSON_AddStringToObject(data, "version", version);
	cJSON_AddStringToObject(data, "digest", "sha256:0123");
	labels = cJSON_AddObjectToObject(data, "labels");
	if (team != NULL)
		cJSON_AddStringToObject(labels, "team", team);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(data, "metadata"),
	    "SHA", "sha256:0123");
	return (ev);
}

/* The sinks of an event of source `src`, joined with ",". */
static char *
route(struct config *conf, const char *src, const char *version,
    const char *team)
{
	const char	**sinks;
	struct buf	 b = { NULL, 0, 0 };
	cJSON		*ev = event_of(version, team);
	size_t		 n, i;

	sinks = xcalloc(conf->nsinks + 1, sizeof *sinks);
	cr_assert_eq(trigger_route(conf, config_source(conf, src), ev, sinks,
	    &n), 0);
	cr_assert_leq(n, conf->nsinks);
	buf_add(&b, "", 0);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i > 0 ? "," : "", sinks[i]);
	free(sinks);
	cJSON_Delete(ev);
	return (buf_take(&b));
}

static void
check_route(struct config *conf, const char *src, const char *version,
    const char *team, const char *want)
{
	char	*got = route(conf, src, version, team);

	cr_assert_str_eq(got, want, "%s %s team=%s", src, version,
	    team != NULL ? team : "-");
	free(got);
}

Test(route, no_triggers_every_source_to_every_sink)
{
	struct config	*conf = load_ok(HEAD);

	check_route(conf, "a", "1.0", NULL, "s1,s2,s3");
	check_route(conf, "b", "anything", NULL, "s1,s2,s3");
	config_free(conf);
}

Test(route, names_conditions_order_and_each_sink_once)
{
	struct config	*conf = load_ok(HEAD
	    "triggers:\n"
	    "  - identifier: stable\n"
	    "    sources: [a]\n"
	    "    sinks: [s3, s1]\n"
	    "    eventConditions:\n"
	    "      - { key: build, operator: Regex, value: '^\\d+\\.\\d+$' }\n"
	    "  - identifier: web_team\n"
	    "    sources: [a, b]\n"
	    "    sinks: [s1]\n"
	    "    metadataConditions:\n"
	    "      - { key: labels.team, operator: In, value: 'web, api' }\n"
	    "  - identifier: everything_b\n"
	    "    sources: [b]\n"
	    "    sinks: [s2]\n");

	/* Sinks come in config order, whatever the trigger lists. */
	check_route(conf, "a", "1.2", NULL, "s1,s3");
	check_route(conf, "a", "1.2-rc1", NULL, "");
	check_route(conf, "a", "1.2-rc1", "web", "s1");
	/* s1 from two triggers: once. */
	check_route(conf, "a", "1.2", "api", "s1,s3");
	check_route(conf, "b", "1.2", NULL, "s2");
	check_route(conf, "b", "x", "web", "s1,s2");
	check_route(conf, "b", "x", "ops", "s2");
	config_free(conf);
}

Test(route, disabled_trigger_routes_nothing)
{
	struct config	*conf = load_ok(HEAD
	    "triggers:\n"
	    "  - { identifier: off, enabled: false, sources: [a], "
	    "sinks: [s1] }\n"
	    "  - { identifier: on, sources: [a], sinks: [s2] }\n");

	check_route(conf, "a", "1.0", NULL, "s2");
	check_route(conf, "b", "1.0", NULL, "");
	cr_assert_eq(conf->triggers[0].enabled, 0);
	cr_assert_eq(conf->triggers[1].enabled, 1);
	cr_assert_eq(config_routes(conf, config_source(conf, "a"),
	    config_sink(conf, "s1")), 0);
	cr_assert_eq(config_routes(conf, config_source(conf, "a"),
	    config_sink(conf, "s2")), 1);
	config_free(conf);
}

Test(route, regex_over_its_limit_counts_as_not_matched)
{
	struct config	*conf = load_ok(HEAD
	    "triggers:\n"
	    "  - identifier: slow\n"
	    "    sources: [a]\n"
	    "    sinks: [s1]\n"
	    "    eventConditions:\n"
	    "      - { key: build, operator: Regex, value: '^(a+)+$' }\n"
	    "  - { identifier: fast, sources: [a], sinks: [s2] }\n");

	check_route(conf, "a", "aaaa", NULL, "s1,s2");
	check_route(conf, "a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
	    NULL, "s2");
	config_free(conf);
}

/* Check the route of an event of this type. */
static void
check_typed(struct config *conf, const char *src, const char *type,
    const char *want)
{
	event_type = type;
	check_route(conf, src, "1.0", NULL, want);
	event_type = "artifact.created";
}

#define HEAD_FILTERED \
	"connectors:\n" \
	"  - connector:\n" \
	"      identifier: hub\n" \
	"      type: DockerRegistry\n" \
	"      spec: { dockerRegistryUrl: 'https://r.example/v2/' }\n" \
	"sources:\n" \
	"  - identifier: a\n" \
	"    type: DockerRegistry\n" \
	"    spec: { connectorRef: hub, imagePath: library/a }\n" \
	"  - identifier: b\n" \
	"    type: DockerRegistry\n" \
	"    spec: { connectorRef: hub, imagePath: library/b }\n" \
	"sinks:\n" \
	"  - { identifier: s1, type: Stdout, types: [artifact.updated] }\n" \
	"  - { identifier: s2, type: Stdout, sources: [b] }\n" \
	"  - identifier: s3\n" \
	"    type: Stdout\n" \
	"    types: [artifact.created, artifact.updated]\n" \
	"    sources: [a, b]\n"

Test(route, sink_filter_without_triggers)
{
	struct config	*conf = load_ok(HEAD_FILTERED);

	check_typed(conf, "a", "artifact.created", "s3");
	check_typed(conf, "a", "artifact.updated", "s1,s3");
	check_typed(conf, "b", "artifact.created", "s2,s3");
	check_typed(conf, "b", "artifact.updated", "s1,s2,s3");
	/* An event without a type passes only sinks without `types`. */
	check_typed(conf, "b", "something.else", "s2");
	cr_assert_eq(config_routes(conf, config_source(conf, "a"),
	    config_sink(conf, "s2")), 0);
	cr_assert_eq(config_routes(conf, config_source(conf, "b"),
	    config_sink(conf, "s2")), 1);
	config_free(conf);
}

/* The filter narrows what the triggers route; it never widens it. */
Test(route, sink_filter_beside_triggers)
{
	struct config	*conf = load_ok(HEAD_FILTERED
	    "triggers:\n"
	    "  - { identifier: t1, sources: [a], sinks: [s1, s2, s3] }\n"
	    "  - { identifier: t2, sources: [b], sinks: [s1] }\n");

	check_typed(conf, "a", "artifact.created", "s3");
	check_typed(conf, "a", "artifact.updated", "s1,s3");
	check_typed(conf, "b", "artifact.created", "");
	check_typed(conf, "b", "artifact.updated", "s1");
	cr_assert_eq(config_routes(conf, config_source(conf, "a"),
	    config_sink(conf, "s2")), 0);
	cr_assert_eq(config_routes(conf, config_source(conf, "b"),
	    config_sink(conf, "s3")), 0);
	config_free(conf);
}

Test(harness, trigger_yaml_becomes_a_source_and_a_trigger)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*conf;
	struct source_conf	*sc;
	struct trigger_conf	*tc;

	cr_assert_eq(chdir(FIXTURES), 0, "run from the top of the tree");
	conf = config_load("good-harness.yaml", &errs);
	cr_assert_not_null(conf, "%s", errs.n > 0 ? errs.msg[0] : "?");
	cr_assert_eq(conf->nsources, 3);
	cr_assert_eq(conf->ntriggers, 3);

	sc = config_source(conf, "nginx_releases");
	cr_assert_not_null(sc);
	cr_assert_str_eq(sc->type, "DockerRegistry");
	cr_assert_str_eq(sc->connector_ref, "dockerhub");
	cr_assert_eq(sc->interval_ms, 5 * 60 * 1000);
	cr_assert_str_eq(cfg_node_get(sc->spec, "imagePath")->value,
	    "library/nginx");
	cr_assert_null(cfg_node_get(sc->spec, "tag"),
	    "<+trigger.artifact.build> is every version, not a tag");
	cr_assert_null(cfg_node_get(sc->spec, "eventConditions"));
	tc = &conf->triggers[0];
	cr_assert_str_eq(tc->id, "nginx_releases");
	cr_assert_eq(tc->enabled, 1);
	cr_assert_eq(tc->sources.n, 1);
	cr_assert_str_eq(tc->sources.v[0], "nginx_releases");
	cr_assert_eq(tc->sinks.n, 1);
	cr_assert_str_eq(tc->sinks.v[0], "ci");
	cr_assert_not_null(tc->conds);
	cr_assert_eq(tc->conds->n, 2);

	/* No sinks: every sink; enabled: false is kept, inactive. */
	sc = config_source(conf, "alpine");
	cr_assert_not_null(sc);
	cr_assert_eq(sc->interval_ms, 60 * 1000, "the default interval");
	tc = &conf->triggers[1];
	cr_assert_eq(tc->enabled, 0);
	cr_assert_eq(tc->sinks.n, 2);
	cr_assert_str_eq(tc->sinks.v[0], "ci");
	cr_assert_str_eq(tc->sinks.v[1], "console");

	check_route(conf, "nginx_releases", "1.27.3", NULL, "ci");
	check_route(conf, "nginx_releases", "1.27.3-alpine", NULL, "");
	check_route(conf, "nginx_releases", "mainline", NULL, "");
	check_route(conf, "alpine", "3.20", NULL, "");
	config_free(conf);
	cfg_errors_free(&errs);
}

Test(harness, our_trigger_may_name_a_harness_triggers_source)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*conf;
	cJSON			*ev;
	const char		*sinks[2];
	size_t			 n;

	cr_assert_eq(chdir(FIXTURES), 0, "run from the top of the tree");
	conf = config_load("good-harness.yaml", &errs);
	cr_assert_not_null(conf);
	ev = event_of("1.27.3", NULL);
	cJSON_AddStringToObject(cJSON_GetObjectItem(cJSON_GetObjectItem(ev,
	    "data"), "labels"), "org.opencontainers.image.vendor", "Docker");
	cr_assert_eq(trigger_route(conf, config_source(conf, "redis"), ev,
	    sinks, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(sinks[0], "console");
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(ev, "data"), "version",
	    cJSON_CreateString("latest"));
	cr_assert_eq(trigger_route(conf, config_source(conf, "redis"), ev,
	    sinks, &n), 0);
	cr_assert_eq(n, 0, "NotIn latest, edge");
	cJSON_Delete(ev);
	config_free(conf);
	cfg_errors_free(&errs);
}

static char *
joined(const struct cfg_errors *errs)
{
	struct buf	 b = { NULL, 0, 0 };
	size_t		 i;

	buf_add(&b, "", 0);
	for (i = 0; i < errs->n; i++)
		buf_printf(&b, "%s\n", errs->msg[i]);
	return (buf_take(&b));
}

static void
check_bad_file(__unused const char *dir, const char *file, const char *want,
    __unused void *arg)
{
	struct cfg_errors	 errs = { 0 };
	char			*got;

	cr_expect_null(config_load(file, &errs), "%s loaded", file);
	got = joined(&errs);
	cr_expect_str_eq(got, want, "%s: got\n%s", file, got);
	free(got);
	cfg_errors_free(&errs);
}

Test(fixtures, bad_files_give_expected_errors)
{
	size_t	 files;

	cr_assert_eq(chdir(FIXTURES), 0, "run from the top of the tree");
	files = ut_expect_files(".", "bad-", ".yaml", check_bad_file, NULL);
	cr_assert_geq(files, 2, "the fixtures were not found");
}
