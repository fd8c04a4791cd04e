/*
 * helm-oci-parse.c: the pure parts of Helm charts in OCI registries:
 * helmRepoUrl, a chart's manifest (is its config Helm's?), its config blob
 * (Chart.yaml as JSON) and the version/tag spelling ('+' is '_').  No I/O.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "docker/provider-docker.h"
#include "helm-oci.h"
#include "http.h"
#include "json.h"

void
helm_oci_url_clear(struct helm_oci_url *u)
{
	free(u->base);
	free(u->registry);
	free(u->namespace);
	memset(u, 0, sizeof *u);
}

int
helm_oci_url_parse(const char *url, struct helm_oci_url *u, char **cause)
{
	const char	*rest, *slash;
	const char	*scheme;
	size_t		 len;

	memset(u, 0, sizeof *u);
	if (strncmp(url, "oci://", 6) == 0) {
		scheme = "https";
		rest = url + 6;
	} else if (strncmp(url, "https://", 8) == 0) {
		scheme = "https";
		rest = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		scheme = "http";
		rest = url + 7;
	} else
		return (fail(cause, "helmRepoUrl %s: not oci://, https:// or "
		    "http://", log_q(url)));
	slash = strchr(rest, '/');
	len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (len == 0 || memchr(rest, '@', len) != NULL ||
	    memchr(rest, '?', len) != NULL)
		return (fail(cause, "helmRepoUrl %s: no host", log_q(url)));
	u->registry = xstrndup(rest, len);
	xasprintf(&u->base, "%s://%s", scheme, u->registry);
	rest = slash != NULL ? slash + 1 : "";
	len = strlen(rest);
	while (len > 0 && rest[len - 1] == '/')
		len--;
	u->namespace = xstrndup(rest, len);
	if (*u->namespace != '\0' && !docker_repository_valid(u->namespace)) {
		helm_oci_url_clear(u);
		return (fail(cause, "helmRepoUrl %s: the path is not a "
		    "repository namespace", log_q(url)));
	}
	return (0);
}

void
helm_oci_manifest_clear(struct helm_oci_manifest *m)
{
	free(m->config_digest);
	free(m->chart_digest);
	memset(m, 0, sizeof *m);
}

int
helm_oci_parse_manifest(const char *body, size_t len,
    struct helm_oci_manifest *m, char **cause)
{
	const cJSON	*layers, *layer;
	const char	*type, *digest;
	cJSON		*doc;

	memset(m, 0, sizeof *m);
	if (json_parse_object(body, len, &doc, cause) != 0)
		return (-1);
	if ((type = json_str(doc, "mediaType")) != NULL &&
	    (strstr(type, "index") != NULL ||
	    strstr(type, "manifest.list") != NULL)) {
		cJSON_Delete(doc);
		return (0);	/* an index: not a chart */
	}
	if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc,
	    "manifests"))) {
		cJSON_Delete(doc);
		return (0);
	}
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "config"))) {
		cJSON_Delete(doc);
		return (fail(cause, "the manifest has no config"));
	}
	type = json_str(doc, "config.mediaType");
	digest = json_str(doc, "config.digest");
	if (type != NULL && strcmp(type, HELM_OCI_CONFIG) == 0) {
		if (digest == NULL || !docker_digest_valid(digest)) {
			cJSON_Delete(doc);
			return (fail(cause, "a Helm manifest whose config "
			    "digest is not a digest"));
		}
		m->chart = 1;
		m->config_digest = xstrdup(digest);
	}
	layers = cJSON_GetObjectItemCaseSensitive(doc, "layers");
	if (!cJSON_IsArray(layers))
		layers = NULL;
	cJSON_ArrayForEach(layer, layers) {
		type = json_str(layer, "mediaType");
		digest = json_str(layer, "digest");
		if (m->chart && type != NULL && digest != NULL &&
		    docker_digest_valid(digest) &&
		    (strcmp(type, HELM_OCI_CHART) == 0 ||
		    strcmp(type, HELM_OCI_LEGACY) == 0)) {
			m->chart_digest = xstrdup(digest);
			break;
		}
	}
	cJSON_Delete(doc);
	return (0);
}

static char *
short_str(const cJSON *doc, const char *key)
{
	const char	*s = json_str(doc, key);

	if (s == NULL || *s == '\0' || strlen(s) > 256)
		return (NULL);
	return (xstrdup(s));
}

int
helm_oci_parse_config(const char *body, size_t len, char **name,
    char **version, char **app_version, char **cause)
{
	cJSON	*doc;

	*name = *version = *app_version = NULL;
	if (json_parse_object(body, len, &doc, cause) != 0)
		return (-1);
	*name = short_str(doc, "name");
	*version = short_str(doc, "version");
	*app_version = short_str(doc, "appVersion");
	cJSON_Delete(doc);
	if (*name == NULL || *version == NULL) {
		free(*name);
		free(*version);
		free(*app_version);
		*name = *version = *app_version = NULL;
		return (fail(cause, "the chart config has no name or "
		    "version"));
	}
	return (0);
}

static char *
swap(const char *s, char from, char to)
{
	char	*out, *p;

	out = xstrdup(s);
	for (p = out; *p != '\0'; p++) {
		if (*p == from)
			*p = to;
	}
	return (out);
}

char *
helm_oci_version_of(const char *tag)
{
	return (swap(tag, '_', '+'));
}

char *
helm_oci_tag_of(const char *version)
{
	return (swap(version, '+', '_'));
}
