/*
 * nexus-parse.c: the pure parts of the nexus family: search URLs, the
 * Nexus 3 search page and the Nexus 2 lucene search answer
 * (provider-protocols.md §9.4, §9.5), the docker registry base.  Every
 * member is checked for its type; a component without a usable version is
 * skipped.  No I/O, no clock.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "json.h"
#include "nexus.h"

const char *const nexus_formats[] = {
	"docker", "maven", "npm", "nuget", "raw", NULL
};

static const char *const nexus_api_formats[] = {
	"docker", "maven2", "npm", "nuget", "raw"
};

static void
param(struct buf *b, const char *name, const char *value)
{
	char	*v;

	if (value == NULL || *value == '\0')
		return;		/* empty means "specifically empty" */
	v = url_escape(value);
	buf_printf(b, "&%s=%s", name, v);
	free(v);
}

static size_t
trimmed(const char *s)
{
	size_t	 len = strlen(s);

	while (len > 0 && s[len - 1] == '/')
		len--;
	return (len);
}

char *
nexus3_search_url(const char *server, const struct nexus_source *src)
{
	struct buf	 b = { 0 };
	const char	*slash;
	char		*scope;

	buf_printf(&b, "%.*s/service/rest/v1/search?", (int)trimmed(server),
	    server);
	buf_adds(&b, "sort=version&direction=desc");
	param(&b, "repository", src->repository);
	param(&b, "format", nexus_api_formats[src->format]);
	switch (src->format) {
	case NEXUS_MAVEN:
		param(&b, "maven.groupId", src->group_id);
		param(&b, "maven.artifactId", src->artifact_id);
		param(&b, "maven.extension", src->extension);
		param(&b, "maven.classifier", src->classifier);
		break;
	case NEXUS_NPM:
		if (src->package_name != NULL && src->package_name[0] == '@' &&
		    (slash = strchr(src->package_name, '/')) != NULL) {
			scope = xstrndup(src->package_name + 1,
			    slash - src->package_name - 1);
			param(&b, "group", scope);
			param(&b, "name", slash + 1);
			free(scope);
		} else
			param(&b, "name", src->package_name);
		break;
	case NEXUS_NUGET:
		param(&b, "name", src->package_name);
		break;
	case NEXUS_RAW:
		param(&b, "group", src->group);
		break;
	}
	return (buf_take(&b));
}

static int
hex_ok(const char *s, size_t len)
{
	return (s != NULL && strlen(s) == len && strspn(s,
	    "0123456789abcdef") == len);
}

static char *
asset_digest(const cJSON *asset)
{
	const char	*s;
	char		*d;

	if (hex_ok(s = json_str(asset, "checksum.sha256"), 64)) {
		xasprintf(&d, "sha256:%s", s);
		return (d);
	}
	if (hex_ok(s = json_str(asset, "checksum.sha1"), 40)) {
		xasprintf(&d, "sha1:%s", s);
		return (d);
	}
	return (NULL);
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t	 a = strlen(s), b = strlen(suffix);

	return (a >= b && strcmp(s + a - b, suffix) == 0);
}

/* The asset that is the artifact (not a checksum, not the pom). */
static const cJSON *
main_asset(const cJSON *assets, const struct nexus_query *q)
{
	const cJSON	*a, *fallback = NULL;
	const char	*path;
	char		*want;

	cJSON_ArrayForEach(a, assets) {
		if ((path = json_str(a, "path")) == NULL)
			continue;
		if (ends_with(path, ".sha1") || ends_with(path, ".md5") ||
		    ends_with(path, ".sha256") || ends_with(path, ".sha512") ||
		    ends_with(path, ".asc"))
			continue;
		if (q->format == NEXUS_MAVEN && q->extension != NULL) {
			xasprintf(&want, "%s%s.%s", q->classifier != NULL ?
			    "-" : "", q->classifier != NULL ? q->classifier :
			    "", q->extension);
			if (ends_with(path, want)) {
				free(want);
				return (a);
			}
			free(want);
			continue;
		}
		if (q->format == NEXUS_MAVEN && ends_with(path, ".pom")) {
			if (fallback == NULL)
				fallback = a;
			continue;
		}
		return (a);
	}
	return (fallback);
}

static int
name_ok(const char *s)
{
	size_t	 i, len;

	if (s == NULL || (len = strlen(s)) == 0 || len > 512)
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (0);
	}
	return (1);
}

int
nexus3_parse_search(const cJSON *page, const struct nexus_query *q,
    long long max, struct versions *vs, char **cause)
{
	const cJSON	*items, *item, *assets, *asset;
	const char	*version, *name, *group, *url, *token;
	struct version	*v;
	int64_t		 t;
	double		 size;

	items = cJSON_GetObjectItemCaseSensitive(page, "items");
	if (!cJSON_IsObject(page) || !cJSON_IsArray(items))
		return (fail(cause, "no \"items\" list"));
	token = json_str(page, "continuationToken");
	cJSON_ArrayForEach(item, items) {
		if (!cJSON_IsObject(item))
			return (fail(cause, "a component is not an object"));
		name = json_str(item, "name");
		version = json_str(item, "version");
		if (q->format == NEXUS_RAW && (version == NULL ||
		    *version == '\0'))
			version = name;
		if (!name_ok(version))
			continue;
		if ((long long)vs->n >= max) {
			vs->truncated = 1;
			return (1);
		}
		v = versions_add(vs, version);
		assets = cJSON_GetObjectItemCaseSensitive(item, "assets");
		asset = cJSON_IsArray(assets) ? main_asset(assets, q) : NULL;
		if (asset != NULL) {
			v->digest = asset_digest(asset);
			if ((t = json_time(asset, "blobCreated")) == 0)
				t = json_time(asset, "lastModified");
			v->pushed_at = t;
			if (json_num(asset, "fileSize", &size) == 0 &&
			    size >= 0 && size < 1e18)
				v->size = (int64_t)size;
			if ((url = json_str(asset, "downloadUrl")) != NULL &&
			    name_ok(url)) {
				version_set(v, "downloadUrl", url);
				version_set_meta(v, "url", url);
			}
		}
		if ((group = json_str(item, "group")) != NULL &&
		    name_ok(group))
			version_set(v, "group", group);
		if (name_ok(name))
			version_set(v, "package", name);
	}
	if ((long long)vs->n >= max && token != NULL) {
		vs->truncated = 1;
		return (1);
	}
	return (0);
}

char *
nexus2_search_url(const char *server, const struct nexus_source *src)
{
	struct buf	 b = { 0 };

	buf_printf(&b, "%.*s/service/local/lucene/search?collapseresults="
	    "false", (int)trimmed(server), server);
	param(&b, "g", src->group_id);
	param(&b, "a", src->artifact_id);
	param(&b, "repositoryId", src->repository);
	param(&b, "p", src->extension);
	param(&b, "c", src->classifier);
	return (buf_take(&b));
}

int
nexus2_parse_search(const cJSON *page, const char *server,
    const struct nexus_query *q, long long max, struct versions *vs,
    size_t *items, char **cause)
{
	const cJSON	*data, *item;
	const char	*version, *g, *a, *repo;
	struct version	*v;
	size_t		 i;
	char		*url, *eg, *ea, *ev, *er;

	*items = 0;
	data = cJSON_GetObjectItemCaseSensitive(page, "data");
	if (!cJSON_IsObject(page) || !cJSON_IsArray(data))
		return (fail(cause, "no \"data\" list"));
	cJSON_ArrayForEach(item, data) {
		(*items)++;
		if (!cJSON_IsObject(item))
			return (fail(cause, "a search hit is not an object"));
		version = json_str(item, "version");
		g = json_str(item, "groupId");
		a = json_str(item, "artifactId");
		if (!name_ok(version) || !name_ok(g) || !name_ok(a))
			continue;
		for (i = 0; i < vs->n; i++) {
			if (strcmp(vs->v[i].name, version) == 0)
				break;
		}
		if (i < vs->n)
			continue;	/* another classifier of it */
		if ((long long)vs->n >= max) {
			vs->truncated = 1;
			return (1);
		}
		v = versions_add(vs, version);
		version_set(v, "group", g);
		version_set(v, "package", a);
		repo = json_str(item, "latestReleaseRepositoryId");
		if (repo == NULL)
			repo = json_str(item, "repoId");
		if (repo == NULL)
			repo = q->repository;
		if (repo != NULL && name_ok(repo)) {
			eg = url_escape(g);
			ea = url_escape(a);
			ev = url_escape(version);
			er = url_escape(repo);
			xasprintf(&url, "%.*s/service/local/artifact/maven/"
			    "redirect?r=%s&g=%s&a=%s&v=%s&e=%s",
			    (int)trimmed(server), server, er, eg, ea, ev,
			    q->extension != NULL ? q->extension : "jar");
			version_set(v, "downloadUrl", url);
			version_set_meta(v, "url", url);
			free(url);
			free(eg);
			free(ea);
			free(ev);
			free(er);
		}
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(page,
	    "tooManyResults")))
		vs->truncated = 1;
	return ((long long)vs->n >= max ? 1 : 0);
}

char *
nexus_docker_base(const char *server, const char *port, const char *url,
    char **cause)
{
	char	*host, *origin, *base;
	char	*end;
	long	 n;

	if (url != NULL && *url != '\0') {
		if (strstr(url, "://") == NULL)
			xasprintf(&base, "https://%s", url);
		else
			base = xstrdup(url);
		if ((origin = url_origin(base)) == NULL) {
			free(base);
			return (fail(cause, "repositoryUrl %s is not a URL",
			    url), NULL);
		}
		free(base);
		return (origin);
	}
	if (port == NULL || *port == '\0')
		return (fail(cause, "docker format needs repositoryPort or "
		    "repositoryUrl"), NULL);
	n = strtol(port, &end, 10);
	if (*end != '\0' || n <= 0 || n > 65535)
		return (fail(cause, "repositoryPort %s is not a port", port),
		    NULL);
	if ((host = url_host(server)) == NULL)
		return (fail(cause, "nexusServerUrl %s is not a URL", server),
		    NULL);
	xasprintf(&base, "%s://%s:%ld", strncmp(server, "http://", 7) == 0 ?
	    "http" : "https", host, n);
	free(host);
	return (base);
}
