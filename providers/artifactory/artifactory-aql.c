/*
 * artifactory-aql.c: the pure parts of AQL listings: the query text and
 * the parser of its answer (provider-protocols.md §10.4).  Values go into
 * the query as JSON strings, so anything that could close one is refused.
 * No I/O, no clock.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "artifactory.h"
#include "http.h"
#include "json.h"

const char *const art_formats[] = {
	"docker", "generic", "maven", "npm", "nuget", "pypi", "helm", "other",
	NULL
};

static int
aql_safe(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
			return (0);
	}
	return (1);
}

static size_t
trimmed_len(const char *s, size_t *start)
{
	size_t	 len = strlen(s);

	*start = 0;
	while (s[*start] == '/')
		(*start)++;
	while (len > *start && s[len - 1] == '/')
		len--;
	return (len - *start);
}

char *
art_aql_query(const struct art_query *q, char **cause)
{
	const char	*dir = q->directory != NULL ? q->directory : "";
	const char	*glob = q->name_glob != NULL && *q->name_glob != '\0' ?
	    q->name_glob : "*";
	size_t		 start, len;
	char		*out, *path;

	if (!aql_safe(q->repository) || !aql_safe(dir) || !aql_safe(glob))
		return (fail(cause, "repository, directory and filter must "
		    "not hold quotes, backslashes or control characters"),
		    NULL);
	len = trimmed_len(dir, &start);
	if (len == 0)
		path = xstrdup("*");
	else
		xasprintf(&path, "%.*s*", (int)len, dir + start);
	xasprintf(&out, "items.find({\"repo\":\"%s\",\"path\":{\"$match\":"
	    "\"%s\"},\"name\":{\"$match\":\"%s\"},\"type\":\"file\"})"
	    ".include(\"repo\",\"path\",\"name\",\"created\",\"size\","
	    "\"sha256\",\"actual_sha1\").sort({\"$desc\":[\"created\"]})"
	    ".limit(%lld)", q->repository, path, glob, q->limit);
	free(path);
	return (out);
}

static int
text_ok(const char *s)
{
	size_t	 i, len;

	if (s == NULL || (len = strlen(s)) == 0 || len > 1024)
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (0);
	}
	return (1);
}

static int
hex_ok(const char *s, size_t len)
{
	return (s != NULL && strlen(s) == len &&
	    strspn(s, "0123456789abcdef") == len);
}

/* path "." is the repository root. */
static char *
full_path(const char *path, const char *name)
{
	char	*out;

	if (strcmp(path, ".") == 0 || *path == '\0')
		return (xstrdup(name));
	xasprintf(&out, "%s/%s", path, name);
	return (out);
}

/* What the version is called: the path under the directory, or its dir. */
static char *
version_name(const struct art_query *q, const char *path, const char *name)
{
	const char	*dir = q->directory != NULL ? q->directory : "";
	const char	*slash;
	size_t		 start, len;
	char		*full, *rel;

	full = full_path(path, name);
	len = trimmed_len(dir, &start);
	rel = full;
	if (len > 0 && strncmp(full, dir + start, len) == 0 &&
	    full[len] == '/')
		rel = full + len + 1;
	if (q->package && (slash = strrchr(rel, '/')) != NULL) {
		/* maven layout: <path>/<version>/<file> */
		rel = xstrndup(rel, slash - rel);
		if ((slash = strrchr(rel, '/')) != NULL)
			memmove(rel, slash + 1, strlen(slash + 1) + 1);
		free(full);
		return (rel);
	}
	rel = xstrdup(rel);
	free(full);
	return (rel);
}

int
art_aql_parse(const cJSON *answer, const struct art_query *q,
    const char *server, long long max, struct versions *vs, int *trimmed,
    char **cause)
{
	const cJSON	*results, *item;
	const char	*repo, *path, *name, *s, *created;
	struct version	*v;
	double		 size;
	char		*vname, *full, *url;
	size_t		 i, slen = strlen(server);
	int64_t		 t;

	*trimmed = 0;
	results = cJSON_GetObjectItemCaseSensitive(answer, "results");
	if (!cJSON_IsObject(answer) || !cJSON_IsArray(results))
		return (fail(cause, "no \"results\" list"));
	if ((s = json_str(answer, "range.notification")) != NULL &&
	    *s != '\0')
		*trimmed = 1;
	while (slen > 0 && server[slen - 1] == '/')
		slen--;
	cJSON_ArrayForEach(item, results) {
		if (!cJSON_IsObject(item))
			return (fail(cause, "a result is not an object"));
		repo = json_str(item, "repo");
		path = json_str(item, "path");
		name = json_str(item, "name");
		if (!text_ok(repo) || !text_ok(path) || !text_ok(name))
			continue;
		vname = version_name(q, path, name);
		for (i = 0; i < vs->n; i++) {
			if (strcmp(vs->v[i].name, vname) == 0)
				break;
		}
		if (i < vs->n || *vname == '\0') {
			free(vname);
			continue;
		}
		if ((long long)vs->n >= max) {
			free(vname);
			vs->truncated = 1;
			break;
		}
		v = versions_add(vs, vname);
		free(vname);
		if (hex_ok(s = json_str(item, "sha256"), 64))
			xasprintf(&v->digest, "sha256:%s", s);
		else if (hex_ok(s = json_str(item, "actual_sha1"), 40))
			xasprintf(&v->digest, "sha1:%s", s);
		if ((created = json_str(item, "created")) != NULL &&
		    time_parse_rfc3339(created, &t) == 0)
			v->pushed_at = t;
		if (json_num(item, "size", &size) == 0 && size >= 0 &&
		    size < 1e18)
			v->size = (int64_t)size;
		else if ((s = json_str(item, "size")) != NULL &&
		    strspn(s, "0123456789") == strlen(s) && *s != '\0' &&
		    strlen(s) < 18)
			v->size = strtoll(s, NULL, 10);
		full = full_path(path, name);
		xasprintf(&url, "%.*s/%s/%s", (int)slen, server, repo, full);
		version_set_meta(v, "url", url);
		if (q->package) {
			version_set(v, "downloadUrl", url);
		} else {
			version_set(v, "path", full);
			if (v->size >= 0)
				version_set_number(v, "size",
				    (double)v->size);
		}
		free(url);
		free(full);
	}
	return (0);
}
