/*
 * connector-http-helm-repo.c: the HttpHelmRepo connector type (Harness'
 * connector for Helm chart repositories served over HTTP: ChartMuseum,
 * GitHub Pages, Nexus, Artifactory, S3 or GCS static sites).  Its keys, its
 * auth (Anonymous or UsernamePassword, sent as Basic when the repository
 * challenges), what it points at (the repository URL), and its `check
 * --connect` probe: the index must come, with the credentials, and be one.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "connector-http.h"
#include "fetch.h"
#include "provider.h"
#include "helm.h"

static const char *const helm_auth_types[] = {
	"Anonymous", "UsernamePassword", NULL
};

#define CONN_OFF(f)	offsetof(struct helm_connector, f)

static const struct cfg_key helm_auth_spec_keys[] = {
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "usernameRef", .type = CFG_IGNORE },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = NULL }
};

static const struct cfg_key helm_auth_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "Anonymous", .choices = helm_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = helm_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key helm_connector_keys[] = {
	{ .name = "helmRepoUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "auth", .type = CFG_OBJECT, .sub = helm_auth_keys },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

static int
helm_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct helm_connector	*c = cc->data;
	int				 n = 0;

	if (c->url != NULL && strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0) {
		cfg_error(errs, connector_spec_node(cc, "helmRepoUrl"),
		    "helmRepoUrl must start with http:// or https:// "
		    "(OCI repositories are the OciHelmRepo connector)");
		n++;
	}
	if (c->url != NULL && strpbrk(c->url, "?# \t\r\n") != NULL) {
		cfg_error(errs, connector_spec_node(cc, "helmRepoUrl"),
		    "helmRepoUrl must be a plain URL (no query, fragment or "
		    "spaces)");
		n++;
	}
	if (c->auth_type == HELM_AUTH_PASSWORD)
		n += connector_check_password(cc, errs, c->username,
		    c->password_ref);
	return (n);
}

/* The repository URL without its trailing slashes. */
static char *
helm_connector_identity(const struct connector_conf *cc)
{
	const struct helm_connector	*c = cc->data;

	return (c != NULL ? connector_url_trimmed(c->url) : NULL);
}

static int
helm_connector_credentials(struct connector *conn,
    struct connector_creds *creds, char **cause)
{
	const struct helm_connector	*c = conn->conf->data;

	if (c->auth_type != HELM_AUTH_PASSWORD)
		return (0);
	return (connector_basic(conn, creds, c->username, c->password_ref,
	    cause));
}

/* check --connect: GET index.yaml and see that it is an index. */
struct helm_probe {
	struct fetcher	*fetcher;
	void		(*done)(int, const char *, void *);
	void		*arg;
};

static int
helm_probe_page(struct fetch *f, struct fetch_page *pg, __unused void *arg)
{
	struct helm_index	 idx;
	char			*cause = NULL;

	if (helm_parse_index(pg->resp->body.data, pg->resp->body.len, "",
	    &idx, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	helm_index_clear(&idx);
	return (FETCH_STOP);
}

static void
helm_probe_done(struct provider_result *r, void *arg)
{
	struct helm_probe	*hp = arg;

	hp->done(r->status == 0, r->cause, hp->arg);
	fetcher_free(hp->fetcher);
	free(hp);
}

static void
helm_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	const struct helm_connector	*c = conn->conf->data;
	struct helm_probe		*hp;
	struct fetch			*f;
	char				*url;

	hp = xcalloc(1, sizeof *hp);
	hp->fetcher = fetcher_create_connector(conn, NULL);
	hp->done = done;
	hp->arg = arg;
	f = fetch_start(hp->fetcher, helm_probe_done, hp);
	url = helm_index_url(c->url);
	fetch_submit(f, &(struct fetch_request){ .url = url,
	    .max_body = HELM_MAX_INDEX }, helm_probe_page, hp);
	free(url);
}

const struct connector_entry connector_http_helm_repo_entry = {
	.name = "HttpHelmRepo",
	.keys = helm_connector_keys,
	.size = sizeof (struct helm_connector),
	.auth_kinds = helm_auth_types,
	.check = helm_connector_check,
	.identity = helm_connector_identity,
	.credentials = helm_connector_credentials,
	.probe = helm_connector_probe,
};
