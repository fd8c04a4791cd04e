/*
 * provider-nexus.c: the Nexus3Registry and Nexus2Registry source types on
 * a Nexus connector.  Format docker: the tags of artifactPath on the
 * repository's docker connector (repositoryPort or repositoryUrl), through
 * the docker family's registry listing and resolve: kind container.
 * Other formats (maven, npm, nuget, raw): Nexus 3's search API, newest
 * version first, continuationToken paging, digests from the assets; on a
 * 2.x connector, Nexus 2's lucene search (maven), offset paging: kind
 * package.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "connector.h"
#include "docker/provider-docker.h"
#include "fetch.h"
#include "http.h"
#include "list-call.h"
#include "nexus.h"
#include "provider.h"

#define NEXUS_PAGE_MAX		(16 * 1024 * 1024)
#define NEXUS2_PAGE_SIZE	200
#define SRC_OFF(f)	offsetof(struct nexus_source, f)

static const struct cfg_key nexus_format_keys[] = {
	{ .name = "artifactPath", .type = CFG_STRING,
	  .off = SRC_OFF(artifact_path) },
	{ .name = "repositoryPort", .type = CFG_STRING,
	  .off = SRC_OFF(repository_port) },
	{ .name = "repositoryUrl", .type = CFG_STRING,
	  .off = SRC_OFF(repository_url) },
	{ .name = "repositoryPortorRepositoryURL", .type = CFG_IGNORE },
	{ .name = "groupId", .type = CFG_STRING, .off = SRC_OFF(group_id) },
	{ .name = "artifactId", .type = CFG_STRING,
	  .off = SRC_OFF(artifact_id) },
	{ .name = "extension", .type = CFG_STRING, .off = SRC_OFF(extension) },
	{ .name = "classifier", .type = CFG_STRING,
	  .off = SRC_OFF(classifier) },
	{ .name = "packageName", .type = CFG_STRING,
	  .off = SRC_OFF(package_name) },
	{ .name = "group", .type = CFG_STRING, .off = SRC_OFF(group) },
	{ .name = NULL }
};

static const struct cfg_key nexus_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "repository", .type = CFG_STRING,
	  .off = SRC_OFF(repository), .flags = CFG_REQUIRED },
	{ .name = "repositoryFormat", .type = CFG_ENUM, .off = SRC_OFF(format),
	  .def = "docker", .choices = nexus_formats },
	{ .name = "tag", .type = CFG_STRING, .off = SRC_OFF(tag) },
	{ .name = "spec", .type = CFG_OBJECT, .sub = nexus_format_keys },
	{ .name = NULL }
};

struct nexus {
	int			 format;
	int			 v2;
	struct docker_within	 docker;	/* format docker, or resolve */
	char			*server;
	char			*url;		/* the first search page */
	struct nexus_query	 q;
	char			*repository;
	char			*extension;
	char			*classifier;
	struct list_call	*call;		/* a struct nexus_call */
	struct fetcher		*fetcher;	/* the search */
};

struct nexus_call {
	struct list_call	 l;		/* first */
	struct nexus		*d;
};

static const char *const nexus_json[] = {
	"Accept: application/json", NULL
};

static int
need(struct source_conf *conf, struct cfg_errors *errs, const char *value,
    const char *key)
{
	if (value != NULL && *value != '\0')
		return (0);
	cfg_error(errs, conf->spec, "repositoryFormat %s needs spec.spec.%s",
	    nexus_formats[((struct nexus_source *)conf->data)->format], key);
	return (1);
}

static int
nexus_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct nexus_source	*src = conf->data;
	const struct nexus_connector	*c = conf->connector != NULL ?
	    conf->connector->data : NULL;
	char				*cause, *base;
	int				 n = 0;

	switch (src->format) {
	case NEXUS_DOCKER:
		n += need(conf, errs, src->artifact_path, "artifactPath");
		if (src->artifact_path != NULL &&
		    !docker_repository_valid(src->artifact_path)) {
			cfg_error(errs, conf->spec, "artifactPath %s is not a "
			    "repository name", log_q(src->artifact_path));
			n++;
		}
		if (c == NULL || c->url == NULL)
			break;
		if ((base = nexus_docker_base(c->url, src->repository_port,
		    src->repository_url, &cause)) == NULL) {
			cfg_error(errs, conf->spec, "%s", cause);
			free(cause);
			n++;
		}
		free(base);
		break;
	case NEXUS_MAVEN:
		n += need(conf, errs, src->group_id, "groupId");
		n += need(conf, errs, src->artifact_id, "artifactId");
		break;
	case NEXUS_NPM:
	case NEXUS_NUGET:
		n += need(conf, errs, src->package_name, "packageName");
		break;
	}
	if (c != NULL && c->version == NEXUS_2 &&
	    src->format != NEXUS_MAVEN) {
		cfg_error(errs, conf->spec, "a Nexus 2.x connector serves "
		    "repositoryFormat maven only (its lucene search)");
		n++;
	}
	if (src->tag != NULL)
		log_warn("tag is ignored: a source watches every version",
		    "source=%s", log_q(conf->id));
	return (n);
}

static char *
nexus_identity(const struct source_conf *conf)
{
	const struct nexus_source	*src = conf->data;
	char				*id;

	if (src == NULL || src->repository == NULL)
		return (NULL);
	xasprintf(&id, "%s/%s/%s:%s:%s:%s:%s:%s:%s:%s", src->repository,
	    nexus_formats[src->format],
	    src->artifact_path != NULL ? src->artifact_path : "",
	    src->repository_port != NULL ? src->repository_port : "",
	    src->repository_url != NULL ? src->repository_url : "",
	    src->group_id != NULL ? src->group_id : "",
	    src->artifact_id != NULL ? src->artifact_id : "",
	    src->extension != NULL ? src->extension : "",
	    src->package_name != NULL ? src->package_name : "",
	    src->group != NULL ? src->group : "");
	return (id);
}

static int
nexus_init(struct provider *p, char **cause)
{
	const struct nexus_connector	*c = p->conf->connector->data;
	const struct nexus_source	*src = p->conf->data;
	struct nexus			*d;
	size_t				 len;
	char				*base;

	d = xcalloc(1, sizeof *d);
	d->format = src->format;
	d->v2 = c->version == NEXUS_2;
	len = strlen(c->url);
	while (len > 0 && c->url[len - 1] == '/')
		len--;
	d->server = xstrndup(c->url, len);
	p->fields = cJSON_CreateObject();
	if (src->format == NEXUS_DOCKER) {
		if ((base = nexus_docker_base(c->url, src->repository_port,
		    src->repository_url, cause)) == NULL ||
		    docker_within_open(p, &d->docker, base,
		    strstr(base, "://") + 3, src->artifact_path, cause) != 0) {
			free(base);
			free(d->server);
			free(d);
			return (-1);
		}
		p->kind = KIND_CONTAINER;
		cJSON_AddStringToObject(p->fields, "registry",
		    d->docker.docker.registry);
		cJSON_AddStringToObject(p->fields, "repository",
		    d->docker.docker.repository);
		free(base);
		p->data = d;
		return (0);
	}
	p->kind = KIND_PACKAGE;
	d->repository = xstrdup(src->repository);
	d->extension = src->extension != NULL ? xstrdup(src->extension) :
	    NULL;
	d->classifier = src->classifier != NULL ? xstrdup(src->classifier) :
	    NULL;
	d->q.format = src->format;
	d->q.repository = d->repository;
	d->q.extension = d->extension;
	d->q.classifier = d->classifier;
	d->url = d->v2 ? nexus2_search_url(c->url, src) :
	    nexus3_search_url(c->url, src);
	d->fetcher = fetcher_create(p, NULL);
	cJSON_AddStringToObject(p->fields, "repository", src->repository);
	cJSON_AddStringToObject(p->fields, "format",
	    nexus_formats[src->format]);
	if (src->format == NEXUS_MAVEN) {
		cJSON_AddStringToObject(p->fields, "group", src->group_id);
		cJSON_AddStringToObject(p->fields, "package",
		    src->artifact_id);
	} else if (src->package_name != NULL)
		cJSON_AddStringToObject(p->fields, "package",
		    src->package_name);
	else if (src->group != NULL)
		cJSON_AddStringToObject(p->fields, "group", src->group);
	p->data = d;
	return (0);
}

static int
search3_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct nexus_call	*l = arg;
	char			*cause;
	int			 full;

	if ((full = nexus3_parse_search(pg->json, &l->d->q, l->l.max, l->l.vs,
	    &cause)) < 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	return (full ? FETCH_STOP : FETCH_NEXT);
}

static int
search2_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct nexus_call	*l = arg;
	char			*cause;
	int			 full;

	if ((full = nexus2_parse_search(pg->json, l->d->server, &l->d->q,
	    l->l.max, l->l.vs, &pg->items, &cause)) < 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	return (full ? FETCH_STOP : FETCH_NEXT);
}

static void
nexus_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct nexus		*d = p->data;
	struct nexus_call	*l;
	struct fetch		*f;
	struct fetch_request	 rq;
	struct fetch_paging	 pg;

	if (d->format == NEXUS_DOCKER) {
		docker_list_on(p, &d->docker.docker, req, done, arg);
		return;
	}
	l = list_call_new(sizeof *l, req, done, arg, NULL, &d->call);
	l->d = d;
	f = fetch_start(d->fetcher, list_call_done, l);
	memset(&pg, 0, sizeof pg);
	memset(&rq, 0, sizeof rq);
	if (d->v2) {
		pg.kind = PAGING_OFFSET;
		pg.param = "from";
		pg.limit_param = "count";
		pg.page_size = NEXUS2_PAGE_SIZE;
	} else {
		pg.kind = PAGING_TOKEN;
		pg.field = "continuationToken";
		pg.param = "continuationToken";
	}
	rq.url = d->url;
	rq.headers = nexus_json;
	rq.flags = FETCH_JSON;
	rq.max_body = NEXUS_PAGE_MAX;
	rq.paging = &pg;
	fetch_submit(f, &rq, d->v2 ? search2_page : search3_page, l);
}

static void
nexus_resolve(struct provider *p, struct version **v, size_t n,
    provider_done_cb done, void *arg)
{
	struct nexus	*d = p->data;

	docker_within_resolve(p, &d->docker, v, n, done, arg);
}

static void
nexus_cancel(struct provider *p)
{
	struct nexus	*d = p->data;

	if (d == NULL)
		return;
	docker_within_cancel(&d->docker);
	list_call_cancel(&d->call, d->fetcher);
}

static void
nexus_free(struct provider *p)
{
	struct nexus	*d = p->data;

	if (d == NULL)
		return;
	nexus_cancel(p);
	docker_within_close(&d->docker);
	fetcher_free(d->fetcher);
	free(d->server);
	free(d->url);
	free(d->repository);
	free(d->extension);
	free(d->classifier);
	free(d);
	p->data = NULL;
}

const struct provider_entry provider_nexus3_entry = {
	.name = "Nexus3Registry",
	.connector = "Nexus",
	.kind = KIND_PACKAGE,
	.source_keys = nexus_source_keys,
	.source_size = sizeof (struct nexus_source),
	.flags = PROVIDER_TAGS,
	.check = nexus_check,
	.identity = nexus_identity,
	.init = nexus_init,
	.list = nexus_list,
	.resolve = nexus_resolve,
	.cancel = nexus_cancel,
	.free = nexus_free,
};

const struct provider_entry provider_nexus2_entry = {
	.name = "Nexus2Registry",
	.connector = "Nexus",
	.kind = KIND_PACKAGE,
	.source_keys = nexus_source_keys,
	.source_size = sizeof (struct nexus_source),
	.check = nexus_check,
	.identity = nexus_identity,
	.init = nexus_init,
	.list = nexus_list,
	.cancel = nexus_cancel,
	.free = nexus_free,
};
