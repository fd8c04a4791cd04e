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

#include "connector.h"
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
npm_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct npm_connector	*c = cc->data;
	int				 n = 0;

	if (c->url != NULL && strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0) {
		cfg_error(errs, node_or(cc->spec, "registryUrl", cc->node),
		    "registryUrl must start with http:// or https://");
		n++;
	}
	if (c->auth_type == NPM_AUTH_TOKEN && c->token_ref == NULL) {
		cfg_error(errs, node_or(cc->spec, "auth", cc->node),
		    "auth Token needs spec.tokenRef");
		n++;
	}
	if (c->auth_type == NPM_AUTH_PASSWORD &&
	    (c->username == NULL || c->password_ref == NULL)) {
		cfg_error(errs, node_or(cc->spec, "auth", cc->node),
		    "auth UsernamePassword needs spec.username and "
		    "spec.passwordRef");
		n++;
	}
	return (n);
}

/* The registry URL without its trailing slashes. */
static char *
npm_connector_identity(const struct connector_conf *cc)
{
	const struct npm_connector	*c = cc->data;
	size_t				 len;

	if (c == NULL || c->url == NULL)
		return (NULL);
	len = strlen(c->url);
	while (len > 0 && c->url[len - 1] == '/')
		len--;
	return (xstrndup(c->url, len));
}

static int
npm_connector_credentials(struct connector *conn, struct connector_creds *cr,
    char **cause)
{
	const struct npm_connector	*c = conn->conf->data;
	char				*secret, *why;
	const char			*ref;

	if (c->auth_type == NPM_AUTH_ANONYMOUS)
		return (0);
	ref = c->auth_type == NPM_AUTH_TOKEN ? c->token_ref : c->password_ref;
	if (ref == NULL)
		return (fail(cause, "auth %s needs its secret",
		    npm_auth_types[c->auth_type]));
	if (secret_resolve(conn->env->conf, ref, &secret, &why) != 0) {
		fail(cause, "%s %s: %s", c->auth_type == NPM_AUTH_TOKEN ?
		    "tokenRef" : "passwordRef", ref, why);
		free(why);
		return (-1);
	}
	if (c->auth_type == NPM_AUTH_TOKEN) {
		xasprintf(&cr->header, "Authorization: Bearer %s", secret);
		explicit_bzero(secret, strlen(secret));
		free(secret);
		return (0);
	}
	cr->username = xstrdup(c->username);
	cr->password = secret;
	return (0);
}

const struct connector_entry connector_npm_entry = {
	.name = "NpmRegistry",
	.keys = npm_connector_keys,
	.size = sizeof (struct npm_connector),
	.auth_kinds = npm_auth_types,
	.check = npm_connector_check,
	.identity = npm_connector_identity,
	.credentials = npm_connector_credentials,
};
