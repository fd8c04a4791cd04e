/*
 * test-config.c: the configuration loader.  The YAML tree and its positions;
 * cfg_apply() with key tables made here for the purpose; whole files from
 * tests/fixtures/config: good ones load with the right values and defaults,
 * each bad-NAME.yaml gives exactly the messages in bad-NAME.expect (a new
 * case is a new pair of files); secrets from the environment and from files;
 * routing by triggers.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"
#include "connector.h"
#include "provider.h"
#include "sink.h"
#include "unit.h"

#define FIXTURES	"tests/fixtures/config"

/* The fixtures name files relative to their directory. */
static void
in_fixtures(void)
{
	cr_assert_eq(chdir(FIXTURES), 0, "run from the top of the tree");
}

static char *
joined(const struct cfg_errors *errs)
{
	struct buf	 b = { 0 };
	size_t		 i;

	buf_adds(&b, "");
	for (i = 0; i < errs->n; i++)
		buf_printf(&b, "%s\n", errs->msg[i]);
	return (buf_take(&b));
}

/* Writes text to a file in the current directory and loads it. */
static struct config *
load_text(const char *name, const char *text, struct cfg_errors *errs)
{
	FILE	*f;

	f = fopen(name, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return (config_load(name, errs));
}

static struct cfg_node *
parse(const char *text, struct cfg_errors *errs)
{
	struct cfg_node	*root;

	cr_assert_eq(cfg_parse_text(text, strlen(text), &root, errs), 0,
	    "%s", errs->n ? errs->msg[0] : "");
	return (root);
}

/* The YAML tree. */

Test(yaml, positions_kinds_and_quoting)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	const struct cfg_node	*list, *n;

	root = parse("a: 1\nlist:\n  - x\n  - 'y'\nm: {k: v}\nempty:\n", &errs);
	cr_assert_eq(errs.n, 0);
	cr_assert_eq(root->kind, CFG_MAP);
	cr_assert_eq(root->n, 4);
	n = cfg_node_get(root, "a");
	cr_assert_str_eq(n->value, "1");
	cr_assert_eq(n->line, 1);
	cr_assert_eq(n->col, 4);
	cr_assert_eq(n->quoted, 0);
	list = cfg_node_get(root, "list");
	cr_assert_eq(list->kind, CFG_SEQ);
	cr_assert_eq(list->n, 2);
	cr_assert_eq(list->items[1]->line, 4);
	cr_assert_eq(list->items[1]->col, 5);
	cr_assert_eq(list->items[1]->quoted, 1);
	cr_assert_eq(root->keys[1]->line, 2);
	cr_assert_eq(root->keys[1]->col, 1);
	n = cfg_node_get(cfg_node_get(root, "m"), "k");
	cr_assert_str_eq(n->value, "v");
	cr_assert_eq(n->col, 8);
	cr_assert(cfg_node_is_null(cfg_node_get(root, "empty")));
	cr_assert(!cfg_node_is_null(list->items[1]));
	cr_assert_null(cfg_node_get(root, "missing"));
	cr_assert_null(cfg_node_get(list, "a"), "a list has no keys");
	cfg_node_free(root);
}

Test(yaml, quoted_null_is_a_value)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;

	root = parse("a: ''\nb: ~\nc: \"null\"\nd: null\n", &errs);
	cr_assert(!cfg_node_is_null(cfg_node_get(root, "a")));
	cr_assert(cfg_node_is_null(cfg_node_get(root, "b")));
	cr_assert(!cfg_node_is_null(cfg_node_get(root, "c")));
	cr_assert(cfg_node_is_null(cfg_node_get(root, "d")));
	cfg_node_free(root);
}

Test(yaml, empty_text_is_no_tree)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;

	cr_assert_eq(cfg_parse_text("# nothing\n", 10, &root, &errs), 0);
	cr_assert_null(root);
	cr_assert_eq(errs.n, 0);
}

Test(yaml, duplicate_keys_anchors_aliases)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	char			*all;

	root = parse("a: 1\nb: &x 2\na: 3\nc: *x\n", &errs);
	all = joined(&errs);
	cr_assert_str_eq(all,
	    "2:4: anchors (&x) are not supported: write the value out\n"
	    "3:1: duplicate key \"a\" (first at line 1)\n"
	    "4:4: aliases (*x) are not supported: write the value out\n");
	cr_assert_str_eq(cfg_node_get(root, "a")->value, "1",
	    "the first of duplicate keys stays");
	cr_assert_eq(root->n, 3);
	free(all);
	cfg_node_free(root);
	cfg_errors_free(&errs);
}

Test(yaml, syntax_error_has_position)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	const char		*text = "a: [1, 2\nb: 3\n";

	cr_assert_eq(cfg_parse_text(text, strlen(text), &root, &errs), -1);
	cr_assert_null(root);
	cr_assert_eq(errs.n, 1);
	cr_assert(strstr(errs.msg[0], "YAML syntax error: ") != NULL,
	    "%s", errs.msg[0]);
	cr_assert(strncmp(errs.msg[0], "2:", 2) == 0, "%s", errs.msg[0]);
	cfg_errors_free(&errs);
}

Test(yaml, refuses_what_the_config_does_not_use)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	struct buf		 deep = { 0 };
	const char		*two = "a: 1\n---\nb: 2\n";
	const char		*nul = "a: \"x\\0y\"\n";
	const char		*key = "? [a, b]\n: 1\nc: 2\n";
	int			 i;

	cr_assert_eq(cfg_parse_text(two, strlen(two), &root, &errs), -1);
	cr_assert_str_eq(errs.msg[0], "2:1: only one YAML document is "
	    "allowed in a config file");
	cfg_errors_free(&errs);

	for (i = 0; i < 100; i++)
		buf_adds(&deep, "[");
	cr_assert_eq(cfg_parse_text(deep.data, deep.len, &root, &errs), -1);
	cr_assert_str_eq(errs.msg[0], "1:65: nesting deeper than 64 levels");
	cfg_errors_free(&errs);
	buf_free(&deep);

	root = parse(nul, &errs);
	cr_assert_str_eq(errs.msg[0], "1:4: a value must not contain a NUL "
	    "character");
	cfg_node_free(root);
	cfg_errors_free(&errs);

	root = parse(key, &errs);
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(errs.msg[0], "1:3: a key must be a string, not a "
	    "list");
	cr_assert_eq(root->n, 1);
	cr_assert_str_eq(root->keys[0]->value, "c");
	cfg_node_free(root);
	cfg_errors_free(&errs);
}

/* cfg_apply() with a key table of every type. */

struct thing {
	char			*name;
	int			 on;
	long long		 count;
	int64_t			 every_ms;
	int			 colour;
	char			*password_ref;
	struct cfg_strlist	 tags;
	struct cfg_strmap	 headers;
	char			*inner_a;
	long long		 inner_b;
	const struct cfg_node	*raw;
	long long		 floor;
};

static const char *const colours[] = { "Red", "Green", "Blue", NULL };

#define T(f)	offsetof(struct thing, f)

static const struct cfg_key inner_keys[] = {
	{ .name = "a", .type = CFG_STRING, .off = T(inner_a),
	  .flags = CFG_REQUIRED },
	{ .name = "b", .type = CFG_INT, .off = T(inner_b), .def = "7" },
	{ .name = NULL }
};

static const struct cfg_key thing_keys[] = {
	{ .name = "name", .type = CFG_STRING, .off = T(name),
	  .flags = CFG_REQUIRED },
	{ .name = "on", .type = CFG_BOOL, .off = T(on), .def = "true" },
	{ .name = "count", .type = CFG_INT, .off = T(count), .def = "5",
	  .min = 1, .max = 10 },
	{ .name = "every", .type = CFG_DURATION, .off = T(every_ms),
	  .def = "1m", .min = 1000, .max = 3600000 },
	{ .name = "colour", .type = CFG_ENUM, .off = T(colour),
	  .def = "Green", .choices = colours },
	{ .name = "passwordRef", .type = CFG_SECRET, .off = T(password_ref) },
	{ .name = "tags", .type = CFG_STRLIST, .off = T(tags),
	  .def = "[x, y]" },
	{ .name = "headers", .type = CFG_STRMAP, .off = T(headers) },
	{ .name = "inner", .type = CFG_OBJECT, .sub = inner_keys },
	{ .name = "orgIdentifier", .type = CFG_IGNORE },
	{ .name = "raw", .type = CFG_NODE, .off = T(raw) },
	{ .name = "floor", .type = CFG_INT, .off = T(floor), .min = -3 },
	{ .name = NULL }
};

static int
apply_text(const char *text, struct thing *t, struct cfg_errors *errs,
    struct cfg_node **root)
{
	*root = parse(text, errs);
	memset(t, 0, sizeof *t);
	return (cfg_apply(thing_keys, t, *root, errs));
}

Test(apply, defaults)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	struct thing		 t;

	cr_assert_eq(apply_text("name: n\n", &t, &errs, &root), 0);
	cr_assert_str_eq(t.name, "n");
	cr_assert_eq(t.on, 1);
	cr_assert_eq(t.count, 5);
	cr_assert_eq(t.every_ms, 60000);
	cr_assert_eq(t.colour, 1);
	cr_assert_null(t.password_ref);
	cr_assert_eq(t.tags.n, 2);
	cr_assert_str_eq(t.tags.v[1], "y");
	cr_assert_eq(t.headers.n, 0);
	cr_assert_null(t.inner_a);
	cr_assert_eq(t.inner_b, 7, "defaults of nested keys apply too");
	cr_assert_null(t.raw);
	cfg_free(thing_keys, &t);
	cr_assert_null(t.name);
	cr_assert_null(t.tags.v);
	cfg_node_free(root);
}

Test(apply, every_type)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	struct thing		 t;

	cr_assert_eq(apply_text(
	    "name: 'quoted'\n"
	    "on: false\n"
	    "count: 10\n"
	    "every: 1h\n"
	    "colour: Blue\n"
	    "passwordRef: pw\n"
	    "tags: [a, 'b c', 3]\n"
	    "headers: {X-One: '1', X-Empty: }\n"
	    "inner: {a: A, b: -2}\n"
	    "orgIdentifier: {anything: [goes]}\n"
	    "raw: [1, 2]\n"
	    "floor: -3\n", &t, &errs, &root), 0, "%s",
	    errs.n ? errs.msg[0] : "");
	cr_assert_str_eq(t.name, "quoted");
	cr_assert_eq(t.on, 0);
	cr_assert_eq(t.count, 10);
	cr_assert_eq(t.every_ms, 3600000);
	cr_assert_eq(t.colour, 2);
	cr_assert_str_eq(t.password_ref, "pw", "not checked without a config");
	cr_assert_eq(t.tags.n, 3);
	cr_assert_str_eq(t.tags.v[1], "b c");
	cr_assert_str_eq(t.tags.v[2], "3");
	cr_assert_eq(t.headers.n, 2);
	cr_assert_str_eq(t.headers.keys[0], "X-One");
	cr_assert_str_eq(t.headers.values[0], "1");
	cr_assert_str_eq(t.headers.values[1], "");
	cr_assert_str_eq(t.inner_a, "A");
	cr_assert_eq(t.inner_b, -2);
	cr_assert_eq(t.raw->kind, CFG_SEQ);
	cr_assert_eq(t.raw->n, 2);
	cr_assert_eq(t.floor, -3);
	cfg_free(thing_keys, &t);
	cfg_node_free(root);
}

Test(apply, null_value_keeps_default)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	struct thing		 t;

	cr_assert_eq(apply_text("name: n\ncount:\ncolour: ~\n", &t, &errs,
	    &root), 0);
	cr_assert_eq(t.count, 5);
	cr_assert_eq(t.colour, 1);
	cfg_free(thing_keys, &t);
	cfg_node_free(root);
}

Test(apply, errors_point_at_the_value)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	struct thing		 t;
	char			*all;

	cr_assert_eq(apply_text(
	    "nmae: n\n"
	    "on: yes\n"
	    "count: 11\n"
	    "every: 90\n"
	    "colour: blue\n"
	    "tags: {a: b}\n"
	    "headers:\n  X: [1]\n"
	    "inner: {b: x}\n"
	    "raw:\n"
	    "floor: -4\n"
	    "name: [n]\n", &t, &errs, &root), 11);
	all = joined(&errs);
	cr_assert_str_eq(all,
	    "1:1: unknown key \"nmae\" (did you mean \"name\"?)\n"
	    "2:5: on must be true or false, not \"yes\"\n"
	    "3:8: count must be between 1 and 10, not 11\n"
	    "4:8: every: bad duration \"90\" (use a number with a unit: "
	    "ms, s, m, h or d, e.g. 30s, 5m, 1h30m)\n"
	    "5:9: colour must be one of Red, Green, Blue, not \"blue\" "
	    "(did you mean \"Blue\"?)\n"
	    "6:7: tags must be a list of strings, not a map\n"
	    "8:6: headers.X must be a string, not a list\n"
	    "9:12: inner.b must be a whole number, not \"x\"\n"
	    "9:8: missing required key \"a\" in inner\n"
	    "11:8: floor must be at least -3, not -4\n"
	    "12:7: name must be a string, not a list\n");
	cr_assert_eq(t.count, 5, "a bad value leaves the default");
	cr_assert_eq(t.tags.n, 2);
	free(all);
	cfg_free(thing_keys, &t);
	cfg_node_free(root);
	cfg_errors_free(&errs);
}

Test(apply, missing_and_context)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	struct thing		 t;

	root = parse("x:\n  count: 0\n  spare: 1\n", &errs);
	memset(&t, 0, sizeof t);
	errs.file = "f.yaml";
	errs.where = "thing \"one\"";
	cr_assert_eq(cfg_apply_at(thing_keys, &t, cfg_node_get(root, "x"),
	    root, "spec", &errs), 3);
	cr_assert_str_eq(errs.msg[0], "f.yaml:2:10: spec.count of thing "
	    "\"one\" must be between 1 and 10, not 0");
	cr_assert_str_eq(errs.msg[1], "f.yaml:3:3: unknown key \"spare\" in "
	    "spec of thing \"one\"");
	cr_assert_str_eq(errs.msg[2], "f.yaml:2:3: missing required key "
	    "\"name\" in spec of thing \"one\"");
	cfg_errors_free(&errs);

	cr_assert_eq(cfg_apply_at(thing_keys, &t, NULL, root, "spec", &errs),
	    1, "an absent map: defaults, and required keys are missing");
	cr_assert_str_eq(errs.msg[0], "f.yaml:1:1: missing required key "
	    "\"name\" in spec of thing \"one\"");
	cfg_errors_free(&errs);
	cfg_free(thing_keys, &t);
	cfg_node_free(root);
}

Test(apply, durations)
{
	static const struct {
		const char	*text;
		int64_t		 ms;
	} ok[] = {
		{ "1s", 1000 }, { "90s", 90000 }, { "30m15s", 1815000 },
		{ "1h", 3600000 }, { "1500ms", 1500 },
	};
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	struct thing		 t;
	char			 text[64];
	size_t			 i;

	for (i = 0; i < nitems(ok); i++) {
		snprintf(text, sizeof text, "name: n\nevery: %s\n", ok[i].text);
		cr_assert_eq(apply_text(text, &t, &errs, &root), 0,
		    "%s", ok[i].text);
		cr_assert_eq(t.every_ms, ok[i].ms, "%s", ok[i].text);
		cfg_free(thing_keys, &t);
		cfg_node_free(root);
	}
	cr_assert_eq(apply_text("name: n\nevery: 999ms\n", &t, &errs, &root),
	    1);
	cr_assert_str_eq(errs.msg[0], "2:8: every must be at least 1s, not "
	    "999ms");
	cfg_errors_free(&errs);
	cfg_free(thing_keys, &t);
	cfg_node_free(root);
	cr_assert_eq(apply_text("name: n\nevery: 1h0m1s\n", &t, &errs, &root),
	    1);
	cr_assert_str_eq(errs.msg[0], "2:8: every must be at most 1h, not "
	    "1h1s");
	cfg_errors_free(&errs);
	cfg_free(thing_keys, &t);
	cfg_node_free(root);
}

Test(apply, secrets_must_exist)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root;
	struct thing		 t;
	struct secret		 s[] = { { "docker_pwd", "env:X" } };
	struct config		 conf = { .secrets = s, .nsecrets = 1 };

	root = parse("name: n\npasswordRef: docker_pw\n", &errs);
	memset(&t, 0, sizeof t);
	errs.conf = &conf;
	cr_assert_eq(cfg_apply(thing_keys, &t, root, &errs), 1);
	cr_assert_str_eq(errs.msg[0], "2:14: passwordRef: secret "
	    "\"docker_pw\" is not defined under secrets: (did you mean "
	    "\"docker_pwd\"?)");
	cr_assert_null(t.password_ref);
	cfg_errors_free(&errs);
	cfg_free(thing_keys, &t);
	cfg_node_free(root);
}

Test(apply, errors_sort_into_file_order)
{
	struct cfg_errors	 errs = { 0 };

	cfg_error_at(&errs, 5, 1, "e");
	cfg_error_at(&errs, 2, 9, "b");
	cfg_error_at(&errs, 2, 3, "a");
	cfg_error_at(&errs, 5, 1, "f");
	cfg_error_at(&errs, 0, 0, "whole file");
	cfg_errors_sort(&errs);
	cr_assert_str_eq(errs.msg[0], "whole file");
	cr_assert_str_eq(errs.msg[1], "2:3: a");
	cr_assert_str_eq(errs.msg[2], "2:9: b");
	cr_assert_str_eq(errs.msg[3], "5:1: e", "equal positions keep order");
	cr_assert_str_eq(errs.msg[4], "5:1: f");
	cfg_errors_free(&errs);
}

Test(apply, suggestions)
{
	struct cfg_suggest	 sg;

	cfg_suggest_init(&sg, "intervall");
	cfg_suggest_try(&sg, "maxTags");
	cfg_suggest_try(&sg, "interval");
	cr_assert_str_eq(cfg_suggest_best(&sg), "interval");
	cfg_suggest_init(&sg, "dockerhub");
	cfg_suggest_try(&sg, "DockerHub");
	cr_assert_str_eq(cfg_suggest_best(&sg), "DockerHub");
	cfg_suggest_init(&sg, "zzz");
	cfg_suggest_try(&sg, "interval");
	cr_assert_null(cfg_suggest_best(&sg));
}

/* Whole files. */

Test(load, full_file)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*conf;
	struct source_conf	*nginx, *app;
	struct sink_conf	*ci, *console;

	in_fixtures();
	conf = config_load("good-full.yaml", &errs);
	cr_assert_not_null(conf, "%s", errs.n ? errs.msg[0] : "");
	cr_assert_eq(conf->store.type, STORE_REDIS);
	cr_assert_str_eq(conf->store.url, "redis://watcher@127.0.0.1:6380/2");
	cr_assert_str_eq(conf->store.password, "redis_pwd");
	cr_assert_str_eq(conf->store.prefix, "aw-test");
	cr_assert_eq(conf->store.retention_ms, 7LL * 86400 * 1000);
	cr_assert_eq(conf->nsecrets, 3);
	cr_assert_str_eq(conf->secrets[1].name, "dockerhub_pwd");
	cr_assert_str_eq(conf->secrets[1].ref, "file:secrets/dockerhub");

	cr_assert_eq(conf->nconnectors, 2);
	cr_assert_str_eq(conf->connectors[0].id, "dockerhub");
	cr_assert_str_eq(conf->connectors[0].type, "DockerRegistry");
	cr_assert_eq(conf->connectors[0].entry,
	    connector_find("DockerRegistry"));
	cr_assert_not_null(conf->connectors[0].data);
	cr_assert_str_eq(cfg_node_get(conf->connectors[1].spec,
	    "dockerRegistryUrl")->value, "http://127.0.0.1:5000");

	cr_assert_eq(conf->nsources, 2);
	nginx = config_source(conf, "nginx");
	cr_assert_eq(nginx, &conf->sources[0]);
	cr_assert_eq(nginx->entry, provider_find("DockerRegistry"));
	cr_assert_str_eq(nginx->connector_ref, "dockerhub");
	cr_assert_eq(nginx->connector, &conf->connectors[0]);
	cr_assert_eq(nginx->interval_ms, 300000);
	cr_assert_eq(nginx->max_tags, 500);
	cr_assert_eq(nginx->emit_existing, 1);
	cr_assert_eq(nginx->fetch_labels, 1);
	cr_assert_eq(nginx->digest_check_ms, 0);
	cr_assert_eq(nginx->digest_checks, 3);
	cr_assert_str_eq(cfg_node_get(nginx->spec, "tagRegex")->value,
	    "^1\\.\\d+\\.\\d+$");
	cr_assert_not_null(nginx->data);
	app = config_source(conf, "app.v2");
	cr_assert_not_null(app);
	cr_assert_eq(app->connector, &conf->connectors[1]);
	cr_assert_null(config_source(conf, "nope"));

	cr_assert_eq(conf->nsinks, 2);
	ci = config_sink(conf, "ci");
	console = config_sink(conf, "console");
	cr_assert_eq(ci->entry, sink_find("Webhook"));
	cr_assert_eq(ci->max_attempts, 5);
	cr_assert_eq(ci->max_age_ms, 2 * 3600 * 1000);
	cr_assert_not_null(ci->data);
	cr_assert_eq(console->entry, sink_find("Stdout"));
	cr_assert_null(console->spec);
	cr_assert_null(config_sink(conf, "nope"));

	cr_assert_eq(conf->ntriggers, 2);
	cr_assert_str_eq(conf->triggers[1].sinks.v[1], "console");
	cr_assert(config_routes(conf, nginx, ci));
	cr_assert(!config_routes(conf, nginx, console));
	cr_assert(config_routes(conf, app, ci));
	cr_assert(config_routes(conf, app, console));
	config_free(conf);
}

Test(load, defaults_and_all_to_all)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*conf;
	struct source_conf	*s;

	in_fixtures();
	conf = config_load("good-minimal.yaml", &errs);
	cr_assert_not_null(conf, "%s", errs.n ? errs.msg[0] : "");
	cr_assert_eq(conf->store.type, STORE_LMDB);
	cr_assert_null(conf->store.path);
	cr_assert_null(conf->store.url);
	cr_assert_str_eq(conf->store.prefix, "aw");
	cr_assert_eq(conf->store.retention_ms, 30LL * 86400 * 1000);
	s = &conf->sources[0];
	cr_assert_eq(s->interval_ms, 60000);
	cr_assert_eq(s->max_tags, 10000);
	cr_assert_eq(s->emit_existing, 0);
	cr_assert_eq(s->fetch_labels, 0);
	cr_assert_eq(s->digest_check_ms, 3600000);
	cr_assert_eq(s->digest_checks, 20);
	cr_assert_eq(conf->sinks[0].max_attempts, 20);
	cr_assert_eq(conf->sinks[0].max_age_ms, 0);
	cr_assert_eq(conf->ntriggers, 0);
	cr_assert(config_routes(conf, s, &conf->sinks[0]),
	    "no triggers: every source feeds every sink");
	config_free(conf);

	conf = config_load("good-empty.yaml", &errs);
	cr_assert_not_null(conf);
	cr_assert_eq(conf->nsources + conf->nsinks + conf->nconnectors, 0);
	cr_assert_eq(conf->store.type, STORE_LMDB);
	config_free(conf);
}

Test(load, missing_file)
{
	struct cfg_errors	 errs = { 0 };

	in_fixtures();
	cr_assert_null(config_load("no-such-file.yaml", &errs));
	cr_assert_eq(errs.n, 1);
	cr_assert_str_eq(errs.msg[0], "no-such-file.yaml: cannot open: No "
	    "such file or directory");
	cfg_errors_free(&errs);
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
	cr_expect_gt(errs.n, 0, "%s", file);
	free(got);
	cfg_errors_free(&errs);
}

/* Each bad-NAME.yaml must give exactly the lines of bad-NAME.expect. */
Test(load, bad_files_give_expected_errors)
{
	size_t	 files;

	in_fixtures();
	files = ut_expect_files(".", "bad-", ".yaml", check_bad_file, NULL);
	cr_assert_geq(files, 15, "the fixtures were not found");
}

Test(load, all_errors_of_a_file_in_one_run)
{
	struct cfg_errors	 errs = { 0 };
	size_t			 i;

	in_fixtures();
	cr_assert_null(config_load("bad-types.yaml", &errs));
	cr_assert_eq(errs.n, 10);
	for (i = 1; i < errs.n; i++)
		cr_assert_geq(errs.pos[i].line, errs.pos[i - 1].line);
	cfg_errors_free(&errs);
}

Test(load, triggers_before_sources_are_checked_in_file_order)
{
	struct cfg_errors	 errs = { 0 };
	char			*all;

	cr_assert_eq(chdir("/tmp"), 0);
	cr_assert_null(load_text("aw-test-config-order.yaml",
	    "triggers:\n"
	    "  - identifier: t\n"
	    "    sources: [nope]\n"
	    "    sinks: [out]\n"
	    "sinks:\n"
	    "  - identifier: out\n"
	    "    type: Stdout\n"
	    "    spec: { prety: true }\n", &errs));
	all = joined(&errs);
	cr_assert_str_eq(all,
	    "aw-test-config-order.yaml:3:15: sources of trigger \"t\": no "
	    "source \"nope\" under sources:\n"
	    "aw-test-config-order.yaml:8:13: unknown key \"prety\" in spec of "
	    "sink \"out\" (did you mean \"pretty\"?)\n");
	free(all);
	cfg_errors_free(&errs);
	unlink("aw-test-config-order.yaml");
}

/* Secrets, resolved at use time. */

Test(secrets, env_and_files)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*conf;
	char			*v, *cause;

	conf = config_load(FIXTURES "/good-secrets.yaml", &errs);
	cr_assert_not_null(conf, "%s", errs.n ? errs.msg[0] : "");

	setenv("AW_TEST_SECRET", "from-the-env", 1);
	cr_assert_eq(secret_resolve(conf, "from_env", &v, &cause), 0);
	cr_assert_str_eq(v, "from-the-env");
	free(v);
	setenv("AW_TEST_SECRET", "", 1);
	cr_assert_eq(secret_resolve(conf, "from_env", &v, &cause), -1);
	cr_assert_str_eq(cause, "secret \"from_env\": environment variable "
	    "AW_TEST_SECRET is empty");
	free(cause);
	unsetenv("AW_TEST_SECRET_UNSET");
	cr_assert_eq(secret_resolve(conf, "unset_env", &v, &cause), -1);
	cr_assert_str_eq(cause, "secret \"unset_env\": environment variable "
	    "AW_TEST_SECRET_UNSET is not set");
	free(cause);

	cr_assert_eq(secret_resolve(conf, "from_file", &v, &cause), 0,
	    "relative to the config file's directory");
	cr_assert_str_eq(v, "s3cr3t-hub", "one trailing newline stripped");
	free(v);
	cr_assert_eq(secret_resolve(conf, "multiline", &v, &cause), 0);
	cr_assert_str_eq(v, "two\nlines\n", "only one newline stripped");
	free(v);
	cr_assert_eq(secret_resolve(conf, "crlf", &v, &cause), 0);
	cr_assert_str_eq(v, "crlf-value");
	free(v);
	cr_assert_eq(secret_resolve(conf, "empty", &v, &cause), -1);
	cr_assert_str_eq(cause, "secret \"empty\": " FIXTURES
	    "/secrets/empty is empty");
	free(cause);
	cr_assert_eq(secret_resolve(conf, "missing", &v, &cause), -1);
	cr_assert_str_eq(cause, "secret \"missing\": cannot open "
	    FIXTURES "/secrets/does-not-exist: No such file or directory");
	free(cause);
	cr_assert_eq(secret_resolve(conf, "absolute", &v, &cause), -1);
	cr_assert_str_eq(cause, "secret \"absolute\": /dev/null is empty");
	free(cause);
	cr_assert_eq(secret_resolve(conf, "nope", &v, &cause), -1);
	cr_assert_str_eq(cause, "unknown secret \"nope\"");
	free(cause);
	config_free(conf);
}

Test(secrets, errors_never_show_values)
{
	struct cfg_errors	 errs = { 0 };
	size_t			 i;

	in_fixtures();
	cr_assert_null(config_load("bad-secrets.yaml", &errs));
	cr_assert_null(config_load("bad-store-password.yaml", &errs));
	cr_assert_gt(errs.n, 5);
	for (i = 0; i < errs.n; i++) {
		cr_assert_null(strstr(errs.msg[i], "hunter2"), "%s",
		    errs.msg[i]);
		cr_assert_null(strstr(errs.msg[i], "s3cret"), "%s",
		    errs.msg[i]);
	}
	cfg_errors_free(&errs);
}

Test(apply, same_error_twice_is_said_once)
{
	struct cfg_errors	 errs = { 0 };

	cfg_error_at(&errs, 3, 1, "connector \"hub\": bad url");
	cfg_error_at(&errs, 3, 1, "connector \"hub\": bad url");
	cfg_error_at(&errs, 4, 1, "connector \"hub\": bad url");
	cr_assert_eq(errs.n, 2);
	cfg_errors_free(&errs);
}

Test(load, the_example_config_loads)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*conf;

	conf = config_load("config/watcher.example.yaml", &errs);
	cr_assert_not_null(conf, "%s", errs.n ? errs.msg[0] : "");
	cr_assert_eq(conf->nsources, 2);
	cr_assert_eq(conf->nsinks, 2);
	cr_assert(config_routes(conf, config_source(conf, "nginx"),
	    config_sink(conf, "ci")));
	cr_assert(!config_routes(conf, config_source(conf, "myapp"),
	    config_sink(conf, "ci")));
	config_free(conf);
}

/*
 * The digest-check keys belong to the DockerRegistry spec; the top level
 * (where older files have them) still loads, and the spec wins.
 */
Test(load, docker_watch_keys_in_spec_and_at_top_level)
{
	struct cfg_errors	 errs = { 0 };
	struct config		*conf;
	struct source_conf	*a, *b;

	conf = load_text("aw-test-docker-keys.yaml",
	    "connectors:\n"
	    "  - connector:\n"
	    "      identifier: reg\n"
	    "      type: DockerRegistry\n"
	    "      spec: { dockerRegistryUrl: 'http://127.0.0.1:5000' }\n"
	    "sources:\n"
	    "  - identifier: a\n"
	    "    type: DockerRegistry\n"
	    "    fetchLabels: true\n"
	    "    digestChecksPerPoll: 7\n"
	    "    spec:\n"
	    "      connectorRef: reg\n"
	    "      imagePath: app\n"
	    "      digestChecksPerPoll: 9\n"
	    "      digestCheckInterval: 0\n"
	    "      includeSignatures: true\n"
	    "      mutableTagRegex: '^latest$'\n"
	    "  - identifier: b\n"
	    "    type: DockerRegistry\n"
	    "    spec: { connectorRef: reg, imagePath: app2 }\n", &errs);
	cr_assert_not_null(conf, "%s", errs.n ? errs.msg[0] : "");
	a = config_source(conf, "a");
	cr_assert_eq(a->fetch_labels, 1, "top level still read");
	cr_assert_eq(a->digest_checks, 9, "the spec wins");
	cr_assert_eq(a->digest_check_ms, 0);
	cr_assert_eq(a->include_signatures, 1);
	cr_assert_str_eq(a->mutable_tag_regex, "^latest$");
	b = config_source(conf, "b");
	cr_assert_eq(b->digest_checks, 20);
	cr_assert_eq(b->digest_check_ms, 3600000);
	cr_assert_null(b->mutable_tag_regex);
	config_free(conf);
	cfg_errors_free(&errs);

	cr_assert_null(load_text("aw-test-docker-keys.yaml",
	    "connectors:\n"
	    "  - connector:\n"
	    "      identifier: reg\n"
	    "      type: DockerRegistry\n"
	    "      spec: { dockerRegistryUrl: 'http://127.0.0.1:5000' }\n"
	    "sources:\n"
	    "  - identifier: a\n"
	    "    type: DockerRegistry\n"
	    "    spec: { connectorRef: reg, imagePath: app,\n"
	    "            mutableTagRegex: '(' }\n", &errs));
	cr_assert_eq(errs.n, 1);
	cr_assert(strstr(errs.msg[0], "mutableTagRegex") != NULL, "%s",
	    errs.msg[0]);
	cfg_errors_free(&errs);
	unlink("aw-test-docker-keys.yaml");
}
