/*
 * test-provider-repos.c: the pure parsers of the repository managers
 * (providers/github/, providers/nexus/, providers/artifactory/) on recorded
 * answers (tests/fixtures/{github,nexus,artifactory}) and hostile ones,
 * and the URLs and queries they build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include "watcher.h"
#include "json.h"
#include "../../providers/artifactory/artifactory.h"
#include "../../providers/github/github.h"
#include "../../providers/nexus/nexus.h"

static cJSON *
load(const char *path)
{
	FILE	*f;
	char	*buf, *cause = NULL;
	long	 n;
	cJSON	*doc;

	cr_assert_not_null(f = fopen(path, "rb"), "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc(n + 1);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	cr_assert_eq(json_parse(buf, n, &doc, &cause), 0, "%s", cause);
	free(buf);
	return (doc);
}

static const char *
field(const struct version *v, const char *name)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(v->fields, name);

	return (cJSON_IsString(f) ? f->valuestring : NULL);
}

static cJSON *
parse(const char *text)
{
	cJSON	*doc;
	char	*cause = NULL;

	cr_assert_eq(json_parse(text, strlen(text), &doc, &cause), 0, "%s",
	    cause);
	return (doc);
}

Test(github, urls)
{
	char	*u;

	u = github_api_root("https://github.com/johndoe/myapp.git");
	cr_expect_str_eq(u, "https://api.github.com");
	free(u);
	u = github_api_root("https://ghe.acme.dev/org/repo");
	cr_expect_str_eq(u, "https://ghe.acme.dev/api/v3");
	free(u);
	u = github_versions_url("https://api.github.com/", "acme", "npm",
	    "@acme/lib");
	cr_expect_str_eq(u, "https://api.github.com/orgs/acme/packages/npm/"
	    "%40acme%2Flib/versions?per_page=100");
	free(u);
	u = github_versions_url("https://api.github.com", "", "container",
	    "app");
	cr_expect_str_eq(u, "https://api.github.com/user/packages/container/"
	    "app/versions?per_page=100");
	free(u);
}

Test(github, container_versions_become_tags)
{
	struct versions	 vs = { 0 };
	cJSON		*doc = load("tests/fixtures/github/container-versions.json");
	char		*cause = NULL;

	cr_assert_eq(github_parse_versions(doc, 1, 100, &vs, &cause), 0, "%s",
	    cause);
	cr_assert_eq(vs.n, 3, "untagged and bad tags left out");
	cr_expect_str_eq(vs.v[0].name, "1.2.3");
	cr_expect_str_eq(vs.v[1].name, "latest");
	cr_expect_str_eq(vs.v[1].digest, vs.v[0].digest);
	cr_expect_str_eq(vs.v[0].digest, "sha256:3a4f9c0e1111111111111111111"
	    "1111111111111111111111111111111111111");
	cr_expect_str_eq(vs.v[2].name, "1.2.2");
	cr_expect_eq(vs.v[0].pushed_at, 1767261600);
	versions_free(&vs);
	memset(&vs, 0, sizeof vs);
	cr_expect_eq(github_parse_versions(doc, 1, 2, &vs, &cause), 1);
	cr_expect_eq(vs.n, 2);
	cr_expect(vs.truncated);
	versions_free(&vs);
	cJSON_Delete(doc);
}

Test(github, package_versions_and_errors)
{
	struct versions	 vs = { 0 };
	cJSON		*doc = load("tests/fixtures/github/npm-versions.json");
	char		*cause = NULL;

	cr_assert_eq(github_parse_versions(doc, 0, 100, &vs, &cause), 0);
	cr_assert_eq(vs.n, 2);
	cr_expect_str_eq(vs.v[0].name, "2.0.0");
	cr_expect_null(vs.v[0].digest);
	cr_expect_str_eq(field(&vs.v[0], "downloadUrl"),
	    "https://github.com/orgs/acme/packages/npm/lib/9001");
	versions_free(&vs);
	cJSON_Delete(doc);
	doc = parse("{\"message\":\"Bad credentials\"}");
	memset(&vs, 0, sizeof vs);
	cr_expect_eq(github_parse_versions(doc, 0, 100, &vs, &cause), -1);
	cr_expect_not_null(strstr(cause, "Bad credentials"));
	free(cause);
	cJSON_Delete(doc);
	doc = parse("[1]");
	cr_expect_eq(github_parse_versions(doc, 1, 100, &vs, &cause), -1);
	free(cause);
	cJSON_Delete(doc);
}

Test(nexus, search_urls)
{
	struct nexus_source	 src;
	char			*u;

	memset(&src, 0, sizeof src);
	src.repository = "maven-releases";
	src.format = NEXUS_MAVEN;
	src.group_id = "com.acme";
	src.artifact_id = "app";
	src.extension = "jar";
	u = nexus3_search_url("https://nexus/nexus/", &src);
	cr_expect_str_eq(u, "https://nexus/nexus/service/rest/v1/search?"
	    "sort=version&direction=desc&repository=maven-releases&format="
	    "maven2&maven.groupId=com.acme&maven.artifactId=app&"
	    "maven.extension=jar");
	free(u);
	memset(&src, 0, sizeof src);
	src.repository = "npm-hosted";
	src.format = NEXUS_NPM;
	src.package_name = "@acme/lib";
	u = nexus3_search_url("https://nexus", &src);
	cr_expect_str_eq(u, "https://nexus/service/rest/v1/search?sort="
	    "version&direction=desc&repository=npm-hosted&format=npm&group="
	    "acme&name=lib", "the scope is the group, without @");
	free(u);
}

Test(nexus, search3_page)
{
	struct nexus_query	 q = { NEXUS_MAVEN, "maven-releases", "jar",
	    NULL };
	struct versions		 vs = { 0 };
	cJSON			*doc = load("tests/fixtures/nexus/search3.json");
	char			*cause = NULL;

	cr_assert_eq(nexus3_parse_search(doc, &q, 100, &vs, &cause), 0, "%s",
	    cause);
	cr_assert_eq(vs.n, 2, "a component without a version is skipped");
	cr_expect_str_eq(vs.v[0].name, "1.2.3");
	cr_expect_str_eq(vs.v[0].digest, "sha256:eec1d600000000000000000000"
	    "00000000000000000000000000000000000000", "the jar's, not the pom's");
	cr_expect_eq(vs.v[0].size, 1847234);
	cr_expect_eq(vs.v[0].pushed_at, 1767263400);
	cr_expect_str_eq(field(&vs.v[0], "downloadUrl"), "https://nexus."
	    "example.com/repository/maven-releases/com/acme/app/1.2.3/"
	    "app-1.2.3.jar");
	cr_expect_str_eq(field(&vs.v[0], "group"), "com.acme");
	cr_expect_str_eq(vs.v[1].digest,
	    "sha1:3333333333333333333333333333333333333333");
	cr_expect_neq(vs.v[1].pushed_at, 0, "lastModified without blobCreated");
	versions_free(&vs);
	memset(&vs, 0, sizeof vs);
	cr_expect_eq(nexus3_parse_search(doc, &q, 1, &vs, &cause), 1);
	cr_expect(vs.truncated);
	versions_free(&vs);
	cJSON_Delete(doc);
	doc = parse("{\"items\":{}}");
	memset(&vs, 0, sizeof vs);
	cr_expect_eq(nexus3_parse_search(doc, &q, 10, &vs, &cause), -1);
	free(cause);
	cJSON_Delete(doc);
}

Test(nexus, search2_answer)
{
	struct nexus_query	 q = { NEXUS_MAVEN, "releases", NULL, NULL };
	struct versions		 vs = { 0 };
	cJSON			*doc = load("tests/fixtures/nexus/search2.json");
	char			*cause = NULL;
	size_t			 items;

	cr_assert_eq(nexus2_parse_search(doc, "https://nexus/nexus/", &q, 100,
	    &vs, &items, &cause), 0, "%s", cause);
	cr_expect_eq(items, 3);
	cr_assert_eq(vs.n, 2, "a second classifier is the same version");
	cr_expect_str_eq(vs.v[0].name, "1.2.4");
	cr_expect_str_eq(field(&vs.v[0], "downloadUrl"), "https://nexus/nexus/"
	    "service/local/artifact/maven/redirect?r=releases&g=com.acme&"
	    "a=app&v=1.2.4&e=jar");
	cr_expect_not(vs.truncated);
	versions_free(&vs);
	cJSON_Delete(doc);
}

Test(nexus, docker_base)
{
	char	*b, *cause = NULL;

	b = nexus_docker_base("https://nexus.acme.dev/nexus", "8443", NULL,
	    &cause);
	cr_expect_str_eq(b, "https://nexus.acme.dev:8443");
	free(b);
	b = nexus_docker_base("https://nexus", NULL, "docker.acme.dev/x",
	    &cause);
	cr_expect_str_eq(b, "https://docker.acme.dev");
	free(b);
	cr_expect_null(nexus_docker_base("https://nexus", "99999", NULL,
	    &cause));
	free(cause);
	cr_expect_null(nexus_docker_base("https://nexus", NULL, NULL, &cause));
	free(cause);
}

Test(artifactory, aql_query)
{
	struct art_query	 q = { "generic-local", "/builds/app/", "*.tgz",
	    0, 11 };
	char			*s, *cause = NULL;

	s = art_aql_query(&q, &cause);
	cr_expect_str_eq(s, "items.find({\"repo\":\"generic-local\",\"path\":"
	    "{\"$match\":\"builds/app*\"},\"name\":{\"$match\":\"*.tgz\"},"
	    "\"type\":\"file\"}).include(\"repo\",\"path\",\"name\","
	    "\"created\",\"size\",\"sha256\",\"actual_sha1\").sort({\"$desc\""
	    ":[\"created\"]}).limit(11)");
	free(s);
	q.name_glob = "a\"}).delete(";
	cr_expect_null(art_aql_query(&q, &cause), "no quote escapes");
	free(cause);
}

Test(artifactory, aql_answer_packages)
{
	struct art_query	 q = { "libs-release-local", "com/acme/app",
	    "*", 1, 100 };
	struct versions		 vs = { 0 };
	cJSON			*doc = load("tests/fixtures/artifactory/aql.json");
	char			*cause = NULL;
	int			 trimmed;

	cr_assert_eq(art_aql_parse(doc, &q, "https://art/artifactory/", 100,
	    &vs, &trimmed, &cause), 0, "%s", cause);
	cr_expect_not(trimmed);
	cr_assert_eq(vs.n, 2, "one version per version directory");
	cr_expect_str_eq(vs.v[0].name, "1.2.3");
	cr_expect_str_eq(vs.v[0].digest, "sha256:eec1d60000000000000000000000"
	    "000000000000000000000000000000000000");
	cr_expect_str_eq(vs.v[1].name, "1.2.2");
	cr_expect_str_eq(vs.v[1].digest,
	    "sha1:2629090000000000000000000000000000000000");
	cr_expect_eq(vs.v[1].size, 1000, "a quoted number");
	cr_expect_str_eq(field(&vs.v[0], "downloadUrl"), "https://art/"
	    "artifactory/libs-release-local/com/acme/app/1.2.3/app-1.2.3.jar");
	versions_free(&vs);
	cJSON_Delete(doc);
}

Test(artifactory, aql_answer_files_trimmed)
{
	struct art_query	 q = { "generic-local", "builds", "*", 0, 2 };
	struct versions		 vs = { 0 };
	cJSON			*doc;
	char			*cause = NULL;
	int			 trimmed;

	doc = load("tests/fixtures/artifactory/aql-trimmed.json");
	cr_assert_eq(art_aql_parse(doc, &q, "https://art", 1, &vs, &trimmed,
	    &cause), 0, "%s", cause);
	cr_expect(trimmed);
	cr_assert_eq(vs.n, 1);
	cr_expect_str_eq(vs.v[0].name, "app.tgz");
	cr_expect_str_eq(field(&vs.v[0], "path"), "builds/app.tgz");
	cr_expect_null(vs.v[0].digest);
	versions_free(&vs);
	cJSON_Delete(doc);
	doc = parse("{\"errors\":[{\"status\":401}]}");
	memset(&vs, 0, sizeof vs);
	cr_expect_eq(art_aql_parse(doc, &q, "https://art", 1, &vs, &trimmed,
	    &cause), -1);
	free(cause);
	cJSON_Delete(doc);
}

Test(json, error_messages)
{
	static const char *const bodies[][2] = {
		{ "{\"message\":\"Bad credentials\"}", "Bad credentials" },
		{ "{\"error\":\"Not found\"}", "Not found" },
		{ "{\"errors\":[{\"status\":401,\"message\":\"Authentication "
		  "is required\"}]}", "Authentication is required" },
		{ "{\"error\":{\"message\":\"nope\\nline\"}}", "nope line" },
	};
	size_t	 i;
	char	*m;

	for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		m = json_error_message(bodies[i][0], strlen(bodies[i][0]));
		cr_expect_str_eq(m, bodies[i][1]);
		free(m);
	}
	cr_expect_null(json_error_message("<html>", 6));
	cr_expect_null(json_error_message("{\"errors\":[]}", 13));
}
