/*
 * connector-bamboo.c: the Bamboo connector type: an Atlassian Bamboo
 * server (bambooUrl), with UsernamePassword (Basic) or a personal access
 * token (Bearer, Bamboo 7.1+), or anonymous.
 */
#include <stddef.h>

#include "connector.h"
#include "provider-ci.h"

#define CONN_OFF(f)	offsetof(struct ci_connector, f)

static const struct cfg_key bamboo_connector_keys[] = {
	{ .name = "bambooUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "auth", .type = CFG_OBJECT, .sub = ci_auth_keys },
	{ .name = NULL }
};

static int
bamboo_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	return (ci_connector_check(cc, errs, "bambooUrl"));
}

/* The user the credentials log in as (401 when they are refused). */
static void
bamboo_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	ci_connector_probe(conn, "/rest/api/latest/currentUser", done, arg);
}

const struct connector_entry connector_bamboo_entry = {
	.name = "Bamboo",
	.keys = bamboo_connector_keys,
	.size = sizeof (struct ci_connector),
	.auth_kinds = ci_auth_types,
	.check = bamboo_connector_check,
	.identity = ci_connector_identity,
	.credentials = ci_connector_credentials,
	.probe = bamboo_connector_probe,
};
