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

#include "connector.h"
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
	const struct cfg_node		*n;
	int				 errors = 0;

	if (c->url != NULL && strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0) {
		n = cfg_node_get(cc->spec, "nexusServerUrl");
		cfg_error(errs, n != NULL ? n : cc->node, "nexusServerUrl "
		    "must start with http:// or https://");
		errors++;
	}
	if (c->auth_type == NEXUS_AUTH_PASSWORD &&
	    (c->username == NULL || c->password_ref == NULL)) {
		n = cfg_node_get(cc->spec, "auth");
		cfg_error(errs, n != NULL ? n : cc->node, "auth "
		    "UsernamePassword needs spec.username and "
		    "spec.passwordRef");
		errors++;
	}
	return (errors);
}

static char *
nexus_connector_identity(const struct connector_conf *cc)
{
	const struct nexus_connector	*c = cc->data;
	size_t				 len;

	if (c == NULL || c->url == NULL)
		return (NULL);
	len = strlen(c->url);
	while (len > 0 && c->url[len - 1] == '/')
		len--;
	return (xstrndup(c->url, len));
}

static int
nexus_connector_credentials(struct connector *conn,
    struct connector_creds *cr, char **cause)
{
	const struct nexus_connector	*c = conn->conf->data;
	char				*why;

	if (c->auth_type != NEXUS_AUTH_PASSWORD)
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

const struct connector_entry connector_nexus_entry = {
	.name = "Nexus",
	.keys = nexus_connector_keys,
	.size = sizeof (struct nexus_connector),
	.auth_kinds = nexus_auth_types,
	.check = nexus_connector_check,
	.identity = nexus_connector_identity,
	.credentials = nexus_connector_credentials,
};
