/*
 * provider-artifactory.c: the ArtifactoryRegistry source type on an
 * Artifactory connector.  repositoryFormat docker: the tags of
 * artifactPath through <server>/api/docker/<repository>/v2/ (the docker
 * family's registry listing and resolve, with the registry's digests):
 * kind container, named by repositoryUrl.  generic: the files under
 * artifactDirectory whose name matches artifactPathFilter, through one
 * AQL query sorted by creation, newest first, limited at the cap: kind
 * file.  Other formats (maven, npm…): the same query under artifactPath,
 * one version per version directory: kind package.  AQL's notice that it
 * trimmed its results marks the listing truncated, with a log line.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "artifactory.h"
#include "connector.h"
#include "docker/provider-docker.h"
#include "fetch.h"
#include "http.h"
#include "list-call.h"
#include "provider.h"

#define ART_AQL_MAX	(32 * 1024 * 1024)
#define SRC_OFF(f)	offsetof(struct art_source, f)

static const struct cfg_key art_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "repository", .type = CFG_STRING,
	  .off = SRC_OFF(repository), .flags = CFG_REQUIRED },
	{ .name = "repositoryFormat", .type = CFG_ENUM, .off = SRC_OFF(format),
	  .def = "docker", .choices = art_formats },
	{ .name = "artifactPath", .type = CFG_STRING,
	  .off = SRC_OFF(artifact_path) },
	{ .name = "repositoryUrl", .type = CFG_STRING,
	  .off = SRC_OFF(repository_url) },
	{ .name = "artifactDirectory", .type = CFG_STRING,
	  .off = SRC_OFF(artifact_directory) },
	{ .name = "artifactPathFilter", .type = CFG_STRING,
	  .off = SRC_OFF(artifact_path_filter) },
	{ .name = "artifactFilter", .type = CFG_STRING,
	  .off = SRC_OFF(artifact_filter) },
	{ .name = "tag", .type = CFG_STRING, .off = SRC_OFF(tag) },
	{ .name = "digest", .type = CFG_STRING, .off = SRC_OFF(digest) },
	{ .name = NULL }
};

static const char *const art_aql_headers[] = {
	"Content-Type: text/plain", "Accept: application/json", NULL
};

struct art {
	int			 format;
	struct docker_within	 docker;	/* format docker, or resolve */
	char			*server;
	char			*aql_url;
	char			*repository;
	char			*directory;
	char			*glob;
	struct art_query	 q;
	struct fetcher		*fetcher;
	struct list_call	*call;		/* a struct art_call */
	const char		*source_id;
};

struct art_call {
	struct list_call	 l;		/* first */
	struct art		*d;
};

static int
art_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct art_source	*src = conf->data;
	char			*cause, *q;
	struct art_query	 aq;
	int			 n = 0;

	if (src->format == ART_DOCKER) {
		if (src->artifact_path == NULL ||
		    !docker_repository_valid(src->artifact_path)) {
			cfg_error(errs, conf->spec, "repositoryFormat docker "
			    "needs artifactPath, an image name");
			n++;
		}
	} else if (src->format != ART_GENERIC && src->artifact_path == NULL) {
		cfg_error(errs, conf->spec, "repositoryFormat %s needs "
		    "artifactPath (the package's path)",
		    art_formats[src->format]);
		n++;
	}
	if (src->repository != NULL && src->format != ART_DOCKER) {
		memset(&aq, 0, sizeof aq);
		aq.repository = src->repository;
		aq.directory = src->format == ART_GENERIC ?
		    src->artifact_directory : src->artifact_path;
		aq.name_glob = src->artifact_path_filter;
		if ((q = art_aql_query(&aq, &cause)) == NULL) {
			cfg_error(errs, conf->spec, "%s", cause);
			free(cause);
			n++;
		}
		free(q);
	}
	if (src->tag != NULL || src->digest != NULL)
		log_warn("tag and digest are ignored: a source watches every "
		    "version", "source=%s", log_q(conf->id));
	return (n);
}

static char *
art_identity(const struct source_conf *conf)
{
	const struct art_source	*src = conf->data;
	char			*id;

	if (src == NULL || src->repository == NULL)
		return (NULL);
	xasprintf(&id, "%s/%s:%s:%s:%s", src->repository,
	    art_formats[src->format],
	    src->artifact_path != NULL ? src->artifact_path : "",
	    src->artifact_directory != NULL ? src->artifact_directory : "",
	    src->artifact_path_filter != NULL ? src->artifact_path_filter :
	    "");
	return (id);
}

static int
art_init_docker(struct provider *p, struct art *d,
    const struct art_source *src, char **cause)
{
	char	*base, *registry, *host;

	xasprintf(&base, "%s/api/docker/%s", d->server, src->repository);
	if (src->repository_url != NULL && *src->repository_url != '\0') {
		host = strstr(src->repository_url, "://");
		registry = xstrdup(host != NULL ? host + 3 :
		    src->repository_url);
		registry[strcspn(registry, "/")] = '\0';
	} else if ((registry = url_origin(d->server)) != NULL)
		memmove(registry, strstr(registry, "://") + 3,
		    strlen(strstr(registry, "://") + 3) + 1);
	else
		registry = xstrdup(d->server);
	if (docker_within_open(p, &d->docker, base, registry,
	    src->artifact_path, cause) != 0) {
		free(base);
		free(registry);
		return (-1);
	}
	p->kind = KIND_CONTAINER;
	cJSON_AddStringToObject(p->fields, "registry", registry);
	cJSON_AddStringToObject(p->fields, "repository", src->artifact_path);
	free(base);
	free(registry);
	return (0);
}

static int
art_init(struct provider *p, char **cause)
{
	const struct art_connector	*c = p->conf->connector->data;
	const struct art_source		*src = p->conf->data;
	struct art			*d;
	size_t				 len;
	char				*host;

	d = xcalloc(1, sizeof *d);
	d->format = src->format;
	d->source_id = p->conf->id;
	len = strlen(c->url);
	while (len > 0 && c->url[len - 1] == '/')
		len--;
	d->server = xstrndup(c->url, len);
	p->fields = cJSON_CreateObject();
	p->data = d;
	if (src->format == ART_DOCKER)
		return (art_init_docker(p, d, src, cause));
	d->repository = xstrdup(src->repository);
	d->directory = xstrdup(src->format == ART_GENERIC ?
	    (src->artifact_directory != NULL ? src->artifact_directory : "") :
	    src->artifact_path);
	d->glob = src->artifact_path_filter != NULL ?
	    xstrdup(src->artifact_path_filter) : NULL;
	d->q.repository = d->repository;
	d->q.directory = d->directory;
	d->q.name_glob = d->glob;
	d->q.package = src->format != ART_GENERIC;
	xasprintf(&d->aql_url, "%s/api/search/aql", d->server);
	d->fetcher = fetcher_create(p, NULL);
	if (src->format == ART_GENERIC) {
		p->kind = KIND_FILE;
		if ((host = url_host(d->server)) != NULL)
			cJSON_AddStringToObject(p->fields, "host", host);
		free(host);
		cJSON_AddStringToObject(p->fields, "bucket", src->repository);
	} else {
		p->kind = KIND_PACKAGE;
		cJSON_AddStringToObject(p->fields, "repository",
		    src->repository);
		cJSON_AddStringToObject(p->fields, "package",
		    src->artifact_path);
		cJSON_AddStringToObject(p->fields, "format",
		    art_formats[src->format]);
	}
	return (0);
}

static int
aql_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct art_call	*l = arg;
	char		*cause;
	int		 trimmed;

	if (art_aql_parse(pg->json, &l->d->q, l->d->server, l->l.max, l->l.vs,
	    &trimmed, &cause) != 0) {
		fetch_fail(f, 0, "POST %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	if (trimmed) {
		l->l.vs->truncated = 1;
		log_warn("AQL results trimmed by the server (its search hard "
		    "limit): the listing is not complete", "source=%s",
		    log_q(l->d->source_id));
	}
	return (FETCH_STOP);
}

static void
art_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct art		*d = p->data;
	struct art_call		*l;
	struct fetch		*f;
	struct fetch_request	 rq;
	char			*query, *cause;

	if (d->format == ART_DOCKER) {
		docker_list_on(p, &d->docker.docker, req, done, arg);
		return;
	}
	l = list_call_new(sizeof *l, req, done, arg, NULL, &d->call);
	l->d = d;
	f = fetch_start(d->fetcher, list_call_done, l);
	/* Package files: several per version, so ask for more than the cap. */
	d->q.limit = d->q.package ? l->l.max * 8 + 1 : l->l.max + 1;
	if ((query = art_aql_query(&d->q, &cause)) == NULL) {
		fetch_fail(f, 0, "%s", cause);
		free(cause);
		return;
	}
	memset(&rq, 0, sizeof rq);
	rq.method = "POST";
	rq.url = d->aql_url;
	rq.headers = art_aql_headers;
	rq.body = query;
	rq.body_len = strlen(query);
	rq.flags = FETCH_JSON;
	rq.max_body = ART_AQL_MAX;
	fetch_submit(f, &rq, aql_page, l);
	free(query);
}

static void
art_resolve(struct provider *p, struct version **v, size_t n,
    provider_done_cb done, void *arg)
{
	struct art	*d = p->data;

	docker_within_resolve(p, &d->docker, v, n, done, arg);
}

static void
art_cancel(struct provider *p)
{
	struct art	*d = p->data;

	if (d == NULL)
		return;
	docker_within_cancel(&d->docker);
	list_call_cancel(&d->call, d->fetcher);
}

static void
art_free(struct provider *p)
{
	struct art	*d = p->data;

	if (d == NULL)
		return;
	art_cancel(p);
	docker_within_close(&d->docker);
	fetcher_free(d->fetcher);
	free(d->server);
	free(d->aql_url);
	free(d->repository);
	free(d->directory);
	free(d->glob);
	free(d);
	p->data = NULL;
}

const struct provider_entry provider_artifactory_entry = {
	.name = "ArtifactoryRegistry",
	.connector = "Artifactory",
	.kind = KIND_PACKAGE,
	.source_keys = art_source_keys,
	.source_size = sizeof (struct art_source),
	.flags = PROVIDER_TAGS,
	.check = art_check,
	.identity = art_identity,
	.init = art_init,
	.list = art_list,
	.resolve = art_resolve,
	.cancel = art_cancel,
	.free = art_free,
};
