/*
 * test-template.c: `<+…>` expressions against an event shaped like
 * event.c's (every Harness spelling, plain condition keys, any event path),
 * template rendering in JSON, raw and header modes with the escaping each
 * needs (quotes, backslashes, control characters, UTF-8), and the compile
 * errors with their offsets and config positions.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "template.h"

static const char event_text[] =
    "{\"specversion\":\"1.0\",\"id\":\"abc123\","
    "\"source\":\"/artifact-watcher/sources/nginx\","
    "\"type\":\"artifact.created\",\"subject\":\"library/nginx:1.27.3\","
    "\"time\":\"2026-11-22T10:00:00Z\","
    "\"datacontenttype\":\"application/json\",\"data\":{"
    "\"sourceId\":\"nginx\",\"sourceType\":\"DockerRegistry\","
    "\"connectorRef\":\"dockerhub\",\"registry\":\"index.docker.io\","
    "\"repository\":\"library/nginx\",\"version\":\"1.27.3\","
    "\"digest\":\"sha256:aaaa\",\"previousDigest\":null,"
    "\"image\":\"index.docker.io/library/nginx:1.27.3\","
    "\"pushedAt\":null,"
    "\"labels\":{\"org.opencontainers.image.version\":\"1.27.3\","
    "\"quote\":\"say \\\"hi\\\"\\\\ now\\n\\ttab\\u0001\","
    "\"utf\":\"caf\\u00e9 \\u2603\",\"n\":\"x\"},"
    "\"metadata\":{\"SHA\":\"sha256:aaaa\",\"SHAV2\":\"sha256:bbbb\","
    "\"size\":1234,\"list\":[\"a\",\"b\"]},"
    "\"url\":null}}";

static cJSON *event;

static void
setup(void)
{
	event = cJSON_Parse(event_text);
	cr_assert_not_null(event);
}

static void
teardown(void)
{
	cJSON_Delete(event);
}

/* The text an expression yields on the test event. */
static char *
value_of(const char *text, int flags)
{
	struct expr	*e;
	char		*cause = NULL, *v;

	e = expr_compile(text, strlen(text), flags, &cause);
	cr_assert_not_null(e, "%s: %s", text, cause);
	v = expr_text(e, event);
	expr_free(e);
	return (v);
}

static void
check_value(const char *text, int flags, const char *want)
{
	char	*v = value_of(text, flags);

	cr_assert_str_eq(v, want, "%s", text);
	free(v);
}

static char *
compile_error(const char *text, int flags)
{
	struct expr	*e;
	char		*cause = NULL;

	e = expr_compile(text, strlen(text), flags, &cause);
	cr_assert_null(e, "%s compiled", text);
	cr_assert_not_null(cause);
	return (cause);
}

TestSuite(expr, .init = setup, .fini = teardown);

Test(expr, harness_spellings)
{
	check_value("trigger.artifact.build", 0, "1.27.3");
	check_value("trigger.artifact.metadata.SHA", 0, "sha256:aaaa");
	check_value("trigger.artifact.source.connectorRef", 0, "dockerhub");
	check_value("trigger.artifact.source.imagePath", 0, "library/nginx");
	check_value("artifacts.primary.image", 0,
	    "index.docker.io/library/nginx:1.27.3");
	check_value("artifacts.primary.tag", 0, "1.27.3");
	check_value("artifacts.primary.digest", 0, "sha256:aaaa");
	check_value("artifacts.primary.imagePath", 0, "library/nginx");
	check_value("artifacts.primary.type", 0, "DockerRegistry");
	check_value("artifacts.primary.identifier", 0, "nginx");
	check_value("artifacts.primary.metadata.SHAV2", 0, "sha256:bbbb");
	check_value("artifacts.primary.label.get(\"org.opencontainers.image."
	    "version\")", 0, "1.27.3");
	check_value("artifacts.primary.label.get('n')", 0, "x");
	check_value("  artifacts.primary.tag  ", 0, "1.27.3");
}

Test(expr, event_paths)
{
	check_value("event.id", 0, "abc123");
	check_value("event.data.version", 0, "1.27.3");
	check_value("event.data.labels[\"org.opencontainers.image.version\"]",
	    0, "1.27.3");
	check_value("event.data.labels.get(\"n\")", 0, "x");
	check_value("event.data.metadata.size", 0, "1234");
	check_value("event.data.metadata.list[1]", 0, "b");
	check_value("event.data.metadata.list", 0, "[\"a\",\"b\"]");
	/* Absent and null are empty. */
	check_value("event.data.metadata.list[7]", 0, "");
	check_value("event.data.previousDigest", 0, "");
	check_value("event.data.labels.missing", 0, "");
	check_value("event.data.version.deeper", 0, "");
}

Test(expr, plain_keys_only_when_asked)
{
	char	*cause;

	check_value("image", EXPR_PLAIN,
	    "index.docker.io/library/nginx:1.27.3");
	check_value("tag", EXPR_PLAIN, "1.27.3");
	check_value("build", EXPR_PLAIN, "1.27.3");
	check_value("version", EXPR_PLAIN, "1.27.3");
	check_value("digest", EXPR_PLAIN, "sha256:aaaa");
	check_value("SHA", EXPR_PLAIN, "sha256:aaaa");
	check_value("repository", EXPR_PLAIN, "library/nginx");
	check_value("labels.org.opencontainers.image.version", EXPR_PLAIN,
	    "1.27.3");
	check_value("metadata.SHAV2", EXPR_PLAIN, "sha256:bbbb");
	check_value("artifacts.primary.tag", EXPR_PLAIN, "1.27.3");
	cause = compile_error("tag", 0);
	cr_assert(strstr(cause, "unknown expression <+tag>") != NULL, "%s",
	    cause);
	free(cause);
}

Test(expr, unknown_and_malformed)
{
	static const char *const bad[] = {
		"pipeline.name", "artifacts.primary.tagz", "trigger.artifact",
		"artifacts.primary.label.get(\"x\"", "artifacts.primary.label.",
		"artifacts.primary.label[0]", "event.data.version[",
		"event.data..x", "event.nope", "event.data.verison",
		"artifacts.primary.tag.x", "",
	};
	size_t	 i;
	char	*cause;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = compile_error(bad[i], 0);
		free(cause);
	}
	cause = compile_error("event.data.verison", 0);
	cr_assert(strstr(cause, "\"verison\"") != NULL, "%s", cause);
	free(cause);
	cause = compile_error("labelz.x", EXPR_PLAIN);
	cr_assert(strstr(cause, "unknown key \"labelz.x\"") != NULL, "%s",
	    cause);
	free(cause);
}

static char *
render(const char *text, enum template_mode mode, enum template_mode *got)
{
	struct template	*t;
	char		*cause = NULL, *out;
	size_t		 off;

	t = template_compile(text, mode, &off, &cause);
	cr_assert_not_null(t, "%s: %s", text, cause);
	*got = template_mode(t);
	out = template_render(t, event);
	template_free(t);
	return (out);
}

TestSuite(template, .init = setup, .fini = teardown);

Test(template, json_inside_and_outside_strings)
{
	enum template_mode	 mode;
	char			*out;
	cJSON			*j;

	out = render("{\"tag\": \"<+artifacts.primary.tag>\", \"img\": "
	    "<+artifacts.primary.image>, \"size\": "
	    "<+artifacts.primary.metadata.size>, \"none\": <+event.data.url>,"
	    " \"labels\": <+event.data.labels>, \"text\": \"v=<+trigger."
	    "artifact.build> \\\"<+artifacts.primary.label.get(\"quote\")>\"}",
	    TEMPLATE_AUTO, &mode);
	cr_assert_eq(mode, TEMPLATE_JSON);
	j = cJSON_Parse(out);
	cr_assert_not_null(j, "not JSON: %s", out);
	cr_assert_str_eq(cJSON_GetObjectItem(j, "tag")->valuestring, "1.27.3");
	cr_assert_str_eq(cJSON_GetObjectItem(j, "img")->valuestring,
	    "index.docker.io/library/nginx:1.27.3");
	cr_assert_eq(cJSON_GetObjectItem(j, "size")->valueint, 1234);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "none")));
	cr_assert(cJSON_IsObject(cJSON_GetObjectItem(j, "labels")));
	cr_assert_str_eq(cJSON_GetObjectItem(j, "text")->valuestring,
	    "v=1.27.3 \"say \"hi\"\\ now\n\ttab\x01");
	cJSON_Delete(j);
	free(out);
}

Test(template, json_escaping_exact)
{
	enum template_mode	 mode;
	char			*out;

	out = render("[\"<+artifacts.primary.label.get(\"quote\")>\", "
	    "\"<+event.data.labels.utf>\"]", TEMPLATE_AUTO, &mode);
	cr_assert_eq(mode, TEMPLATE_JSON);
	cr_assert_str_eq(out, "[\"say \\\"hi\\\"\\\\ now\\n\\ttab\\u0001\", "
	    "\"caf\xc3\xa9 \xe2\x98\x83\"]");
	free(out);
}

Test(template, raw_when_not_json)
{
	enum template_mode	 mode;
	char			*out;

	out = render("New <+artifacts.primary.image> (\"<+artifacts.primary."
	    "label.get(\"quote\")>\") <+event.data.metadata.list>",
	    TEMPLATE_AUTO, &mode);
	cr_assert_eq(mode, TEMPLATE_RAW);
	cr_assert_str_eq(out, "New index.docker.io/library/nginx:1.27.3 "
	    "(\"say \"hi\"\\ now\n\ttab\x01\") [\"a\",\"b\"]");
	free(out);
	/* A bare value is JSON only when the content type says so. */
	out = render("<+artifacts.primary.tag>", TEMPLATE_AUTO, &mode);
	cr_assert_eq(mode, TEMPLATE_RAW);
	cr_assert_str_eq(out, "1.27.3");
	free(out);
	out = render("<+artifacts.primary.tag>", TEMPLATE_JSON, &mode);
	cr_assert_eq(mode, TEMPLATE_JSON);
	cr_assert_str_eq(out, "\"1.27.3\"");
	free(out);
	out = render("no placeholders > here", TEMPLATE_AUTO, &mode);
	cr_assert_str_eq(out, "no placeholders > here");
	free(out);
	out = render("", TEMPLATE_AUTO, &mode);
	cr_assert_str_eq(out, "");
	free(out);
}

Test(template, header_strips_control_characters)
{
	enum template_mode	 mode;
	char			*out;

	out = render("v=<+artifacts.primary.label.get(\"quote\")>;",
	    TEMPLATE_HEADER, &mode);
	cr_assert_eq(mode, TEMPLATE_HEADER);
	cr_assert_str_eq(out, "v=say \"hi\"\\ now\ttab;");
	free(out);
}

static void
check_compile_error(const char *text, enum template_mode mode, size_t off,
    const char *words)
{
	struct template	*t;
	char		*cause = NULL;
	size_t		 got = 999;

	t = template_compile(text, mode, &got, &cause);
	cr_assert_null(t, "%s compiled", text);
	cr_assert_eq(got, off, "%s: offset %zu, want %zu", text, got, off);
	cr_assert(strstr(cause, words) != NULL, "%s: %s", text, cause);
	free(cause);
}

Test(template, compile_errors_with_offsets)
{
	check_compile_error("ab <+artifacts.primary.tag", TEMPLATE_AUTO, 3,
	    "not closed");
	check_compile_error("x <+a <+artifacts.primary.tag>", TEMPLATE_AUTO, 2,
	    "not closed");
	check_compile_error("0123<+>", TEMPLATE_RAW, 4, "empty");
	check_compile_error("{\"a\": \"<+artifacts.primary.tgs>\"}",
	    TEMPLATE_AUTO, 7, "unknown expression <+artifacts.primary.tgs>");
	check_compile_error("a\r\nb", TEMPLATE_HEADER, 1, "line break");
	check_compile_error("not json <+event.id>", TEMPLATE_JSON, 0,
	    "not JSON");
}

Test(template, quoted_get_may_hold_a_closing_angle)
{
	enum template_mode	 mode;
	char			*out;

	out = render("[<+event.data.labels.get(\"a>b\")>]", TEMPLATE_AUTO,
	    &mode);
	cr_assert_eq(mode, TEMPLATE_JSON);
	cr_assert_str_eq(out, "[null]");
	free(out);
}

/* A YAML file, for template_pos() to read. */
static const char pos_yaml[] =
    "sinks:\n"
    "  - spec:\n"
    "      plain: ab <+x>\n"
    "      quoted: 'ab <+x>'\n"
    "      block: |\n"
    "        {\n"
    "          \"a\": \"<+x>\"\n"
    "        }\n";

Test(template_pos, scalar_positions)
{
	struct cfg_node	 n;
	unsigned	 line, col;
	char		 path[] = "/tmp/aw-test-pos-XXXXXX";
	int		 fd;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, pos_yaml, strlen(pos_yaml)),
	    (ssize_t)strlen(pos_yaml));
	close(fd);
	memset(&n, 0, sizeof n);
	n.kind = CFG_SCALAR;
	n.line = 3;
	n.col = 14;
	n.value = "ab <+x>";
	template_pos(path, &n, 3, &line, &col);
	cr_assert_eq(line, 3);
	cr_assert_eq(col, 17);
	n.line = 4;
	n.col = 15;
	n.quoted = 1;
	template_pos(path, &n, 3, &line, &col);
	cr_assert_eq(line, 4);
	cr_assert_eq(col, 19);
	/* Block: content from line 6, indented by 8. */
	n.line = 5;
	n.col = 14;
	n.value = "{\n  \"a\": \"<+x>\"\n}\n";
	template_pos(path, &n, 10, &line, &col);
	cr_assert_eq(line, 7);
	cr_assert_eq(col, 17);
	/* Without the file, the column counts within the text. */
	template_pos(NULL, &n, 10, &line, &col);
	cr_assert_eq(line, 6);
	cr_assert_eq(col, 9);
	unlink(path);
}

Test(template_pos, errors_name_file_line_col)
{
	struct cfg_errors	 errs;
	struct cfg_node		 n;
	struct template		*t;

	memset(&errs, 0, sizeof errs);
	errs.file = "aw.yaml";
	memset(&n, 0, sizeof n);
	n.kind = CFG_SCALAR;
	n.line = 4;
	n.col = 20;
	n.quoted = 1;
	n.value = "tag <+artifacts.primary.nope>";
	t = template_from_node(&n, TEMPLATE_AUTO, "spec.bodyTemplate of sink "
	    "\"ci\"", &errs);
	cr_assert_null(t);
	cr_assert_eq(errs.n, 1);
	cr_assert(strncmp(errs.msg[0], "aw.yaml:4:25: spec.bodyTemplate of "
	    "sink \"ci\": unknown expression <+artifacts.primary.nope>",
	    strlen("aw.yaml:4:25: spec.bodyTemplate of sink \"ci\": unknown "
	    "expression <+artifacts.primary.nope>")) == 0, "%s",
	    errs.msg[0]);
	cfg_errors_free(&errs);
}

/* Hostile text never crashes compile or render; errors point inside it. */
Test(template, random_text_compiles_or_fails_cleanly)
{
	static const char alphabet[] = "<+>.[]\"'()\\ \n{}:,0123abget"
	    "artifacts.primary.tag event.data.labels label.get(";
	size_t		 compiled = 0;
	struct template	*t;
	char		 text[64], *cause, *out;
	uint32_t	 seed = 12345;
	size_t		 i, j, len, off;
	cJSON		*ev = cJSON_Parse(event_text);
	int		 mode;

	cr_assert_not_null(ev);
	for (i = 0; i < 20000; i++) {
		len = (seed = seed * 1103515245 + 12345) % sizeof text;
		for (j = 0; j < len; j++) {
			seed = seed * 1103515245 + 12345;
			text[j] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
		}
		text[len] = '\0';
		mode = (int)(i % 4);
		cause = NULL;
		off = 0;
		t = template_compile(text, (enum template_mode)mode, &off,
		    &cause);
		if (t == NULL) {
			cr_assert_not_null(cause, "%s", text);
			cr_assert_leq(off, len, "%s", text);
			free(cause);
			continue;
		}
		compiled++;
		out = template_render(t, ev);
		cr_assert_not_null(out);
		if (template_mode(t) == TEMPLATE_JSON) {
			cJSON	*j2 = cJSON_Parse(out);

			cr_assert_not_null(j2, "rendered JSON does not parse: "
			    "%s -> %s", text, out);
			cJSON_Delete(j2);
		}
		free(out);
		template_free(t);
	}
	cr_assert_gt(compiled, 1000, "the alphabet makes no templates");
	cJSON_Delete(ev);
}

/* JSON templates built from placeholders in every position render JSON. */
Test(template, built_json_templates_render_json)
{
	static const char *const values[] = {
		"<+event.data.labels>", "<+event.data.metadata.size>",
		"<+event.data.url>", "<+event.data.labels.missing>",
		"\"<+artifacts.primary.label.get(\"quote\")>\"",
		"\"a\\\"<+event.data.labels.utf>\\\\b\"",
		"\"<+event.data.metadata.list>\"", "<+artifacts.primary.tag>",
		"\"plain\"", "1", "[<+event.data.metadata.list>]",
	};
	struct buf	 b = { NULL, 0, 0 };
	struct template	*t;
	char		*cause = NULL, *out;
	uint32_t	 seed = 777;
	size_t		 i, j, n, off;
	cJSON		*ev = cJSON_Parse(event_text), *j2;

	cr_assert_not_null(ev);
	for (i = 0; i < 2000; i++) {
		n = 1 + (seed = seed * 1103515245 + 12345) % 6;
		buf_adds(&b, i % 2 ? "{" : "[");
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			if (i % 2)
				buf_printf(&b, "%s\"k%zu\": ", j ? ", " : "", j);
			else if (j)
				buf_adds(&b, ", ");
			buf_adds(&b, values[(seed >> 8) % nitems(values)]);
		}
		buf_adds(&b, i % 2 ? "}" : "]");
		t = template_compile(b.data, TEMPLATE_AUTO, &off, &cause);
		cr_assert_not_null(t, "%s: %s", b.data, cause);
		cr_assert_eq(template_mode(t), TEMPLATE_JSON, "%s", b.data);
		out = template_render(t, ev);
		j2 = cJSON_Parse(out);
		cr_assert_not_null(j2, "%s -> %s", b.data, out);
		cJSON_Delete(j2);
		free(out);
		template_free(t);
		buf_free(&b);
		memset(&b, 0, sizeof b);
	}
	cJSON_Delete(ev);
}

/* <+artifacts.primary.FIELD>: any field of any kind reads data.FIELD. */
Test(expr, artifact_fields_of_every_kind)
{
	cJSON	*chart;
	char	*cause;

	check_value("artifacts.primary.registry", 0, "index.docker.io");
	check_value("artifacts.primary.repository", 0, "library/nginx");
	chart = cJSON_Parse("{\"data\":{\"kind\":\"chart\",\"version\":\"1.4.0\","
	    "\"chart\":\"podinfo\",\"appVersion\":\"2.9\","
	    "\"metadata\":{\"url\":\"https://charts.example/podinfo\"}}}");
	cr_assert_not_null(chart);
	cJSON_Delete(event);
	event = chart;
	check_value("artifacts.primary.tag", 0, "1.4.0");
	check_value("artifacts.primary.chart", 0, "podinfo");
	check_value("artifacts.primary.appVersion", 0, "2.9");
	check_value("artifacts.primary.metadata.url", 0,
	    "https://charts.example/podinfo");
	check_value("event.data.kind", 0, "chart");
	cause = compile_error("artifacts.primary.appversion", 0);
	cr_assert(strstr(cause, "unknown expression") != NULL, "%s", cause);
	free(cause);
}
