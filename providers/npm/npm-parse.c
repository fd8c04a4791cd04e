/*
 * npm-parse.c: the pure parser of the npm family: a package document
 * (provider-protocols.md §14) in, versions out.  A registry is a stranger:
 * every member is checked for its type, a version without a usable name
 * or digest is skipped rather than trusted, and a document that is not one
 * says why.  No I/O, no clock.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "npm.h"

#define NPM_NAME_MAX	214

static int
npm_part_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || s[0] == '.' || s[0] == '_')
		return (0);
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("-._~", s[i]) == NULL)
			return (0);
	}
	return (1);
}

int
npm_name_valid(const char *name)
{
	const char	*slash;
	size_t		 len = strlen(name);

	if (len == 0 || len > NPM_NAME_MAX)
		return (0);
	if (name[0] != '@')
		return (npm_part_valid(name, len));
	if ((slash = strchr(name, '/')) == NULL)
		return (0);
	return (npm_part_valid(name + 1, slash - name - 1) &&
	    npm_part_valid(slash + 1, strlen(slash + 1)));
}

char *
npm_doc_url(const char *registry, const char *name)
{
	const char	*slash;
	size_t		 len = strlen(registry);
	char		*url;

	while (len > 0 && registry[len - 1] == '/')
		len--;
	if (name[0] == '@' && (slash = strchr(name, '/')) != NULL)
		xasprintf(&url, "%.*s/%.*s%%2f%s", (int)len, registry,
		    (int)(slash - name), name, slash + 1);
	else
		xasprintf(&url, "%.*s/%s", (int)len, registry, name);
	return (url);
}

struct npm_item {
	const char	*version;
	const cJSON	*meta;
	int64_t		 time;
	size_t		 order;
};

/* Newest first; without times, the document's order reversed. */
static int
npm_item_cmp(const void *a, const void *b)
{
	const struct npm_item	*x = a, *y = b;

	if (x->time != y->time)
		return (x->time > y->time ? -1 : 1);
	return (x->order > y->order ? -1 : x->order < y->order);
}

static char *
npm_digest(const cJSON *meta)
{
	const char	*s;
	char		*d;

	if ((s = json_str(meta, "dist.integrity")) != NULL && *s != '\0' &&
	    strchr(s, ' ') == NULL && strlen(s) < 256)
		return (xstrdup(s));
	if ((s = json_str(meta, "dist.shasum")) != NULL && strlen(s) == 40 &&
	    strspn(s, "0123456789abcdef") == 40) {
		xasprintf(&d, "sha1:%s", s);
		return (d);
	}
	return (NULL);
}

static void
npm_fields(struct version *v, const cJSON *meta, const char *registry,
    const char *name)
{
	const char	*tarball, *slash;
	char		*group;

	version_set(v, "repository", registry);
	version_set(v, "package", name);
	if (name[0] == '@' && (slash = strchr(name, '/')) != NULL) {
		group = xstrndup(name, slash - name);
		version_set(v, "group", group);
		free(group);
	}
	version_set(v, "format", "npm");
	tarball = json_str(meta, "dist.tarball");
	version_set(v, "downloadUrl", tarball);
	if (tarball != NULL)
		version_set_meta(v, "url", tarball);
}

static struct version *
npm_add(struct versions *vs, const char *vname, const cJSON *meta,
    int64_t t, const char *registry, const char *name, char *digest)
{
	struct version	*v;

	v = versions_add(vs, vname);
	v->digest = digest;
	v->pushed_at = t;
	npm_fields(v, meta, registry, name);
	return (v);
}

/* The index of the version dist-tag `it` points at; n when none. */
static size_t
npm_tag_target(const cJSON *it, const struct npm_item *items, size_t n)
{
	size_t	 k;

	if (!cJSON_IsString(it) || it->string == NULL ||
	    *it->string == '\0' || strlen(it->string) > 256)
		return (n);
	for (k = 0; k < n; k++) {
		if (strcmp(items[k].version, it->valuestring) == 0)
			break;
	}
	return (k);
}

/* The dist-tags that will be listed (those on a listed version). */
static size_t
npm_tags_count(const cJSON *tags, const struct npm_item *items, size_t n)
{
	const cJSON	*it;
	size_t		 k, count = 0;

	cJSON_ArrayForEach(it, tags) {
		if ((k = npm_tag_target(it, items, n)) < n)
			count++;
	}
	return (count);
}

int
npm_parse_doc(const cJSON *doc, const char *registry, const char *name,
    long long max, struct versions *vs, char **cause)
{
	const cJSON	*versions, *tags, *times, *it, *meta;
	struct npm_item	*items;
	struct version	*v;
	const char	*docname;
	char		*digest;
	size_t		 n = 0, i, k, ntags;
	long long	 room;
	int64_t		 t;

	if (!cJSON_IsObject(doc))
		return (fail(cause, "the package document is not an object"));
	if ((docname = json_str(doc, "name")) != NULL &&
	    strcmp(docname, name) != 0)
		return (fail(cause, "the document is of package %s, not %s",
		    log_q(docname), log_q(name)));
	versions = cJSON_GetObjectItemCaseSensitive(doc, "versions");
	/* A fully unpublished package has no versions, and says so. */
	if (!cJSON_IsObject(versions) && (versions != NULL ||
	    json_get(doc, "time.unpublished") == NULL))
		return (fail(cause, "no \"versions\" object"));
	times = cJSON_GetObjectItemCaseSensitive(doc, "time");
	if (times != NULL && !cJSON_IsObject(times))
		times = NULL;
	items = xcalloc(cJSON_GetArraySize(versions) + 1, sizeof *items);
	cJSON_ArrayForEach(it, versions) {
		if (it->string == NULL || *it->string == '\0' ||
		    strlen(it->string) > 256 || !cJSON_IsObject(it))
			continue;
		items[n].version = it->string;
		items[n].meta = it;
		items[n].order = n;
		if (times != NULL) {
			meta = cJSON_GetObjectItemCaseSensitive(times,
			    it->string);
			items[n].time = cJSON_IsString(meta) &&
			    time_parse_rfc3339(meta->valuestring, &t) == 0 ?
			    t : 0;
		}
		n++;
	}
	qsort(items, n, sizeof *items, npm_item_cmp);
	tags = cJSON_GetObjectItemCaseSensitive(doc, "dist-tags");
	if (!cJSON_IsObject(tags))
		tags = NULL;
	/* The dist-tags count against the cap: room is kept for them. */
	ntags = npm_tags_count(tags, items, n);
	room = max > 0 ? (max > (long long)ntags ? max - (long long)ntags :
	    0) : -1;
	for (i = 0; i < n; i++) {
		if (room >= 0 && (long long)vs->n >= room) {
			vs->truncated = 1;
			break;
		}
		npm_add(vs, items[i].version, items[i].meta, items[i].time,
		    registry, name, npm_digest(items[i].meta));
	}
	cJSON_ArrayForEach(it, tags) {
		if ((k = npm_tag_target(it, items, n)) == n ||
		    (digest = npm_digest(items[k].meta)) == NULL)
			continue;
		if (max > 0 && (long long)vs->n >= max) {
			free(digest);
			vs->truncated = 1;
			break;
		}
		v = npm_add(vs, it->string, items[k].meta, items[k].time,
		    registry, name, digest);
		version_set_meta(v, "version", it->valuestring);
	}
	free(items);
	return (0);
}

int
npm_parse(const char *body, size_t len, const char *registry,
    const char *name, long long max, struct versions *vs, char **cause)
{
	cJSON	*doc;
	int	 rc;

	if (json_parse_object(body, len, &doc, cause) != 0)
		return (-1);
	rc = npm_parse_doc(doc, registry, name, max, vs, cause);
	cJSON_Delete(doc);
	return (rc);
}

char *
npm_error_message(const char *body, size_t len)
{
	const char	*s;
	cJSON		*doc;
	char		*out = NULL, *cause;

	if (json_parse_object(body, len, &doc, &cause) != 0) {
		free(cause);
		return (NULL);
	}
	if ((s = json_str(doc, "error")) != NULL ||
	    (s = json_str(doc, "message")) != NULL)
		out = xstrndup(s, 200);
	cJSON_Delete(doc);
	return (out);
}
