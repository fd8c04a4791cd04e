/*
 * ecr-labels.c: resolve() of an Ecr source: the labels and creation time
 * of the images the core picked (fetchLabels), from ECR's registry API.
 * DescribeImages already gave every digest, so this is only asked for
 * details.  ECR's registry takes Basic "AWS:<password>" from
 * GetAuthorizationToken, which is asked only here, when labels are wanted,
 * and kept until five minutes before its expiresAt (12 hours).  Then, per
 * image, the Docker family's walk (docker-details.c: the manifest, a
 * multi-arch index's platform manifest, the config blob); a blob
 * redirected to S3 goes without the token (the HTTP engine drops
 * Authorization on a redirect to another origin).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "connector.h"
#include "docker/provider-docker.h"
#include "fetch.h"
#include "http.h"
#include "provider.h"

#define ECR_TOKEN_AHEAD_S	300

/* One version on its way: the walk of docker-details.c. */
struct ecr_job {
	struct docker_details	 d;	/* first */
	struct aws_call		*c;
};

struct ecr_resolving {
	struct ecr_job	*jobs;
	size_t		 n;
};

static void
ecr_get(struct docker_details *d, const char *method, const char *what,
    const char *ref, fetch_cb cb, size_t max)
{
	struct aws_call		*c = ((struct ecr_job *)d)->c;
	struct ecr		*e = c->p->data;
	const struct ecr_source	*src = c->p->conf->data;
	struct fetch_request	 rq;
	const char		*h[3] = { e->token, docker_details_accept,
	    NULL };
	char			*url;

	xasprintf(&url, "%s/v2/%s/%s/%s", e->registry_url, src->image_path,
	    what, ref);
	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.url = url;
	rq.headers = h;
	rq.max_body = max;
	rq.flags = FETCH_ANONYMOUS | FETCH_OK_404;
	fetch_submit(c->fetch, &rq, cb, d);
	free(url);
}

/* The token is there: every version's manifest, by digest. */
static void
ecr_fetch_all(struct aws_call *c)
{
	struct ecr_resolving	*r = c->data;
	size_t			 i;

	for (i = 0; i < r->n; i++)
		docker_details_start(&r->jobs[i].d);
}

static int
ecr_token_got(struct aws_call *c, struct fetch *f, struct fetch_page *pg)
{
	struct ecr	*e = c->p->data;
	char		*token, *ep, *cause = NULL;
	int64_t		 exp;

	if (aws_parse_ecr_token(pg->resp->body.data, pg->resp->body.len,
	    &token, &exp, &ep, &cause) != 0) {
		fetch_fail(f, 0, "POST %s GetAuthorizationToken: %s", pg->url,
		    cause);
		free(cause);
		return (FETCH_FAILED);
	}
	if (e->token != NULL)
		explicit_bzero(e->token, strlen(e->token));
	free(e->token);
	xasprintf(&e->token, "Authorization: Basic %s", token);
	explicit_bzero(token, strlen(token));
	free(token);
	free(e->registry_url);
	if (ep == NULL) {
		const struct ecr_source	*src = c->p->conf->data;
		const char		*acct = src->registry_id;
		const cJSON		*reg = cJSON_GetObjectItem(c->p->fields,
		    "registry");

		if (acct == NULL && cJSON_IsString(reg))
			xasprintf(&ep, "https://%s", reg->valuestring);
		else
			xasprintf(&ep, "https://%s.dkr.ecr.%s.amazonaws.com",
			    acct != NULL ? acct : "", src->region);
	}
	e->registry_url = ep;
	e->token_expires = exp > 0 ? exp : now_ms() / 1000 + 3600;
	ecr_fetch_all(c);
	return (FETCH_STOP);
}

static void
ecr_resolve_first(struct aws_call *c)
{
	struct ecr	*e = c->p->data;
	const char	*h[] = { "Content-Type: application/x-amz-json-1.1",
	    "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921."
	    "GetAuthorizationToken", NULL };

	if (e->token != NULL &&
	    e->token_expires - ECR_TOKEN_AHEAD_S > now_ms() / 1000) {
		ecr_fetch_all(c);
		return;
	}
	aws_call_send(c, "POST", e->url, h, "{}", 2);
}

static void
ecr_resolve_reset(struct aws_call *c)
{
	struct ecr	*e = c->p->data;

	/* A key that expired may have made this token: ask again. */
	e->token_expires = 0;
}

static void
ecr_resolve_end(struct aws_call *c)
{
	struct ecr_resolving	*r = c->data;

	free(r->jobs);
	free(r);
	c->data = NULL;
	aws_src_end(c);
}

void
ecr_resolve(struct provider *p, struct version **v, size_t n,
    provider_done_cb done, void *arg)
{
	const struct ecr_source	*src = p->conf->data;
	struct aws_call		*c;
	struct ecr_resolving	*r = xcalloc(1, sizeof *r);
	size_t			 i;

	c = aws_src_call(p, AWS_ECR, src->region, FETCH_JSON, 0, done, arg);
	r->jobs = xcalloc(n + 1, sizeof *r->jobs);
	for (i = 0; i < n; i++) {
		if (!(v[i]->want & RESOLVE_DETAILS))
			continue;	/* digests came with the listing */
		r->jobs[r->n].c = c;
		r->jobs[r->n].d.get = ecr_get;
		r->jobs[r->n++].d.v = v[i];
	}
	c->data = r;
	c->first = r->n > 0 ? ecr_resolve_first : NULL;
	c->page = ecr_token_got;
	c->reset = ecr_resolve_reset;
	c->end = ecr_resolve_end;
	aws_call_start(c);
}

