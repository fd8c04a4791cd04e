/*
 * npm.h: private to the npm family (providers/npm/): the NpmRegistry
 * connector (connector-npm.c), the Npm source (provider-npm.c) and the
 * pure parser of a package document (npm-parse.c), provider-protocols.md
 * §14.  Works against the npm registry, verdaccio, and the npm endpoints
 * of Nexus, Artifactory and GitHub.
 */
#ifndef NPM_H
#define NPM_H

#include "watcher.h"
#include "config.h"

enum npm_auth_type { NPM_AUTH_ANONYMOUS, NPM_AUTH_TOKEN, NPM_AUTH_PASSWORD };

/* connector spec: */
struct npm_connector {
	char		*url;		/* registryUrl */
	int		 auth_type;	/* auth.type */
	char		*token_ref;	/* auth.spec.tokenRef (a secret) */
	char		*username;	/* auth.spec.username */
	char		*password_ref;	/* auth.spec.passwordRef (a secret) */
};

/* source spec: */
struct npm_source {
	char		*connector_ref;
	char		*package_name;	/* "left-pad", "@acme/app" */
};

/* npm-parse.c */

/* A package name: "name" or "@scope/name", lowercase URL-safe. */
int	 npm_name_valid(const char *);
/* The document's URL: registry + "/" + name, "@scope%2fname" for scoped. */
char	*npm_doc_url(const char *registry, const char *name);
/*
 * A package document (full, or abbreviated: then no push times): every
 * version, newest first (by time[version], then as listed), at most max
 * (vs->truncated when more), each with dist.integrity as its digest (else
 * "sha1:" + dist.shasum), its push time, and the package fields
 * (repository = registry, package, group = "@scope", format npm,
 * downloadUrl = dist.tarball); then each dist-tag (latest, next…) as a
 * version of its own whose digest is its target's, so that re-pointing it
 * reads as a new digest.  A dist-tag naming no listed version is left out.
 */
int	 npm_parse_doc(const cJSON *doc, const char *registry,
	    const char *name, long long max, struct versions *vs,
	    char **cause);
/* The same from bytes. */
int	 npm_parse(const char *body, size_t len, const char *registry,
	    const char *name, long long max, struct versions *vs,
	    char **cause);
/* An error body's message ({"error":"Not found"}, {"message":…}), or NULL. */
char	*npm_error_message(const char *body, size_t len);

#endif
