/*
 * docker-hub.c: Docker Hub's "Hub API" for a DockerRegistry source
 * with providerType DockerHub (provider-protocols.md §1.6).  The registry's
 * tags/list has no order Hub keeps to; the Hub API lists newest push first
 * (ordering=last_updated), so the maxTags cap keeps the newest tags, and it
 * gives each tag's digest and push time, which saves a HEAD per tag.
 *
 * Pure: the first page's URL and the parser of a page, bytes in, tags out.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "provider-docker.h"

#define HUB_PAGE_SIZE	100	/* the most the API gives per page */

char *
docker_hub_tags_url(const char *api, const char *repository, long long cap)
{
	const char	*slash = strchr(repository, '/');
	size_t		 len = strlen(api);
	char		*url;
	long long	 n = cap > 0 && cap < HUB_PAGE_SIZE ? cap : HUB_PAGE_SIZE;

	if (slash == NULL)
		return (NULL);
	while (len > 0 && api[len - 1] == '/')
		len--;
	xasprintf(&url, "%.*s/v2/namespaces/%.*s/repositories/%s/tags?"
	    "page_size=%lld&ordering=last_updated", (int)len, api,
	    (int)(slash - repository), repository, slash + 1, n);
	return (url);
}

void
docker_hub_tags_free(struct docker_hub_tag *tags, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(tags[i].name);
		free(tags[i].digest);
	}
	free(tags);
}

/* A result's push time: tag_last_pushed, else last_updated; 0 if none. */
static int64_t
hub_pushed_at(const cJSON *result)
{
	static const char *const keys[] = { "tag_last_pushed", "last_updated" };
	const cJSON	*v;
	int64_t		 when;
	size_t		 i;

	for (i = 0; i < nitems(keys); i++) {
		v = cJSON_GetObjectItemCaseSensitive(result, keys[i]);
		if (cJSON_IsString(v) &&
		    time_parse_rfc3339(v->valuestring, &when) == 0)
			return (when);
	}
	return (0);
}

int
docker_parse_hub_tags(const char *body, size_t len, struct docker_hub_tag **out,
    size_t *nout, char **next, char **cause)
{
	cJSON	*root;
	int	 rc;

	*out = NULL;
	*nout = 0;
	*next = NULL;
	if ((root = cJSON_ParseWithLength(body, len)) == NULL)
		return (fail(cause, "Hub API answer is not JSON"));
	rc = docker_hub_tags_json(root, out, nout, next, cause);
	cJSON_Delete(root);
	return (rc);
}

int
docker_hub_tags_json(const cJSON *root, struct docker_hub_tag **out,
    size_t *nout, char **next, char **cause)
{
	const cJSON		*results, *r, *name, *digest, *nx;
	struct docker_hub_tag	*tags;
	size_t			 n = 0;

	*out = NULL;
	*nout = 0;
	*next = NULL;
	results = cJSON_GetObjectItemCaseSensitive(root, "results");
	nx = cJSON_GetObjectItemCaseSensitive(root, "next");
	if (!cJSON_IsObject(root) || !cJSON_IsArray(results) ||
	    (nx != NULL && !cJSON_IsNull(nx) && !cJSON_IsString(nx)))
		return (fail(cause, "Hub API answer has no results list"));
	tags = xcalloc((size_t)cJSON_GetArraySize(results) + 1, sizeof *tags);
	cJSON_ArrayForEach(r, results) {
		name = cJSON_GetObjectItemCaseSensitive(r, "name");
		if (!cJSON_IsString(name) || !docker_tag_valid(name->valuestring)) {
			docker_hub_tags_free(tags, n);
			return (fail(cause, "Hub API result without a valid tag "
			    "name"));
		}
		tags[n].name = xstrdup(name->valuestring);
		digest = cJSON_GetObjectItemCaseSensitive(r, "digest");
		if (cJSON_IsString(digest) &&
		    docker_digest_valid(digest->valuestring))
			tags[n].digest = xstrdup(digest->valuestring);
		tags[n].pushed_at = hub_pushed_at(r);
		n++;
	}
	if (cJSON_IsString(nx) && *nx->valuestring != '\0')
		*next = xstrdup(nx->valuestring);
	*out = tags;
	*nout = n;
	return (0);
}
