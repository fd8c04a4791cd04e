/*
 * provider-docker.c: the DockerRegistry source type: its spec keys, its
 * checks, its identity and the entry the provider table points at.  It
 * lists the tags of one repository of a registry of the DockerRegistry
 * connector (provider-protocols.md §1); docker-list.c does the requests.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "provider.h"
#include "provider-docker.h"

#define SRC_OFF(f)	offsetof(struct docker_source, f)

static const struct cfg_key docker_source_keys[] = {
	/* Checked and resolved by the loader; listed so it is a known key. */
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "imagePath", .type = CFG_STRING, .off = SRC_OFF(image_path),
	  .flags = CFG_REQUIRED },
	{ .name = "tag", .type = CFG_STRING, .off = SRC_OFF(tag) },
	{ .name = "digest", .type = CFG_STRING, .off = SRC_OFF(digest) },
	{ .name = NULL }
};

/* "library/nginx", "org/team/app": lowercase path components. */
int
docker_repository_valid(const char *path)
{
	const char	*p;
	int		 start = 1;

	for (p = path; *p != '\0'; p++) {
		if (*p == '/') {
			if (start || !isalnum((unsigned char)p[-1]))
				return (0);
			start = 1;
			continue;
		}
		if (islower((unsigned char)*p) || isdigit((unsigned char)*p))
			start = 0;
		else if (start || strchr("._-", *p) == NULL)
			return (0);
	}
	return (!start && isalnum((unsigned char)p[-1]) && p - path <= 255);
}

static const struct cfg_node *
node_or(const struct cfg_node *map, const char *key,
    const struct cfg_node *fallback)
{
	const struct cfg_node	*n;

	if (map != NULL && (n = cfg_node_get(map, key)) != NULL)
		return (n);
	return (fallback);
}

static int
docker_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct docker_source	*src = conf->data;
	int				 n = 0;

	if (src->image_path != NULL &&
	    !docker_repository_valid(src->image_path)) {
		cfg_error(errs, node_or(conf->spec, "imagePath", conf->node),
		    "imagePath %s is not a repository name (lowercase "
		    "letters, digits, . _ - and /)", log_q(src->image_path));
		n++;
	}
	if (src->tag != NULL && !docker_tag_valid(src->tag)) {
		cfg_error(errs, node_or(conf->spec, "tag", conf->node),
		    "tag %s is not a tag name", log_q(src->tag));
		n++;
	}
	if (src->digest != NULL)
		log_warn("digest is ignored: a source watches tags",
		    "source=%s", log_q(conf->id));
	return (n);
}

/* Docker Hub's official images: "nginx" is "library/nginx". */
static char *
docker_repository(const struct docker_connector *c, const char *host,
    const char *image_path)
{
	char	*repo;

	if ((c->kind == DOCKER_KIND_HUB || docker_is_hub_host(host)) &&
	    strchr(image_path, '/') == NULL)
		xasprintf(&repo, "library/%s", image_path);
	else
		repo = xstrdup(image_path);
	return (repo);
}

/* What it watches: the repository, and the one tag if it has one. */
static char *
docker_identity(const struct source_conf *conf)
{
	const struct docker_source	*src = conf->data;
	const struct docker_connector	*c = conf->connector != NULL ?
	    conf->connector->data : NULL;
	char				*host, *repo, *id;

	if (src == NULL || src->image_path == NULL || c == NULL ||
	    c->url == NULL)
		return (NULL);
	if ((host = url_host(c->url)) == NULL)
		host = xstrdup("");
	repo = docker_repository(c, host, src->image_path);
	xasprintf(&id, "%s%s%s", repo, src->tag != NULL ? ":" : "",
	    src->tag != NULL ? src->tag : "");
	free(repo);
	free(host);
	return (id);
}

static int
docker_init(struct provider *p, char **cause)
{
	const struct docker_connector	*c = p->conf->connector->data;
	const struct docker_source	*src = p->conf->data;
	struct fetcher_conf		 fc;
	struct docker			*d;
	char				*origin, *host, *scope;
	int				 hub;

	if ((origin = url_origin(c->url)) == NULL ||
	    (host = url_host(c->url)) == NULL) {
		free(origin);
		return (fail(cause, "dockerRegistryUrl %s is not a URL",
		    c->url));
	}
	if (!docker_repository_valid(src->image_path)) {
		free(origin);
		free(host);
		return (fail(cause, "imagePath %s is not a repository name",
		    src->image_path));
	}
	d = xcalloc(1, sizeof *d);
	hub = c->kind == DOCKER_KIND_HUB || docker_is_hub_host(host);
	if (hub && docker_is_hub_host(host)) {
		d->base = xstrdup("https://registry-1.docker.io");
		d->registry = xstrdup("index.docker.io");
		free(origin);
	} else {
		/*
		 * The origin only: a /v2/ suffix, or none, both mean the API;
		 * a Hub mirror or a test's fake keeps its address.
		 */
		d->base = origin;
		d->registry = xstrdup(strstr(origin, "://") + 3);
	}
	d->repository = docker_repository(c, host, src->image_path);
	free(host);
	if (src->tag != NULL)
		d->tag = xstrdup(src->tag);
	if (c->kind == DOCKER_KIND_HUB && c->hub_api_url != NULL &&
	    (d->hub_origin = url_origin(c->hub_api_url)) != NULL)
		d->hub_tags_url = docker_hub_tags_url(c->hub_api_url,
		    d->repository, p->conf->max_tags);
	memset(&fc, 0, sizeof fc);
	xasprintf(&scope, "repository:%s:pull", d->repository);
	fc.default_scope = scope;
	d->fetcher = fetcher_create(p, &fc);
	free(scope);
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "registry", d->registry);
	cJSON_AddStringToObject(p->fields, "repository", d->repository);
	p->data = d;
	return (0);
}

int
docker_open(struct provider *p, struct docker *d, const char *base,
    const char *registry, const char *repository, char **cause)
{
	struct fetcher_conf	 fc;
	char			*scope;

	if (!docker_repository_valid(repository))
		return (fail(cause, "%s is not a repository name", repository));
	memset(d, 0, sizeof *d);
	d->base = xstrdup(base);
	d->registry = xstrdup(registry);
	d->repository = xstrdup(repository);
	memset(&fc, 0, sizeof fc);
	xasprintf(&scope, "repository:%s:pull", d->repository);
	fc.default_scope = scope;
	d->fetcher = fetcher_create(p, &fc);
	free(scope);
	return (0);
}

void
docker_close(struct docker *d)
{
	docker_cancel_on(d);
	fetcher_free(d->fetcher);
	free(d->etag);
	free(d->hub_tags_url);
	free(d->hub_origin);
	free(d->base);
	free(d->registry);
	free(d->repository);
	free(d->tag);
	memset(d, 0, sizeof *d);
}

static void
docker_free(struct provider *p)
{
	struct docker	*d = p->data;

	if (d == NULL)
		return;
	docker_close(d);
	free(d);
	p->data = NULL;
}

const struct provider_entry provider_docker_entry = {
	.name = "DockerRegistry",
	.connector = "DockerRegistry",
	.kind = KIND_CONTAINER,
	.source_keys = docker_source_keys,
	.source_size = sizeof (struct docker_source),
	.flags = PROVIDER_TAGS,
	.check = docker_check,
	.identity = docker_identity,
	.init = docker_init,
	.list = docker_list,
	.resolve = docker_resolve,
	.cancel = docker_cancel,
	.free = docker_free,
};
