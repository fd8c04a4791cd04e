/*
 * aws-call.c: one list() of an AWS source, shared by Ecr, AmazonS3 and
 * AmazonMachineImage.  It takes the connector's key (aws-creds.c: at once
 * when it is fresh), starts a fetch batch, and signs each request itself:
 * the fetch engine's own paging would resend one signature for another
 * URL, so each provider asks for its next page from its page callback
 * (aws_call_send) with the token the answer gave.
 *
 * Every answer comes here first.  A 2xx goes to the provider's parser.  An
 * AWS error is read (aws_parse_error) and becomes one line with its code
 * and message: throttling (ThrottlingException, RequestLimitExceeded,
 * SlowDown, Throttling) pauses the whole connector's limiter and fails the
 * poll with a wait; an expired key (ExpiredToken, ExpiredTokenException,
 * RequestExpired) is fetched anew and the listing started over, once; any
 * other error fails only this source.
 */
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "limit.h"
#include "provider.h"

#define AWS_THROTTLE_MS		5000	/* a throttle without Retry-After */

static void	aws_call_go(const struct aws_creds *, const char *, void *);

static int
is_code(const char *code, const char *const *list)
{
	for (; code != NULL && *list != NULL; list++)
		if (strcmp(code, *list) == 0)
			return (1);
	return (0);
}

static const char *const aws_throttles[] = {
	"ThrottlingException", "Throttling", "RequestLimitExceeded",
	"SlowDown", "TooManyRequestsException", "RequestThrottled",
	"ProvisionedThroughputExceededException", NULL
};
static const char *const aws_expired[] = {
	"ExpiredToken", "ExpiredTokenException", "RequestExpired",
	"TokenRefreshRequired", NULL
};

/* The batch ended: the versions, or a retry with a new key, or why not. */
static void
aws_call_ended(struct provider_result *r, void *arg)
{
	struct aws_call		*c = arg;
	struct aws_conn		*conn = c->p->connector->data;
	provider_done_cb	 done = c->done;
	void			*done_arg = c->arg;

	c->fetch = NULL;
	if (c->expired && !c->retried && !c->cancelled) {
		/* One more time with a key fetched now. */
		c->retried = 1;
		c->expired = 0;
		c->requests += r->requests;
		if (c->vs != NULL) {
			versions_free(c->vs);
			memset(c->vs, 0, sizeof *c->vs);
		}
		c->reset(c);
		aws_auth_expired(conn->auth);
		aws_auth_get(conn->auth, aws_call_go, c);
		return;
	}
	r->requests += c->requests;
	if (r->status == 0) {
		r->versions = c->vs;
		c->vs = NULL;
	}
	c->end(c);
	done(r, done_arg);
}

/* The key is there (or cannot be had): the first request goes. */
static void
aws_call_go(const struct aws_creds *creds, const char *cause, void *arg)
{
	struct aws_call		*c = arg;

	if (creds == NULL) {
		/* Maybe inside list(): the batch ends from the loop. */
		c->fetch = fetch_start(c->fetcher, aws_call_ended, c);
		fetch_fail(c->fetch, 0, "no AWS key: %s", cause);
		return;
	}
	aws_creds_clear(&c->creds);
	c->creds.access_key = xstrdup(creds->access_key);
	c->creds.secret_key = xstrdup(creds->secret_key);
	c->creds.session_token = creds->session_token != NULL ?
	    xstrdup(creds->session_token) : NULL;
	c->creds.expires_s = creds->expires_s;
	c->fetch = fetch_start(c->fetcher, aws_call_ended, c);
	if (c->first != NULL)
		c->first(c);	/* none: nothing to ask, the batch just ends */
}

/* The answer of one signed request. */
static int
aws_call_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct aws_call			*c = arg;
	const struct http_response	*resp = pg->resp;
	const char			*ra;
	char				*code = NULL, *message = NULL, *m;
	int64_t				 wait_ms;
	int				 r;

	if (resp->status >= 200 && resp->status < 300) {
		if ((c->flags & FETCH_JSON) && pg->json == NULL) {
			fetch_fail(f, 0, "%s %s: the answer is not JSON",
			    c->method, pg->url);
			return (FETCH_FAILED);
		}
		return (c->page(c, f, pg));
	}
	if (aws_parse_error(resp->body.data != NULL ? resp->body.data : "",
	    resp->body.len, &code, &message) != 0) {
		fetch_fail(f, 0, "%s %s: HTTP %ld", c->method, pg->url,
		    resp->status);
		return (FETCH_FAILED);
	}
	/* One line: no control characters from the server. */
	for (m = message; m != NULL && *m != '\0'; m++)
		if ((unsigned char)*m < 0x20)
			*m = ' ';
	if (c->empty_codes != NULL && is_code(code, c->empty_codes)) {
		r = FETCH_STOP;
	} else if (is_code(code, aws_expired) && !c->retried) {
		c->expired = 1;
		r = FETCH_STOP;
		log_info("aws key expired", "source=%s code=%s",
		    log_q(c->p->conf->id), code);
	} else if (is_code(code, aws_throttles) || resp->status == 429 ||
	    resp->status == 503) {
		ra = http_header(resp, "Retry-After");
		wait_ms = limit_retry_after_ms(ra, now_ms() / 1000,
		    AWS_THROTTLE_MS);
		limiter_throttle(c->p->connector->limiter, wait_ms,
		    resp->status);
		fetch_fail(f, (wait_ms + 999) / 1000, "%s %s: HTTP %ld %s: %s",
		    c->method, pg->url, resp->status, code,
		    message != NULL ? message : "");
		r = FETCH_FAILED;
	} else {
		fetch_fail(f, 0, "%s %s: HTTP %ld %s: %s", c->method, pg->url,
		    resp->status, code, message != NULL ? message : "");
		r = FETCH_FAILED;
	}
	free(code);
	free(message);
	return (r);
}

void
aws_call_send(struct aws_call *c, const char *method, const char *url,
    const char *const *headers, const char *body, size_t body_len)
{
	struct aws_request	 ar;
	struct fetch_request	 rq;
	char			**lines, *cause;

	memset(&ar, 0, sizeof ar);
	ar.method = method;
	ar.url = url;
	ar.headers = headers;
	ar.body = body;
	ar.body_len = body_len;
	ar.s3 = c->service_id == AWS_S3;
	ar.region = c->region;
	ar.service = c->service_id == AWS_S3 ? "s3" : c->service_id == AWS_ECR ?
	    "ecr" : c->service_id == AWS_EC2 ? "ec2" : "sts";
	ar.now_s = now_ms() / 1000;
	c->method = method;
	if (aws_sign_request(&ar, &c->creds, &lines, &cause) != 0) {
		fetch_fail(c->fetch, 0, "%s %s: cannot sign: %s", method, url,
		    cause);
		free(cause);
		return;
	}
	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.url = url;
	rq.headers = (const char *const *)lines;
	rq.body = body;
	rq.body_len = body_len;
	rq.max_body = c->max_body;
	/* Our own signature: none of the connector's; every status here. */
	rq.flags = c->flags | FETCH_ANONYMOUS | FETCH_OK_ANY;
	fetch_submit(c->fetch, &rq, aws_call_page, c);
	aws_lines_free(lines);
}

void
aws_call_start(struct aws_call *c)
{
	struct aws_conn	*conn = c->p->connector->data;

	aws_auth_get(conn->auth, aws_call_go, c);
}

void
aws_call_cancel(struct aws_call *c)
{
	struct aws_conn	*conn = c->p->connector->data;

	c->cancelled = 1;
	aws_auth_cancel(conn->auth, c);
	if (c->fetch != NULL)
		fetch_cancel(c->fetcher);
	c->fetch = NULL;
}

void
aws_call_clear(struct aws_call *c)
{
	if (c->vs != NULL) {
		versions_free(c->vs);
		free(c->vs);
		c->vs = NULL;
	}
	aws_creds_clear(&c->creds);
}

void
aws_src_init(struct aws_src *s, struct provider *p)
{
	struct fetcher_conf	 fc;

	memset(s, 0, sizeof *s);
	memset(&fc, 0, sizeof fc);
	s->fetcher = fetcher_create(p, &fc);
}

static void
aws_src_reset(struct aws_call *c)
{
	struct aws_src	*s = c->p->data;

	free(s->next);
	s->next = NULL;
}

void
aws_src_end(struct aws_call *c)
{
	struct aws_src	*s = c->p->data;

	s->call = NULL;
	aws_src_reset(c);
	aws_call_clear(c);
	free(c);
}

struct aws_call *
aws_src_call(struct provider *p, enum aws_service service,
    const char *region, unsigned flags, size_t max_body,
    provider_done_cb done, void *arg)
{
	struct aws_src	*s = p->data;
	struct aws_call	*c = xcalloc(1, sizeof *c);

	c->p = p;
	c->fetcher = s->fetcher;
	c->service_id = service;
	c->region = region;
	c->flags = flags;
	c->max_body = max_body;
	c->done = done;
	c->arg = arg;
	c->reset = aws_src_reset;
	c->end = aws_src_end;
	c->empty_codes = s->empty_codes;
	s->call = c;
	return (c);
}

void
aws_src_list(struct provider *p, enum aws_service service,
    const char *region, unsigned flags, size_t max_body,
    const struct list_request *req, provider_done_cb done, void *arg,
    void (*first)(struct aws_call *),
    int (*page)(struct aws_call *, struct fetch *, struct fetch_page *))
{
	struct aws_call	*c;

	c = aws_src_call(p, service, region, flags, max_body, done, arg);
	c->vs = xcalloc(1, sizeof *c->vs);
	c->max = req->max > 0 ? req->max : 10000;
	c->first = first;
	c->page = page;
	aws_call_start(c);
}

void
aws_src_cancel(struct aws_src *s)
{
	struct aws_call	*c;

	if (s == NULL || (c = s->call) == NULL)
		return;
	aws_call_cancel(c);
	c->end(c);
}

void
aws_src_free(struct aws_src *s)
{
	aws_src_cancel(s);
	fetcher_free(s->fetcher);
	free(s->next);
}
