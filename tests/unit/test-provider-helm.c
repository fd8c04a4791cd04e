/*
 * test-provider-helm.c: the HelmChart provider's pure parts.  The index.yaml
 * parser runs over every recorded file in tests/fixtures/helm/index/ (the
 * chart asked for is always "mychart"); each sits beside NAME.expect, what
 * the parser made of it as text.  A new case is a new pair of files.  Plus
 * the newest-first order, the version and chart-name grammars and the
 * resolution of chart URLs against the repository URL.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "unit.h"
#include "../../providers/helm/helm.h"

#define FIXTURES	"tests/fixtures/helm"

static void
render_index(const char *body, size_t len, struct buf *out)
{
	struct helm_index	 idx;
	struct helm_entry	*e;
	char			*cause = NULL;
	size_t			 i;

	if (helm_parse_index(body, len, "mychart", &idx, &cause) != 0) {
		cr_assert_eq(idx.n, 0);
		cr_assert_null(idx.v);
		buf_printf(out, "error: %s\n", cause);
		free(cause);
		return;
	}
	buf_printf(out, "found %d\nversions %zu\n", idx.found, idx.n);
	for (i = 0; i < idx.n; i++) {
		e = &idx.v[i];
		buf_printf(out, "%s app=%s digest=%s created=%lld url=%s%s\n",
		    e->version, e->app_version ? e->app_version : "-",
		    e->digest ? e->digest : "-", (long long)e->created_s,
		    e->url ? e->url : "-", e->deprecated ? " deprecated" : "");
	}
	buf_printf(out, "skipped %zu\n", idx.skipped);
	if (idx.skip_cause != NULL)
		buf_printf(out, "cause %s\n", idx.skip_cause);
	helm_index_clear(&idx);
}

Test(helm_parse, index_files)
{
	cr_assert_geq(ut_fixtures(FIXTURES "/index", render_index), 20);
}

Test(helm_parse, newest_first)
{
	const char		*body = "apiVersion: v1\nentries:\n  mychart:\n"
	    "  - version: 1.2.0\n  - version: nightly\n  - version: 1.10.0\n"
	    "  - version: 1.10.0-rc.1\n  - version: 0.9.0\n"
	    "  - version: alpha\n  - version: v2.0.0\n";
	const char		*want[] = { "v2.0.0", "1.10.0", "1.10.0-rc.1",
	    "1.2.0", "0.9.0", "alpha", "nightly" };
	struct helm_index	 idx;
	char			*cause = NULL;
	size_t			 i;

	cr_assert_eq(helm_parse_index(body, strlen(body), "mychart", &idx,
	    &cause), 0, "%s", cause);
	helm_index_sort(&idx);
	cr_assert_eq(idx.n, nitems(want));
	for (i = 0; i < idx.n; i++)
		cr_expect_str_eq(idx.v[i].version, want[i], "at %zu", i);
	helm_index_clear(&idx);
}

Test(helm_parse, only_the_asked_chart)
{
	const char		*body = "apiVersion: v1\nentries:\n"
	    "  mychart-extra:\n  - version: 1.0.0\n"
	    "  my:\n  - version: 2.0.0\n";
	struct helm_index	 idx;
	char			*cause = NULL;

	cr_assert_eq(helm_parse_index(body, strlen(body), "mychart", &idx,
	    &cause), 0);
	cr_assert_eq(idx.found, 0);
	cr_assert_eq(idx.n, 0);
	helm_index_clear(&idx);
}

Test(helm_parse, nul_inside_the_body)
{
	const char		 body[] = "apiVersion: v1\nentries:\n  mychart:\n"
	    "  - version: 1.0.0\0\n";
	struct helm_index	 idx;
	char			*cause = NULL;

	cr_assert_eq(helm_parse_index(body, sizeof body - 1, "mychart", &idx,
	    &cause), -1);
	cr_assert_not_null(strstr(cause, "invalid YAML"), "%s", cause);
	free(cause);
}

Test(helm_parse, grammars)
{
	cr_assert(helm_version_valid("1.2.3-rc.1+build.5"));
	cr_assert(helm_version_valid("v1_2"));
	cr_assert_not(helm_version_valid(""));
	cr_assert_not(helm_version_valid("1.0 beta"));
	cr_assert_not(helm_version_valid("1.0/../x"));
	cr_assert_not(helm_version_valid("1.0\n"));
	cr_assert(helm_chart_valid("my-chart_2.x"));
	cr_assert_not(helm_chart_valid(""));
	cr_assert_not(helm_chart_valid("a/b"));
	cr_assert_not(helm_chart_valid("a b"));
}

Test(helm_parse, chart_urls)
{
	char	*s;

	s = helm_chart_url("https://h.example/charts/", "a-1.0.0.tgz");
	cr_expect_str_eq(s, "https://h.example/charts/a-1.0.0.tgz");
	free(s);
	s = helm_chart_url("https://h.example/charts", "sub/a-1.0.0.tgz");
	cr_expect_str_eq(s, "https://h.example/charts/sub/a-1.0.0.tgz");
	free(s);
	s = helm_chart_url("https://h.example:8443/charts/", "/dl/a.tgz");
	cr_expect_str_eq(s, "https://h.example:8443/dl/a.tgz");
	free(s);
	s = helm_chart_url("https://h.example/charts/",
	    "http://cdn.example/a.tgz");
	cr_expect_str_eq(s, "http://cdn.example/a.tgz");
	free(s);
	s = helm_index_url("http://127.0.0.1:8080");
	cr_expect_str_eq(s, "http://127.0.0.1:8080/index.yaml");
	free(s);
	s = helm_index_url("http://127.0.0.1:8080/repo/");
	cr_expect_str_eq(s, "http://127.0.0.1:8080/repo/index.yaml");
	free(s);
}
