/*
 * provider-github-packages.c: the GithubPackageRegistry source type: the
 * versions of one package of GitHub Packages through the REST API
 * (provider-protocols.md §12), on a Github connector.  Pages of 100 by
 * Link rel="next", newest first, so the cap stops the paging and the first
 * page's ETag stands for the listing.  A container's versions are
 * manifests: each of their tags is a version with that digest, so a
 * re-pointed tag is compared for free and events name
 * ghcr.io/<owner>/<package>.  x-ratelimit-* budgets are the limiter's
 * (limit.c reads them off every answer).  No resolve.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "connector.h"
#include "fetch.h"
#include "github.h"
#include "http.h"
#include "list-call.h"
#include "provider.h"

#define GITHUB_PAGE_MAX	(16 * 1024 * 1024)
#define SRC_OFF(f)	offsetof(struct github_source, f)

static const struct cfg_key github_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "org", .type = CFG_STRING, .off = SRC_OFF(org) },
	{ .name = "packageName", .type = CFG_STRING,
	  .off = SRC_OFF(package_name), .flags = CFG_REQUIRED },
	{ .name = "packageType", .type = CFG_ENUM,
	  .off = SRC_OFF(package_type), .def = "container",
	  .choices = github_package_types },
	{ .name = "version", .type = CFG_STRING, .off = SRC_OFF(version) },
	{ .name = "versionRegex", .type = CFG_STRING,
	  .off = SRC_OFF(version_regex) },
	{ .name = NULL }
};

static const char *const github_headers[] = {
	"Accept: application/vnd.github+json",
	"X-GitHub-Api-Version: 2022-11-28",
	NULL
};

struct github {
	char		*url;		/* the first page */
	char		*api;		/* its origin: where next pages stay */
	char		*what;		/* "container app of acme", for causes */
	int		 container;
	char		*etag;
	struct fetcher	*fetcher;
	struct list_call *call;		/* a struct github_call */
};

struct github_call {
	struct list_call	 l;		/* first */
	struct github		*d;
};

static int
github_is_container(int type)
{
	return (type == GITHUB_CONTAINER || type == GITHUB_DOCKER);
}

static int
github_check(struct source_conf *conf, struct cfg_errors *errs)
{
	struct github_source	*src = conf->data;
	const struct cfg_node	*n;

	if (src->package_name != NULL && (*src->package_name == '\0' ||
	    strlen(src->package_name) > 200)) {
		n = cfg_node_get(conf->spec, "packageName");
		cfg_error(errs, n != NULL ? n : conf->node, "packageName "
		    "must not be empty");
		return (1);
	}
	if (src->version != NULL)
		log_warn("version is ignored: a source watches every version "
		    "(versionRegex or tagRegex choose)", "source=%s",
		    log_q(conf->id));
	/* versionRegex is Harness's spelling of tagRegex. */
	if (src->version_regex != NULL && conf->tag_regex == NULL)
		conf->tag_regex = xstrdup(src->version_regex);
	return (0);
}

static char *
github_identity(const struct source_conf *conf)
{
	const struct github_source	*src = conf->data;
	char				*id;

	if (src == NULL || src->package_name == NULL)
		return (NULL);
	xasprintf(&id, "%s/%s/%s", src->org != NULL ? src->org : "",
	    github_package_types[src->package_type], src->package_name);
	return (id);
}

static char *
lower(const char *s)
{
	char	*out, *p;

	out = xstrdup(s);
	for (p = out; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	return (out);
}

static int
github_init(struct provider *p, char **cause)
{
	const struct github_connector	*c = p->conf->connector->data;
	const struct github_source	*src = p->conf->data;
	const char			*type, *owner;
	struct github			*d;
	char				*repo, *lrepo, *api;

	type = github_package_types[src->package_type];
	api = github_connector_api(c);
	d = xcalloc(1, sizeof *d);
	if ((d->api = url_origin(api)) == NULL) {
		fail(cause, "the API root %s is not a URL", api);
		free(api);
		free(d);
		return (-1);
	}
	d->container = github_is_container(src->package_type);
	/* The API's name for a Docker image on ghcr.io is container. */
	d->url = github_versions_url(api, src->org, d->container ?
	    "container" : type, src->package_name);
	free(api);
	owner = src->org != NULL && *src->org != '\0' ? src->org :
	    c->username;
	xasprintf(&d->what, "%s package %s%s%s", type, src->package_name,
	    owner != NULL ? " of " : "", owner != NULL ? owner : "");
	d->fetcher = fetcher_create(p, NULL);
	p->fields = cJSON_CreateObject();
	if (d->container) {
		p->kind = KIND_CONTAINER;
		if (owner != NULL && *owner != '\0')
			xasprintf(&repo, "%s/%s", owner, src->package_name);
		else
			repo = xstrdup(src->package_name);
		free(d->what);
		xasprintf(&d->what, "container package %s", repo);
		lrepo = lower(repo);
		cJSON_AddStringToObject(p->fields, "registry", "ghcr.io");
		cJSON_AddStringToObject(p->fields, "repository", lrepo);
		free(lrepo);
		free(repo);
	} else {
		p->kind = KIND_PACKAGE;
		if (owner != NULL)
			cJSON_AddStringToObject(p->fields, "repository", owner);
		cJSON_AddStringToObject(p->fields, "package",
		    src->package_name);
		cJSON_AddStringToObject(p->fields, "format", type);
	}
	p->data = d;
	return (0);
}

static int
github_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct github_call	*l = arg;
	char			*cause, *next;
	int			 full;

	if (list_call_page(&l->l, pg))
		return (FETCH_STOP);
	if (pg->resp->status == 404) {
		fetch_fail(f, 0, "GET %s: HTTP 404: no %s (or the token "
		    "cannot read it: it needs read:packages)", pg->url,
		    l->d->what);
		return (FETCH_FAILED);
	}
	if ((full = github_parse_versions(pg->json, l->d->container,
	    l->l.max, l->l.vs, &cause)) < 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	if (!full)
		return (FETCH_NEXT);
	switch (link_next(pg->resp, &next, &cause)) {
	case 1:
		l->l.vs->truncated = 1;
		free(next);
		break;
	case -1:
		free(cause);
		break;
	}
	return (FETCH_STOP);
}

static void
github_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct github		*d = p->data;
	struct github_call	*l;
	struct fetch		*f;
	struct fetch_request	 rq;
	struct fetch_paging	 pg;

	l = list_call_new(sizeof *l, req, done, arg, &d->etag, &d->call);
	l->d = d;
	f = fetch_start(d->fetcher, list_call_done, l);
	memset(&pg, 0, sizeof pg);
	pg.kind = PAGING_LINK;
	pg.origin = d->api;
	memset(&rq, 0, sizeof rq);
	rq.url = d->url;
	rq.headers = github_headers;
	rq.flags = FETCH_JSON | FETCH_OK_404;
	rq.max_body = GITHUB_PAGE_MAX;
	rq.paging = &pg;
	rq.etag = req->may_be_unchanged ? d->etag : NULL;
	fetch_submit(f, &rq, github_page, l);
}

static void
github_cancel(struct provider *p)
{
	struct github	*d = p->data;

	if (d != NULL)
		list_call_cancel(&d->call, d->fetcher);
}

static void
github_free(struct provider *p)
{
	struct github	*d = p->data;

	if (d == NULL)
		return;
	github_cancel(p);
	fetcher_free(d->fetcher);
	free(d->url);
	free(d->api);
	free(d->what);
	free(d->etag);
	free(d);
	p->data = NULL;
}

const struct provider_entry provider_github_packages_entry = {
	.name = "GithubPackageRegistry",
	.connector = "Github",
	.kind = KIND_PACKAGE,
	.source_keys = github_source_keys,
	.source_size = sizeof (struct github_source),
	.check = github_check,
	.identity = github_identity,
	.init = github_init,
	.list = github_list,
	.cancel = github_cancel,
	.free = github_free,
};
