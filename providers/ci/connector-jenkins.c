/*
 * connector-jenkins.c: the Jenkins connector type: a Jenkins controller
 * (jenkinsUrl), with UsernamePassword (a user and an API token, Basic), a
 * Bearer token (a header a proxy or plugin reads), or anonymous.
 */
#include <stddef.h>

#include "connector.h"
#include "provider-ci.h"

#define CONN_OFF(f)	offsetof(struct ci_connector, f)

static const struct cfg_key jenkins_connector_keys[] = {
	{ .name = "jenkinsUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "auth", .type = CFG_OBJECT, .sub = ci_auth_keys },
	{ .name = NULL }
};

static int
jenkins_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	return (ci_connector_check(cc, errs, "jenkinsUrl"));
}

/* Who the credentials are (/me), or the root's mode when anonymous. */
static void
jenkins_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	const struct ci_connector	*c = conn->conf->data;

	ci_connector_probe(conn, c->auth_type == CI_AUTH_ANONYMOUS ?
	    "/api/json?tree=mode" : "/me/api/json", done, arg);
}

const struct connector_entry connector_jenkins_entry = {
	.name = "Jenkins",
	.keys = jenkins_connector_keys,
	.size = sizeof (struct ci_connector),
	.auth_kinds = ci_auth_types,
	.check = jenkins_connector_check,
	.identity = ci_connector_identity,
	.credentials = ci_connector_credentials,
	.probe = jenkins_connector_probe,
};
