/*
 * connector-npm.c: the NpmRegistry connector type: an npm registry (the
 * public one, verdaccio, or the npm endpoint of Nexus, Artifactory or
 * GitHub).  Its keys, its auth (Anonymous; Token: "Authorization: Bearer"
 * with the token of tokenRef, as npm sends an _authToken;
 * UsernamePassword: Basic, as the Nexus and Artifactory endpoints take it),
 * its identity (the registry URL) and its credentials.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "connector-http.h"
#include "fetch.h"
#include "http.h"
#include "npm.h"

static const char *const npm_auth_types[] = {
	"Anonymous", "Token", "UsernamePassword", NULL
};

#define CONN_OFF(f)	offsetof(struct npm_connector, f)

static const struct cfg_key npm_auth_spec_keys[] = {
	{ .name = "tokenRef", .type = CFG_SECRET, .off = CONN_OFF(token_ref) },
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = NULL }
};

static const struct cfg_key npm_auth_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "Anonymous", .choices = npm_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = npm_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key npm_connector_keys[] = {
	{ .name = "registryUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "auth", .type = CFG_OBJECT, .sub = npm_auth_keys },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

static int
npm_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct npm_connector	*c = cc->data;
	int				 n;

	n = connector_check_url(cc, errs, "registryUrl", c->url);
	if (c->auth_type == NPM_AUTH_TOKEN && c->token_ref == NULL) {
		cfg_error(errs, connector_spec_node(cc, "auth"),
		    "auth Token needs spec.tokenRef");
		n++;
	}
	if (c->auth_type == NPM_AUTH_PASSWORD)
		n += connector_check_password(cc, errs, c->username,
		    c->password_ref);
	return (n);
}

/* The registry URL without its trailing slashes. */
static char *
npm_connector_identity(const struct connector_conf *cc)
{
	const struct npm_connector	*c = cc->data;

	return (c != NULL ? connector_url_trimmed(c->url) : NULL);
}

static int
npm_connector_credentials(struct connector *conn, struct connector_creds *cr,
    char **cause)
{
	const struct npm_connector	*c = conn->conf->data;

	if (c->auth_type == NPM_AUTH_TOKEN)
		return (connector_bearer(conn, cr, "tokenRef", c->token_ref,
		    cause));
	if (c->auth_type == NPM_AUTH_PASSWORD)
		return (connector_basic(conn, cr, c->username,
		    c->password_ref, cause));
	return (0);
}

/*
 * check --connect: with credentials, who they are (/-/whoami names the
 * user; a registry that takes a wrong token as anonymous, as verdaccio
 * does, names none); anonymous, the registry's /-/ping.
 */
static void
npm_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	const struct npm_connector	*c = conn->conf->data;
	char				*base, *url;

	base = connector_url_trimmed(c->url);
	xasprintf(&url, "%s/-/%s", base, c->auth_type == NPM_AUTH_ANONYMOUS ?
	    "ping" : "whoami");
	connector_probe_get(conn, url, 1, c->auth_type == NPM_AUTH_ANONYMOUS ?
	    NULL : "username", done, arg);
	free(url);
	free(base);
}

const struct connector_entry connector_npm_entry = {
	.name = "NpmRegistry",
	.keys = npm_connector_keys,
	.size = sizeof (struct npm_connector),
	.auth_kinds = npm_auth_types,
	.check = npm_connector_check,
	.identity = npm_connector_identity,
	.credentials = npm_connector_credentials,
	.probe = npm_connector_probe,
};
