/*
 * connector-docker.c: the DockerRegistry connector type: a Docker Registry
 * v2 / OCI distribution registry (Docker Hub, distribution, GHCR, Quay,
 * Harbor…).  Its keys, its auth (Anonymous, UsernamePassword), its part of a
 * source's identity (the registry's origin) and its credentials for the
 * fetch engine, which does the registry token dance with them.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "provider.h"
#include "provider-docker.h"

static const char *const docker_kinds[] = { "DockerHub", "Other", NULL };
static const char *const docker_auth_types[] = {
	"Anonymous", "UsernamePassword", NULL
};

#define CONN_OFF(f)	offsetof(struct docker_connector, f)

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

int
docker_is_hub_host(const char *host)
{
	return (strcasecmp(host, "index.docker.io") == 0 ||
	    strcasecmp(host, "docker.io") == 0 ||
	    strcasecmp(host, "registry-1.docker.io") == 0 ||
	    strcasecmp(host, "registry.hub.docker.com") == 0);
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
docker_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct docker_connector	*c = cc->data;
	int				 n = 0;

	if (c->url != NULL && strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0) {
		cfg_error(errs, node_or(cc->spec, "dockerRegistryUrl",
		    cc->node), "dockerRegistryUrl must start with http:// or "
		    "https://");
		n++;
	}
	if (c->hub_api_url != NULL &&
	    strncmp(c->hub_api_url, "http://", 7) != 0 &&
	    strncmp(c->hub_api_url, "https://", 8) != 0) {
		cfg_error(errs, node_or(cc->spec, "hubApiUrl", cc->node),
		    "hubApiUrl must start with http:// or https://");
		n++;
	}
	if (c->http_realm)
		log_warn("allowHttpTokenRealm: a plain http token realm is "
		    "accepted for an https registry; the password and the "
		    "tokens may cross the network in clear", "connector=%s",
		    log_q(cc->id));
	if (c->auth_type == DOCKER_AUTH_PASSWORD &&
	    (c->username == NULL || c->password_ref == NULL)) {
		cfg_error(errs, node_or(cc->spec, "auth", cc->node),
		    "auth UsernamePassword needs spec.username and "
		    "spec.passwordRef");
		n++;
	}
	return (n);
}

/* The registry's origin; every name of Docker Hub is one registry. */
static char *
docker_connector_identity(const struct connector_conf *cc)
{
	const struct docker_connector	*c = cc->data;
	char				*host, *origin;

	if (c == NULL || c->url == NULL)
		return (NULL);
	if ((host = url_host(c->url)) != NULL && docker_is_hub_host(host)) {
		free(host);
		return (xstrdup("https://registry-1.docker.io"));
	}
	free(host);
	if ((origin = url_origin(c->url)) == NULL)
		return (xstrdup(c->url));
	return (origin);
}

static int
docker_connector_credentials(struct connector *conn,
    struct connector_creds *cr, char **cause)
{
	const struct docker_connector	*c = conn->conf->data;
	char				*why;

	if (c->auth_type != DOCKER_AUTH_PASSWORD)
		return (0);
	if (c->username == NULL || c->password_ref == NULL)
		return (fail(cause, "auth UsernamePassword needs username and "
		    "passwordRef"));
	if (secret_resolve(conn->env->conf, c->password_ref, &cr->password,
	    &why) != 0) {
		fail(cause, "passwordRef %s: %s", c->password_ref, why);
		free(why);
		return (-1);
	}
	cr->username = xstrdup(c->username);
	return (0);
}

static int
docker_connector_init(struct connector *conn, __unused char **cause)
{
	const struct docker_connector	*c = conn->conf->data;

	conn->http_realm_ok = c->http_realm;
	return (0);
}

/* check --connect: GET /v2/, the API root, with the connector's auth. */
struct docker_probe {
	struct fetcher	*fetcher;
	void		(*done)(int, const char *, void *);
	void		*arg;
};

static int
docker_probe_page(__unused struct fetch *f, __unused struct fetch_page *pg,
    __unused void *arg)
{
	return (FETCH_STOP);
}

static void
docker_probe_done(struct provider_result *r, void *arg)
{
	struct docker_probe	*dp = arg;

	dp->done(r->status == 0, r->cause, dp->arg);
	fetcher_free(dp->fetcher);
	free(dp);
}

static void
docker_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	const struct docker_connector	*c = conn->conf->data;
	struct docker_probe		*dp;
	struct fetch_request		 rq;
	struct fetch			*f;
	char				*origin, *host, *url;

	host = url_host(c->url);
	if (host != NULL && docker_is_hub_host(host))
		origin = xstrdup("https://registry-1.docker.io");
	else
		origin = url_origin(c->url);
	free(host);
	dp = xcalloc(1, sizeof *dp);
	dp->fetcher = fetcher_create_connector(conn, NULL);
	dp->done = done;
	dp->arg = arg;
	f = fetch_start(dp->fetcher, docker_probe_done, dp);
	if (origin == NULL) {
		fetch_fail(f, 0, "dockerRegistryUrl %s is not a URL", c->url);
		return;
	}
	xasprintf(&url, "%s/v2/", origin);
	memset(&rq, 0, sizeof rq);
	rq.url = url;
	rq.max_body = 64 * 1024;
	fetch_submit(f, &rq, docker_probe_page, dp);
	free(url);
	free(origin);
}

const struct connector_entry connector_docker_entry = {
	.name = "DockerRegistry",
	.keys = docker_connector_keys,
	.size = sizeof (struct docker_connector),
	.auth_kinds = docker_auth_types,
	.check = docker_connector_check,
	.identity = docker_connector_identity,
	.credentials = docker_connector_credentials,
	.init = docker_connector_init,
	.probe = docker_connector_probe,
};
