/*
 * json.c: JSON helpers for the providers' parsers (json.h): a parse with a
 * cause a person can act on, and safe lookups by dotted path.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"

static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'))
		p++;
	return (p);
}

/* The whole body must be one JSON value (of any type). */
int
json_parse(const char *body, size_t len, cJSON **out, char **cause)
{
	const char	*end = body + len, *first, *stop = NULL;
	cJSON		*json;

	*out = NULL;
	if (body == NULL || (first = skip_space(body, end)) == end)
		return (fail(cause, "empty body"));
	if (*first == '<')
		return (fail(cause, "not JSON (an HTML or XML page)"));
	json = cJSON_ParseWithLengthOpts(body, len, &stop, 0);
	if (json == NULL) {
		if (stop == NULL || stop < body || stop > end)
			return (fail(cause, "invalid JSON"));
		return (fail(cause, "invalid JSON at byte %zu",
		    (size_t)(stop - body)));
	}
	if (skip_space(stop, end) != end) {
		cJSON_Delete(json);
		return (fail(cause, "invalid JSON at byte %zu: data after the "
		    "value", (size_t)(skip_space(stop, end) - body)));
	}
	*out = json;
	return (0);
}

int
json_parse_object(const char *body, size_t len, cJSON **out, char **cause)
{
	if (json_parse(body, len, out, cause) != 0)
		return (-1);
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return (fail(cause, "not a JSON object"));
	}
	return (0);
}

const cJSON *
json_get(const cJSON *obj, const char *path)
{
	const char	*dot;
	char		 key[128];
	size_t		 n;

	while (obj != NULL && path != NULL && *path != '\0') {
		if (!cJSON_IsObject(obj))
			return (NULL);
		dot = strchr(path, '.');
		n = dot != NULL ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof key)
			return (NULL);
		memcpy(key, path, n);
		key[n] = '\0';
		obj = cJSON_GetObjectItemCaseSensitive(obj, key);
		path = dot != NULL ? dot + 1 : NULL;
	}
	return (obj);
}

const char *
json_str(const cJSON *obj, const char *path)
{
	const cJSON	*v = json_get(obj, path);

	return (cJSON_IsString(v) ? v->valuestring : NULL);
}

int
json_num(const cJSON *obj, const char *path, double *out)
{
	const cJSON	*v = json_get(obj, path);

	if (!cJSON_IsNumber(v))
		return (-1);
	*out = v->valuedouble;
	return (0);
}

int64_t
json_time(const cJSON *obj, const char *path)
{
	const char	*s = json_str(obj, path);
	int64_t		 t;

	if (s == NULL || time_parse_rfc3339(s, &t) != 0)
		return (0);
	return (t);
}

static char *
json_one_line(const char *s)
{
	char	*out, *p;
	size_t	 len = strlen(s);

	if (len > 200)
		len = 200;
	out = xstrndup(s, len);
	for (p = out; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return (out);
}

char *
json_error_message(const char *body, size_t len)
{
	const cJSON	*errors;
	const char	*s;
	cJSON		*doc;
	char		*cause, *out = NULL;

	if (body == NULL || json_parse_object(body, len, &doc, &cause) != 0) {
		if (body != NULL)
			free(cause);
		return (NULL);
	}
	errors = cJSON_GetObjectItemCaseSensitive(doc, "errors");
	if ((s = json_str(doc, "message")) != NULL ||
	    (s = json_str(doc, "error")) != NULL ||
	    (s = json_str(doc, "error.message")) != NULL ||
	    (cJSON_IsArray(errors) &&
	    (s = json_str(cJSON_GetArrayItem(errors, 0), "message")) != NULL))
		out = *s != '\0' ? json_one_line(s) : NULL;
	cJSON_Delete(doc);
	return (out);
}
