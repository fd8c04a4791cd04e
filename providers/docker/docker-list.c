/*
 * docker-list.c: list() and resolve() of a DockerRegistry source, on the
 * fetch engine (fetch.h), which does the limiter, the auth (the registry
 * token dance), the paging and the failures.
 *
 * list: the tags of the repository, page by page (Link rel="next"), or,
 * with providerType DockerHub, the Hub API's newest-first pages with each
 * tag's digest and push time.  The first page carries the ETag of the last
 * complete listing, and a 304 is the listing the core already recorded.  A
 * source with `tag:` lists that one tag and HEADs it: that is its poll.
 *
 * resolve: per tag the core picked, a HEAD of the manifest for its digest
 * (a GET and a hash on a registry that states none); with RESOLVE_DETAILS
 * the manifest, the platform manifest of an index, and the config blob for
 * labels and creation time.  A tag gone since the listing (404) is marked.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "fetch.h"
#include "http.h"
#include "provider.h"
#include "provider-docker.h"

#define DOCKER_PAGE_SIZE	1000	/* most tags asked for per page */
#define DOCKER_MANIFEST_MAX	(4 * 1024 * 1024)
#define DOCKER_CONFIG_MAX	(16 * 1024 * 1024)
#define DOCKER_LIST_MAX		(8 * 1024 * 1024)

/* Kept constant: a registry may convert, and the digest follows. */
static const char docker_accept[] = "Accept: "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";
static const char *const docker_accept_headers[] = { docker_accept, NULL };

/* One list() or resolve() call in flight. */
struct docker_list {
	struct provider		*p;
	struct docker		*d;
	provider_done_cb	 done;
	void			*arg;
	struct versions		*vs;		/* list: what it found */
	struct index		*seen;
	long long		 max;
	int			 listing;	/* a list() call */
	int			 unchanged;	/* a 304 */
	int			 complete;	/* its ETag may stand for it */
	char			*etag;		/* of the first page */
	struct docker_job	*jobs;		/* resolve: one per version */
};

struct docker_job {
	struct docker_list	*l;
	struct version		*v;
	char			*url;		/* of the tag's manifest */
};

static void
call_free(struct docker_list *l)
{
	size_t	 i;

	if (l->vs != NULL) {
		versions_free(l->vs);
		free(l->vs);
	}
	if (l->jobs != NULL) {
		for (i = 0; l->jobs[i].v != NULL; i++)
			free(l->jobs[i].url);
		free(l->jobs);
	}
	index_free(l->seen);
	free(l->etag);
	free(l);
}

static struct docker_list *
call_new(struct provider *p, struct docker *d, provider_done_cb done,
    void *arg)
{
	struct docker_list	*l;

	l = xcalloc(1, sizeof *l);
	l->p = p;
	l->d = d;
	l->done = done;
	l->arg = arg;
	l->d->call = l;
	return (l);
}

/* The batch ended: hand over what it found.  The call goes first. */
static void
call_done(struct provider_result *r, void *arg)
{
	struct docker_list	*l = arg;
	struct docker		*d = l->d;
	provider_done_cb	 done = l->done;
	void			*done_arg = l->arg;

	d->call = NULL;
	if (r->status == 0 && l->listing) {
		if (l->unchanged)
			r->unchanged = 1;
		else {
			free(d->etag);
			d->etag = NULL;
			if (l->complete) {
				d->etag = l->etag;
				l->etag = NULL;
			}
			r->versions = l->vs;
			l->vs = NULL;
		}
	}
	call_free(l);
	done(r, done_arg);
}

static char *
manifest_url(const struct docker *d, const char *reference)
{
	char	*url;

	xasprintf(&url, "%s/v2/%s/manifests/%s", d->base, d->repository,
	    reference);
	return (url);
}

/* The manifest URL of a version (its tag may be spelt otherwise). */
static char *
version_manifest_url(const struct docker *d, const char *name)
{
	char	*tag, *url;

	if (d->tag_of == NULL || (tag = d->tag_of(name)) == NULL)
		return (manifest_url(d, name));
	url = manifest_url(d, tag);
	free(tag);
	return (url);
}

char *
docker_body_digest(const struct buf *body)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;
	char		*out;

	if (EVP_Digest(body->data, body->len, md, &mdlen, EVP_sha256(),
	    NULL) != 1)
		fatalx("EVP_Digest failed");
	out = xmalloc(7 + 2 * mdlen + 1);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return (out);
}

/* Add a listed tag once, within the cap: 0, or 1 when the cap is full. */
static int
list_add(struct docker_list *l, char **name, char **digest, int64_t pushed)
{
	struct version	*v;

	if (l->seen == NULL)
		l->seen = index_create();	/* not for a 304 */
	if (index_get(l->seen, *name, NULL))
		return (0);
	if ((long long)l->vs->n >= l->max) {
		l->vs->truncated = 1;
		return (1);
	}
	index_put(l->seen, *name, NULL, 0);
	v = versions_add(l->vs, *name);
	if (digest != NULL) {
		v->digest = *digest;
		*digest = NULL;
	}
	v->pushed_at = pushed;
	return (0);
}

static void
list_first_page(struct docker_list *l, const struct fetch_page *pg)
{
	const char	*etag;

	if (pg->number == 1 && (etag = http_header(pg->resp, "ETag")) != NULL)
		l->etag = xstrdup(etag);
}

/* A tags/list page. */
static int
list_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct docker_list	*l = arg;
	char			**tags, *cause, *next;
	size_t			 n, i;
	int			 full = 0;

	if (pg->resp->status == 304) {
		l->unchanged = 1;
		return (FETCH_STOP);
	}
	list_first_page(l, pg);
	if (docker_parse_tags(pg->resp->body.data, pg->resp->body.len, &tags,
	    &n, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	for (i = 0; i < n && !full; i++)
		full = list_add(l, &tags[i], NULL, 0);
	docker_tags_free(tags, n);
	if (!full && (long long)l->vs->n < l->max) {
		/* One page told it all: its ETag stands for the listing. */
		l->complete = pg->number == 1;
		return (FETCH_NEXT);
	}
	switch (link_next(pg->resp, &next, &cause)) {
	case 1:
		l->vs->truncated = 1;
		free(next);
		break;
	case -1:
		free(cause);
		break;
	}
	return (FETCH_STOP);
}

/* A Hub API page: newest first, each tag with its digest and push time. */
static int
hub_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct docker_list	*l = arg;
	struct docker_hub_tag	*tags;
	char			*next, *cause;
	size_t			 n, i;
	int			 full = 0;

	if (pg->resp->status == 304) {
		l->unchanged = 1;
		return (FETCH_STOP);
	}
	if (pg->resp->status == 404) {
		fetch_fail(f, 0, "GET %s: HTTP 404 (the Hub API lists public "
		    "repositories; use providerType Other for a private one)",
		    pg->url);
		return (FETCH_FAILED);
	}
	list_first_page(l, pg);
	if (docker_hub_tags_json(pg->json, &tags, &n, &next, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	for (i = 0; i < n && !full; i++)
		full = list_add(l, &tags[i].name, &tags[i].digest,
		    tags[i].pushed_at);
	docker_hub_tags_free(tags, n);
	/* Newest first: the first page's ETag stands for the listing. */
	l->complete = 1;
	if ((long long)l->vs->n >= l->max) {
		if (next != NULL)
			l->vs->truncated = 1;
		free(next);
		return (FETCH_STOP);
	}
	free(next);
	return (FETCH_NEXT);
}

static void	job_start(struct fetch *, struct docker_job *);

void
docker_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	docker_list_on(p, p->data, req, done, arg);
}

void
docker_list_on(struct provider *p, struct docker *d,
    const struct list_request *req, provider_done_cb done, void *arg)
{
	struct docker_list	*l;
	struct fetch		*f;
	struct fetch_request	 rq;
	struct fetch_paging	 pg;
	long long		 n;
	char			*url;

	l = call_new(p, d, done, arg);
	l->listing = 1;
	l->vs = xcalloc(1, sizeof *l->vs);
	l->max = req->max > 0 ? req->max : 10000;
	f = fetch_start(d->fetcher, call_done, l);
	memset(&rq, 0, sizeof rq);
	memset(&pg, 0, sizeof pg);
	if (d->tag != NULL) {
		/* One tag: its HEAD is the whole poll. */
		versions_add(l->vs, d->tag)->want = RESOLVE_DIGEST;
		l->jobs = xcalloc(2, sizeof *l->jobs);
		l->jobs[0].l = l;
		l->jobs[0].v = &l->vs->v[0];
		l->jobs[0].url = manifest_url(d, d->tag);
		job_start(f, &l->jobs[0]);
		return;
	}
	if (req->may_be_unchanged)
		rq.etag = d->etag;
	if (d->hub_tags_url != NULL) {
		pg.kind = PAGING_URL_FIELD;
		pg.field = "next";
		pg.origin = d->hub_origin;
		rq.url = d->hub_tags_url;
		rq.flags = FETCH_JSON | FETCH_ANONYMOUS | FETCH_OK_404;
		rq.max_body = DOCKER_LIST_MAX;
		rq.paging = &pg;
		fetch_submit(f, &rq, hub_page, l);
		return;
	}
	n = l->max;
	if (n > DOCKER_PAGE_SIZE)
		n = DOCKER_PAGE_SIZE;
	xasprintf(&url, "%s/v2/%s/tags/list?n=%lld", d->base, d->repository,
	    n);
	pg.kind = PAGING_LINK;
	rq.url = url;
	rq.max_body = DOCKER_LIST_MAX;
	rq.paging = &pg;
	fetch_submit(f, &rq, list_page, l);
	free(url);
}

/* The digest the registry states, if it is one; -1 if it is garbage. */
static int
stated_digest(const struct http_response *resp, char **digest)
{
	const char	*value;

	*digest = NULL;
	if ((value = http_header(resp, "Docker-Content-Digest")) == NULL)
		return (0);
	if (!docker_digest_valid(value))
		return (-1);
	*digest = xstrdup(value);
	return (0);
}

static void
set_digest(struct version *v, char *digest)
{
	free(v->digest);
	v->digest = digest;
}

static int	manifest_got(struct fetch *, struct fetch_page *, void *);

static void
job_get(struct fetch *f, struct docker_job *job, const char *url,
    size_t max_body, fetch_cb cb, unsigned flags)
{
	struct fetch_request	 rq;

	memset(&rq, 0, sizeof rq);
	rq.url = url;
	rq.headers = docker_accept_headers;
	rq.max_body = max_body;
	rq.flags = flags;
	fetch_submit(f, &rq, cb, job);
}

static int
config_got(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct docker_job	*job = arg;
	char			*cause;

	cJSON_Delete(job->v->labels);
	job->v->labels = NULL;
	if (docker_parse_config(pg->resp->body.data, pg->resp->body.len,
	    &job->v->labels, &job->v->pushed_at, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	return (FETCH_STOP);
}

/* A manifest (or the platform's manifest of an index): on to labels. */
static int
details_got(struct fetch *f, struct fetch_page *pg, void *arg,
    int platform)
{
	struct docker_job	*job = arg;
	struct docker		*d = job->l->d;
	struct docker_manifest	 m;
	char			*cause, *url;

	if (docker_parse_manifest(pg->resp->body.data, pg->resp->body.len,
	    http_header(pg->resp, "Content-Type"), &m, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	if (m.kind == DOCKER_MANIFEST_INDEX && platform) {
		docker_manifest_clear(&m);
		fetch_fail(f, 0, "GET %s: an index inside an index", pg->url);
		return (FETCH_FAILED);
	}
	if (m.kind == DOCKER_MANIFEST_INDEX) {
		url = manifest_url(d, m.platform_digest);
		job_get(f, job, url, DOCKER_MANIFEST_MAX, manifest_got, 0);
		/* The platform's manifest: marked by a NULL url. */
		free(job->url);
		job->url = NULL;
	} else {
		xasprintf(&url, "%s/v2/%s/blobs/%s", d->base, d->repository,
		    m.config_digest);
		job_get(f, job, url, DOCKER_CONFIG_MAX, config_got, 0);
	}
	free(url);
	docker_manifest_clear(&m);
	return (FETCH_STOP);
}

static int
manifest_got(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct docker_job	*job = arg;
	char			*digest;
	int			 platform = job->url == NULL;

	if (pg->resp->status == 404 && !platform) {
		job->v->gone = 1;
		return (FETCH_STOP);
	}
	if (pg->resp->status == 404) {
		fetch_fail(f, 0, "GET %s: HTTP 404", pg->url);
		return (FETCH_FAILED);
	}
	if (stated_digest(pg->resp, &digest) != 0) {
		fetch_fail(f, 0, "GET %s: Docker-Content-Digest is not a "
		    "digest", pg->url);
		return (FETCH_FAILED);
	}
	if (platform) {
		free(digest);
		return (details_got(f, pg, arg, 1));
	}
	set_digest(job->v, digest != NULL ? digest :
	    docker_body_digest(&pg->resp->body));
	if (!(job->v->want & RESOLVE_DETAILS))
		return (FETCH_STOP);
	return (details_got(f, pg, arg, 0));
}

static int
head_got(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct docker_job	*job = arg;
	char			*digest;

	if (pg->resp->status == 404) {
		job->v->gone = 1;
		return (FETCH_STOP);
	}
	if (stated_digest(pg->resp, &digest) != 0) {
		fetch_fail(f, 0, "HEAD %s: Docker-Content-Digest is not a "
		    "digest", pg->url);
		return (FETCH_FAILED);
	}
	if (digest == NULL) {
		/* An old registry: the digest is the hash of the body. */
		job_get(f, job, job->url, DOCKER_MANIFEST_MAX, manifest_got,
		    FETCH_OK_404);
		return (FETCH_STOP);
	}
	set_digest(job->v, digest);
	return (FETCH_STOP);
}

static void
job_start(struct fetch *f, struct docker_job *job)
{
	struct fetch_request	 rq;

	if (job->v->want & RESOLVE_DETAILS) {
		job_get(f, job, job->url, DOCKER_MANIFEST_MAX, manifest_got,
		    FETCH_OK_404);
		return;
	}
	memset(&rq, 0, sizeof rq);
	rq.method = "HEAD";
	rq.url = job->url;
	rq.headers = docker_accept_headers;
	rq.max_body = DOCKER_MANIFEST_MAX;
	rq.flags = FETCH_OK_404;
	fetch_submit(f, &rq, head_got, job);
}

void
docker_resolve(struct provider *p, struct version **v, size_t n,
    provider_done_cb done, void *arg)
{
	docker_resolve_on(p, p->data, v, n, done, arg);
}

void
docker_resolve_on(struct provider *p, struct docker *d, struct version **v,
    size_t n, provider_done_cb done, void *arg)
{
	struct docker_list	*l;
	struct fetch		*f;
	size_t			 i;

	l = call_new(p, d, done, arg);
	l->jobs = xcalloc(n + 1, sizeof *l->jobs);
	f = fetch_start(d->fetcher, call_done, l);
	for (i = 0; i < n; i++) {
		l->jobs[i].l = l;
		l->jobs[i].v = v[i];
		l->jobs[i].url = version_manifest_url(d, v[i]->name);
		if (v[i]->want != 0)
			job_start(f, &l->jobs[i]);
	}
}

void
docker_cancel(struct provider *p)
{
	docker_cancel_on(p->data);
}

void
docker_cancel_on(struct docker *d)
{
	if (d == NULL || d->call == NULL)
		return;
	fetch_cancel(d->fetcher);
	call_free(d->call);
	d->call = NULL;
}
