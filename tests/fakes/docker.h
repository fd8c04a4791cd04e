/*
 * docker.h: the Docker Registry v2 fake's store, shared by api-docker.c
 * (the HTTP side) and docker-store.c (repositories, tags and the content
 * they serve).  Content is generated from (repository, tag, generation):
 * re-pointing a tag bumps its generation, which changes every body and so
 * every digest, exactly as a push would.
 */
#ifndef DOCKER_H
#define DOCKER_H

#include <stddef.h>
#include <stdint.h>

#include "fakes.h"

#define DOCKER_MAX_TAGS	100000

enum docker_link {
	DOCKER_LINK_RELATIVE,		/* </v2/x/tags/list?last=..&n=..> */
	DOCKER_LINK_ABSOLUTE,		/* <http://127.0.0.1:P/v2/...> */
	DOCKER_LINK_CURSOR		/* Quay: ?n=..&next_page=<opaque> */
};

struct docker_tag {
	char		*name;
	uint32_t	 gen;
};

struct docker_repo {
	char			*name;
	struct docker_tag	*tags;		/* sorted by strcmp */
	size_t			 ntags;
	size_t			 size;
	uint32_t		*order;		/* unsorted: page slot -> tag */
	uint32_t		*slot;		/* unsorted: tag -> page slot */
	enum docker_link	 link;
	int			 unsorted;
	int			 ignore_n;
	int			 single_arch;	/* no index, one manifest */
	int			 blob_redirect;	/* 307 to a "CDN" host */
	size_t			 short_page;	/* 0, or at most this many */
	size_t			 max_n;		/* 0, or clamp n to it */
	char			*labels;	/* extra "k":"v" members */
};

enum docker_kind { DOCKER_INDEX, DOCKER_MANIFEST, DOCKER_CONFIG };

/* What a digest the fake served stands for, to serve it again. */
struct docker_object {
	struct docker_repo	*repo;
	char			*tag;
	uint32_t		 gen;
	enum docker_kind	 kind;
	int			 oci;		/* OCI or Docker media types */
	int			 arch;		/* index into the platforms */
};

/* A body and what names it. */
struct docker_body {
	char		*text;
	size_t		 len;
	const char	*media_type;
	char		 digest[SHA256_DIGEST_LEN];
};

struct docker_store;
struct docker_store	*docker_store_new(void);
void			 docker_store_free(struct docker_store *);
/* The repository, made on first use when its last part is r<N>. */
struct docker_repo	*docker_repo_find(struct docker_store *, const char *);
struct docker_repo	*docker_repo_get(struct docker_store *, const char *);
int			 docker_valid_repo(const char *);
int			 docker_valid_tag(const char *);
/* Replaces the tags with v1..vN. */
void			 docker_repo_generate(struct docker_repo *, size_t);
void			 docker_repo_clear_tags(struct docker_repo *);
/* Adds a tag, or re-points it when present. */
void			 docker_repo_push(struct docker_repo *, const char *);
/* The tag's index, or -1; *at gets where it is or would go. */
long			 docker_repo_lookup(const struct docker_repo *,
			    const char *, size_t *at);
/* The tag shown at page slot i (0 .. ntags-1) and back. */
const struct docker_tag	*docker_repo_at(struct docker_repo *, size_t);
size_t			 docker_repo_slot(struct docker_repo *, size_t tag);

/* Renders an object (remembering the digests it names); free text. */
void			 docker_render(struct docker_store *,
			    const struct docker_object *, struct docker_body *);
const struct docker_object *docker_object_find(struct docker_store *,
			    const char *digest);

#endif
