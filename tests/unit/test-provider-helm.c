/*
 * test-provider-helm.c: the HelmChart provider's pure parts.  The index.yaml
 * parser runs over every recorded file in tests/fixtures/helm/index/ (the
 * chart asked for is always "mychart"); each sits beside NAME.expect, what
 * the parser made of it as text.  A new case is a new pair of files.  Plus
 * the newest-first order, the version and chart-name grammars and the
 * resolution of chart URLs against the repository URL.  Then the provider's
 * list() against an evhttp stub repository: versions and their fields,
 * the maxTags cap, the ETag and 304, a bad body, cancel.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <criterion/criterion.h>

#include "unit.h"
#include "connector.h"
#include "http.h"
#include "provider.h"
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

/* The provider against a stub repository. */

#define DIGEST_A	"5f2e1a9c3b7d4e6f8a9b0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f7"
#define INDEX		"apiVersion: v1\nentries:\n  web:\n" \
	"  - version: 1.2.0\n    appVersion: \"3.1\"\n" \
	"    created: 2026-01-01T10:00:00Z\n    digest: " DIGEST_A "\n" \
	"    urls: [web-1.2.0.tgz]\n" \
	"  - version: 1.10.0\n    urls: [https://cdn.example/web.tgz]\n" \
	"  - version: 0.9.0\n"

struct repo {
	const char	*body;		/* index.yaml */
	int		 requests;
	int		 conditional;	/* requests with If-None-Match */
	int		 not_modified;	/* 304s sent */
};

static void
repo_cb(struct evhttp_request *req, void *arg)
{
	struct repo		*r = arg;
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*b;
	const char		*inm;

	r->requests++;
	if (strcmp(evhttp_request_get_uri(req), "/charts/index.yaml") != 0) {
		evhttp_send_error(req, 404, NULL);
		return;
	}
	evhttp_add_header(out, "ETag", "\"v1\"");
	if ((inm = evhttp_find_header(in, "If-None-Match")) != NULL) {
		r->conditional++;
		if (strcmp(inm, "\"v1\"") == 0) {
			r->not_modified++;
			evhttp_send_reply(req, 304, "Not Modified", NULL);
			return;
		}
	}
	b = evbuffer_new();
	evbuffer_add(b, r->body, strlen(r->body));
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

struct world {
	struct ut_loop		 loop;
	struct ut_stub		 stub;
	struct repo		 repo;
	struct env		 env;
	struct helm_connector	 conn;
	struct helm_source	 src;
	struct connector_conf	 cc;
	struct source_conf	 sc;
	struct provider		*p;
	/* The last call's answer. */
	int			 finished;
	int			 status;
	int			 unchanged;
	char			*cause;
	struct versions		*vs;
};

static void
world_done(const struct provider_result *r, void *arg)
{
	struct world	*w = arg;

	cr_assert_not(w->finished, "done ran twice");
	w->finished = 1;
	w->status = r->status;
	w->unchanged = r->unchanged;
	w->cause = r->cause != NULL ? xstrdup(r->cause) : NULL;
	w->vs = r->versions;
}

static void
world_init(struct world *w, const char *body)
{
	char	*cause = NULL;

	memset(w, 0, sizeof *w);
	ut_loop_init(&w->loop, 20);
	w->repo.body = body;
	ut_stub_start(&w->stub, w->loop.base, NULL, repo_cb, &w->repo);
	w->env.base = w->loop.base;
	w->env.http = http_create(w->loop.base, &cause);
	cr_assert_not_null(w->env.http, "%s", cause);
	w->env.connectors = connectors_create();
	xasprintf(&w->conn.url, "http://127.0.0.1:%d/charts/", w->stub.port);
	w->src.chart_name = "web";
	w->cc.id = "charts";
	w->cc.data = &w->conn;
	w->cc.entry = connector_find("HttpHelmRepo");
	cr_assert_not_null(w->cc.entry);
	w->sc.id = "web";
	w->sc.connector = &w->cc;
	w->sc.data = &w->src;
	w->sc.entry = provider_find("HelmChart");
	cr_assert_not_null(w->sc.entry);
	w->p = provider_create(&w->env, &w->sc, &cause);
	cr_assert_not_null(w->p, "%s", cause);
}

static void
world_clear(struct world *w)
{
	if (w->vs != NULL) {
		versions_free(w->vs);
		free(w->vs);
	}
	free(w->cause);
	w->vs = NULL;
	w->cause = NULL;
	w->finished = 0;
}

static void
world_list(struct world *w, long long max, int may_be_unchanged)
{
	struct list_request	 req = { .max = max,
	    .may_be_unchanged = may_be_unchanged };

	world_clear(w);
	w->p->entry->list(w->p, &req, world_done, w);
	cr_assert_not(w->finished, "done ran inside list()");
	ut_run_until(&w->loop, &w->finished);
}

static void
world_free(struct world *w)
{
	world_clear(w);
	provider_free(w->p);
	connectors_free(w->env.connectors);
	http_free(w->env.http);
	ut_stub_stop(&w->stub);
	ut_loop_free(&w->loop);
	free(w->conn.url);
}

static const char *
field(const cJSON *o, const char *name)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(o, name);

	return (cJSON_IsString(f) ? f->valuestring : NULL);
}

Test(helm_provider, lists_newest_first_with_fields)
{
	struct world	 w;
	struct version	*v;

	world_init(&w, INDEX);
	world_list(&w, 100, 0);
	cr_assert_eq(w.status, 0, "%s", w.cause);
	cr_assert_eq(w.vs->n, 3);
	cr_assert_not(w.vs->truncated);
	cr_expect_str_eq(w.vs->v[0].name, "1.10.0");
	cr_expect_str_eq(w.vs->v[1].name, "1.2.0");
	cr_expect_str_eq(w.vs->v[2].name, "0.9.0");
	v = &w.vs->v[1];
	cr_expect_str_eq(v->digest, "sha256:" DIGEST_A);
	cr_expect_eq(v->pushed_at, 1767261600);
	cr_expect_str_eq(field(v->fields, "appVersion"), "3.1");
	cr_expect_eq(strncmp(field(v->metadata, "url"), w.conn.url,
	    strlen(w.conn.url)), 0);
	cr_expect_str_eq(field(v->metadata, "url") + strlen(w.conn.url),
	    "web-1.2.0.tgz");
	cr_assert_null(w.vs->v[0].digest);
	cr_expect_str_eq(field(w.vs->v[0].metadata, "url"),
	    "https://cdn.example/web.tgz");
	cr_expect_str_eq(field(w.p->fields, "chart"), "web");
	cr_expect_str_eq(field(w.p->fields, "repository"), w.conn.url);
	cr_expect_eq(w.repo.requests, 1);
	world_free(&w);
}

Test(helm_provider, cap_keeps_the_newest_and_flags_truncation)
{
	struct world	 w;

	world_init(&w, INDEX);
	world_list(&w, 2, 0);
	cr_assert_eq(w.status, 0, "%s", w.cause);
	cr_assert_eq(w.vs->n, 2);
	cr_assert(w.vs->truncated);
	cr_expect_str_eq(w.vs->v[0].name, "1.10.0");
	cr_expect_str_eq(w.vs->v[1].name, "1.2.0");
	world_free(&w);
}

Test(helm_provider, etag_then_304_is_unchanged)
{
	struct world	 w;

	world_init(&w, INDEX);
	world_list(&w, 100, 1);		/* no ETag known yet: a plain GET */
	cr_assert_eq(w.status, 0, "%s", w.cause);
	cr_assert_eq(w.repo.conditional, 0);
	world_list(&w, 100, 0);		/* the core did not record it */
	cr_assert_eq(w.repo.conditional, 0);
	cr_assert_not_null(w.vs);
	world_list(&w, 100, 1);
	cr_assert_eq(w.status, 0, "%s", w.cause);
	cr_assert_eq(w.repo.not_modified, 1);
	cr_assert(w.unchanged);
	cr_assert_null(w.vs);
	world_free(&w);
}

Test(helm_provider, bad_body_fails_with_the_url)
{
	struct world	 w;

	world_init(&w, "<html><body>login</body></html>");
	world_list(&w, 100, 0);
	cr_assert_eq(w.status, -1);
	cr_assert_null(w.vs);
	cr_assert_not_null(strstr(w.cause, "/charts/index.yaml: not an "
	    "index (an HTML or XML page)"), "%s", w.cause);
	world_free(&w);
}

Test(helm_provider, missing_chart_fails)
{
	struct world	 w;

	world_init(&w, "apiVersion: v1\nentries:\n  api: []\n");
	world_list(&w, 100, 0);
	cr_assert_eq(w.status, -1);
	cr_assert_not_null(strstr(w.cause, "chart web is not in the index"),
	    "%s", w.cause);
	world_free(&w);
}

static void
set_flag(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	*(int *)arg = 1;
}

Test(helm_provider, cancel_means_no_callback)
{
	struct world	 w;
	struct timeval	 tv = { 0, 300000 };
	struct event	*ev;
	int		 waited = 0;

	world_init(&w, INDEX);
	w.p->entry->list(w.p, &(struct list_request){ .max = 100 },
	    world_done, &w);
	w.p->entry->cancel(w.p);
	/* Give a stray answer time to arrive; the callback must not run. */
	ev = evtimer_new(w.loop.base, set_flag, &waited);
	evtimer_add(ev, &tv);
	ut_run_until(&w.loop, &waited);
	event_free(ev);
	cr_assert_not(w.finished);
	/* The instance still works after a cancel. */
	world_list(&w, 100, 0);
	cr_assert_eq(w.status, 0, "%s", w.cause);
	cr_assert_eq(w.vs->n, 3);
	world_free(&w);
}
