/*
 * provider-docker.h: private to the docker family (providers/docker/): the
 * DockerRegistry connector (connector-docker.c) and source
 * (provider-docker.c, docker-list.c), the spec structs the config loader
 * fills from their key tables, and the pure parsers of registry responses
 * (docker-parse.c, docker-hub.c).
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

/* docker-parse.c: pure parsers, bytes in, values out. */

/* "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}" */
int	 docker_tag_valid(const char *);
/* "algorithm:encoded"; sha256 and sha512 must have their hex length. */
int	 docker_digest_valid(const char *);
/* A tags/list page: {"name":…,"tags":[…]} (tags may be null). */
int	 docker_parse_tags(const char *body, size_t len, char ***tags,
	    size_t *ntags, char **cause);
void	 docker_tags_free(char **tags, size_t ntags);
/*
 * A manifest or an index/manifest list.  content_type (may be NULL) decides
 * when the body has no mediaType.
 */
int	 docker_parse_manifest(const char *body, size_t len,
	    const char *content_type, struct docker_manifest *, char **cause);
/* An image config blob: config.Labels and created (0 when absent). */
int	 docker_parse_config(const char *body, size_t len, cJSON **labels,
	    int64_t *created_s, char **cause);

/* docker-hub.c: the Hub API's tag listing (providerType DockerHub). */
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
/* The same from the parsed page (the fetch engine parsed it). */
int	 docker_hub_tags_json(const cJSON *, struct docker_hub_tag **tags,
	    size_t *ntags, char **next, char **cause);
void	 docker_hub_tags_free(struct docker_hub_tag *, size_t);

/* connector-docker.c */
int	 docker_is_hub_host(const char *host);

/* One provider instance (provider->data); see provider-docker.c. */
struct fetcher;
struct docker_list;
struct docker {
	char			*base;		/* "https://host[:port]" */
	char			*registry;	/* host[:port] for events */
	char			*repository;	/* "library/nginx" */
	char			*tag;		/* spec.tag: one tag only */
	struct fetcher		*fetcher;	/* fetch.h */
	struct docker_list	*call;		/* list/resolve in flight */
	/* ETag of the last listing's first page. */
	char			*etag;
	/* providerType DockerHub: list through the Hub API (newest first). */
	char			*hub_tags_url;	/* its first page, or NULL */
	char			*hub_origin;	/* where its `next` may point */
	/*
	 * The registry tag of a version's name, allocated, when they differ
	 * (OCI Helm charts: "1.0.0+build" is tag "1.0.0_build"); NULL: same.
	 */
	char			*(*tag_of)(const char *name);
};

/* docker-list.c: list() and resolve() on the fetch engine. */
struct provider;
struct list_request;
struct provider_result;
struct version;
void	 docker_list(struct provider *, const struct list_request *,
	    void (*)(const struct provider_result *, void *), void *);
void	 docker_resolve(struct provider *, struct version **, size_t,
	    void (*)(const struct provider_result *, void *), void *);
void	 docker_cancel(struct provider *);
/*
 * The same on a struct docker the caller owns (a registry API inside
 * another family's source: Nexus, Artifactory, OCI Helm charts).
 * docker_open() fills it for base ("https://host[:port]" or a path prefix
 * under which /v2/ is), registry (host[:port] for events) and repository,
 * with a fetcher of p's connector; docker_close() frees what it holds.
 */
int	 docker_open(struct provider *, struct docker *, const char *base,
	    const char *registry, const char *repository, char **cause);
void	 docker_close(struct docker *);
void	 docker_list_on(struct provider *, struct docker *,
	    const struct list_request *,
	    void (*)(const struct provider_result *, void *), void *);
void	 docker_resolve_on(struct provider *, struct docker *,
	    struct version **, size_t,
	    void (*)(const struct provider_result *, void *), void *);
void	 docker_cancel_on(struct docker *);
/* "sha256:<hex>" of a manifest body the registry gave no digest for. */
struct buf;
char	*docker_body_digest(const struct buf *);

/*
 * docker-within.c: a repository manager's source (Nexus, Artifactory)
 * that is a registry API in its docker format and a listing of its own
 * in the others.  docker_within_open() opens the registry part (as
 * docker_open()); resolve goes to the registry when it is open, else
 * answers "nothing more" from the loop (the listing carried the digests);
 * cancel and close undo either.
 */
struct event;
struct docker_within {
	struct docker		 docker;
	int			 open;		/* the docker format */
	struct event		*nothing;	/* resolve of the others */
	void			(*nothing_done)(const struct provider_result *,
				    void *);
	void			*nothing_arg;
};
int	 docker_within_open(struct provider *, struct docker_within *,
	    const char *base, const char *registry, const char *repository,
	    char **cause);
void	 docker_within_resolve(struct provider *, struct docker_within *,
	    struct version **, size_t,
	    void (*)(const struct provider_result *, void *), void *);
void	 docker_within_cancel(struct docker_within *);
void	 docker_within_close(struct docker_within *);
/* provider-docker.c: a repository name ("library/nginx", "org/app"). */
int	 docker_repository_valid(const char *);

/*
 * docker-details.c: the digest, labels and creation time of one image of a
 * registry API another family reaches its own way (Ecr's, Acr's): the
 * manifest by digest (else by tag; a HEAD when only the digest is wanted),
 * a multi-arch index's linux/amd64 manifest, then the config blob.  The
 * family's job embeds a struct docker_details first; get() sends one
 * request of it (what: "manifests" or "blobs") to cb with the job.
 */
struct fetch;
struct fetch_page;
struct docker_details {
	struct version	*v;
	int		 platform;	/* the index's platform manifest */
	void		(*get)(struct docker_details *, const char *method,
			    const char *what, const char *ref,
			    int (*cb)(struct fetch *, struct fetch_page *,
			    void *), size_t max_body);
};
extern const char docker_details_accept[];	/* an Accept: line */
void	 docker_details_start(struct docker_details *);

#endif
