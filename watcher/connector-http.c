/*
 * connector-http.c: the parts every HTTP connector type has alike (see
 * connector-http.h), so each connector-*.c holds only what is its own:
 * its keys, its auth kinds, and what its identity and probe point at.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "connector-http.h"
#include "fetch.h"
#include "json.h"
#include "provider.h"

const struct cfg_node *
connector_spec_node(const struct connector_conf *cc, const char *key)
{
	const struct cfg_node	*n;

	if (cc->spec != NULL && (n = cfg_node_get(cc->spec, key)) != NULL)
		return (n);
	return (cc->node);
}

int
connector_check_url(const struct connector_conf *cc, struct cfg_errors *errs,
    const char *key, const char *url)
{
	if (url == NULL || strncmp(url, "http://", 7) == 0 ||
	    strncmp(url, "https://", 8) == 0)
		return (0);
	cfg_error(errs, connector_spec_node(cc, key),
	    "%s must start with http:// or https://", key);
	return (1);
}

int
connector_check_password(const struct connector_conf *cc,
    struct cfg_errors *errs, const char *username, const char *password_ref)
{
	if (username != NULL && password_ref != NULL)
		return (0);
	cfg_error(errs, connector_spec_node(cc, "auth"), "auth "
	    "UsernamePassword needs spec.username and spec.passwordRef");
	return (1);
}

char *
connector_url_trimmed(const char *url)
{
	size_t	 len;

	if (url == NULL)
		return (NULL);
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	return (xstrndup(url, len));
}

int
connector_basic(struct connector *conn, struct connector_creds *cr,
    const char *username, const char *password_ref, char **cause)
{
	if (username == NULL || password_ref == NULL)
		return (fail(cause, "auth UsernamePassword needs username and "
		    "passwordRef"));
	if (secret_resolve_key(conn->env->conf, "passwordRef", password_ref,
	    &cr->password, cause) != 0)
		return (-1);
	cr->username = xstrdup(username);
	return (0);
}

int
connector_bearer(struct connector *conn, struct connector_creds *cr,
    const char *key, const char *token_ref, char **cause)
{
	char	*secret;

	if (token_ref == NULL)
		return (fail(cause, "auth needs %s", key));
	if (secret_resolve_key(conn->env->conf, key, token_ref, &secret,
	    cause) != 0)
		return (-1);
	xasprintf(&cr->header, "Authorization: Bearer %s", secret);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	return (0);
}

struct connector_probe {
	struct fetcher	*fetcher;
	int		 json;
	char		*field;		/* must be a string, or NULL */
	void		(*done)(int, const char *, void *);
	void		*arg;
};

static int
connector_probe_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct connector_probe	*cp = arg;

	if (cp->json && pg->json == NULL) {
		fetch_fail(f, 0, "GET %s: not JSON", pg->url);
		return (FETCH_FAILED);
	}
	if (cp->field != NULL && json_str(pg->json, cp->field) == NULL) {
		fetch_fail(f, 0, "GET %s: no \"%s\" in the answer: the "
		    "credentials were not taken", pg->url, cp->field);
		return (FETCH_FAILED);
	}
	return (FETCH_STOP);
}

static void
connector_probe_done(struct provider_result *r, void *arg)
{
	struct connector_probe	*cp = arg;

	cp->done(r->status == 0, r->cause, cp->arg);
	fetcher_free(cp->fetcher);
	free(cp->field);
	free(cp);
}

void
connector_probe_get(struct connector *conn, const char *url, int json,
    const char *field, void (*done)(int, const char *, void *), void *arg)
{
	static const char *const accept_json[] = {
		"Accept: application/json", NULL
	};
	struct connector_probe	*cp;
	struct fetch		*f;

	cp = xcalloc(1, sizeof *cp);
	cp->fetcher = fetcher_create_connector(conn, NULL);
	cp->json = json || field != NULL;
	cp->field = field != NULL ? xstrdup(field) : NULL;
	cp->done = done;
	cp->arg = arg;
	f = fetch_start(cp->fetcher, connector_probe_done, cp);
	if (url == NULL) {
		fetch_fail(f, 0, "the connector's URL is not a URL");
		return;
	}
	fetch_submit(f, &(struct fetch_request){ .url = url,
	    .headers = cp->json ? accept_json : NULL,
	    .flags = cp->json ? FETCH_JSON : 0, .max_body = 1024 * 1024 },
	    connector_probe_page, cp);
}
