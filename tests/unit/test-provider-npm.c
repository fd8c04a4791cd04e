/*
 * test-provider-npm.c: the npm family's pure parts (providers/npm/): names,
 * the document URL, and the parser of package documents on recorded shapes
 * (full, abbreviated, unpublished) and hostile ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include "watcher.h"
#include "../../providers/npm/npm.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	cr_assert_not_null(f = fopen(path, "rb"), "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc(n + 1);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = n;
	return (buf);
}

static const char *
field(const struct version *v, const char *name)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(v->fields, name);

	return (cJSON_IsString(f) ? f->valuestring : NULL);
}

Test(npm, names)
{
	cr_expect(npm_name_valid("left-pad"));
	cr_expect(npm_name_valid("@acme/app"));
	cr_expect(npm_name_valid("lodash.merge"));
	cr_expect(!npm_name_valid(""));
	cr_expect(!npm_name_valid("@acme"));
	cr_expect(!npm_name_valid("@acme/"));
	cr_expect(!npm_name_valid("a/b"));
	cr_expect(!npm_name_valid(".hidden"));
	cr_expect(!npm_name_valid("a b"));
	cr_expect(!npm_name_valid("../etc"));
}

Test(npm, doc_url)
{
	char	*u;

	u = npm_doc_url("http://127.0.0.1:4873/", "@acme/app");
	cr_expect_str_eq(u, "http://127.0.0.1:4873/@acme%2fapp");
	free(u);
	u = npm_doc_url("https://nexus/repository/npm", "left-pad");
	cr_expect_str_eq(u, "https://nexus/repository/npm/left-pad");
	free(u);
}

Test(npm, full_document)
{
	struct versions	 vs = { 0 };
	char		*body, *cause = NULL;
	size_t		 len;

	body = slurp("tests/fixtures/npm/full.json", &len);
	cr_assert_eq(npm_parse(body, len, "https://registry.example",
	    "@acme/app", 100, &vs, &cause), 0, "%s", cause);
	/* Three versions newest first, then latest and next ("gone" names none). */
	cr_assert_eq(vs.n, 5);
	cr_expect_str_eq(vs.v[0].name, "2.0.0-rc.1");
	cr_expect_str_eq(vs.v[1].name, "1.2.3");
	cr_expect_str_eq(vs.v[2].name, "1.2.2");
	cr_expect_str_eq(vs.v[1].digest, "sha512-Qe3lTkQ==");
	cr_expect_str_eq(vs.v[2].digest,
	    "sha1:aaf102d5ae73afe2c553295e0fb02230216f65b1", "no integrity");
	cr_expect_eq(vs.v[1].pushed_at, 1767261600);
	cr_expect_str_eq(field(&vs.v[1], "package"), "@acme/app");
	cr_expect_str_eq(field(&vs.v[1], "group"), "@acme");
	cr_expect_str_eq(field(&vs.v[1], "format"), "npm");
	cr_expect_str_eq(field(&vs.v[1], "repository"),
	    "https://registry.example");
	cr_expect_str_eq(field(&vs.v[1], "downloadUrl"),
	    "https://registry.example/@acme/app/-/app-1.2.3.tgz");
	cr_expect_str_eq(vs.v[3].name, "latest");
	cr_expect_str_eq(vs.v[3].digest, "sha512-Qe3lTkQ==");
	cr_expect_str_eq(vs.v[4].name, "next");
	cr_expect_str_eq(vs.v[4].digest, "sha512-Rc1==");
	cr_expect_not(vs.truncated);
	versions_free(&vs);
	free(body);
}

/* full.json capped at max: the names listed, in order, and truncated. */
static void
expect_capped(long long max, const char *const *names, size_t n)
{
	struct versions	 vs = { 0 };
	char		*body, *cause = NULL;
	size_t		 len, i;

	body = slurp("tests/fixtures/npm/full.json", &len);
	cr_assert_eq(npm_parse(body, len, "r", "@acme/app", max, &vs, &cause),
	    0, "%s", cause);
	cr_expect(vs.truncated);
	cr_assert_eq(vs.n, n);
	for (i = 0; i < n; i++)
		cr_expect_str_eq(vs.v[i].name, names[i]);
	versions_free(&vs);
	free(body);
}

Test(npm, cap_keeps_the_newest)
{
	static const char *const names[] = {
		"2.0.0-rc.1", "1.2.3", "latest", "next"
	};

	/* Two dist-tags (latest, next) are listed: two versions fit in 4. */
	expect_capped(4, names, nitems(names));
}

Test(npm, cap_counts_the_dist_tags)
{
	static const char *const names[] = { "latest" };

	/* A cap below the dist-tags: no version, the first tags, flagged. */
	expect_capped(1, names, nitems(names));
}

Test(npm, abbreviated_and_unpublished)
{
	struct versions	 vs = { 0 };
	char		*body, *cause = NULL;
	size_t		 len;

	body = slurp("tests/fixtures/npm/abbreviated.json", &len);
	cr_assert_eq(npm_parse(body, len, "r", "left-pad", 100, &vs, &cause),
	    0, "%s", cause);
	cr_assert_eq(vs.n, 3);
	cr_expect_str_eq(vs.v[0].name, "1.3.0", "listed last: newest");
	cr_expect_eq(vs.v[0].pushed_at, 0);
	cr_expect_str_eq(vs.v[2].name, "latest");
	versions_free(&vs);
	free(body);
	memset(&vs, 0, sizeof vs);
	body = slurp("tests/fixtures/npm/unpublished.json", &len);
	cr_assert_eq(npm_parse(body, len, "r", "gone-pkg", 100, &vs, &cause),
	    0, "%s", cause);
	cr_expect_eq(vs.n, 0);
	versions_free(&vs);
	free(body);
}

Test(npm, hostile_documents)
{
	static const char *const bad[] = {
		"", "<html><body>502 Bad Gateway</body></html>", "[1,2]",
		"{\"name\":\"@acme/app\",\"versions\":[]}",
		"{\"name\":\"other\",\"versions\":{}}",
		"{\"name\":\"@acme/app\",\"versions\":{\"1.0\":",
	};
	struct versions	 vs;
	const char	*body;
	char		*cause;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&vs, 0, sizeof vs);
		cause = NULL;
		cr_expect_eq(npm_parse(bad[i], strlen(bad[i]), "r",
		    "@acme/app", 100, &vs, &cause), -1, "%s", bad[i]);
		cr_expect_not_null(cause);
		free(cause);
		versions_free(&vs);
	}
	memset(&vs, 0, sizeof vs);
	body = "{\"versions\":{\"1.0.0\":3,\"\":{},\"2.0.0\":{\"dist\":"
	    "{\"integrity\":7}}},\"dist-tags\":{\"latest\":\"2.0.0\","
	    "\"x\":5},\"time\":\"no\"}";
	cr_assert_eq(npm_parse(body, strlen(body), "r", "@acme/app", 100, &vs,
	    &cause), 0, "%s", cause);
	cr_expect_eq(vs.n, 1, "2.0.0 without a digest; latest has none");
	cr_expect_null(vs.v[0].digest);
	versions_free(&vs);
}

Test(npm, error_message)
{
	char	*m;

	m = npm_error_message("{\"error\":\"Not found\"}", 21);
	cr_expect_str_eq(m, "Not found");
	free(m);
	cr_expect_null(npm_error_message("<html>", 6));
}
