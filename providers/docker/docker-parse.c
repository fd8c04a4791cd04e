/*
 * docker-parse.c: the pure parsers of the DockerRegistry provider.
 * Bytes of a registry response in, plain values out; no I/O, no clock.  A
 * registry is a stranger: every field is checked for its type, names and
 * digests for their grammar (they end up in URLs and events), and every
 * failure says what was wrong and where, so one log line explains a poll.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "provider-docker.h"

/* Leading whitespace, then the first byte: tells HTML and empty apart. */
static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'))
		p++;
	return (p);
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
static int
utf8_valid(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned		 c, need, min;

	while (*p != '\0') {
		c = *p++;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			min = 0x80;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			min = 0x800;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			min = 0x10000;
			c &= 0x07;
		} else
			return (0);
		for (; need > 0; need--, p++) {
			if ((*p & 0xc0) != 0x80)
				return (0);
			c = (c << 6) | (*p & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return (0);
	}
	return (1);
}

int
docker_tag_valid(const char *tag)
{
	size_t	 i;

	if (!isalnum((unsigned char)tag[0]) && tag[0] != '_')
		return (0);
	for (i = 1; tag[i] != '\0'; i++) {
		if (i >= 128)
			return (0);
		if (!isalnum((unsigned char)tag[i]) && tag[i] != '_' &&
		    tag[i] != '.' && tag[i] != '-')
			return (0);
	}
	return (1);
}

int
docker_digest_valid(const char *digest)
{
	const char	*colon, *p;
	size_t		 hexlen = 0;

	if ((colon = strchr(digest, ':')) == NULL || colon == digest)
		return (0);
	for (p = digest; p < colon; p++) {
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    strchr("+._-", *p) == NULL)
			return (0);
	}
	if (colon[1] == '\0' || strlen(colon + 1) > 1024)
		return (0);
	if (strncmp(digest, "sha256:", 7) == 0)
		hexlen = 64;
	else if (strncmp(digest, "sha512:", 7) == 0)
		hexlen = 128;
	for (p = colon + 1; *p != '\0'; p++) {
		if (hexlen != 0 && !isdigit((unsigned char)*p) &&
		    (*p < 'a' || *p > 'f'))
			return (0);
		if (!isalnum((unsigned char)*p) && strchr("=_-", *p) == NULL)
			return (0);
	}
	return (hexlen == 0 || strlen(colon + 1) == hexlen);
}

/*
 * The fast path of docker_parse_tags(): the listing registries send,
 * {"name": "…", "tags": ["…", …]}, with plain strings (no escape, no
 * control byte) and a null or string value for any other key, scanned
 * without building a cJSON tree.  It decides only what it fully checked:
 * on anything else (escapes, other values, a repeated "tags", a bad tag, an
 * error of any kind) it returns 0 and the caller parses with cJSON, whose
 * answer and error message stand.  So it accepts only documents cJSON
 * accepts, with the same tags.  1 with *tags and *ntags set when it decided.
 */
struct tag_scan {
	const char	*p;
	const char	*end;
};

static void
scan_space(struct tag_scan *s)
{
	s->p = skip_space(s->p, s->end);
}

static int
scan_byte(struct tag_scan *s, char c)
{
	scan_space(s);
	if (s->p == s->end || *s->p != c)
		return (0);
	s->p++;
	return (1);
}

/* A plain string: its bytes in [*start, *start + *len). */
static int
scan_plain_string(struct tag_scan *s, const char **start, size_t *len)
{
	const char	*q;

	if (!scan_byte(s, '"'))
		return (0);
	for (q = s->p; q < s->end && *q != '"'; q++) {
		if ((unsigned char)*q < 0x20 || *q == '\\')
			return (0);
	}
	if (q == s->end)
		return (0);
	*start = s->p;
	*len = (size_t)(q - s->p);
	s->p = q + 1;
	return (1);
}

/* "tags": null or ["…", …], every tag valid; appended to *out. */
static int
scan_tag_array(struct tag_scan *s, char ***out, size_t *n, int *seen)
{
	const char	*start;
	size_t		 len, size = 0;

	*seen = 1;
	scan_space(s);
	if (s->end - s->p >= 4 && memcmp(s->p, "null", 4) == 0) {
		s->p += 4;
		return (1);
	}
	if (!scan_byte(s, '['))
		return (0);
	*out = xcalloc(1, sizeof **out);
	if (scan_byte(s, ']'))
		return (1);
	do {
		if (!scan_plain_string(s, &start, &len))
			return (0);
		if (*n + 1 >= size) {
			size = size == 0 ? 64 : size * 2;
			*out = xreallocarray(*out, size, sizeof **out);
		}
		(*out)[*n] = xstrndup(start, len);
		if (!docker_tag_valid((*out)[(*n)++]))
			return (0);
	} while (scan_byte(s, ','));
	return (scan_byte(s, ']'));
}

static int
docker_scan_tags(const char *body, size_t len, char ***tags, size_t *ntags)
{
	struct tag_scan	 s = { body, body + len };
	const char	*key, *value;
	char		**out = NULL;
	size_t		 klen, vlen, n = 0;
	int		 seen = 0;

	if (!scan_byte(&s, '{'))
		return (0);
	if (!scan_byte(&s, '}')) {
		do {
			if (!scan_plain_string(&s, &key, &klen) ||
			    !scan_byte(&s, ':'))
				goto no;
			if (klen == 4 && memcmp(key, "tags", 4) == 0) {
				if (seen || !scan_tag_array(&s, &out, &n,
				    &seen))
					goto no;
				continue;
			}
			scan_space(&s);
			if (s.end - s.p >= 4 && memcmp(s.p, "null", 4) == 0)
				s.p += 4;
			else if (!scan_plain_string(&s, &value, &vlen))
				goto no;
		} while (scan_byte(&s, ','));
		if (!scan_byte(&s, '}'))
			goto no;
	}
	scan_space(&s);
	if (!seen || s.p != s.end)
		goto no;
	*tags = out;
	*ntags = n;
	return (1);

no:
	docker_tags_free(out, n);
	return (0);
}

int
docker_parse_tags(const char *body, size_t len, char ***tags, size_t *ntags,
    char **cause)
{
	cJSON	*json, *list, *item;
	char	**out = NULL;
	size_t	 n = 0, i = 0;

	*tags = NULL;
	*ntags = 0;
	if (docker_scan_tags(body, len, tags, ntags))
		return (0);
	if (json_parse_object(body, len, &json, cause) != 0)
		return (-1);
	list = cJSON_GetObjectItemCaseSensitive(json, "tags");
	if (list == NULL) {
		cJSON_Delete(json);
		return (fail(cause, "no \"tags\" in the response"));
	}
	if (cJSON_IsNull(list)) {
		cJSON_Delete(json);
		return (0);
	}
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(json);
		return (fail(cause, "\"tags\" is not an array"));
	}
	n = (size_t)cJSON_GetArraySize(list);
	out = xcalloc(n == 0 ? 1 : n, sizeof *out);
	cJSON_ArrayForEach(item, list) {
		if (!cJSON_IsString(item)) {
			fail(cause, "tags[%zu] is not a string", i);
			goto bad;
		}
		if (!docker_tag_valid(item->valuestring)) {
			fail(cause, "tags[%zu] is not a valid tag name", i);
			goto bad;
		}
		out[i++] = xstrdup(item->valuestring);
	}
	cJSON_Delete(json);
	*tags = out;
	*ntags = i;
	return (0);

bad:
	docker_tags_free(out, i);
	cJSON_Delete(json);
	return (-1);
}

void
docker_tags_free(char **tags, size_t ntags)
{
	size_t	 i;

	for (i = 0; i < ntags; i++)
		free(tags[i]);
	free(tags);
}

void
docker_manifest_clear(struct docker_manifest *m)
{
	free(m->config_digest);
	free(m->platform_digest);
	memset(m, 0, sizeof *m);
}

static const char *
json_string(const cJSON *obj, const char *key)
{
	const cJSON	*item;

	item = cJSON_GetObjectItemCaseSensitive(obj, key);
	return (cJSON_IsString(item) ? item->valuestring : NULL);
}

static int
media_is_index(const char *type)
{
	return (strncmp(type, "application/vnd.oci.image.index.v1+json",
	    39) == 0 || strncmp(type,
	    "application/vnd.docker.distribution.manifest.list.v2+json",
	    57) == 0);
}

static int
media_is_image(const char *type)
{
	return (strncmp(type, "application/vnd.oci.image.manifest.v1+json",
	    42) == 0 || strncmp(type,
	    "application/vnd.docker.distribution.manifest.v2+json", 52) == 0);
}

/*
 * Choose from an index: linux/amd64 if there is one, else the first entry
 * that is a real platform (attestations say unknown/unknown).
 */
static int
manifest_pick(const cJSON *list, struct docker_manifest *m, char **cause)
{
	const cJSON	*item, *platform;
	const char	*os, *arch, *digest, *chosen = NULL;
	size_t		 i = 0;
	int		 amd64 = 0;

	if (!cJSON_IsArray(list))
		return (fail(cause, "\"manifests\" is not an array"));
	cJSON_ArrayForEach(item, list) {
		if (!cJSON_IsObject(item))
			return (fail(cause, "manifests[%zu] is not an object",
			    i));
		digest = json_string(item, "digest");
		if (digest == NULL || !docker_digest_valid(digest))
			return (fail(cause, "manifests[%zu] has no valid "
			    "digest", i));
		i++;
		platform = cJSON_GetObjectItemCaseSensitive(item, "platform");
		os = json_string(platform, "os");
		arch = json_string(platform, "architecture");
		if (os == NULL || arch == NULL || strcmp(os, "unknown") == 0)
			continue;
		if (!amd64 && strcmp(os, "linux") == 0 &&
		    strcmp(arch, "amd64") == 0) {
			chosen = digest;
			amd64 = 1;
		} else if (chosen == NULL)
			chosen = digest;
	}
	if (chosen == NULL)
		return (fail(cause, "the index lists no platform image"));
	m->kind = DOCKER_MANIFEST_INDEX;
	m->platform_digest = xstrdup(chosen);
	return (0);
}

int
docker_parse_manifest(const char *body, size_t len, const char *content_type,
    struct docker_manifest *m, char **cause)
{
	cJSON		*json, *config;
	const cJSON	*version;
	const char	*type, *digest;
	int		 rc;

	memset(m, 0, sizeof *m);
	if (json_parse_object(body, len, &json, cause) != 0)
		return (-1);
	version = cJSON_GetObjectItemCaseSensitive(json, "schemaVersion");
	if (cJSON_IsNumber(version) && version->valuedouble == 1) {
		cJSON_Delete(json);
		return (fail(cause, "schema 1 manifest (not supported)"));
	}
	if ((type = json_string(json, "mediaType")) == NULL)
		type = content_type;
	if (type == NULL) {
		/* Neither says: the shape does. */
		if (cJSON_GetObjectItemCaseSensitive(json, "manifests") != NULL)
			type = "application/vnd.oci.image.index.v1+json";
		else
			type = "application/vnd.oci.image.manifest.v1+json";
	}
	if (media_is_index(type)) {
		rc = manifest_pick(cJSON_GetObjectItemCaseSensitive(json,
		    "manifests"), m, cause);
		cJSON_Delete(json);
		return (rc);
	}
	if (!media_is_image(type)) {
		cJSON_Delete(json);
		return (fail(cause, "unexpected manifest type"));
	}
	config = cJSON_GetObjectItemCaseSensitive(json, "config");
	if (!cJSON_IsObject(config)) {
		cJSON_Delete(json);
		return (fail(cause, "the manifest has no \"config\" object"));
	}
	digest = json_string(config, "digest");
	if (digest == NULL || !docker_digest_valid(digest)) {
		cJSON_Delete(json);
		return (fail(cause, "the manifest config has no valid digest"));
	}
	m->kind = DOCKER_MANIFEST_IMAGE;
	m->config_digest = xstrdup(digest);
	cJSON_Delete(json);
	return (0);
}

int
docker_parse_config(const char *body, size_t len, cJSON **labels,
    int64_t *created_s, char **cause)
{
	cJSON		*json, *config, *found, *item, *out = NULL;
	const char	*created;

	*labels = NULL;
	*created_s = 0;
	if (json_parse_object(body, len, &json, cause) != 0)
		return (-1);
	created = json_string(json, "created");
	if (created != NULL && time_parse_rfc3339(created, created_s) != 0)
		*created_s = 0;
	config = cJSON_GetObjectItemCaseSensitive(json, "config");
	if (config != NULL && !cJSON_IsNull(config) && !cJSON_IsObject(config))
		goto bad_config;
	found = cJSON_GetObjectItemCaseSensitive(config, "Labels");
	if (found != NULL && !cJSON_IsNull(found)) {
		if (!cJSON_IsObject(found))
			goto bad_labels;
		out = cJSON_CreateObject();
		cJSON_ArrayForEach(item, found) {
			if (!cJSON_IsString(item)) {
				fail(cause, "label %s is not a string",
				    utf8_valid(item->string) ? item->string :
				    "(not UTF-8)");
				goto bad;
			}
			if (!utf8_valid(item->string) ||
			    !utf8_valid(item->valuestring)) {
				fail(cause, "a label is not valid UTF-8");
				goto bad;
			}
			/* A repeated key: the last one wins, as in Docker. */
			cJSON_DeleteItemFromObjectCaseSensitive(out,
			    item->string);
			cJSON_AddStringToObject(out, item->string,
			    item->valuestring);
		}
	}
	cJSON_Delete(json);
	*labels = out;
	return (0);

bad_config:
	fail(cause, "\"config\" is not an object");
	goto bad;
bad_labels:
	fail(cause, "\"config.Labels\" is not an object");
bad:
	cJSON_Delete(out);
	cJSON_Delete(json);
	*created_s = 0;
	return (-1);
}
