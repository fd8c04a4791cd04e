/*
 * provider-docker.c: the DockerRegistry provider type: its config keys and
 * the entry the provider table points at.  It lists the tags of one
 * repository of a Docker Registry v2 / OCI distribution registry (Docker
 * Hub, distribution, GHCR, Quay, ...), as provider-protocols.md §1 tells.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "limit.h"
#include "provider.h"
#include "provider-docker.h"

static const char *const docker_kinds[] = { "DockerHub", "Other", NULL };
static const char *const docker_auth_types[] = {
	"Anonymous", "UsernamePassword", NULL
};

#define CONN_OFF(f)	offsetof(struct docker_connector, f)
#define SRC_OFF(f)	offsetof(struct docker_source, f)

static const struct cfg_key docker_auth_spec_keys[] = {
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = NULL }
};

static const struct cfg_key docker_auth_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "Anonymous", .choices = docker_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = docker_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key docker_connector_keys[] = {
	{ .name = "dockerRegistryUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "providerType", .type = CFG_ENUM, .off = CONN_OFF(kind),
	  .def = "Other", .choices = docker_kinds },
	{ .name = "auth", .type = CFG_OBJECT, .sub = docker_auth_keys },
	/* providerType DockerHub lists tags here (tests point it elsewhere). */
	{ .name = "hubApiUrl", .type = CFG_STRING, .off = CONN_OFF(hub_api_url),
	  .def = "https://hub.docker.com" },
	/* An https registry whose token realm is plain http: refused unless. */
	{ .name = "allowHttpTokenRealm", .type = CFG_BOOL,
	  .off = CONN_OFF(http_realm), .def = "false" },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

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
static int
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
	const struct docker_connector	*c = NULL;
	const struct cfg_node		*cspec = NULL;
	int				 n = 0;

	if (conf->connector != NULL) {
		c = conf->connector->data;
		cspec = conf->connector->spec;
	}
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
	if (c == NULL)
		return (n);
	if (c->url != NULL && strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0) {
		cfg_error(errs, node_or(cspec, "dockerRegistryUrl",
		    conf->connector->node), "dockerRegistryUrl must start "
		    "with http:// or https://");
		n++;
	}
	if (c->hub_api_url != NULL &&
	    strncmp(c->hub_api_url, "http://", 7) != 0 &&
	    strncmp(c->hub_api_url, "https://", 8) != 0) {
		cfg_error(errs, node_or(cspec, "hubApiUrl",
		    conf->connector->node), "hubApiUrl must start with "
		    "http:// or https://");
		n++;
	}
	if (c->http_realm)
		log_warn("allowHttpTokenRealm: a plain http token realm is "
		    "accepted for an https registry; the password and the "
		    "tokens may cross the network in clear", "connector=%s "
		    "source=%s", log_q(conf->connector->id), log_q(conf->id));
	if (c->auth_type == DOCKER_AUTH_PASSWORD &&
	    (c->username == NULL || c->password_ref == NULL)) {
		cfg_error(errs, node_or(cspec, "auth", conf->connector->node),
		    "auth UsernamePassword needs spec.username and "
		    "spec.passwordRef");
		n++;
	}
	return (n);
}

static int
docker_is_hub_host(const char *host)
{
	return (strcasecmp(host, "index.docker.io") == 0 ||
	    strcasecmp(host, "docker.io") == 0 ||
	    strcasecmp(host, "registry-1.docker.io") == 0 ||
	    strcasecmp(host, "registry.hub.docker.com") == 0);
}

/* The limiter of our connector, shared with its other sources. */
static void
docker_limiter(struct provider *p, struct docker *d)
{
	const struct connector_conf	*cc = p->conf->connector;
	struct limits			*ls = p->env->limits;
	struct limit_conf		 lc;

	if (ls == NULL)
		ls = d->own_limits = limits_create(p->env->base, p->env->http,
		    0);
	memset(&lc, 0, sizeof lc);
	lc.rps = cc->rate.rps;
	lc.burst = cc->rate.burst;
	lc.max_concurrency = cc->max_concurrency;
	lc.max_retry_wait_ms = cc->max_retry_wait_ms;
	d->limiter = limits_get(ls, cc->id != NULL ? cc->id : "", &lc);
}

static int
docker_init(struct provider *p, char **cause)
{
	const struct docker_connector	*c = p->conf->connector->data;
	const struct docker_source	*src = p->conf->data;
	struct docker			*d;
	char				*origin, *host;
	const char			*hostport;
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
	d->tokens = docker_tokens_create();
	hub = c->kind == DOCKER_KIND_HUB || docker_is_hub_host(host);
	if (hub) {
		if (docker_is_hub_host(host)) {
			d->base = xstrdup("https://registry-1.docker.io");
			d->registry = xstrdup("index.docker.io");
			free(origin);
		} else {
			/* A mirror, or a test's fake: keep its address. */
			d->base = origin;
			d->registry = xstrdup(strstr(origin, "://") + 3);
		}
		if (strchr(src->image_path, '/') == NULL)
			xasprintf(&d->repository, "library/%s",
			    src->image_path);
		else
			d->repository = xstrdup(src->image_path);
	} else {
		/* The origin only: a /v2/ suffix, or none, both mean the API. */
		d->base = origin;
		hostport = strstr(origin, "://") + 3;
		d->registry = xstrdup(hostport);
		d->repository = xstrdup(src->image_path);
	}
	free(host);
	if (c->kind == DOCKER_KIND_HUB && c->hub_api_url != NULL &&
	    (d->hub_origin = url_origin(c->hub_api_url)) != NULL)
		d->hub_tags_url = docker_hub_tags_url(c->hub_api_url,
		    d->repository, p->conf->max_tags);
	docker_limiter(p, d);
	p->data = d;
	return (0);
}

static void
docker_free(struct provider *p)
{
	struct docker	*d = p->data;

	if (d == NULL)
		return;
	docker_poll_cancel(p);
	limits_free(d->own_limits);
	free(d->etag);
	free(d->hub_tags_url);
	free(d->hub_origin);
	docker_tokens_free(d->tokens);
	free(d->base);
	free(d->registry);
	free(d->repository);
	free(d->auth_scheme);
	free(d->realm);
	free(d->service);
	free(d->scope);
	free(d->token_url);
	free(d);
	p->data = NULL;
}

static void
docker_describe(const struct provider *p, const char **registry,
    const char **repository)
{
	const struct docker	*d = p->data;

	*registry = d->registry;
	*repository = d->repository;
}

const struct provider_entry provider_docker_entry = {
	.name = "DockerRegistry",
	.connector = "DockerRegistry",
	.connector_keys = docker_connector_keys,
	.connector_size = sizeof (struct docker_connector),
	.source_keys = docker_source_keys,
	.source_size = sizeof (struct docker_source),
	.check = docker_check,
	.init = docker_init,
	.poll = docker_poll_start,
	.cancel = docker_poll_cancel,
	.free = docker_free,
	.describe = docker_describe,
};
