/*
 * gcp-call.c: one list() of a Google API source (GoogleCloudStorage,
 * GoogleArtifactRegistry): the connector's token first (gcp-auth.c: at once
 * when it is fresh), then a fetch batch whose requests carry it as
 * "Authorization: Bearer" and page by nextPageToken -> pageToken.  The
 * token is the request's own header, so the batch is FETCH_ANONYMOUS: the
 * fetch engine adds nothing of the connector's.
 *
 * Every answer comes here first.  A 2xx page goes to the provider's
 * parser.  A Google error is read (gcp_parse_error) and becomes one line
 * with its status and message: 429, RESOURCE_EXHAUSTED, rateLimitExceeded
 * and 503 pause the whole connector's limiter and fail the poll with a
 * wait; a 401 forgets the token and starts the listing over with a new
 * one, once, so a token that expired mid-run costs no failed poll; any
 * other error (403 PERMISSION_DENIED, 404 of a project, repository or
 * bucket) fails only this source.
 */
#include <stdlib.h>
#include <string.h>

#include "google.h"
#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "limit.h"
#include "provider.h"

#define GCP_THROTTLE_MS		5000	/* a throttle without Retry-After */
#define GCP_DEFAULT_MAX		10000

static void	gcp_call_go(const char *, const char *, void *);

static struct gcp_auth *
call_auth(const struct gcp_call *c)
{
	return (((struct gcp_conn *)c->p->connector->data)->auth);
}

static void
gcp_call_free(struct gcp_call *c)
{
	if (c->vs != NULL) {
		versions_free(c->vs);
		free(c->vs);
	}
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->url);
	free(c);
}

static int
is_throttle(long status, const char *code)
{
	return (status == 429 || status == 503 || (code != NULL &&
	    (strcmp(code, "RESOURCE_EXHAUSTED") == 0 ||
	    strcmp(code, "rateLimitExceeded") == 0 ||
	    strcmp(code, "userRateLimitExceeded") == 0)));
}

/* The batch ended: the versions, a retry with a new token, or why not. */
static void
gcp_call_ended(struct provider_result *r, void *arg)
{
	struct gcp_call		*c = arg;
	provider_done_cb	 done = c->done;
	void			*done_arg = c->arg;

	if (c->expired && !c->retried && !c->cancelled) {
		c->retried = 1;
		c->expired = 0;
		c->requests += r->requests;
		versions_free(c->vs);
		memset(c->vs, 0, sizeof *c->vs);
		gcp_auth_expired(call_auth(c), c->token);
		gcp_auth_get(call_auth(c), gcp_call_go, c);
		return;
	}
	r->requests += c->requests;
	if (r->status == 0) {
		r->versions = c->vs;
		c->vs = NULL;
	}
	*c->slot = NULL;
	gcp_call_free(c);
	done(r, done_arg);
}

/* One answer: a page for the parser, or Google's error. */
static int
gcp_call_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct gcp_call			*c = arg;
	const struct http_response	*resp = pg->resp;
	char				*code = NULL, *message = NULL, *m;
	int64_t				 wait_ms;
	int				 r = FETCH_FAILED;

	if (resp->status >= 200 && resp->status < 300) {
		if (pg->json == NULL) {
			fetch_fail(f, 0, "GET %s: the answer is not JSON",
			    pg->url);
			return (FETCH_FAILED);
		}
		if ((r = c->page(c, f, pg)) == FETCH_NEXT && gcp_call_capped(c))
			r = FETCH_STOP;
		return (r);
	}
	if (resp->status == 404 && c->empty404)
		return (FETCH_STOP);
	(void)gcp_parse_error(resp->body.data, resp->body.len, &code,
	    &message);
	for (m = message; m != NULL && *m != '\0'; m++)
		if ((unsigned char)*m < 0x20)
			*m = ' ';
	if (resp->status == 401 && !c->retried) {
		c->expired = 1;
		log_info("gcp token refused", "source=%s", log_q(c->p->conf->id));
		r = FETCH_STOP;
	} else if (is_throttle(resp->status, code)) {
		wait_ms = limit_retry_after_ms(http_header(resp, "Retry-After"),
		    now_ms() / 1000, GCP_THROTTLE_MS);
		limiter_throttle(c->p->connector->limiter, wait_ms,
		    resp->status);
		fetch_fail(f, (wait_ms + 999) / 1000, "GET %s: HTTP %ld%s%s%s%s",
		    pg->url, resp->status, code != NULL ? " " : "",
		    code != NULL ? code : "", message != NULL ? ": " : "",
		    message != NULL ? message : "");
	} else
		fetch_fail(f, 0, "GET %s: HTTP %ld%s%s%s%s", pg->url,
		    resp->status, code != NULL ? " " : "", code != NULL ? code :
		    "", message != NULL ? ": " : "", message != NULL ?
		    message : "");
	free(code);
	free(message);
	return (r);
}

static const struct fetch_paging gcp_paging = {
	.kind = PAGING_TOKEN,
	.field = "nextPageToken",
	.param = "pageToken",
};

/* The token is there (or cannot be had): the first page goes. */
static void
gcp_call_go(const char *token, const char *cause, void *arg)
{
	struct gcp_call		*c = arg;
	struct fetch		*f;
	struct fetch_request	 rq;
	const char		*hdrs[3];
	char			*auth;

	f = fetch_start(c->fetcher, gcp_call_ended, c);
	if (token == NULL) {
		/* Maybe inside list(): the batch ends from the loop. */
		fetch_fail(f, 0, "no Google access token: %s", cause);
		return;
	}
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	c->token = xstrdup(token);
	xasprintf(&auth, "Authorization: Bearer %s", token);
	hdrs[0] = auth;
	hdrs[1] = "Accept: application/json";
	hdrs[2] = NULL;
	memset(&rq, 0, sizeof rq);
	rq.url = c->url;
	rq.headers = hdrs;
	rq.flags = FETCH_JSON | FETCH_ANONYMOUS | FETCH_OK_ANY;
	rq.paging = &gcp_paging;
	fetch_submit(f, &rq, gcp_call_page, c);
	explicit_bzero(auth, strlen(auth));
	free(auth);
}

int
gcp_call_capped(struct gcp_call *c)
{
	if ((long long)c->vs->n < c->max)
		return (0);
	c->vs->truncated = 1;
	while ((long long)c->vs->n > c->max)
		version_clear(&c->vs->v[--c->vs->n]);
	return (1);
}

void
gcp_call_list(struct provider *p, struct fetcher *fetcher,
    struct gcp_call **slot, const char *url, const struct list_request *req,
    int empty404, gcp_page_cb page, provider_done_cb done, void *arg)
{
	struct gcp_call	*c = xcalloc(1, sizeof *c);

	c->p = p;
	c->fetcher = fetcher;
	c->url = xstrdup(url);
	c->page = page;
	c->done = done;
	c->arg = arg;
	c->vs = xcalloc(1, sizeof *c->vs);
	c->max = req->max > 0 ? req->max : GCP_DEFAULT_MAX;
	c->empty404 = empty404;
	c->slot = slot;
	*slot = c;
	gcp_auth_get(call_auth(c), gcp_call_go, c);
}

void
gcp_call_cancel(struct gcp_call **slot)
{
	struct gcp_call	*c = *slot;

	if (c == NULL)
		return;
	c->cancelled = 1;
	gcp_auth_cancel(call_auth(c), c);
	if (fetcher_current(c->fetcher) != NULL)
		fetch_cancel(c->fetcher);
	*slot = NULL;
	gcp_call_free(c);
}

void
gcp_call_filter(struct gcp_call *c, size_t from,
    int (*keep)(struct gcp_call *, struct version *))
{
	size_t	 i, n;

	for (i = n = from; i < c->vs->n; i++) {
		if (!keep(c, &c->vs->v[i])) {
			version_clear(&c->vs->v[i]);
			continue;
		}
		if (n != i)
			c->vs->v[n] = c->vs->v[i];
		n++;
	}
	c->vs->n = n;
}

void
gcp_src_open(struct provider *p, struct gcp_src *s, char *url,
    gcp_page_cb page)
{
	struct fetcher_conf	 fc;

	memset(&fc, 0, sizeof fc);
	s->fetcher = fetcher_create(p, &fc);
	s->call = NULL;
	s->url = url;
	s->page = page;
}

void
gcp_src_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct gcp_src	*s = p->data;

	gcp_call_list(p, s->fetcher, &s->call, s->url, req, 0, s->page, done,
	    arg);
}

void
gcp_src_cancel(struct provider *p)
{
	struct gcp_src	*s = p->data;

	if (s != NULL)
		gcp_call_cancel(&s->call);
}

void
gcp_src_free(struct provider *p)
{
	struct gcp_src	*s = p->data;

	if (s == NULL)
		return;
	gcp_call_cancel(&s->call);
	fetcher_free(s->fetcher);
	free(s->url);
	free(s);
	p->data = NULL;
}
