/*
 * connector-http.h: what the connectors of HTTP servers share (docker
 * registries, Helm repositories, npm registries, Nexus, Artifactory,
 * GitHub): the checks of a server URL and of UsernamePassword auth, the
 * URL as identity, resolving a password or a token into credentials, and
 * the `check --connect` probe of one authenticated GET.
 */
#ifndef CONNECTOR_HTTP_H
#define CONNECTOR_HTTP_H

#include "connector.h"

/* The node of spec key `key`, else the connector's: where errors point. */
const struct cfg_node *connector_spec_node(const struct connector_conf *,
	    const char *key);
/* 1 (an error added) when url does not start with http:// or https://. */
int	 connector_check_url(const struct connector_conf *,
	    struct cfg_errors *, const char *key, const char *url);
/* 1 when auth UsernamePassword lacks its username or passwordRef. */
int	 connector_check_password(const struct connector_conf *,
	    struct cfg_errors *, const char *username,
	    const char *password_ref);
/* url without its trailing slashes (allocated), NULL for NULL. */
char	*connector_url_trimmed(const char *url);
/* Basic: username and the secret of password_ref; 0 or -1 and *cause. */
int	 connector_basic(struct connector *, struct connector_creds *,
	    const char *username, const char *password_ref, char **cause);
/* "Authorization: Bearer <secret of token_ref>"; key names the ref. */
int	 connector_bearer(struct connector *, struct connector_creds *,
	    const char *key, const char *token_ref, char **cause);
/*
 * check --connect: GET url with the connector's auth; ok on 2xx (a JSON
 * body when json is set, holding a string at path `field` when it is not
 * NULL).  done(ok, cause, arg) once, from the loop.
 */
void	 connector_probe_get(struct connector *, const char *url, int json,
	    const char *field, void (*done)(int, const char *, void *),
	    void *arg);

#endif
