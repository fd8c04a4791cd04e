/*
 * connector-artifactory.c: the Artifactory connector type (JFrog):
 * artifactoryServerUrl (with /artifactory on the JFrog Platform), auth
 * UsernamePassword (Basic, sent when challenged; the docker API's token
 * dance with it), Anonymous, or Token: an access or reference token sent
 * as "Authorization: Bearer" on every request (API keys are gone).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "artifactory.h"
#include "connector.h"
#include "http.h"

static const char *const art_auth_types[] = {
	"UsernamePassword", "Anonymous", "Token", NULL
};

#define CONN_OFF(f)	offsetof(struct art_connector, f)

static const struct cfg_key art_auth_spec_keys[] = {
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "usernameRef", .type = CFG_IGNORE },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = "tokenRef", .type = CFG_SECRET, .off = CONN_OFF(token_ref) },
	{ .name = NULL }
};

static const struct cfg_key art_auth_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "Anonymous", .choices = art_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = art_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key art_connector_keys[] = {
	{ .name = "artifactoryServerUrl", .type = CFG_STRING,
	  .off = CONN_OFF(url), .flags = CFG_REQUIRED },
	{ .name = "auth", .type = CFG_OBJECT, .sub = art_auth_keys },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

static int
art_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct art_connector	*c = cc->data;
	const struct cfg_node		*n;
	int				 errors = 0;

	if (c->url != NULL && strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0) {
		n = cfg_node_get(cc->spec, "artifactoryServerUrl");
		cfg_error(errs, n != NULL ? n : cc->node,
		    "artifactoryServerUrl must start with http:// or https://");
		errors++;
	}
	n = cfg_node_get(cc->spec, "auth");
	if (c->auth_type == ART_AUTH_PASSWORD &&
	    (c->username == NULL || c->password_ref == NULL)) {
		cfg_error(errs, n != NULL ? n : cc->node, "auth "
		    "UsernamePassword needs spec.username and spec.passwordRef");
		errors++;
	}
	if (c->auth_type == ART_AUTH_TOKEN && c->token_ref == NULL) {
		cfg_error(errs, n != NULL ? n : cc->node, "auth Token needs "
		    "spec.tokenRef");
		errors++;
	}
	return (errors);
}

static char *
art_connector_identity(const struct connector_conf *cc)
{
	const struct art_connector	*c = cc->data;
	size_t				 len;

	if (c == NULL || c->url == NULL)
		return (NULL);
	len = strlen(c->url);
	while (len > 0 && c->url[len - 1] == '/')
		len--;
	return (xstrndup(c->url, len));
}

static int
art_connector_credentials(struct connector *conn, struct connector_creds *cr,
    char **cause)
{
	const struct art_connector	*c = conn->conf->data;
	const char			*ref;
	char				*secret, *why;

	if (c->auth_type == ART_AUTH_ANONYMOUS)
		return (0);
	ref = c->auth_type == ART_AUTH_TOKEN ? c->token_ref : c->password_ref;
	if (ref == NULL || (c->auth_type == ART_AUTH_PASSWORD &&
	    c->username == NULL))
		return (fail(cause, "auth %s is incomplete",
		    art_auth_types[c->auth_type]));
	if (secret_resolve(conn->env->conf, ref, &secret, &why) != 0) {
		fail(cause, "%s %s: %s", c->auth_type == ART_AUTH_TOKEN ?
		    "tokenRef" : "passwordRef", ref, why);
		free(why);
		return (-1);
	}
	if (c->auth_type == ART_AUTH_TOKEN) {
		xasprintf(&cr->header, "Authorization: Bearer %s", secret);
		explicit_bzero(secret, strlen(secret));
		free(secret);
		return (0);
	}
	cr->username = xstrdup(c->username);
	cr->password = secret;
	return (0);
}

const struct connector_entry connector_artifactory_entry = {
	.name = "Artifactory",
	.keys = art_connector_keys,
	.size = sizeof (struct art_connector),
	.auth_kinds = art_auth_types,
	.check = art_connector_check,
	.identity = art_connector_identity,
	.credentials = art_connector_credentials,
};
