/*
 * github-parse.c: the pure parts of the GitHub packages API: the API root
 * of a connector URL, the versions URL, and the parser of a page of
 * versions (provider-protocols.md §12.3).  No I/O, no clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "docker/provider-docker.h"
#include "github.h"
#include "http.h"
#include "json.h"

const char *const github_package_types[] = {
	"container", "docker", "npm", "maven", "nuget", "rubygems", NULL
};

char *
github_api_root(const char *url)
{
	char	*host, *origin, *root;

	if (url == NULL || (host = url_host(url)) == NULL)
		return (xstrdup("https://api.github.com"));
	if (strcmp(host, "github.com") == 0 ||
	    strcmp(host, "www.github.com") == 0 ||
	    strcmp(host, "api.github.com") == 0) {
		free(host);
		return (xstrdup("https://api.github.com"));
	}
	free(host);
	if ((origin = url_origin(url)) == NULL)
		return (xstrdup("https://api.github.com"));
	xasprintf(&root, "%s/api/v3", origin);
	free(origin);
	return (root);
}

char *
github_versions_url(const char *api, const char *org, const char *type,
    const char *name)
{
	char	*o, *n, *url;
	size_t	 len = strlen(api);

	while (len > 0 && api[len - 1] == '/')
		len--;
	n = url_escape(name);
	if (org != NULL && *org != '\0') {
		o = url_escape(org);
		xasprintf(&url, "%.*s/orgs/%s/packages/%s/%s/versions?"
		    "per_page=100", (int)len, api, o, type, n);
		free(o);
	} else
		xasprintf(&url, "%.*s/user/packages/%s/%s/versions?"
		    "per_page=100", (int)len, api, type, n);
	free(n);
	return (url);
}

static int
name_ok(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > 256)
		return (0);
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f)
			return (0);
	}
	return (1);
}

static struct version *
add(struct versions *vs, const char *name, const cJSON *item, int container)
{
	struct version	*v;
	const char	*url;

	v = versions_add(vs, name);
	v->pushed_at = json_time(item, "updated_at");
	if (v->pushed_at == 0)
		v->pushed_at = json_time(item, "created_at");
	if ((url = json_str(item, "html_url")) != NULL && name_ok(url)) {
		version_set_meta(v, "url", url);
		if (!container)
			version_set(v, "downloadUrl", url);
	}
	return (v);
}

int
github_parse_versions(const cJSON *page, int container, long long max,
    struct versions *vs, char **cause)
{
	const cJSON	*item, *tags, *tag;
	const char	*name;
	struct version	*v;
	double		 id;
	char		 idbuf[32];

	if (!cJSON_IsArray(page)) {
		if (json_str(page, "message") != NULL)
			return (fail(cause, "not a list of versions: %s",
			    json_str(page, "message")));
		return (fail(cause, "not a list of versions"));
	}
	cJSON_ArrayForEach(item, page) {
		if (!cJSON_IsObject(item))
			return (fail(cause, "a version is not an object"));
		if ((name = json_str(item, "name")) == NULL || !name_ok(name))
			continue;
		if (!container) {
			if ((long long)vs->n >= max) {
				vs->truncated = 1;
				return (1);
			}
			v = add(vs, name, item, 0);
			if (json_num(item, "id", &id) == 0) {
				snprintf(idbuf, sizeof idbuf, "%.0f", id);
				version_set_meta(v, "id", idbuf);
			}
			continue;
		}
		if (!docker_digest_valid(name))
			continue;
		tags = json_get(item, "metadata.container.tags");
		if (!cJSON_IsArray(tags))
			continue;
		cJSON_ArrayForEach(tag, tags) {
			if (!cJSON_IsString(tag) ||
			    !docker_tag_valid(tag->valuestring))
				continue;
			if ((long long)vs->n >= max) {
				vs->truncated = 1;
				return (1);
			}
			v = add(vs, tag->valuestring, item, 1);
			v->digest = xstrdup(name);
		}
	}
	return ((long long)vs->n >= max ? 1 : 0);
}
