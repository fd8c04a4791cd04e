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

#include "connector-http.h"
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

static int
docker_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct docker_connector	*c = cc->data;
	int				 n = 0;

	n += connector_check_url(cc, errs, "dockerRegistryUrl", c->url);
	n += connector_check_url(cc, errs, "hubApiUrl", c->hub_api_url);
	if (c->http_realm)
		log_warn("allowHttpTokenRealm: a plain http token realm is "
		    "accepted for an https registry; the password and the "
		    "tokens may cross the network in clear", "connector=%s",
		    log_q(cc->id));
	if (c->auth_type == DOCKER_AUTH_PASSWORD)
		n += connector_check_password(cc, errs, c->username,
		    c->password_ref);
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

	if (c->auth_type != DOCKER_AUTH_PASSWORD)
		return (0);
	return (connector_basic(conn, cr, c->username, c->password_ref,
	    cause));
}

static int
docker_connector_init(struct connector *conn, __unused char **cause)
{
	const struct docker_connector	*c = conn->conf->data;

	conn->http_realm_ok = c->http_realm;
	return (0);
}

/* check --connect: GET /v2/, the API root, with the connector's auth. */
static void
docker_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	const struct docker_connector	*c = conn->conf->data;
	char				*origin, *host, *url = NULL;

	host = url_host(c->url);
	if (host != NULL && docker_is_hub_host(host))
		origin = xstrdup("https://registry-1.docker.io");
	else
		origin = url_origin(c->url);
	free(host);
	if (origin != NULL)
		xasprintf(&url, "%s/v2/", origin);
	connector_probe_get(conn, url, 0, NULL, done, arg);
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
