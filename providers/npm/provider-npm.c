/*
 * provider-npm.c: the Npm source type: the versions and dist-tags of one
 * package of an NpmRegistry connector (provider-protocols.md §14).  One
 * request per poll: the package document, with the ETag of the last one
 * (a 304 is the listing the core recorded).
 *
 * The abbreviated document (application/vnd.npm.install-v1+json, what npm
 * install reads) is asked for first: it is a fraction of the full one.
 * Some registries put the push times in it (verdaccio, and others for
 * pnpm), others only `modified` (registry.npmjs.org): when it has no
 * `time`, the full document is read in the same poll, and from then on
 * only the full one, so pushedAt is always the version's publish time.
 * Every version carries its digest, so dist-tags are compared for free:
 * `latest` re-pointed is an artifact.updated.  No resolve.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "list-call.h"
#include "npm.h"
#include "provider.h"

#define NPM_DOC_MAX	(64 * 1024 * 1024)	/* big packages are big */

#define SRC_OFF(f)	offsetof(struct npm_source, f)

static const struct cfg_key npm_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "packageName", .type = CFG_STRING,
	  .off = SRC_OFF(package_name), .flags = CFG_REQUIRED },
	{ .name = NULL }
};

/* Abbreviated when the registry has it, else the full document. */
static const char *const npm_accept_abbreviated[] = {
	"Accept: application/vnd.npm.install-v1+json; q=1.0, "
	    "application/json; q=0.8", NULL
};

static const char *const npm_accept_full[] = {
	"Accept: application/json", NULL
};

struct npm {
	char		*registry;	/* registryUrl, no trailing slash */
	char		*name;
	char		*url;		/* the document */
	char		*etag;		/* of the last document */
	int		 full;		/* abbreviated ones have no times */
	struct fetcher	*fetcher;
	struct list_call *call;		/* a struct npm_call */
};

struct npm_call {
	struct list_call	 l;		/* first */
	struct npm		*d;
};

static int
npm_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct npm_source	*src = conf->data;
	const struct cfg_node	*n;

	if (src->package_name != NULL && !npm_name_valid(src->package_name)) {
		n = cfg_node_get(conf->spec, "packageName");
		cfg_error(errs, n != NULL ? n : conf->node, "packageName %s "
		    "is not an npm package name (name or @scope/name)",
		    log_q(src->package_name));
		return (1);
	}
	return (0);
}

static char *
npm_identity(const struct source_conf *conf)
{
	const struct npm_source	*src = conf->data;

	if (src == NULL || src->package_name == NULL)
		return (NULL);
	return (xstrdup(src->package_name));
}

static int
npm_init(struct provider *p, char **cause)
{
	const struct npm_connector	*c = p->conf->connector->data;
	const struct npm_source		*src = p->conf->data;
	struct npm			*d;
	size_t				 len;

	if (!npm_name_valid(src->package_name))
		return (fail(cause, "packageName %s is not a package name",
		    src->package_name));
	d = xcalloc(1, sizeof *d);
	len = strlen(c->url);
	while (len > 0 && c->url[len - 1] == '/')
		len--;
	d->registry = xstrndup(c->url, len);
	d->name = xstrdup(src->package_name);
	d->url = npm_doc_url(d->registry, d->name);
	d->fetcher = fetcher_create(p, NULL);
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "repository", d->registry);
	cJSON_AddStringToObject(p->fields, "package", d->name);
	cJSON_AddStringToObject(p->fields, "format", "npm");
	p->data = d;
	return (0);
}

static int	npm_page(struct fetch *, struct fetch_page *, void *);

/* Ask for the package document, as abbreviated as it may be. */
static void
npm_submit(struct fetch *f, struct npm_call *l, const char *etag)
{
	struct fetch_request	 rq;

	memset(&rq, 0, sizeof rq);
	rq.url = l->d->url;
	rq.headers = l->d->full ? npm_accept_full : npm_accept_abbreviated;
	rq.flags = FETCH_JSON | FETCH_OK_404;
	rq.max_body = NPM_DOC_MAX;
	rq.etag = etag;
	fetch_submit(f, &rq, npm_page, l);
}

static int
npm_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct npm_call	*l = arg;
	char		*cause, *msg;

	if (list_call_page(&l->l, pg))
		return (FETCH_STOP);
	if (pg->resp->status == 404) {
		msg = npm_error_message(pg->resp->body.data,
		    pg->resp->body.len);
		fetch_fail(f, 0, "GET %s: HTTP 404: no package %s%s%s",
		    pg->url, l->d->name, msg != NULL ? ": " : "",
		    msg != NULL ? log_q(msg) : "");
		free(msg);
		return (FETCH_FAILED);
	}
	if (!l->d->full && cJSON_IsObject(pg->json) &&
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(pg->json,
	    "time"))) {
		/* No push times here: the full document, now and from now. */
		l->d->full = 1;
		npm_submit(f, l, NULL);
		return (FETCH_STOP);
	}
	if (npm_parse_doc(pg->json, l->d->registry, l->d->name, l->l.max,
	    l->l.vs, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	return (FETCH_STOP);
}

static void
npm_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct npm		*d = p->data;
	struct npm_call		*l;
	struct fetch		*f;

	l = list_call_new(sizeof *l, req, done, arg, &d->etag, &d->call);
	l->d = d;
	f = fetch_start(d->fetcher, list_call_done, l);
	npm_submit(f, l, req->may_be_unchanged ? d->etag : NULL);
}

static void
npm_cancel(struct provider *p)
{
	struct npm	*d = p->data;

	if (d != NULL)
		list_call_cancel(&d->call, d->fetcher);
}

static void
npm_free(struct provider *p)
{
	struct npm	*d = p->data;

	if (d == NULL)
		return;
	npm_cancel(p);
	fetcher_free(d->fetcher);
	free(d->registry);
	free(d->name);
	free(d->url);
	free(d->etag);
	free(d);
	p->data = NULL;
}

const struct provider_entry provider_npm_entry = {
	.name = "Npm",
	.connector = "NpmRegistry",
	.kind = KIND_PACKAGE,
	.source_keys = npm_source_keys,
	.source_size = sizeof (struct npm_source),
	.check = npm_check,
	.identity = npm_identity,
	.init = npm_init,
	.list = npm_list,
	.cancel = npm_cancel,
	.free = npm_free,
};
