/*
 * test-fetch.c: the fetch engine (fetch.h) against an evhttp server in the
 * test process: every way of paging (Link is the Docker provider's, in
 * test-provider-docker.c), the same-origin rule for next pages, a Basic
 * challenge answered once with the connector's credentials, a second 401,
 * body caps, bodies that are not JSON, a failure that cancels the rest, and
 * a batch with no request.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "json.h"
#include "provider.h"
#include "xml.h"
#include "unit.h"

struct srv {
	struct ut_stub	 stub;		/* unit.h: evhttp and its port */
	int		 hits;
};

static void
reply(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer	*out = evbuffer_new();

	if (body != NULL)
		evbuffer_add(out, body, strlen(body));
	evhttp_send_reply(req, code, "x", out);
	evbuffer_free(out);
}

static void
srv_cb(struct evhttp_request *req, void *arg)
{
	struct srv		*s = arg;
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const char		*uri = evhttp_request_get_uri(req), *auth;
	char			 body[4096];
	int			 off;

	s->hits++;
	if (strncmp(uri, "/token", 6) == 0) {
		if (strstr(uri, "next=p2") != NULL)
			reply(req, 200, "{\"items\":[\"c\"],\"nextToken\":null}");
		else
			reply(req, 200, "{\"items\":[\"a\",\"b\"],"
			    "\"nextToken\":\"p2\"}");
		return;
	}
	if (strncmp(uri, "/offset", 7) == 0) {
		off = strstr(uri, "offset=") != NULL ?
		    atoi(strstr(uri, "offset=") + 7) : 0;
		cr_assert(off == 0 || strstr(uri, "limit=2") != NULL, "%s", uri);
		if (off == 0)
			reply(req, 200, "[\"a\",\"b\"]");
		else if (off == 2)
			reply(req, 200, "[\"c\",\"d\"]");
		else
			reply(req, 200, "[\"e\"]");
		return;
	}
	if (strncmp(uri, "/s3", 3) == 0) {
		if (strstr(uri, "continuation-token=k%2F2") != NULL)
			reply(req, 200, "<ListBucketResult xmlns=\"http://s3."
			    "amazonaws.com/doc/2006-03-01/\"><IsTruncated>false"
			    "</IsTruncated><Contents><Key>c</Key></Contents>"
			    "</ListBucketResult>");
		else
			reply(req, 200, "<?xml version=\"1.0\"?><ListBucketResult>"
			    "<IsTruncated>true</IsTruncated>"
			    "<NextContinuationToken>k/2</NextContinuationToken>"
			    "<Contents><Key>a</Key></Contents>"
			    "<Contents><Key>b</Key></Contents>"
			    "</ListBucketResult>");
		return;
	}
	if (strncmp(uri, "/urlfield", 9) == 0) {
		if (strstr(uri, "page=2") != NULL)
			reply(req, 200, "{\"items\":[\"b\"],\"next\":null}");
		else
			reply(req, 200, "{\"items\":[\"a\"],"
			    "\"next\":\"/urlfield?page=2\"}");
		return;
	}
	if (strncmp(uri, "/evil", 5) == 0) {
		snprintf(body, sizeof body, "{\"items\":[\"a\"],\"next\":"
		    "\"http://127.0.0.2:%d/evil?page=2\"}", s->stub.port);
		reply(req, 200, body);
		return;
	}
	if (strncmp(uri, "/basic", 6) == 0) {
		auth = evhttp_find_header(in, "Authorization");
		if (auth == NULL || strcmp(auth, "Basic dTpw") != 0 ||
		    strstr(uri, "never") != NULL) {
			evhttp_add_header(out, "WWW-Authenticate",
			    "Basic realm=\"test\"");
			reply(req, 401, "no");
			return;
		}
		reply(req, 200, "[\"ok\"]");
		return;
	}
	if (strncmp(uri, "/big", 4) == 0) {
		memset(body, 'x', sizeof body - 1);
		body[sizeof body - 1] = '\0';
		reply(req, 200, body);
		return;
	}
	if (strncmp(uri, "/html", 5) == 0) {
		reply(req, 200, "<html><body>sign in</body></html>");
		return;
	}
	if (strncmp(uri, "/slow", 5) == 0)
		return;		/* never answered: cancelled by the failure */
	reply(req, 404, "{}");
}

static int
test_credentials(__unused struct connector *c, struct connector_creds *cr,
    __unused char **cause)
{
	cr->username = xstrdup("u");
	cr->password = xstrdup("p");
	return (0);
}

static const struct connector_entry test_connector = {
	.name = "Test",
	.credentials = test_credentials,
};

struct world {
	struct event_base	*base;
	struct env		 env;
	struct srv		 srv;
	struct connector_conf	 cc;
	struct provider		 p;
	struct fetcher		*fr;
	struct buf		 items;
	int			 finished, status;
	char			*cause;
	unsigned		 requests;
};

static void
world_init(struct world *w)
{
	char				*cause = NULL;

	memset(w, 0, sizeof *w);
	w->base = event_base_new();
	w->env.base = w->base;
	w->env.http = http_create(w->base, &cause);
	cr_assert_not_null(w->env.http, "%s", cause);
	ut_stub_start(&w->srv.stub, w->base, NULL, srv_cb, &w->srv);
	w->cc.id = "t";
	w->cc.entry = &test_connector;
	w->p.env = &w->env;
	w->p.connector = connector_get(&w->env, &w->cc, &cause);
	cr_assert_not_null(w->p.connector, "%s", cause);
	w->fr = fetcher_create(&w->p, NULL);
}

static void
world_free(struct world *w)
{
	fetcher_free(w->fr);
	connector_put(w->p.connector);
	http_free(w->env.http);
	ut_stub_stop(&w->srv.stub);
	event_base_free(w->base);
	buf_free(&w->items);
	free(w->cause);
}

static void
done_cb(struct provider_result *r, void *arg)
{
	struct world	*w = arg;

	cr_assert_not(w->finished, "done ran twice");
	w->finished = 1;
	w->status = r->status;
	w->requests = r->requests;
	w->cause = r->cause != NULL ? xstrdup(r->cause) : NULL;
	event_base_loopbreak(w->base);
}

static char *
url(struct world *w, const char *path)
{
	char	*u;

	xasprintf(&u, "http://127.0.0.1:%d%s", w->srv.stub.port, path);
	return (u);
}

/* Items of a JSON page ("items" array, or the array itself). */
static int
json_items(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct world	*w = arg;
	const cJSON	*arr, *it;
	cJSON		*own = NULL;
	char		*cause;

	(void)f;
	if (pg->json == NULL) {
		cr_assert_eq(json_parse(pg->resp->body.data, pg->resp->body.len,
		    &own, &cause), 0, "%s", cause);
		arr = own;
	} else
		arr = cJSON_IsArray(pg->json) ? pg->json :
		    json_get(pg->json, "items");
	cJSON_ArrayForEach(it, arr) {
		buf_adds(&w->items, it->valuestring);
		pg->items++;
	}
	cJSON_Delete(own);
	return (FETCH_NEXT);
}

static void
run(struct world *w, const char *path, unsigned flags,
    const struct fetch_paging *paging, fetch_cb cb, size_t max_body)
{
	struct fetch		*f;
	struct fetch_request	 rq;
	char			*u = url(w, path);

	memset(&rq, 0, sizeof rq);
	rq.url = u;
	rq.flags = flags;
	rq.paging = paging;
	rq.max_body = max_body;
	f = fetch_start(w->fr, done_cb, w);
	fetch_submit(f, &rq, cb, w);
	free(u);
	cr_assert_not(w->finished, "done ran inside the call");
	event_base_dispatch(w->base);
	cr_assert(w->finished);
}

Test(fetch, pages_by_a_token_field)
{
	struct world		w;
	struct fetch_paging	pp = { .kind = PAGING_TOKEN,
	    .field = "nextToken", .param = "next" };

	world_init(&w);
	run(&w, "/token?x=1", FETCH_JSON, &pp, json_items, 0);
	cr_assert_eq(w.status, 0, "%s", w.cause);
	cr_assert_str_eq(w.items.data, "abc");
	cr_assert_eq(w.requests, 2);
	world_free(&w);
}

Test(fetch, pages_by_offset_until_a_short_page)
{
	struct world		w;
	struct fetch_paging	pp = { .kind = PAGING_OFFSET,
	    .param = "offset", .limit_param = "limit", .page_size = 2 };

	world_init(&w);
	run(&w, "/offset?limit=2", 0, &pp, json_items, 0);
	cr_assert_eq(w.status, 0, "%s", w.cause);
	cr_assert_str_eq(w.items.data, "abcde");
	cr_assert_eq(w.requests, 3);
	world_free(&w);
}

static int
s3_items(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct world	*w = arg;
	xmlNode		*c;
	char		*key;

	(void)f;
	cr_assert_not_null(pg->xml);
	for (c = xml_child(xml_root(pg->xml), "Contents"); c != NULL;
	    c = xml_next(c)) {
		key = xml_text(c, "Key");
		buf_adds(&w->items, key);
		free(key);
	}
	return (FETCH_NEXT);
}

Test(fetch, pages_by_s3_continuation_tokens)
{
	struct world		w;
	struct fetch_paging	pp = { .kind = PAGING_S3 };

	world_init(&w);
	run(&w, "/s3?list-type=2", 0, &pp, s3_items, 0);
	cr_assert_eq(w.status, 0, "%s", w.cause);
	cr_assert_str_eq(w.items.data, "abc");
	cr_assert_eq(w.requests, 2);
	world_free(&w);
}

Test(fetch, pages_by_a_url_field_on_the_same_origin_only)
{
	struct world		w;
	struct fetch_paging	pp = { .kind = PAGING_URL_FIELD,
	    .field = "next" };

	world_init(&w);
	run(&w, "/urlfield", FETCH_JSON, &pp, json_items, 0);
	cr_assert_eq(w.status, 0, "%s", w.cause);
	cr_assert_str_eq(w.items.data, "ab");
	world_free(&w);

	world_init(&w);
	run(&w, "/evil", FETCH_JSON, &pp, json_items, 0);
	cr_assert_eq(w.status, -1);
	cr_assert(strstr(w.cause, "points to another origin") != NULL,
	    "%s", w.cause);
	cr_assert_eq(w.srv.hits, 1, "the foreign page was asked");
	world_free(&w);
}

Test(fetch, basic_challenge_answered_once)
{
	struct world	w;

	world_init(&w);
	run(&w, "/basic", 0, NULL, json_items, 0);
	cr_assert_eq(w.status, 0, "%s", w.cause);
	cr_assert_str_eq(w.items.data, "ok");
	cr_assert_eq(w.requests, 2, "401, then the retry");
	/* The challenge is remembered: credentials go ahead. */
	w.finished = 0;
	run(&w, "/basic", 0, NULL, json_items, 0);
	cr_assert_eq(w.requests, 1);
	world_free(&w);

	world_init(&w);
	run(&w, "/basic?never", 0, NULL, json_items, 0);
	cr_assert_eq(w.status, -1);
	cr_assert(strstr(w.cause, "HTTP 401 (credentials rejected)") != NULL,
	    "%s", w.cause);
	cr_assert(strstr(w.cause, "dTpw") == NULL, "a secret in the cause");
	world_free(&w);
}

Test(fetch, caps_and_garbage_fail_with_one_cause)
{
	struct world	w;

	world_init(&w);
	run(&w, "/big", 0, NULL, json_items, 100);
	cr_assert_eq(w.status, -1);
	cr_assert(strstr(w.cause, "exceeds") != NULL, "%s", w.cause);
	world_free(&w);

	world_init(&w);
	run(&w, "/html", FETCH_JSON, NULL, json_items, 0);
	cr_assert_eq(w.status, -1);
	cr_assert(strstr(w.cause, "not JSON (an HTML or XML page)") != NULL,
	    "%s", w.cause);
	world_free(&w);

	world_init(&w);
	run(&w, "/nothing", 0, NULL, json_items, 0);
	cr_assert_eq(w.status, -1);
	cr_assert(strstr(w.cause, "/nothing: HTTP 404") != NULL, "%s",
	    w.cause);
	world_free(&w);
}

Test(fetch, first_failure_cancels_the_rest)
{
	struct world		 w;
	struct fetch		*f;
	struct fetch_request	 rq;
	char			*slow = NULL, *bad = NULL;

	world_init(&w);
	f = fetch_start(w.fr, done_cb, &w);
	memset(&rq, 0, sizeof rq);
	rq.url = slow = url(&w, "/slow");
	fetch_submit(f, &rq, json_items, &w);
	rq.url = bad = url(&w, "/nothing");
	fetch_submit(f, &rq, json_items, &w);
	event_base_dispatch(w.base);
	cr_assert(w.finished);
	cr_assert_eq(w.status, -1);
	cr_assert(strstr(w.cause, "HTTP 404") != NULL, "%s", w.cause);
	cr_assert_null(fetcher_current(w.fr));
	free(slow);
	free(bad);
	world_free(&w);
}

Test(fetch, a_batch_without_requests_ends_from_the_loop)
{
	struct world	w;

	world_init(&w);
	fetch_start(w.fr, done_cb, &w);
	cr_assert_not(w.finished);
	event_base_dispatch(w.base);
	cr_assert(w.finished);
	cr_assert_eq(w.status, 0);
	cr_assert_eq(w.requests, 0);
	world_free(&w);
}
