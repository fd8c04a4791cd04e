/*
 * connector.h: connector types (DESIGN §8).  A connector type is a static
 * `const struct connector_entry` (providers/<family>/connector-*.c): the
 * keys of its `spec:`, its auth kinds, how its credentials become request
 * headers, what it points at (its part of a source's identity) and its
 * `check --connect` probe.  Providers name the connector type they use
 * (provider_entry.connector), so one `Aws` connector serves Ecr, AmazonS3
 * and AmazonMachineImage.
 *
 * A `struct connector` is one instance per configured connector, shared by
 * every source naming it: its limiter (limit.h) and its token cache live
 * there, so the sources of one registry share one rate budget and one
 * token per scope.  connector.c holds the table and the instances.
 */
#ifndef CONNECTOR_H
#define CONNECTOR_H

#include "watcher.h"
#include "config.h"

struct connector;
struct fetch_tokens;

/* What a connector's credentials are, for the fetch engine (fetch.h). */
struct connector_creds {
	char		*username;	/* Basic (and the token request) */
	char		*password;	/* secret: zeroed by connector_creds_clear */
	/*
	 * A header sent on every request ("Authorization: Bearer PAT",
	 * "PRIVATE-TOKEN: x"), or NULL: a secret, zeroed on clear.
	 */
	char		*header;
};
void	 connector_creds_clear(struct connector_creds *);

struct connector_entry {
	const char		*name;		/* connector `type:` */
	const struct cfg_key	*keys;		/* its spec: */
	size_t			 size;		/* the struct the keys fill */
	const char *const	*auth_kinds;	/* auth.type values, for docs */
	/* Checks across keys after cfg_apply (may be NULL). */
	int	(*check)(struct connector_conf *, struct cfg_errors *);
	/*
	 * What it points at, canonical (e.g. the registry URL): part of the
	 * identity of every source on it.  Allocated; never a secret.
	 */
	char	*(*identity)(const struct connector_conf *);
	/*
	 * Resolve the secrets of the connector (may be NULL: anonymous).
	 * Called when the fetch engine needs them, at most once per call of
	 * a provider; 0, or -1 with *cause (never holding the secret).
	 */
	int	(*credentials)(struct connector *, struct connector_creds *,
		    char **cause);
	/*
	 * Headers that depend on the request (a signature: AWS SigV4, Azure
	 * SharedKey), or NULL.  Adds "Name: value" lines to `headers`.
	 */
	int	(*sign)(struct connector *, const char *method, const char *url,
		    const char *body, size_t body_len, struct buf *headers,
		    char **cause);
	/* Its own state on the instance (may be NULL). */
	int	(*init)(struct connector *, char **cause);
	void	(*free)(struct connector *);
	/*
	 * `check --connect` of a connector no source names (may be NULL):
	 * one cheap authenticated request; done(ok, cause, arg) once.
	 */
	void	(*probe)(struct connector *, void (*done)(int ok,
		    const char *cause, void *arg), void *arg);
};

struct connector {
	const struct connector_entry	*entry;
	const struct connector_conf	*conf;
	struct env			*env;
	struct limiter			*limiter;	/* limit.h */
	struct http_tls			*tls;		/* its TLS and proxy */
	/*
	 * Set by the entry's init: an https server may name a plain http
	 * token realm (allowHttpTokenRealm); else such a realm is refused.
	 */
	int				 http_realm_ok;
	struct fetch_tokens		*tokens;	/* fetch.h: bearer tokens */
	void				*data;		/* the entry's own */
	/* Private: the registry's. */
	unsigned			 refs;
	struct limits			*own_limits;	/* env had none */
	struct connector		*next;
};

/* connector.c: the table. */
const struct connector_entry *connector_find(const char *type);

/*
 * The instances, one per configured connector.  connector_get() makes it
 * on first use (NULL and *cause when init fails) and counts a reference;
 * connector_put() drops one and frees the last.  A reload brings new
 * connector_conf: a new instance, the old one lives while sources use it.
 * With env->connectors NULL (tests, one-off commands) every get makes an
 * instance of its own.
 */
struct connectors *connectors_create(void);
void		 connectors_free(struct connectors *);	/* accepts NULL */
struct connector *connector_get(struct env *, const struct connector_conf *,
		    char **cause);
void		 connector_put(struct connector *);	/* accepts NULL */

#endif
