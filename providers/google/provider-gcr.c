/*
 * provider-gcr.c: the Gcr source type: the tags of one image of Google
 * Container Registry (gcr.io, us.gcr.io…) or of an Artifact Registry
 * docker host (LOCATION-docker.pkg.dev), through the registry API
 * (provider-protocols.md §2.1).  The Gcp connector's access token is the
 * password of the user oauth2accesstoken (connector-gcp.c's
 * credentials()); the fetch engine does the registry's token dance with
 * it.  gcr.io's tags/list also carries a `manifest` map, digest -> tags,
 * upload time, size: one request gives every tag its digest and push time.
 * A registry without the map gives names only, and the core asks
 * resolve() for what it needs.
 *
 * The instance is a struct docker (providers/docker/) with a listing of
 * its own in front: resolve() (a mutable tag's digest, labels) is the
 * Docker family's, on the same fetcher.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "google.h"
#include "docker/provider-docker.h"
#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "json.h"
#include "provider.h"

#define GCR_LIST_MAX	(32 * 1024 * 1024)

struct gcr_source {
	char		*connector_ref;
	char		*registry;	/* registryHostname */
	char		*image_path;
	char		*tag;		/* accepted: one tag only */
	char		*digest;	/* accepted, ignored */
};

struct gcr_list {
	struct provider		*p;
	provider_done_cb	 done;
	void			*arg;
	struct versions		*vs;
	long long		 max;
};

struct gcr {
	struct docker	 d;		/* first: docker_resolve's */
	struct gcr_list	*list;
};

#define SRC_OFF(f)	offsetof(struct gcr_source, f)

static const struct cfg_key gcr_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "registryHostname", .type = CFG_STRING,
	  .off = SRC_OFF(registry), .def = "gcr.io" },
	{ .name = "imagePath", .type = CFG_STRING, .off = SRC_OFF(image_path),
	  .flags = CFG_REQUIRED },
	{ .name = "tag", .type = CFG_STRING, .off = SRC_OFF(tag) },
	{ .name = "digest", .type = CFG_STRING, .off = SRC_OFF(digest) },
	{ .name = NULL }
};

/* The registry's origin: https://HOST, or the URL given (tests). */
static char *
gcr_base(const char *registry)
{
	char	*u, *o;

	if (strncmp(registry, "http://", 7) == 0 ||
	    strncmp(registry, "https://", 8) == 0)
		return (url_origin(registry));
	if (*registry == '\0' || strpbrk(registry, "/?#@ ") != NULL)
		return (NULL);
	xasprintf(&u, "https://%s", registry);
	o = url_origin(u);
	free(u);
	return (o);
}

static int
gcr_check(struct source_conf *conf, struct cfg_errors *errs)
{
	struct gcr_source	*src = conf->data;
	const struct cfg_node	*at = conf->spec;
	char			*base;
	const char		*p;
	int			 bad = 0;

	if (src->registry != NULL) {
		if ((base = gcr_base(src->registry)) == NULL) {
			cfg_error(errs, cfg_node_get(at, "registryHostname"),
			    "registryHostname %s is not a host name",
			    log_q(src->registry));
			bad++;
		}
		free(base);
	}
	for (p = src->image_path; p != NULL && *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("._-/", *p) != NULL)) {
			cfg_error(errs, cfg_node_get(at, "imagePath"),
			    "imagePath %s is not an image path (project/image)",
			    log_q(src->image_path));
			bad++;
			break;
		}
	}
	return (bad);
}

static char *
gcr_identity(const struct source_conf *conf)
{
	const struct gcr_source	*src = conf->data;
	char			*id;

	if (src == NULL || src->image_path == NULL)
		return (NULL);
	xasprintf(&id, "%s/%s", src->registry, src->image_path);
	return (id);
}

static void
gcr_list_free(struct gcr_list *l)
{
	if (l->vs != NULL) {
		versions_free(l->vs);
		free(l->vs);
	}
	free(l);
}

static void
gcr_ended(struct provider_result *r, void *arg)
{
	struct gcr_list		*l = arg;
	struct gcr		*g = l->p->data;
	provider_done_cb	 done = l->done;
	void			*done_arg = l->arg;

	if (r->status == 0) {
		r->versions = l->vs;
		l->vs = NULL;
	}
	g->list = NULL;
	gcr_list_free(l);
	done(r, done_arg);
}

/* A registry error body's first code and message, or NULL. */
static char *
registry_message(const struct http_response *resp)
{
	cJSON		*json;
	const cJSON	*errs, *first;
	const char	*code, *msg;
	char		*out = NULL;

	if (json_parse_object(resp->body.data, resp->body.len, &json,
	    NULL) != 0)
		return (NULL);
	errs = cJSON_GetObjectItemCaseSensitive(json, "errors");
	first = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : NULL;
	code = json_str(first, "code");
	msg = json_str(first, "message");
	if (code != NULL || msg != NULL)
		xasprintf(&out, "%s%s%s", code != NULL ? code : "",
		    code != NULL && msg != NULL ? ": " : "",
		    msg != NULL ? msg : "");
	cJSON_Delete(json);
	return (out);
}

static int
gcr_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct gcr_list		*l = arg;
	const struct gcr_source	*src = l->p->conf->data;
	char			*cause = NULL, *m;
	size_t			 i, keep;

	if (pg->resp->status == 404) {
		m = registry_message(pg->resp);
		for (cause = m; cause != NULL && *cause != '\0'; cause++)
			if ((unsigned char)*cause < 0x20)
				*cause = ' ';
		fetch_fail(f, 0, "GET %s: HTTP 404%s%s", pg->url,
		    m != NULL ? " " : "", m != NULL ? m : "");
		free(m);
		return (FETCH_FAILED);
	}
	if (pg->json == NULL || gcp_parse_gcr_tags(pg->json, l->vs,
	    &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause != NULL ? cause :
		    "the answer is not JSON");
		free(cause);
		return (FETCH_FAILED);
	}
	if (src->tag != NULL) {
		for (i = keep = 0; i < l->vs->n; i++) {
			if (strcmp(l->vs->v[i].name, src->tag) != 0) {
				version_clear(&l->vs->v[i]);
				continue;
			}
			if (keep != i)
				l->vs->v[keep] = l->vs->v[i];
			keep++;
		}
		l->vs->n = keep;
	}
	if ((long long)l->vs->n >= l->max) {
		l->vs->truncated = (long long)l->vs->n > l->max;
		while ((long long)l->vs->n > l->max)
			version_clear(&l->vs->v[--l->vs->n]);
		return (FETCH_STOP);
	}
	return (FETCH_NEXT);
}

/* The Google token is fresh (the engine's credentials()) or absent. */
static void
gcr_go(const char *token, const char *cause, void *arg)
{
	struct gcr_list		*l = arg;
	struct gcr		*g = l->p->data;
	struct fetch		*f;
	struct fetch_request	 rq;
	struct fetch_paging	 pg;
	char			*url;

	f = fetch_start(g->d.fetcher, gcr_ended, l);
	if (token == NULL) {
		fetch_fail(f, 0, "no Google access token: %s", cause);
		return;
	}
	xasprintf(&url, "%s/v2/%s/tags/list", g->d.base, g->d.repository);
	memset(&rq, 0, sizeof rq);
	memset(&pg, 0, sizeof pg);
	pg.kind = PAGING_LINK;
	rq.url = url;
	rq.flags = FETCH_JSON | FETCH_OK_404;
	rq.max_body = GCR_LIST_MAX;
	rq.paging = &pg;
	fetch_submit(f, &rq, gcr_page, l);
	free(url);
}

static void
gcr_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct gcr	*g = p->data;
	struct gcp_conn	*conn = p->connector->data;
	struct gcr_list	*l = xcalloc(1, sizeof *l);

	l->p = p;
	l->done = done;
	l->arg = arg;
	l->vs = xcalloc(1, sizeof *l->vs);
	l->max = req->max > 0 ? req->max : 10000;
	g->list = l;
	gcp_auth_get(conn->auth, gcr_go, l);
}

static void
gcr_cancel(struct provider *p)
{
	struct gcr	*g = p->data;
	struct gcp_conn	*conn = p->connector->data;

	if (g == NULL)
		return;
	if (g->list != NULL) {
		gcp_auth_cancel(conn->auth, g->list);
		if (fetcher_current(g->d.fetcher) != NULL)
			fetch_cancel(g->d.fetcher);
		gcr_list_free(g->list);
		g->list = NULL;
	}
	docker_cancel(p);
}

static int
gcr_init(struct provider *p, char **cause)
{
	const struct gcr_source	*src = p->conf->data;
	struct fetcher_conf	 fc;
	struct gcr		*g;
	char			*base, *scope;

	if ((base = gcr_base(src->registry)) == NULL)
		return (fail(cause, "registryHostname %s is not a host name",
		    src->registry));
	g = xcalloc(1, sizeof *g);
	g->d.base = base;
	g->d.registry = xstrdup(strstr(base, "://") + 3);
	g->d.repository = xstrdup(src->image_path);
	memset(&fc, 0, sizeof fc);
	xasprintf(&scope, "repository:%s:pull", g->d.repository);
	fc.default_scope = scope;
	g->d.fetcher = fetcher_create(p, &fc);
	free(scope);
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "registry", g->d.registry);
	cJSON_AddStringToObject(p->fields, "repository", g->d.repository);
	p->data = g;
	return (0);
}

static void
gcr_free(struct provider *p)
{
	struct gcr	*g = p->data;

	if (g == NULL)
		return;
	gcr_cancel(p);
	fetcher_free(g->d.fetcher);
	free(g->d.etag);
	free(g->d.base);
	free(g->d.registry);
	free(g->d.repository);
	free(g);
	p->data = NULL;
}

const struct provider_entry provider_gcr_entry = {
	.name = "Gcr",
	.connector = "Gcp",
	.kind = KIND_CONTAINER,
	.source_keys = gcr_source_keys,
	.source_size = sizeof (struct gcr_source),
	.flags = PROVIDER_TAGS,
	.check = gcr_check,
	.identity = gcr_identity,
	.init = gcr_init,
	.list = gcr_list,
	.resolve = docker_resolve,
	.cancel = gcr_cancel,
	.free = gcr_free,
};
