/*
 * connector-github.c: the Github connector type, as Harness writes it (url,
 * authentication Http UsernameToken with tokenRef, apiAccess Token with
 * tokenRef).  For the packages API only the token matters: apiAccess's, or
 * else the authentication's, sent as "Authorization: Bearer" on every
 * request (a classic PAT with read:packages).  apiUrl points elsewhere
 * (GitHub Enterprise Server's /api/v3 is derived from url; tests point it
 * at a fake).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "connector-http.h"
#include "github.h"
#include "http.h"

static const char *const github_http_types[] = {
	"UsernameToken", "UsernamePassword", NULL
};

#define CONN_OFF(f)	offsetof(struct github_connector, f)

static const struct cfg_key github_http_spec_keys[] = {
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "usernameRef", .type = CFG_IGNORE },
	{ .name = "tokenRef", .type = CFG_SECRET, .off = CONN_OFF(token_ref) },
	{ .name = "passwordRef", .type = CFG_IGNORE },
	{ .name = NULL }
};

static const struct cfg_key github_http_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "UsernameToken", .choices = github_http_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = github_http_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key github_authentication_keys[] = {
	{ .name = "type", .type = CFG_IGNORE },		/* Http */
	{ .name = "spec", .type = CFG_OBJECT, .sub = github_http_keys },
	{ .name = NULL }
};

static const struct cfg_key github_api_spec_keys[] = {
	{ .name = "tokenRef", .type = CFG_SECRET,
	  .off = CONN_OFF(api_token_ref) },
	{ .name = NULL }
};

static const struct cfg_key github_api_keys[] = {
	{ .name = "type", .type = CFG_IGNORE },		/* Token */
	{ .name = "spec", .type = CFG_OBJECT, .sub = github_api_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key github_connector_keys[] = {
	{ .name = "url", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "apiUrl", .type = CFG_STRING, .off = CONN_OFF(api_url) },
	{ .name = "validationRepo", .type = CFG_IGNORE },
	{ .name = "authentication", .type = CFG_OBJECT,
	  .sub = github_authentication_keys },
	{ .name = "apiAccess", .type = CFG_OBJECT, .sub = github_api_keys },
	{ .name = "type", .type = CFG_IGNORE },		/* Repo, Account */
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

static int
github_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct github_connector	*c = cc->data;

	if (c->api_token_ref == NULL && c->token_ref == NULL) {
		cfg_error(errs, connector_spec_node(cc, "apiAccess"), "the "
		    "packages API needs a token: apiAccess.spec.tokenRef (or "
		    "authentication's tokenRef)");
		return (1);
	}
	return (connector_check_url(cc, errs, "apiUrl", c->api_url));
}

char *
github_connector_api(const struct github_connector *c)
{
	if (c->api_url == NULL)
		return (github_api_root(c->url));
	return (connector_url_trimmed(c->api_url));
}

/* The API root: which GitHub. */
static char *
github_connector_identity(const struct connector_conf *cc)
{
	const struct github_connector	*c = cc->data;

	if (c == NULL)
		return (NULL);
	return (github_connector_api(c));
}

static int
github_connector_credentials(struct connector *conn,
    struct connector_creds *cr, char **cause)
{
	const struct github_connector	*c = conn->conf->data;

	return (connector_bearer(conn, cr, "tokenRef", c->api_token_ref !=
	    NULL ? c->api_token_ref : c->token_ref, cause));
}

/*
 * check --connect: GET /rate_limit with the token (it costs no budget;
 * a 401 is a refused token).
 */
static void
github_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	char	*api, *url;

	api = github_connector_api(conn->conf->data);
	xasprintf(&url, "%s/rate_limit", api);
	connector_probe_get(conn, url, 1, NULL, done, arg);
	free(url);
	free(api);
}

const struct connector_entry connector_github_entry = {
	.name = "Github",
	.keys = github_connector_keys,
	.size = sizeof (struct github_connector),
	.auth_kinds = github_http_types,
	.check = github_connector_check,
	.identity = github_connector_identity,
	.credentials = github_connector_credentials,
	.probe = github_connector_probe,
};
