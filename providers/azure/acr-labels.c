/*
 * acr-labels.c: resolve() of an Acr source: the labels and creation time of
 * the images the core picked (fetchLabels), from the registry's v2 API with
 * the same access token as the listing (its scope has pull).  The listing
 * gave every digest, so this is asked for details, or for the digest of a
 * tag the listing had none for (a HEAD).  Per image: the manifest (and a
 * multi-arch index's platform manifest) and the config blob, parsed by the
 * Docker family's parsers; a blob redirected to storage goes without the
 * token (the HTTP engine drops Authorization on another origin).
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

#define ACR_MANIFEST_MAX	(4 * 1024 * 1024)
#define ACR_CONFIG_MAX		(16 * 1024 * 1024)

static const char acr_accept[] = "Accept: "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

struct acr_job {
	struct acr_resolve	*r;
	struct version		*v;
	int			 platform;
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

static int	acr_manifest_got(struct fetch *, struct fetch_page *, void *);

static void
acr_get(struct acr_job *job, const char *method, const char *what,
    const char *ref, fetch_cb cb, size_t max)
{
	struct acr_resolve	*r = job->r;
	struct fetch_request	 rq;
	const char		*h[3] = { acr_accept, r->auth, NULL };
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
	fetch_submit(r->f, &rq, cb, job);
	free(url);
}

static int
acr_config_got(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct acr_job	*job = arg;
	char		*cause = NULL;
	int64_t		 created = 0;
	cJSON		*labels = NULL;

	if (pg->resp->status == 404) {
		job->v->gone = 1;
		return (FETCH_STOP);
	}
	if (docker_parse_config(pg->resp->body.data, pg->resp->body.len,
	    &labels, &created, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	cJSON_Delete(job->v->labels);
	job->v->labels = labels;
	if (job->v->pushed_at == 0)
		job->v->pushed_at = created;
	return (FETCH_STOP);
}

static int
acr_manifest_got(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct acr_job		*job = arg;
	struct docker_manifest	 m;
	const char		*d;
	char			*cause = NULL;

	if (pg->resp->status == 404) {
		job->v->gone = 1;
		return (FETCH_STOP);
	}
	if (!job->platform && (d = http_header(pg->resp,
	    "Docker-Content-Digest")) != NULL && docker_digest_valid(d) &&
	    job->v->digest == NULL)
		job->v->digest = xstrdup(d);
	if (!(job->v->want & RESOLVE_DETAILS))
		return (FETCH_STOP);
	if (docker_parse_manifest(pg->resp->body.data, pg->resp->body.len,
	    http_header(pg->resp, "Content-Type"), &m, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	if (m.kind == DOCKER_MANIFEST_INDEX && !job->platform &&
	    m.platform_digest != NULL) {
		job->platform = 1;
		acr_get(job, "GET", "manifests", m.platform_digest,
		    acr_manifest_got, ACR_MANIFEST_MAX);
	} else if (m.kind == DOCKER_MANIFEST_IMAGE && m.config_digest != NULL)
		acr_get(job, "GET", "blobs", m.config_digest, acr_config_got,
		    ACR_CONFIG_MAX);
	docker_manifest_clear(&m);
	return (FETCH_STOP);
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
	for (i = 0; i < r->n; i++) {
		struct acr_job	*job = &r->jobs[i];
		const char	*ref = job->v->digest != NULL ?
		    job->v->digest : job->v->name;

		acr_get(job, job->v->want & RESOLVE_DETAILS ? "GET" : "HEAD",
		    "manifests", ref, acr_manifest_got, ACR_MANIFEST_MAX);
	}
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
		r->jobs[r->n++].v = v[i];
	}
	src->resolving = r;
	if (src->token != NULL && r->n > 0)
		az_token_get(src->token, acr_resolve_go, r);
	else
		acr_resolve_go(NULL, NULL, r);
}
