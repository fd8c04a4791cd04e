/*
 * docker-store.c: the repositories, tags and generated content of the
 * Docker Registry v2 fake.
 *
 * A repository whose last path part is r<N> ("bench/r10000") exists
 * without being created and holds tags v1..vN; others are made through
 * the control API.  Tags are kept sorted, so a page starting after `last`
 * is one binary search away even at 100,000 tags.  Manifests, indexes and
 * config blobs are rendered on demand from (repository, tag, generation)
 * and the digests they name are remembered so that a later GET by digest
 * finds them again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docker.h"

struct docker_store {
	struct strmap	*repos;		/* name -> struct docker_repo */
	struct strmap	*objects;	/* digest -> struct docker_object */
};

static const struct {
	const char	*arch;
	const char	*variant;	/* NULL when none */
} docker_platforms[] = {
	{ "amd64", NULL },
	{ "arm64", "v8" },
};

#define DOCKER_EPOCH	1767225600	/* 2026-01-01T00:00:00Z */

struct docker_store *
docker_store_new(void)
{
	struct docker_store	*s;

	s = xcalloc(1, sizeof *s);
	s->repos = strmap_new();
	s->objects = strmap_new();
	return (s);
}

/* Drops the unsorted order, made again when next needed. */
static void
docker_repo_reorder(struct docker_repo *r)
{
	free(r->order);
	free(r->slot);
	r->order = NULL;
	r->slot = NULL;
}

/* Removes every tag. */
void
docker_repo_clear_tags(struct docker_repo *r)
{
	size_t	i;

	for (i = 0; i < r->ntags; i++)
		free(r->tags[i].name);
	r->ntags = 0;
	docker_repo_reorder(r);
}

static void
docker_repo_free(void *arg)
{
	struct docker_repo	*r = arg;

	docker_repo_clear_tags(r);
	free(r->tags);
	free(r->name);
	free(r->labels);
	free(r);
}

static void
docker_object_free(void *arg)
{
	struct docker_object	*o = arg;

	free(o->tag);
	free(o);
}

void
docker_store_free(struct docker_store *s)
{
	if (s == NULL)
		return;
	strmap_free(s->objects, docker_object_free);
	strmap_free(s->repos, docker_repo_free);
	free(s);
}

/* Repository names: lowercase path parts joined by '/'. */
int
docker_valid_repo(const char *name)
{
	const char	*p;

	if (*name == '\0' || *name == '/' || strlen(name) > 255 ||
	    name[strlen(name) - 1] == '/' || strstr(name, "//") != NULL)
		return (0);
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '_' || *p == '-' || *p == '/'))
			return (0);
	}
	return (1);
}

/* Tags: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. */
int
docker_valid_tag(const char *tag)
{
	const char	*p;

	if (*tag == '\0' || *tag == '.' || *tag == '-' || strlen(tag) > 128)
		return (0);
	for (p = tag; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-'))
			return (0);
	}
	return (1);
}

static int
docker_tag_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct docker_tag *)a)->name,
	    ((const struct docker_tag *)b)->name));
}

/* Replaces the tags with v1..vN, generation 1. */
void
docker_repo_generate(struct docker_repo *r, size_t n)
{
	size_t	i;

	docker_repo_clear_tags(r);
	if (n > r->size) {
		r->tags = xreallocarray(r->tags, n, sizeof *r->tags);
		r->size = n;
	}
	for (i = 0; i < n; i++) {
		xasprintf(&r->tags[i].name, "v%zu", i + 1);
		r->tags[i].gen = 1;
	}
	r->ntags = n;
	qsort(r->tags, n, sizeof *r->tags, docker_tag_cmp);
}

/* The repository named, or NULL. */
struct docker_repo *
docker_repo_find(struct docker_store *s, const char *name)
{
	struct docker_repo	*r;
	const char		*last;
	char			*end;
	unsigned long		 n;

	if ((r = strmap_get(s->repos, name)) != NULL)
		return (r);
	last = strrchr(name, '/');
	last = last == NULL ? name : last + 1;
	if (last[0] != 'r' || last[1] < '0' || last[1] > '9')
		return (NULL);
	n = strtoul(last + 1, &end, 10);
	if (*end != '\0' || n > DOCKER_MAX_TAGS || !docker_valid_repo(name))
		return (NULL);
	r = docker_repo_get(s, name);
	docker_repo_generate(r, n);
	return (r);
}

/* The repository named, made empty when missing. */
struct docker_repo *
docker_repo_get(struct docker_store *s, const char *name)
{
	struct docker_repo	*r;

	if ((r = strmap_get(s->repos, name)) != NULL)
		return (r);
	r = xcalloc(1, sizeof *r);
	r->name = xstrdup(name);
	strmap_put(s->repos, name, r);
	return (r);
}

/* Binary search: the index of tag or -1; *at is where it belongs. */
long
docker_repo_lookup(const struct docker_repo *r, const char *tag, size_t *at)
{
	size_t	lo = 0, hi = r->ntags, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(r->tags[mid].name, tag);
		if (c == 0) {
			*at = mid;
			return ((long)mid);
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return (-1);
}

/* Adds a tag, or re-points it (a new generation, new digests). */
void
docker_repo_push(struct docker_repo *r, const char *tag)
{
	size_t	at;

	if (docker_repo_lookup(r, tag, &at) >= 0) {
		r->tags[at].gen++;
		return;
	}
	if (r->ntags == r->size) {
		r->size = r->size == 0 ? 16 : r->size * 2;
		r->tags = xreallocarray(r->tags, r->size, sizeof *r->tags);
	}
	memmove(&r->tags[at + 1], &r->tags[at],
	    (r->ntags - at) * sizeof *r->tags);
	r->tags[at].name = xstrdup(tag);
	r->tags[at].gen = 1;
	r->ntags++;
	docker_repo_reorder(r);
}

/* A fixed shuffle of the tags (the order Docker Hub lists them in). */
static void
docker_repo_shuffle(struct docker_repo *r)
{
	uint64_t	x;
	size_t		i, j;
	uint32_t	t;

	r->order = xreallocarray(NULL, r->ntags + 1, sizeof *r->order);
	r->slot = xreallocarray(NULL, r->ntags + 1, sizeof *r->slot);
	for (i = 0; i < r->ntags; i++)
		r->order[i] = (uint32_t)i;
	x = fnv1a64(r->name, strlen(r->name)) | 1;
	for (i = r->ntags; i > 1; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % i;
		t = r->order[i - 1];
		r->order[i - 1] = r->order[j];
		r->order[j] = t;
	}
	for (i = 0; i < r->ntags; i++)
		r->slot[r->order[i]] = (uint32_t)i;
}

/* The tag listed at page slot i. */
const struct docker_tag *
docker_repo_at(struct docker_repo *r, size_t i)
{
	if (!r->unsorted)
		return (&r->tags[i]);
	if (r->order == NULL)
		docker_repo_shuffle(r);
	return (&r->tags[r->order[i]]);
}

/* The page slot where tag index t is listed. */
size_t
docker_repo_slot(struct docker_repo *r, size_t t)
{
	if (!r->unsorted)
		return (t);
	if (r->order == NULL)
		docker_repo_shuffle(r);
	return (r->slot[t]);
}

/* Remembers what a digest stands for, once. */
static void
docker_remember(struct docker_store *s, const char *digest,
    const struct docker_object *o)
{
	struct docker_object	*copy;

	if (strmap_get(s->objects, digest) != NULL)
		return;
	copy = xmalloc(sizeof *copy);
	*copy = *o;
	copy->tag = xstrdup(o->tag);
	strmap_put(s->objects, digest, copy);
}

const struct docker_object *
docker_object_find(struct docker_store *s, const char *digest)
{
	return (strmap_get(s->objects, digest));
}

/* "2026-..Z": when this generation of the tag was built. */
static void
docker_created(const struct docker_object *o, char *out, size_t len)
{
	time_t		t;
	struct tm	tm;

	t = DOCKER_EPOCH + (time_t)(fnv1a64(o->tag, strlen(o->tag)) %
	    1000000) + (time_t)o->gen * 3600;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Fills a body from text and names it. */
static void
docker_body_set(struct docker_body *b, char *text, int len,
    const char *media_type)
{
	b->text = text;
	b->len = (size_t)len;
	b->media_type = media_type;
	sha256_digest(text, b->len, b->digest);
}

/* The config blob: platform, creation time and labels. */
static void
docker_render_config(const struct docker_object *o, struct docker_body *b)
{
	const struct docker_repo	*r = o->repo;
	char				 created[32], *text, *seed;
	char				 layer[SHA256_DIGEST_LEN];
	int				 n;

	docker_created(o, created, sizeof created);
	n = xasprintf(&seed, "layer %s:%s %u %d", r->name, o->tag, o->gen,
	    o->arch);
	sha256_digest(seed, (size_t)n, layer);
	free(seed);
	n = xasprintf(&text, "{\"architecture\":\"%s\",\"os\":\"linux\","
	    "\"created\":\"%s\",\"config\":{\"Env\":[\"PATH=/usr/local/bin:"
	    "/usr/bin:/bin\"],\"Labels\":{\"org.opencontainers.image.version"
	    "\":\"%s\",\"org.opencontainers.image.revision\":\"%u\","
	    "\"org.opencontainers.image.source\":\"https://example.invalid/%s"
	    "\"%s%s}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
	    docker_platforms[o->arch].arch, created, o->tag, o->gen, r->name,
	    r->labels != NULL ? "," : "", r->labels != NULL ? r->labels : "",
	    layer);
	docker_body_set(b, text, n, o->oci ?
	    "application/vnd.oci.image.config.v1+json" :
	    "application/vnd.docker.container.image.v1+json");
}

/* One platform's image manifest. */
static void
docker_render_manifest(struct docker_store *s, const struct docker_object *o,
    struct docker_body *b)
{
	struct docker_object	 co = *o;
	struct docker_body	 config;
	char			 created[32], *text, *seed;
	char			 layer[SHA256_DIGEST_LEN];
	int			 n;

	co.kind = DOCKER_CONFIG;
	docker_render_config(&co, &config);
	docker_remember(s, config.digest, &co);
	free(config.text);
	docker_created(o, created, sizeof created);
	n = xasprintf(&seed, "blob %s:%s %u %d", o->repo->name, o->tag,
	    o->gen, o->arch);
	sha256_digest(seed, (size_t)n, layer);
	free(seed);
	if (o->oci)
		n = xasprintf(&text, "{\"schemaVersion\":2,\"mediaType\":"
		    "\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
		    "{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\"},"
		    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image."
		    "layer.v1.tar+gzip\",\"size\":%u,\"digest\":\"%s\"}],"
		    "\"annotations\":{\"org.opencontainers.image.created\":"
		    "\"%s\",\"org.opencontainers.image.revision\":\"%u\"}}",
		    config.media_type, config.len, config.digest,
		    2000000 + o->gen, layer, created, o->gen);
	else
		n = xasprintf(&text, "{\"schemaVersion\":2,\"mediaType\":"
		    "\"application/vnd.docker.distribution.manifest.v2+json\","
		    "\"config\":{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":"
		    "\"%s\"},\"layers\":[{\"mediaType\":\"application/vnd."
		    "docker.image.rootfs.diff.tar.gzip\",\"size\":%u,"
		    "\"digest\":\"%s\"}]}", config.media_type, config.len,
		    config.digest, 2000000 + o->gen, layer);
	docker_body_set(b, text, n, o->oci ?
	    "application/vnd.oci.image.manifest.v1+json" :
	    "application/vnd.docker.distribution.manifest.v2+json");
}

/* The multi-platform index (OCI) or manifest list (Docker). */
static void
docker_render_index(struct docker_store *s, const struct docker_object *o,
    struct docker_body *b)
{
	struct docker_object	 mo = *o;
	struct docker_body	 m;
	char			*text, *part, *seed;
	char			 att[SHA256_DIGEST_LEN];
	size_t			 i;
	int			 n;

	text = xstrdup("");
	mo.kind = DOCKER_MANIFEST;
	for (i = 0; i < nitems(docker_platforms); i++) {
		mo.arch = (int)i;
		docker_render_manifest(s, &mo, &m);
		docker_remember(s, m.digest, &mo);
		xasprintf(&part, "%s%s{\"mediaType\":\"%s\",\"size\":%zu,"
		    "\"digest\":\"%s\",\"platform\":{\"architecture\":\"%s\","
		    "\"os\":\"linux\"%s%s%s}}", text, i == 0 ? "" : ",",
		    m.media_type, m.len, m.digest, docker_platforms[i].arch,
		    docker_platforms[i].variant != NULL ? ",\"variant\":\"" :
		    "", docker_platforms[i].variant != NULL ?
		    docker_platforms[i].variant : "",
		    docker_platforms[i].variant != NULL ? "\"" : "");
		free(m.text);
		free(text);
		text = part;
	}
	if (o->oci) {
		n = xasprintf(&seed, "attestation %s:%s %u", o->repo->name,
		    o->tag, o->gen);
		sha256_digest(seed, (size_t)n, att);
		free(seed);
		xasprintf(&part, "%s,{\"mediaType\":\"application/vnd.oci."
		    "image.manifest.v1+json\",\"size\":566,\"digest\":\"%s\","
		    "\"platform\":{\"architecture\":\"unknown\",\"os\":"
		    "\"unknown\"},\"annotations\":{\"vnd.docker.reference.type"
		    "\":\"attestation-manifest\"}}", text, att);
		free(text);
		text = part;
	}
	n = xasprintf(&part, "{\"schemaVersion\":2,\"mediaType\":\"%s\","
	    "\"manifests\":[%s]}", o->oci ?
	    "application/vnd.oci.image.index.v1+json" :
	    "application/vnd.docker.distribution.manifest.list.v2+json", text);
	free(text);
	docker_body_set(b, part, n, o->oci ?
	    "application/vnd.oci.image.index.v1+json" :
	    "application/vnd.docker.distribution.manifest.list.v2+json");
}

/* Renders o into b and remembers b's digest; the caller frees b->text. */
void
docker_render(struct docker_store *s, const struct docker_object *o,
    struct docker_body *b)
{
	switch (o->kind) {
	case DOCKER_INDEX:
		docker_render_index(s, o, b);
		break;
	case DOCKER_MANIFEST:
		docker_render_manifest(s, o, b);
		break;
	case DOCKER_CONFIG:
		docker_render_config(o, b);
		break;
	}
	docker_remember(s, b->digest, o);
}
