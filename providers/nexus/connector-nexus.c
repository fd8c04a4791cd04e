/*
 * connector-nexus.c: the Nexus connector type (Sonatype Nexus Repository
 * 3 or 2): nexusServerUrl (with its context path, e.g. /nexus), version
 * 3.x or 2.x, auth UsernamePassword or Anonymous.  Basic credentials go
 * out when the server challenges (its REST API and its docker connectors
 * do; with anonymous access enabled a search shows what anonymous may
 * see).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "connector-http.h"
#include "http.h"
#include "nexus.h"

static const char *const nexus_versions[] = { "3.x", "2.x", NULL };
static const char *const nexus_auth_types[] = {
	"UsernamePassword", "Anonymous", NULL
};

#define CONN_OFF(f)	offsetof(struct nexus_connector, f)

static const struct cfg_key nexus_auth_spec_keys[] = {
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "usernameRef", .type = CFG_IGNORE },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = NULL }
};

static const struct cfg_key nexus_auth_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "Anonymous", .choices = nexus_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = nexus_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key nexus_connector_keys[] = {
	{ .name = "nexusServerUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "version", .type = CFG_ENUM, .off = CONN_OFF(version),
	  .def = "3.x", .choices = nexus_versions },
	{ .name = "auth", .type = CFG_OBJECT, .sub = nexus_auth_keys },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

static int
nexus_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct nexus_connector	*c = cc->data;
	int				 errors;

	errors = connector_check_url(cc, errs, "nexusServerUrl", c->url);
	if (c->auth_type == NEXUS_AUTH_PASSWORD)
		errors += connector_check_password(cc, errs, c->username,
		    c->password_ref);
	return (errors);
}

static char *
nexus_connector_identity(const struct connector_conf *cc)
{
	const struct nexus_connector	*c = cc->data;

	return (c != NULL ? connector_url_trimmed(c->url) : NULL);
}

static int
nexus_connector_credentials(struct connector *conn,
    struct connector_creds *cr, char **cause)
{
	const struct nexus_connector	*c = conn->conf->data;

	if (c->auth_type != NEXUS_AUTH_PASSWORD)
		return (0);
	return (connector_basic(conn, cr, c->username, c->password_ref,
	    cause));
}

/*
 * check --connect: the repositories the user may browse (Nexus 3), the
 * repository list (Nexus 2); a 401 there is a refused password.
 */
static void
nexus_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	const struct nexus_connector	*c = conn->conf->data;
	char				*base, *url;

	base = connector_url_trimmed(c->url);
	xasprintf(&url, "%s%s", base, c->version == NEXUS_2 ?
	    "/service/local/repositories" : "/service/rest/v1/repositories");
	connector_probe_get(conn, url, 1, NULL, done, arg);
	free(url);
	free(base);
}

const struct connector_entry connector_nexus_entry = {
	.name = "Nexus",
	.keys = nexus_connector_keys,
	.size = sizeof (struct nexus_connector),
	.auth_kinds = nexus_auth_types,
	.check = nexus_connector_check,
	.identity = nexus_connector_identity,
	.credentials = nexus_connector_credentials,
	.probe = nexus_connector_probe,
};
