/*
 * test-provider-ci.c: the CI family's pure parts: Bamboo result pages and
 * Jenkins build listings (recorded shapes in tests/fixtures/ci), the job
 * path of Jenkins folders, plan keys, and what a build becomes as a
 * version (ci-list.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "../../providers/ci/provider-ci.h"
#include "order.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*data;
	long	 size;

	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s (run from the top directory)",
	    path);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	data = xmalloc((size_t)size + 1);
	cr_assert_eq(fread(data, 1, (size_t)size, f), (size_t)size);
	data[size] = '\0';
	fclose(f);
	*len = (size_t)size;
	return (data);
}

Test(bamboo, results_page)
{
	struct ci_build	*b;
	size_t		 n, len;
	long long	 size;
	char		*body, *cause = NULL;

	body = slurp("tests/fixtures/ci/bamboo-results.json", &len);
	cr_assert_eq(bamboo_parse_results_bytes(body, len, &b, &n, &size,
	    &cause), 0, "%s", cause);
	cr_assert_eq(size, 142);
	cr_assert_eq(n, 3);
	cr_assert_eq(b[0].number, 142);
	cr_assert_str_eq(b[0].key, "PROJ-PLAN-142");
	cr_assert_str_eq(b[0].state, "Successful");
	cr_assert(b[0].finished);
	cr_assert_eq(b[0].completed_at, 1767258312);	/* 09:05:12Z */
	cr_assert_eq(b[0].nartifacts, 2);
	cr_assert_str_eq(b[0].artifacts[0].name, "dist");
	cr_assert_eq(b[0].artifacts[0].size, 1847234);
	cr_assert_eq(b[0].artifacts[1].size, 12);
	cr_assert_eq(b[1].number, 141);
	cr_assert_not(b[1].finished);
	cr_assert_eq(b[2].number, 140);
	cr_assert_str_eq(b[2].key, "PROJ-PLAN-140");
	cr_assert_str_eq(b[2].state, "Failed");
	cr_assert(b[2].finished);
	cr_assert_eq(b[2].nartifacts, 1);
	ci_builds_free(b, n);
	free(body);
}

Test(bamboo, not_a_listing)
{
	struct ci_build	*b;
	size_t		 n;
	long long	 size;
	char		*cause = NULL;
	const char	*html = "<html><body>Log in</body></html>";

	cr_assert_eq(bamboo_parse_results_bytes(html, strlen(html), &b, &n,
	    &size, &cause), -1);
	cr_assert_not_null(strstr(cause, "HTML"), "%s", cause);
	free(cause);
	cr_assert_eq(bamboo_parse_results_bytes("{\"x\":1}", 7, &b, &n,
	    &size, &cause), -1);
	free(cause);
	cr_assert_eq(bamboo_parse_results_bytes("{\"results\":{\"size\":0}}",
	    22, &b, &n, &size, &cause), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(size, 0);
	ci_builds_free(b, n);
}

Test(jenkins, builds)
{
	struct ci_build	*b;
	size_t		 n, len;
	char		*body, *cause = NULL;

	body = slurp("tests/fixtures/ci/jenkins-builds.json", &len);
	cr_assert_eq(jenkins_parse_builds_bytes(body, len, &b, &n, &cause), 0,
	    "%s", cause);
	cr_assert_eq(n, 3);
	cr_assert_eq(b[0].number, 43);
	cr_assert_not(b[0].finished);
	cr_assert_null(b[0].state);
	cr_assert(b[1].finished);
	cr_assert_str_eq(b[1].state, "SUCCESS");
	cr_assert_eq(b[1].completed_at, 1767261600);
	cr_assert_eq(b[1].nartifacts, 2);
	cr_assert_str_eq(b[1].artifacts[0].name, "app-1.2.3.tgz");
	cr_assert_str_eq(b[1].artifacts[0].url,
	    "https://jenkins.example.com/job/app/42/artifact/dist/"
	    "app%201.2.3.tgz");
	cr_assert_str_eq(b[1].artifacts[1].name, "build.log");
	cr_assert_eq(b[2].number, 41);
	cr_assert_eq(b[2].completed_at, 1767258000);
	ci_builds_free(b, n);
	free(body);
}

Test(jenkins, job_path)
{
	char	*p, *cause = NULL;

	p = jenkins_job_path("team/app/main", &cause);
	cr_assert_str_eq(p, "/job/team/job/app/job/main");
	free(p);
	p = jenkins_job_path("app/feature%2Ffoo", &cause);
	cr_assert_str_eq(p, "/job/app/job/feature%252Ffoo");
	free(p);
	p = jenkins_job_path("my job", &cause);
	cr_assert_str_eq(p, "/job/my%20job");
	free(p);
	cr_assert_null(jenkins_job_path("a//b", &cause));
	free(cause);
	cr_assert_null(jenkins_job_path("a/../b", &cause));
	free(cause);
	cr_assert_null(jenkins_job_path("", &cause));
	free(cause);
}

Test(bamboo, plan_keys)
{
	cr_assert(bamboo_plan_key_valid("PROJ-PLAN"));
	cr_assert(bamboo_plan_key_valid("PROJ-PLAN0-JOB1"));
	cr_assert_not(bamboo_plan_key_valid("PLAN"));
	cr_assert_not(bamboo_plan_key_valid("PROJ-PLAN/../x"));
	cr_assert_not(bamboo_plan_key_valid("-PLAN"));
	cr_assert_not(bamboo_plan_key_valid("PROJ-"));
	cr_assert_not(bamboo_plan_key_valid("PROJ PLAN"));
}

Test(ci, version_fill)
{
	struct ci_artifact	 arts[2] = {
		{ "dist", "out/app.tgz", "https://x/a", 5 },
		{ "logs", "out/build.log", NULL, -1 },
	};
	struct ci_build		 b = { .number = 42, .state = "SUCCESS",
	    .completed_at = 1767261600, .url = "https://x/42/",
	    .artifacts = arts, .nartifacts = 2 };
	struct filter_conf	 fc = { .include = "\\.tgz$", .keep_noise = 1 };
	struct versions		 vs = { 0 };
	struct filter		*f;
	struct version		*v;
	const cJSON		*a;
	char			*cause = NULL;

	f = filter_create(&fc, &cause);
	cr_assert_not_null(f, "%s", cause);
	v = versions_add(&vs, "42");
	ci_version_fill(v, &b, "job#42", f, NULL);
	cr_assert_str_eq(v->digest, "job#42");
	cr_assert_eq(v->pushed_at, 1767261600);
	cr_assert_eq(cJSON_GetObjectItem(v->fields, "buildNumber")->valuedouble,
	    42);
	a = cJSON_GetObjectItem(v->fields, "artifacts");
	cr_assert_eq(cJSON_GetArraySize(a), 1);
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0),
	    "path")->valuestring, "out/app.tgz");
	cr_assert_str_eq(cJSON_GetObjectItem(v->metadata, "url")->valuestring,
	    "https://x/42/");
	cr_assert(ci_state_accepted(NULL, "SUCCESS", "success"));
	cr_assert_not(ci_state_accepted(NULL, "SUCCESS", NULL));
	cr_assert_not(ci_state_accepted(NULL, "SUCCESS", "UNSTABLE"));
	filter_free(f);
	versions_free(&vs);
}
