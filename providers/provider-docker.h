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
	char		*hub_api_url;	/* hubApiUrl: Docker Hub's Hub API */
	int		 http_realm;	/* allowHttpTokenRealm */
};

/* source spec: */
struct docker_source {
	char		*connector_ref;	/* resolved by the loader */
	char		*image_path;
	char		*tag;		/* watch this one tag only */
	char		*digest;	/* accepted, ignored (warned) */
};

/* What a manifest GET told us (docker_parse_manifest). */
enum docker_manifest_kind { DOCKER_MANIFEST_IMAGE, DOCKER_MANIFEST_INDEX };
struct docker_manifest {
	enum docker_manifest_kind kind;
	char		*config_digest;		/* image: its config blob */
	char		*platform_digest;	/* index: linux/amd64 or best */
};
void	 docker_manifest_clear(struct docker_manifest *);

/* provider-docker-parse.c: pure parsers, bytes in, values out. */

/* "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}" */
int	 docker_tag_valid(const char *);
/* "algorithm:encoded"; sha256 and sha512 must have their hex length. */
int	 docker_digest_valid(const char *);
/* A tags/list page: {"name":…,"tags":[…]} (tags may be null). */
int	 docker_parse_tags(const char *body, size_t len, char ***tags,
	    size_t *ntags, char **cause);
void	 docker_tags_free(char **tags, size_t ntags);
/*
 * A token response: token (or access_token), expires_in (default 60 s),
 * issued_at (optional, else now_s).  *expires_s: when it stops working.
 */
int	 docker_parse_token(const char *body, size_t len, int64_t now_s,
	    char **token, int64_t *expires_s, char **cause);
/*
 * A manifest or an index/manifest list.  content_type (may be NULL) decides
 * when the body has no mediaType.
 */
int	 docker_parse_manifest(const char *body, size_t len,
	    const char *content_type, struct docker_manifest *, char **cause);
/* An image config blob: config.Labels and created (0 when absent). */
int	 docker_parse_config(const char *body, size_t len, cJSON **labels,
	    int64_t *created_s, char **cause);

/* provider-docker-hub.c: the Hub API's tag listing (providerType DockerHub). */
struct docker_hub_tag {
	char		*name;
	char		*digest;	/* NULL when absent or not a digest */
	int64_t		 pushed_at;	/* unix s, 0 when unknown */
};
/* The first page, newest first; NULL when repository has no namespace. */
char	*docker_hub_tags_url(const char *api, const char *repository,
	    long long cap);
/* A page: {"results":[{"name","digest","tag_last_pushed"…}],"next":…}. */
int	 docker_parse_hub_tags(const char *body, size_t len,
	    struct docker_hub_tag **tags, size_t *ntags, char **next,
	    char **cause);
void	 docker_hub_tags_free(struct docker_hub_tag *, size_t);

/* provider-docker-auth.c: tokens per (realm, service, scope). */
struct docker_tokens;
struct docker_tokens *docker_tokens_create(void);
void	 docker_tokens_free(struct docker_tokens *);	/* accepts NULL */
/* The cached token, or NULL when there is none or it is about to expire. */
const char *docker_tokens_get(struct docker_tokens *, const char *realm,
	    const char *service, const char *scope, int64_t now_s);
void	 docker_tokens_put(struct docker_tokens *, const char *realm,
	    const char *service, const char *scope, const char *token,
	    int64_t now_s, int64_t expires_s);
/* Forget the token of that key, if it is still `token`. */
void	 docker_tokens_drop(struct docker_tokens *, const char *realm,
	    const char *service, const char *scope, const char *token);
char	*docker_token_url(const char *realm, const char *service,
	    const char *scope);
char	*docker_basic_header(const char *user, const char *password);

/* One provider instance (provider->data); see provider-docker.c. */
struct docker_poll;
struct docker {
	char			*base;		/* "https://host[:port]" */
	char			*registry;	/* host[:port] for events */
	char			*repository;	/* "library/nginx" */
	struct docker_tokens	*tokens;
	/* The last challenge seen: sent ahead on the next requests. */
	char			*auth_scheme;	/* "Basic", "Bearer" or NULL */
	char			*realm;
	char			*service;
	char			*scope;
	char			*token_url;	/* realm?service=…&scope=… */
	struct docker_poll	*poll;		/* in flight, or NULL */
	/* Politeness (limit.h): the connector's limiter. */
	struct limiter		*limiter;
	struct limits		*own_limits;	/* when env has none */
	/* ETag of the last complete listing, when one request stands for it. */
	char			*etag;
	/* providerType DockerHub: list through the Hub API (newest first). */
	char			*hub_tags_url;	/* its first page, or NULL */
	char			*hub_origin;	/* where its `next` may point */
};

/* provider-docker-poll.c */
struct provider;
struct index;
struct poll_result;
void	 docker_poll_start(struct provider *, const struct index *,
	    void (*)(const struct poll_result *, void *), void *);
void	 docker_poll_cancel(struct provider *);

#endif
