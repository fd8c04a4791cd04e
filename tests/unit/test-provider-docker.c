/*
 * test-provider-docker.c: the DockerRegistry provider's pure parsers, run
 * over every recorded response in tests/fixtures/docker/<parser>/; each
 * response sits beside NAME.expect, the parser's result written as text.  A
 * new case is a new pair of files.  Plus the grammar checks on tags and
 * digests that keep hostile names out of URLs.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "../../providers/docker/provider-docker.h"
#include "fetch.h"
#include "unit.h"

#define FIXTURES	"tests/fixtures/docker"
#define TOKEN_NOW	1800000000	/* 2027-01-15T08:00:00Z */

static void
render_tags(const char *body, size_t len, struct buf *out)
{
	char	**tags, *cause;
	size_t	 n, i;

	if (docker_parse_tags(body, len, &tags, &n, &cause) != 0) {
		cr_assert_null(tags);
		buf_printf(out, "error: %s\n", cause);
		free(cause);
		return;
	}
	buf_printf(out, "tags %zu\n", n);
	for (i = 0; i < n; i++)
		buf_printf(out, "%s\n", tags[i]);
	docker_tags_free(tags, n);
}

static void
render_token(const char *body, size_t len, struct buf *out)
{
	char	*token, *cause;
	int64_t	 expires;

	if (fetch_parse_token(body, len, TOKEN_NOW, &token, &expires,
	    &cause) != 0) {
		cr_assert_null(token);
		buf_printf(out, "error: %s\n", cause);
		free(cause);
		return;
	}
	buf_printf(out, "token %s\nexpires %lld\n", token,
	    (long long)(expires - TOKEN_NOW));
	free(token);
}

static void
render_manifest(const char *body, size_t len, struct buf *out)
{
	struct docker_manifest	 m;
	char			*cause;

	if (docker_parse_manifest(body, len, NULL, &m, &cause) != 0) {
		cr_assert_null(m.config_digest);
		cr_assert_null(m.platform_digest);
		buf_printf(out, "error: %s\n", cause);
		free(cause);
		return;
	}
	if (m.kind == DOCKER_MANIFEST_INDEX)
		buf_printf(out, "index %s\n", m.platform_digest);
	else
		buf_printf(out, "image %s\n", m.config_digest);
	docker_manifest_clear(&m);
}

static void
render_config(const char *body, size_t len, struct buf *out)
{
	cJSON	*labels, *item;
	char	*cause;
	int64_t	 created;

	if (docker_parse_config(body, len, &labels, &created, &cause) != 0) {
		cr_assert_null(labels);
		buf_printf(out, "error: %s\n", cause);
		free(cause);
		return;
	}
	buf_printf(out, "created %lld\n", (long long)created);
	cJSON_ArrayForEach(item, labels)
		buf_printf(out, "label %s=%s\n", item->string, item->valuestring);
	cJSON_Delete(labels);
}

Test(docker_parse, tag_lists)
{
	cr_assert_geq(ut_fixtures(FIXTURES "/tags", render_tags), 10);
}

Test(docker_parse, token_responses)
{
	cr_assert_geq(ut_fixtures(FIXTURES "/token", render_token), 10);
}

Test(docker_parse, manifests)
{
	cr_assert_geq(ut_fixtures(FIXTURES "/manifest", render_manifest), 10);
}

Test(docker_parse, config_blobs)
{
	cr_assert_geq(ut_fixtures(FIXTURES "/config", render_config), 10);
}

Test(docker_parse, content_type_decides_without_media_type)
{
	const char		*body = "{\"schemaVersion\":2,\"manifests\":"
	    "[{\"digest\":\"sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
	struct docker_manifest	 m;
	char			*cause = NULL;

	cr_assert_eq(docker_parse_manifest(body, strlen(body),
	    "application/vnd.docker.distribution.manifest.list.v2+json; x=y",
	    &m, &cause), 0);
	cr_assert_eq(m.kind, DOCKER_MANIFEST_INDEX);
	docker_manifest_clear(&m);
	cr_assert_eq(docker_parse_manifest(body, strlen(body),
	    "application/vnd.oci.image.manifest.v1+json", &m, &cause), -1);
	cr_assert_str_eq(cause, "the manifest has no \"config\" object");
	free(cause);
}

Test(docker_parse, tag_grammar)
{
	cr_assert(docker_tag_valid("latest"));
	cr_assert(docker_tag_valid("_x.y-Z9"));
	cr_assert_not(docker_tag_valid(""));
	cr_assert_not(docker_tag_valid(".hidden"));
	cr_assert_not(docker_tag_valid("-x"));
	cr_assert_not(docker_tag_valid("a/b"));
	cr_assert_not(docker_tag_valid("a?b"));
	cr_assert_not(docker_tag_valid("a b"));
}

Test(docker_parse, digest_grammar)
{
	cr_assert(docker_digest_valid("sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	cr_assert(docker_digest_valid("multihash+base58:QmRZxt2b1FVZPNqd8hsi"));
	cr_assert_not(docker_digest_valid("sha256:0123"));
	cr_assert_not(docker_digest_valid("sha256:"
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	cr_assert_not(docker_digest_valid("sha256:"));
	cr_assert_not(docker_digest_valid(":abc"));
	cr_assert_not(docker_digest_valid("SHA256:abc"));
	cr_assert_not(docker_digest_valid("sha1:ab/cd"));
	cr_assert_not(docker_digest_valid("nocolon"));
}

/*
 * The poll, end to end, against a registry served by evhttp in this process
 * on the same event base: paging by Link, the cap, digests only for new
 * tags, the Bearer dance with its cache and its one retry, and failures.
 */
#include <event2/event.h>
#include <event2/http.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "connector.h"
#include "http.h"
#include "provider.h"

struct fake {
	struct ut_stub	 stub;		/* unit.h: evhttp and its port */
	int		 ntags;		/* t00 … */
	int		 page;		/* tags per page, at most */
	int		 bearer;	/* demand a token */
	int		 token_gen;	/* the valid token is tok-<gen> */
	int		 status;	/* answer every listing with this */
	int		 cycle;		/* Link back to the first page */
	int		 lists, heads, tokens;
};

struct run {
	struct event_base	*base;
	int			 finished;
	int			 status;
	char			*cause;
	unsigned		 requests;
	struct versions		*vs;
};

static void
fake_reply(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer	*out = evbuffer_new();

	if (body != NULL)
		evbuffer_add(out, body, strlen(body));
	evhttp_send_reply(req, code, "x", out);
	evbuffer_free(out);
}

static void
fake_cb(struct evhttp_request *req, void *arg)
{
	struct fake		*f = arg;
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const char		*uri = evhttp_request_get_uri(req), *auth, *q;
	char			 want[64], hdr[256], *body;
	struct buf		 b = { 0 };
	int			 i, start = 0, n;

	if (strncmp(uri, "/token", 6) == 0) {
		f->tokens++;
		cr_assert(strstr(uri, "scope=repository%3Aapp%3Apull") != NULL,
		    "token uri %s", uri);
		f->token_gen++;
		snprintf(hdr, sizeof hdr, "{\"token\":\"tok-%d\","
		    "\"expires_in\":300}", f->token_gen);
		fake_reply(req, 200, hdr);
		return;
	}
	snprintf(want, sizeof want, "Bearer tok-%d", f->token_gen);
	auth = evhttp_find_header(in, "Authorization");
	if (f->bearer && (auth == NULL || strcmp(auth, want) != 0)) {
		snprintf(hdr, sizeof hdr, "Bearer realm=\"http://127.0.0.1:%d"
		    "/token\",service=\"fake\",scope=\"repository:app:pull\"",
		    f->stub.port);
		evhttp_add_header(out, "WWW-Authenticate", hdr);
		fake_reply(req, 401, "{\"errors\":[]}");
		return;
	}
	if (strncmp(uri, "/v2/app/manifests/", 18) == 0) {
		f->heads++;
		cr_assert_eq(evhttp_request_get_command(req), EVHTTP_REQ_HEAD);
		cr_assert(strstr(evhttp_find_header(in, "Accept"),
		    "application/vnd.oci.image.index.v1+json") != NULL);
		snprintf(hdr, sizeof hdr, "sha256:%064d", atoi(uri + 19));
		evhttp_add_header(out, "Docker-Content-Digest", hdr);
		fake_reply(req, 200, NULL);
		return;
	}
	cr_assert(strncmp(uri, "/v2/app/tags/list?", 18) == 0, "uri %s", uri);
	f->lists++;
	if (f->status != 0) {
		fake_reply(req, f->status, "<html>oops</html>");
		return;
	}
	if ((q = strstr(uri, "last=t")) != NULL)
		start = atoi(q + 6) + 1;
	n = f->page;
	buf_adds(&b, "{\"name\":\"app\",\"tags\":[");
	for (i = start; i < f->ntags && i < start + n; i++)
		buf_printf(&b, "%s\"t%02d\"", i == start ? "" : ",", i);
	buf_adds(&b, "]}");
	if (f->cycle)
		evhttp_add_header(out, "Link",
		    "</v2/app/tags/list?n=1000>; rel=\"next\"");
	else if (i < f->ntags) {
		snprintf(hdr, sizeof hdr, "</v2/app/tags/list?last=t%02d&n=%d>;"
		    " rel=\"next\"", i - 1, n);
		evhttp_add_header(out, "Link", hdr);
	}
	body = buf_take(&b);
	fake_reply(req, 200, body);
	free(body);
}

static void
run_done(const struct provider_result *r, void *arg)
{
	struct run	*run = arg;

	cr_assert_not(run->finished, "done ran twice");
	run->finished = 1;
	run->status = r->status;
	run->cause = r->cause != NULL ? xstrdup(r->cause) : NULL;
	run->requests = r->requests;
	run->vs = r->versions;
	event_base_loopbreak(run->base);
}

struct world {
	struct event_base	*base;
	struct env		 env;
	struct fake		 fake;
	struct docker_connector	 conn;
	struct docker_source	 src;
	struct connector_conf	 cc;
	struct source_conf	 sc;
	struct provider		*p;
};

static void
world_init(struct world *w, int ntags, int page, long long max_tags)
{
	char	*cause = NULL;

	memset(w, 0, sizeof *w);
	w->base = event_base_new();
	w->env.base = w->base;
	w->env.http = http_create(w->base, &cause);
	cr_assert_not_null(w->env.http, "%s", cause);
	w->env.connectors = connectors_create();
	w->fake.ntags = ntags;
	w->fake.page = page;
	ut_stub_start(&w->fake.stub, w->base, NULL, fake_cb, &w->fake);
	xasprintf(&w->conn.url, "http://127.0.0.1:%d/v2/", w->fake.stub.port);
	w->conn.kind = DOCKER_KIND_OTHER;
	w->src.image_path = xstrdup("app");
	w->cc.id = "reg";
	w->cc.data = &w->conn;
	w->cc.entry = connector_find("DockerRegistry");
	cr_assert_not_null(w->cc.entry);
	w->sc.id = xstrdup("test");
	w->sc.connector = &w->cc;
	w->sc.data = &w->src;
	w->sc.entry = provider_find("DockerRegistry");
	cr_assert_not_null(w->sc.entry);
	w->sc.max_tags = max_tags;
	w->p = provider_create(&w->env, &w->sc, &cause);
	cr_assert_not_null(w->p, "%s", cause);
}

static void
world_wait(struct world *w, struct run *run)
{
	cr_assert_not(run->finished, "done ran inside the call");
	event_base_dispatch(w->base);
	cr_assert(run->finished);
}

static void
world_list(struct world *w, struct run *run, int may_be_unchanged)
{
	struct list_request	 req = { 0 };

	memset(run, 0, sizeof *run);
	run->base = w->base;
	req.max = w->sc.max_tags;
	req.may_be_unchanged = may_be_unchanged;
	w->p->entry->list(w->p, &req, run_done, run);
	world_wait(w, run);
}

/* Resolve every version of vs with `want`. */
static void
world_resolve(struct world *w, struct run *run, struct versions *vs,
    unsigned want)
{
	struct version	**todo;
	size_t		 i;

	todo = xcalloc(vs->n + 1, sizeof *todo);
	for (i = 0; i < vs->n; i++) {
		vs->v[i].want = want;
		todo[i] = &vs->v[i];
	}
	memset(run, 0, sizeof *run);
	run->base = w->base;
	w->p->entry->resolve(w->p, todo, vs->n, run_done, run);
	world_wait(w, run);
	free(todo);
}

static void
run_clear(struct run *run)
{
	if (run->vs != NULL) {
		versions_free(run->vs);
		free(run->vs);
	}
	free(run->cause);
}

static void
world_free(struct world *w)
{
	provider_free(w->p);
	connectors_free(w->env.connectors);
	http_free(w->env.http);
	ut_stub_stop(&w->fake.stub);
	event_base_free(w->base);
	free(w->conn.url);
	free(w->src.image_path);
	free(w->sc.id);
}

Test(docker_poll, pages_by_link_then_resolves_only_what_is_asked)
{
	struct world	 w;
	struct run	 run, res;
	struct versions	 one = { 0 };
	const cJSON	*reg;

	world_init(&w, 25, 10, 10000);
	reg = cJSON_GetObjectItemCaseSensitive(w.p->fields, "registry");
	cr_assert_eq(strncmp(reg->valuestring, "127.0.0.1:", 10), 0);
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(w.p->fields,
	    "repository")->valuestring, "app");
	world_list(&w, &run, 0);
	cr_assert_eq(run.status, 0, "%s", run.cause);
	cr_assert_eq(run.vs->n, 25);
	cr_assert_not(run.vs->truncated);
	cr_assert_eq(w.fake.lists, 3);
	cr_assert_eq(w.fake.heads, 0, "a listing costs no HEAD");
	cr_assert_eq(run.requests, 3);
	cr_assert_str_eq(run.vs->v[24].name, "t24");
	cr_assert_null(run.vs->v[24].digest);

	versions_add(&one, "t24");
	world_resolve(&w, &res, &one, RESOLVE_DIGEST);
	cr_assert_eq(res.status, 0, "%s", res.cause);
	cr_assert_null(res.vs);
	cr_assert_eq(res.requests, 1);
	cr_assert_eq(w.fake.heads, 1);
	cr_assert_str_eq(one.v[0].digest, "sha256:"
	    "0000000000000000000000000000000000000000000000000000000000000024");
	versions_free(&one);
	run_clear(&res);
	run_clear(&run);
	world_free(&w);
}

Test(docker_poll, cap_stops_listing_and_marks_truncated)
{
	struct world	 w;
	struct run	 run;

	world_init(&w, 25, 10, 12);
	world_list(&w, &run, 0);
	cr_assert_eq(run.status, 0, "%s", run.cause);
	cr_assert_eq(run.vs->n, 12);
	cr_assert(run.vs->truncated);
	cr_assert_eq(w.fake.lists, 2);
	cr_assert_eq(w.fake.heads, 0);
	run_clear(&run);
	world_free(&w);
}

Test(docker_poll, bearer_dance_cached_then_redone_once)
{
	struct world	 w;
	struct run	 run, res;

	world_init(&w, 3, 100, 10000);
	w.fake.bearer = 1;
	world_list(&w, &run, 0);
	cr_assert_eq(run.status, 0, "%s", run.cause);
	cr_assert_eq(run.vs->n, 3);
	cr_assert_eq(w.fake.tokens, 1);
	cr_assert_eq(run.requests, 3, "401, token, listing");
	world_resolve(&w, &res, run.vs, RESOLVE_DIGEST);
	cr_assert_eq(res.status, 0, "%s", res.cause);
	cr_assert_eq(w.fake.heads, 3);
	cr_assert_eq(res.requests, 3, "the cached token is sent ahead");
	cr_assert_eq(w.fake.tokens, 1);
	run_clear(&res);
	run_clear(&run);

	/* The cached token is sent ahead: one listing, nothing else. */
	world_list(&w, &run, 0);
	cr_assert_eq(run.status, 0, "%s", run.cause);
	cr_assert_eq(run.requests, 1);
	cr_assert_eq(w.fake.tokens, 1);
	run_clear(&run);

	/* The server forgets the token: 401, a new token, success. */
	w.fake.token_gen++;
	world_list(&w, &run, 0);
	cr_assert_eq(run.status, 0, "%s", run.cause);
	cr_assert_eq(run.requests, 3);
	cr_assert_eq(w.fake.tokens, 2);
	run_clear(&run);
	world_free(&w);
}

/* Two sources on one connector: one instance, one token for the scope. */
Test(docker_poll, sources_of_a_connector_share_its_tokens)
{
	struct world	 w;
	struct run	 run;
	struct provider	*p2;
	char		*cause = NULL;

	world_init(&w, 3, 100, 10000);
	w.fake.bearer = 1;
	p2 = provider_create(&w.env, &w.sc, &cause);
	cr_assert_not_null(p2, "%s", cause);
	cr_assert_eq(p2->connector, w.p->connector);
	world_list(&w, &run, 0);
	cr_assert_eq(run.status, 0, "%s", run.cause);
	run_clear(&run);
	memset(&run, 0, sizeof run);
	run.base = w.base;
	p2->entry->list(p2, &(struct list_request){ .max = 100 }, run_done,
	    &run);
	world_wait(&w, &run);
	cr_assert_eq(run.status, 0, "%s", run.cause);
	/* The challenge is learnt per source, the token is the connector's. */
	cr_assert_eq(w.fake.tokens, 1);
	run_clear(&run);
	provider_free(p2);
	world_free(&w);
}

Test(docker_poll, link_cycle_fails)
{
	struct world	 w;
	struct run	 run;

	world_init(&w, 3, 100, 10000);
	w.fake.cycle = 1;
	world_list(&w, &run, 0);
	cr_assert_eq(run.status, -1);
	cr_assert_null(run.vs);
	cr_assert(strstr(run.cause, "(a cycle)") != NULL, "%s", run.cause);
	cr_assert_eq(w.fake.lists, 1);
	run_clear(&run);
	world_free(&w);
}

Test(docker_poll, server_error_is_one_clear_cause)
{
	struct world	 w;
	struct run	 run;
	char		*want;

	world_init(&w, 3, 100, 10000);
	w.fake.status = 500;
	world_list(&w, &run, 0);
	cr_assert_eq(run.status, -1);
	xasprintf(&want, "GET http://127.0.0.1:%d/v2/app/tags/list?n=1000: "
	    "HTTP 500", w.fake.stub.port);
	cr_assert_str_eq(run.cause, want);
	free(want);
	run_clear(&run);
	world_free(&w);
}

Test(docker_poll, garbage_listing_is_one_clear_cause)
{
	struct world	 w;
	struct run	 run;

	world_init(&w, 3, 100, 10000);
	w.fake.status = 200;
	world_list(&w, &run, 0);
	cr_assert_eq(run.status, -1);
	cr_assert(strstr(run.cause, "not JSON (an HTML or XML page)") !=
	    NULL, "%s", run.cause);
	run_clear(&run);
	world_free(&w);
}

Test(docker_poll, cancel_runs_no_callback)
{
	struct world	 w;
	struct run	 run;

	world_init(&w, 3, 100, 10000);
	memset(&run, 0, sizeof run);
	run.base = w.base;
	w.p->entry->list(w.p, &(struct list_request){ .max = 100 }, run_done,
	    &run);
	w.p->entry->cancel(w.p);
	event_base_loop(w.base, EVLOOP_NONBLOCK);
	cr_assert_not(run.finished);
	world_free(&w);
}
