/*
 * provider-docker.h: private to the DockerRegistry provider
 * (provider-docker*.c).  The connector and source spec structs the config
 * loader fills from our key tables, the pure parsers of registry responses
 * (provider-docker-parse.c) and the token cache (provider-docker-auth.c).
 */
#ifndef PROVIDER_DOCKER_H
#define PROVIDER_DOCKER_H

#include "watcher.h"
#include "config.h"

/* Indexes into the `choices` of providerType and auth.type. */
enum docker_registry_kind { DOCKER_KIND_HUB, DOCKER_KIND_OTHER };
enum docker_auth_type { DOCKER_AUTH_ANONYMOUS, DOCKER_AUTH_PASSWORD };

/* connector spec: */
struct docker_connector {
	char		*url;		/* dockerRegistryUrl */
	int		 kind;		/* providerType */
	int		 auth_type;	/* auth.type */
	char		*username;	/* auth.spec.username */
	char		*password_ref;	/* auth.spec.passwordRef (a secret) */
};

/* source spec: */
struct docker_source {
	char		*connector_ref;	/* resolved by the loader */
	char		*image_path;
	char		*tag;		/* watch this one tag only */
	char		*tag_regex;	/* stored; applied by the filter */
	char		*tag_regex_exclude;
	char		*digest;	/* accepted, ignored (warned) */
};

#endif
