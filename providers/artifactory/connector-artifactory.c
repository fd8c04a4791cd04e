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
#include "connector-http.h"
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
	int				 errors;

	errors = connector_check_url(cc, errs, "artifactoryServerUrl",
	    c->url);
	if (c->auth_type == ART_AUTH_PASSWORD)
		errors += connector_check_password(cc, errs, c->username,
		    c->password_ref);
	if (c->auth_type == ART_AUTH_TOKEN && c->token_ref == NULL) {
		cfg_error(errs, connector_spec_node(cc, "auth"), "auth Token "
		    "needs spec.tokenRef");
		errors++;
	}
	return (errors);
}

static char *
art_connector_identity(const struct connector_conf *cc)
{
	const struct art_connector	*c = cc->data;

	return (c != NULL ? connector_url_trimmed(c->url) : NULL);
}

static int
art_connector_credentials(struct connector *conn, struct connector_creds *cr,
    char **cause)
{
	const struct art_connector	*c = conn->conf->data;

	if (c->auth_type == ART_AUTH_TOKEN)
		return (connector_bearer(conn, cr, "tokenRef", c->token_ref,
		    cause));
	if (c->auth_type == ART_AUTH_PASSWORD)
		return (connector_basic(conn, cr, c->username,
		    c->password_ref, cause));
	return (0);
}

/*
 * check --connect: the repositories the user may read; a 401 there is a
 * refused password or token.
 */
static void
art_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	const struct art_connector	*c = conn->conf->data;
	char				*base, *url;

	base = connector_url_trimmed(c->url);
	xasprintf(&url, "%s/api/repositories", base);
	connector_probe_get(conn, url, 1, NULL, done, arg);
	free(url);
	free(base);
}

const struct connector_entry connector_artifactory_entry = {
	.name = "Artifactory",
	.keys = art_connector_keys,
	.size = sizeof (struct art_connector),
	.auth_kinds = art_auth_types,
	.check = art_connector_check,
	.identity = art_connector_identity,
	.credentials = art_connector_credentials,
	.probe = art_connector_probe,
};
