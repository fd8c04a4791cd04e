/*
 * custom-parse.c: reads what a CustomArtifact script printed (Harness'
 * shape): a JSON document, the array of artifacts at artifactsArrayPath,
 * in each the version at versionPath and the attributes' values, which
 * become metadata.  Paths are a small JSONPath subset: $, .member,
 * ['member'], [index].  Pure: bytes in, versions out.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "index.h"
#include "json.h"
#include "provider-custom.h"

#define CUSTOM_PATH_MAX	64	/* steps of one path */

/* One step of a path: a member name (allocated) or an index. */
static int
path_step(const char **pp, char **member, long *index)
{
	const char	*p = *pp, *start;
	char		 quote;

	*member = NULL;
	*index = -1;
	if (*p == '.')
		p++;
	if (*p == '[') {
		p++;
		if (*p == '\'' || *p == '"') {
			quote = *p++;
			start = p;
			while (*p != '\0' && *p != quote)
				p++;
			if (*p != quote || p[1] != ']')
				return (-1);
			*member = xstrndup(start, p - start);
			*pp = p + 2;
			return (0);
		}
		if (!isdigit((unsigned char)*p))
			return (-1);
		*index = 0;
		while (isdigit((unsigned char)*p)) {
			if (*index > 1000000)
				return (-1);
			*index = *index * 10 + (*p++ - '0');
		}
		if (*p != ']')
			return (-1);
		*pp = p + 1;
		return (0);
	}
	start = p;
	while (*p != '\0' && *p != '.' && *p != '[')
		p++;
	if (p == start)
		return (-1);
	*member = xstrndup(start, p - start);
	*pp = p;
	return (0);
}

const cJSON *
custom_path(const cJSON *root, const char *path)
{
	const cJSON	*cur = root;
	const char	*p = path;
	char		*member;
	long		 index;
	int		 steps = 0;

	if (p == NULL)
		return (NULL);
	while (*p == ' ')
		p++;
	if (*p == '$')
		p++;
	while (*p != '\0' && cur != NULL) {
		if (++steps > CUSTOM_PATH_MAX || path_step(&p, &member,
		    &index) != 0)
			return (NULL);
		if (member != NULL) {
			cur = cJSON_IsObject(cur) ?
			    cJSON_GetObjectItemCaseSensitive(cur, member) : NULL;
			free(member);
		} else
			cur = cJSON_IsArray(cur) ?
			    cJSON_GetArrayItem(cur, (int)index) : NULL;
	}
	return (cur);
}

/* A scalar as text: strings as they are, numbers without a ".0". */
static char *
scalar_text(const cJSON *v)
{
	char	*out;

	if (cJSON_IsString(v))
		return (xstrdup(v->valuestring));
	if (cJSON_IsNumber(v)) {
		if (v->valuedouble == (double)(long long)v->valuedouble &&
		    v->valuedouble > -9e15 && v->valuedouble < 9e15)
			xasprintf(&out, "%lld", (long long)v->valuedouble);
		else
			xasprintf(&out, "%.17g", v->valuedouble);
		return (out);
	}
	if (cJSON_IsBool(v))
		return (xstrdup(cJSON_IsTrue(v) ? "true" : "false"));
	return (NULL);
}

int
custom_parse(const char *body, size_t len, const char *array_path,
    const char *version_path, const char *digest_path,
    const struct custom_attr *attrs, size_t nattrs, long long max,
    struct versions *out, char **cause)
{
	const cJSON	*arr, *el, *v;
	cJSON		*doc;
	struct version	*ver;
	char		*name, *text;
	struct index	*seen;
	size_t		 k, skipped = 0;

	if (json_parse(body, len, &doc, cause) != 0)
		return (-1);
	if ((arr = custom_path(doc, array_path)) == NULL) {
		cJSON_Delete(doc);
		return (fail(cause, "artifactsArrayPath %s: nothing there",
		    array_path));
	}
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(doc);
		return (fail(cause, "artifactsArrayPath %s is not an array",
		    array_path));
	}
	seen = index_create();
	cJSON_ArrayForEach(el, arr) {
		v = custom_path(el, version_path);
		if ((name = scalar_text(v)) == NULL || *name == '\0') {
			free(name);
			skipped++;
			continue;
		}
		if (index_get(seen, name, NULL)) {
			free(name);
			continue;
		}
		if ((long long)out->n >= max) {
			free(name);
			out->truncated = 1;
			break;
		}
		index_put(seen, name, NULL, 0);
		ver = versions_add(out, name);
		free(name);
		if (digest_path != NULL &&
		    (text = scalar_text(custom_path(el, digest_path))) != NULL)
			ver->digest = text;
		for (k = 0; k < nattrs; k++) {
			text = scalar_text(custom_path(el, attrs[k].path));
			version_set_meta(ver, attrs[k].name, text);
			free(text);
		}
	}
	index_free(seen);
	cJSON_Delete(doc);
	if (out->n == 0 && skipped > 0)
		return (fail(cause, "versionPath %s: no element of the array "
		    "has a version there", version_path));
	return (0);
}
