/*
 * acr-labels.c: resolve() of an Acr source: the labels and creation time of
 * the images the core picked (fetchLabels), from the registry's v2 API with
 * the same access token as the listing (its scope has pull).  The listing
 * gave every digest, so this is asked for details, or for the digest of a
 * tag the listing had none for (a HEAD).  Per image: the Docker family's
 * walk (docker-details.c: the manifest, a multi-arch index's platform
 * manifest, the config blob); a blob redirected to storage goes without
 * the token (the HTTP engine drops Authorization on another origin).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "azure.h"
#include "connector.h"
#include "docker/provider-docker.h"
#include "fetch.h"
#include "http.h"
#include "provider.h"

/* One version: the walk of docker-details.c, on this resolve's token. */
struct acr_job {
	struct docker_details	 d;		/* first */
	struct acr_resolve	*r;
};

struct acr_resolve {
	struct provider		*p;
	struct acr_src		*src;
	provider_done_cb	 done;
	void			*arg;
	char			*auth;		/* the Bearer header */
	struct acr_job		*jobs;
	size_t			 n;
	struct fetch		*f;
};

static void
acr_get(struct docker_details *d, const char *method, const char *what,
    const char *ref, fetch_cb cb, size_t max)
{
	struct acr_resolve	*r = ((struct acr_job *)d)->r;
	struct fetch_request	 rq;
	const char		*h[3] = { docker_details_accept, r->auth,
	    NULL };
	char			*url;

	xasprintf(&url, "%s/v2/%s/%s/%s", r->src->base, r->src->repository,
	    what, ref);
	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.url = url;
	rq.headers = h;
	rq.max_body = max;
	/* With a token of our own: none of the engine's auth. */
	rq.flags = FETCH_OK_404 | (r->auth != NULL ? FETCH_ANONYMOUS : 0);
	fetch_submit(r->f, &rq, cb, d);
	free(url);
}

static void
acr_resolve_ended(struct provider_result *res, void *arg)
{
	struct acr_resolve	*r = arg;
	provider_done_cb	 done = r->done;
	void			*done_arg = r->arg;

	r->src->resolving = NULL;
	acr_resolve_free(r);
	done(res, done_arg);
}

static void
acr_resolve_go(const char *token, const char *cause, void *arg)
{
	struct acr_resolve	*r = arg;
	size_t			 i;

	r->f = fetch_start(r->src->fetcher, acr_resolve_ended, r);
	if (r->src->token != NULL && token == NULL) {
		fetch_fail(r->f, 0, "no registry token for %s: %s",
		    r->src->service, cause);
		return;
	}
	if (token != NULL)
		xasprintf(&r->auth, "Authorization: Bearer %s", token);
	for (i = 0; i < r->n; i++)
		docker_details_start(&r->jobs[i].d);
}

void
acr_resolve_free(struct acr_resolve *r)
{
	if (r == NULL)
		return;
	if (r->auth != NULL) {
		explicit_bzero(r->auth, strlen(r->auth));
		free(r->auth);
	}
	free(r->jobs);
	free(r);
}

void
acr_resolve(struct provider *p, struct version **v, size_t n,
    provider_done_cb done, void *arg)
{
	struct acr_src		*src = p->data;
	struct acr_resolve	*r = xcalloc(1, sizeof *r);
	size_t			 i;

	r->p = p;
	r->src = src;
	r->done = done;
	r->arg = arg;
	r->jobs = xcalloc(n + 1, sizeof *r->jobs);
	for (i = 0; i < n; i++) {
		/* A digest the listing gave needs no request. */
		if (!(v[i]->want & RESOLVE_DETAILS) && v[i]->digest != NULL)
			continue;
		if (v[i]->want == 0)
			continue;
		r->jobs[r->n].r = r;
		r->jobs[r->n].d.get = acr_get;
		r->jobs[r->n++].d.v = v[i];
	}
	src->resolving = r;
	if (src->token != NULL && r->n > 0)
		az_token_get(src->token, acr_resolve_go, r);
	else
		acr_resolve_go(NULL, NULL, r);
}
