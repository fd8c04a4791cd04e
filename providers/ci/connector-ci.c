/*
 * connector-ci.c: what the Bamboo and Jenkins connectors share: their auth
 * block, checks, identity (the server's URL without a trailing slash),
 * credentials and probe.  A CI server answers an anonymous request with a 403
 * or a 404 rather than a Basic challenge, so Basic credentials go out as a
 * header on every request, as a Bearer token does.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "connector.h"
#include "fetch.h"
#include "provider.h"
#include "provider-ci.h"

const char *const ci_auth_types[] = {
	"Anonymous", "UsernamePassword", "Bearer", NULL
};

#define CONN_OFF(f)	offsetof(struct ci_connector, f)

static const struct cfg_key ci_auth_spec_keys[] = {
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "usernameRef", .type = CFG_IGNORE },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = "tokenRef", .type = CFG_SECRET, .off = CONN_OFF(token_ref) },
	{ .name = NULL }
};

const struct cfg_key ci_auth_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "UsernamePassword", .choices = ci_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = ci_auth_spec_keys },
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

int
ci_connector_check(struct connector_conf *cc, struct cfg_errors *errs,
    const char *url_key)
{
	const struct ci_connector	*c = cc->data;
	int				 n = 0;

	if (c->url != NULL && strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0) {
		cfg_error(errs, node_or(cc->spec, url_key, cc->node),
		    "%s must start with http:// or https://", url_key);
		n++;
	}
	if (c->auth_type == CI_AUTH_PASSWORD &&
	    (c->username == NULL || c->password_ref == NULL)) {
		cfg_error(errs, node_or(cc->spec, "auth", cc->node),
		    "auth UsernamePassword needs spec.username and "
		    "spec.passwordRef");
		n++;
	}
	if (c->auth_type == CI_AUTH_BEARER && c->token_ref == NULL) {
		cfg_error(errs, node_or(cc->spec, "auth", cc->node),
		    "auth Bearer needs spec.tokenRef");
		n++;
	}
	return (n);
}

/* The server's URL, without a trailing slash: it may live under a path. */
char *
ci_connector_identity(const struct connector_conf *cc)
{
	const struct ci_connector	*c = cc->data;
	size_t				 len;

	if (c == NULL || c->url == NULL)
		return (NULL);
	len = strlen(c->url);
	while (len > 0 && c->url[len - 1] == '/')
		len--;
	return (xstrndup(c->url, len));
}

int
ci_connector_credentials(struct connector *conn, struct connector_creds *cr,
    char **cause)
{
	const struct ci_connector	*c = conn->conf->data;
	const char			*ref, *key;
	char				*secret;

	if (c->auth_type == CI_AUTH_ANONYMOUS)
		return (0);
	ref = c->auth_type == CI_AUTH_BEARER ? c->token_ref : c->password_ref;
	if (ref == NULL || (c->auth_type == CI_AUTH_PASSWORD &&
	    c->username == NULL))
		return (fail(cause, "auth needs its username and secret"));
	key = c->auth_type == CI_AUTH_BEARER ? "tokenRef" : "passwordRef";
	if (secret_resolve_key(conn->env->conf, key, ref, &secret, cause) != 0)
		return (-1);
	if (c->auth_type == CI_AUTH_BEARER)
		xasprintf(&cr->header, "Authorization: Bearer %s", secret);
	else
		cr->header = fetch_basic_header(c->username, secret);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	return (0);
}

/* check --connect: one authenticated GET of a small JSON resource. */
struct ci_probe {
	struct fetcher	*fetcher;
	void		(*done)(int, const char *, void *);
	void		*arg;
};

static int
ci_probe_page(struct fetch *f, struct fetch_page *pg, __unused void *arg)
{
	if (!cJSON_IsObject(pg->json)) {
		fetch_fail(f, 0, "GET %s: not a JSON object", pg->url);
		return (FETCH_FAILED);
	}
	return (FETCH_STOP);
}

static void
ci_probe_done(struct provider_result *r, void *arg)
{
	struct ci_probe	*cp = arg;

	cp->done(r->status == 0, r->cause, cp->arg);
	fetcher_free(cp->fetcher);
	free(cp);
}

void
ci_connector_probe(struct connector *conn, const char *path,
    void (*done)(int, const char *, void *), void *arg)
{
	static const char *const headers[] = {
		"Accept: application/json", NULL
	};
	struct ci_probe		*cp;
	struct fetch		*f;
	char			*base, *url;

	cp = xcalloc(1, sizeof *cp);
	cp->fetcher = fetcher_create_connector(conn, NULL);
	cp->done = done;
	cp->arg = arg;
	base = ci_connector_identity(conn->conf);
	xasprintf(&url, "%s%s", base != NULL ? base : "", path);
	f = fetch_start(cp->fetcher, ci_probe_done, cp);
	fetch_submit(f, &(struct fetch_request){ .url = url,
	    .headers = headers, .flags = FETCH_JSON, .max_body = 256 * 1024 },
	    ci_probe_page, cp);
	free(url);
	free(base);
}
