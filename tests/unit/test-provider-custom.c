/*
 * test-provider-custom.c: what a CustomArtifact script printed, read by
 * custom-parse.c: the JSONPath subset, versions at versionPath (strings
 * and numbers), attributes as metadata, duplicates, the cap, and output
 * that is no answer at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "../../providers/custom/provider-custom.h"

static const char out[] =
    "{\"data\":{\"items\":[{\"version\":\"1.2.0\",\"sum\":\"abc\","
    "\"meta\":{\"url\":\"https://x/1.2.0\"}},{\"version\":7,\"sum\":1},"
    "{\"version\":\"1.2.0\"},{\"nover\":1},{\"version\":\"2.0\","
    "\"tags\":[\"a\",\"b\"]}]}}";

Test(custom, paths)
{
	cJSON		*doc = cJSON_Parse(out);
	const cJSON	*v;

	cr_assert_not_null(doc);
	cr_assert_eq(custom_path(doc, "$"), doc);
	cr_assert_eq(custom_path(doc, ""), doc);
	v = custom_path(doc, "$.data.items[1].version");
	cr_assert_eq(v->valuedouble, 7);
	v = custom_path(doc, "data['items'][0].meta.url");
	cr_assert_str_eq(v->valuestring, "https://x/1.2.0");
	v = custom_path(doc, "$.data.items[4].tags[1]");
	cr_assert_str_eq(v->valuestring, "b");
	cr_assert_null(custom_path(doc, "$.data.items[9]"));
	cr_assert_null(custom_path(doc, "$.data.nope.x"));
	cr_assert_null(custom_path(doc, "$.data[0]"));
	cr_assert_null(custom_path(doc, "$.data.items[x]"));
	cr_assert_null(custom_path(doc, "$['data"));
	cJSON_Delete(doc);
}

Test(custom, parse)
{
	struct custom_attr	 attrs[] = {
		{ "url", "meta.url" }, { "firstTag", "tags[0]" },
	};
	struct versions		 vs = { 0 };
	char			*cause = NULL;

	cr_assert_eq(custom_parse(out, strlen(out), "$.data.items",
	    "version", "sum", attrs, 2, 100, &vs, &cause), 0, "%s", cause);
	cr_assert_eq(vs.n, 3);
	cr_assert_str_eq(vs.v[0].name, "1.2.0");
	cr_assert_str_eq(vs.v[0].digest, "abc");
	cr_assert_str_eq(cJSON_GetObjectItem(vs.v[0].metadata,
	    "url")->valuestring, "https://x/1.2.0");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(vs.v[0].metadata,
	    "firstTag")));
	cr_assert_str_eq(vs.v[1].name, "7");
	cr_assert_str_eq(vs.v[1].digest, "1");
	cr_assert_str_eq(vs.v[2].name, "2.0");
	cr_assert_null(vs.v[2].digest);
	cr_assert_str_eq(cJSON_GetObjectItem(vs.v[2].metadata,
	    "firstTag")->valuestring, "a");
	cr_assert_not(vs.truncated);
	versions_free(&vs);

	memset(&vs, 0, sizeof vs);
	cr_assert_eq(custom_parse(out, strlen(out), "data.items", "version",
	    NULL, NULL, 0, 2, &vs, &cause), 0);
	cr_assert_eq(vs.n, 2);
	cr_assert(vs.truncated);
	versions_free(&vs);
}

Test(custom, bad_output)
{
	struct versions	 vs = { 0 };
	char		*cause = NULL;

	cr_assert_eq(custom_parse("oops", 4, "$", "v", NULL, NULL, 0, 10,
	    &vs, &cause), -1);
	free(cause);
	cr_assert_eq(custom_parse("<html></html>", 13, "$", "v", NULL, NULL,
	    0, 10, &vs, &cause), -1);
	cr_assert_not_null(strstr(cause, "HTML"), "%s", cause);
	free(cause);
	cr_assert_eq(custom_parse("{\"a\":1}", 7, "$.b", "v", NULL, NULL, 0,
	    10, &vs, &cause), -1);
	cr_assert_not_null(strstr(cause, "nothing there"), "%s", cause);
	free(cause);
	cr_assert_eq(custom_parse("{\"a\":1}", 7, "$.a", "v", NULL, NULL, 0,
	    10, &vs, &cause), -1);
	cr_assert_not_null(strstr(cause, "not an array"), "%s", cause);
	free(cause);
	cr_assert_eq(custom_parse("[{\"x\":1}]", 9, "$", "v", NULL, NULL, 0,
	    10, &vs, &cause), -1);
	cr_assert_not_null(strstr(cause, "versionPath"), "%s", cause);
	free(cause);
	cr_assert_eq(custom_parse("[]", 2, "$", "v", NULL, NULL, 0, 10, &vs,
	    &cause), 0);
	cr_assert_eq(vs.n, 0);
	versions_free(&vs);
}
