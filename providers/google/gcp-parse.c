/*
 * gcp-parse.c: pure parsers of what Google answers the Google family
 * (provider-protocols.md §2, §3): a service-account key file, the claims of
 * its JWT grant, error bodies (APIs' and OAuth's), GCS objects.list,
 * Artifact Registry dockerImages.list and packages.versions.list, and
 * gcr.io's tags/list with its manifest map.  JSON in (bytes or a parsed
 * page), versions out; nothing here does I/O.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "google.h"
#include "http.h"
#include "json.h"

void
gcp_key_clear(struct gcp_key *k)
{
	if (k->private_key != NULL) {
		explicit_bzero(k->private_key, strlen(k->private_key));
		free(k->private_key);
	}
	free(k->client_email);
	free(k->private_key_id);
	free(k->token_uri);
	memset(k, 0, sizeof *k);
}

static char *
str_or_null(const cJSON *o, const char *name)
{
	const char	*s = json_str(o, name);

	return (s != NULL && *s != '\0' ? xstrdup(s) : NULL);
}

int
gcp_parse_key(const char *body, size_t len, struct gcp_key *k, char **cause)
{
	cJSON		*json;
	const char	*type;
	char		*why;

	memset(k, 0, sizeof *k);
	/* The parser's cause could quote the key: say only where. */
	if (json_parse_object(body, len, &json, &why) != 0) {
		free(why);
		return (fail(cause, "the service-account key is not a JSON "
		    "object"));
	}
	type = json_str(json, "type");
	if (type != NULL && strcmp(type, "service_account") != 0) {
		fail(cause, "the key is of type %s, not service_account",
		    log_q(type));
		cJSON_Delete(json);
		return (-1);
	}
	k->client_email = str_or_null(json, "client_email");
	k->private_key = str_or_null(json, "private_key");
	k->private_key_id = str_or_null(json, "private_key_id");
	k->token_uri = str_or_null(json, "token_uri");
	cJSON_Delete(json);
	if (k->client_email == NULL || k->private_key == NULL) {
		gcp_key_clear(k);
		return (fail(cause, "the service-account key has no "
		    "client_email or private_key"));
	}
	if (k->token_uri == NULL)
		k->token_uri = xstrdup(GCP_TOKEN_URI);
	if (strncmp(k->token_uri, "https://", 8) != 0 &&
	    strncmp(k->token_uri, "http://", 7) != 0) {
		gcp_key_clear(k);
		return (fail(cause, "the key's token_uri is not an http(s) "
		    "URL"));
	}
	return (0);
}

char *
gcp_grant_claims(const struct gcp_key *k, const char *scope, int64_t now_s)
{
	cJSON	*c = cJSON_CreateObject();
	char	*s;

	cJSON_AddStringToObject(c, "iss", k->client_email);
	cJSON_AddStringToObject(c, "scope", scope);
	cJSON_AddStringToObject(c, "aud", k->token_uri);
	/* A little in the past: clocks of VMs drift (§2.4). */
	cJSON_AddNumberToObject(c, "iat", (double)(now_s - 30));
	cJSON_AddNumberToObject(c, "exp", (double)(now_s - 30 + 3600));
	s = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	return (s);
}

int
gcp_parse_error(const char *body, size_t len, char **status, char **message)
{
	cJSON		*json;
	const cJSON	*err;
	const char	*s;

	*status = *message = NULL;
	if (body == NULL || json_parse_object(body, len, &json, NULL) != 0)
		return (-1);
	err = cJSON_GetObjectItemCaseSensitive(json, "error");
	if (cJSON_IsString(err)) {
		*status = xstrdup(err->valuestring);
		if ((s = json_str(json, "error_description")) != NULL)
			*message = xstrdup(s);
	} else if (cJSON_IsObject(err)) {
		if ((s = json_str(err, "status")) != NULL)
			*status = xstrdup(s);
		else if ((s = json_str(cJSON_GetArrayItem(
		    cJSON_GetObjectItemCaseSensitive(err, "errors"), 0),
		    "reason")) != NULL)
			*status = xstrdup(s);
		if ((s = json_str(err, "message")) != NULL)
			*message = xstrdup(s);
	}
	cJSON_Delete(json);
	if (*status == NULL && *message == NULL)
		return (-1);
	return (0);
}

/* "123" or 123: a non-negative int64, else -1. */
static int64_t
num_field(const cJSON *o, const char *name)
{
	const cJSON	*n = cJSON_GetObjectItemCaseSensitive(o, name);
	char		*end;
	long long	 v;

	if (cJSON_IsNumber(n))
		return (n->valuedouble >= 0 && n->valuedouble < 9.2e18 ?
		    (int64_t)n->valuedouble : -1);
	if (!cJSON_IsString(n) || n->valuestring[0] == '\0' ||
	    n->valuestring[0] == '-')
		return (-1);
	v = strtoll(n->valuestring, &end, 10);
	return (*end == '\0' ? (int64_t)v : -1);
}

static int64_t
time_field(const cJSON *o, const char *name)
{
	const char	*s = json_str(o, name);
	int64_t		 t;

	if (s == NULL || time_parse_rfc3339(s, &t) != 0)
		return (0);
	return (t);
}

/* An array or object to walk, or NULL: nothing to walk. */
static const cJSON *
list_of(const cJSON *a)
{
	return (cJSON_IsArray(a) || cJSON_IsObject(a) ? a : NULL);
}

static const cJSON *
array_of(const cJSON *page, const char *name, int *bad)
{
	const cJSON	*a = cJSON_GetObjectItemCaseSensitive(page, name);

	*bad = a != NULL && !cJSON_IsNull(a) && !cJSON_IsArray(a);
	return (cJSON_IsArray(a) ? a : NULL);
}

int
gcp_parse_gcs_objects(const cJSON *page, struct versions *out, char **cause)
{
	const cJSON	*items, *it;
	const char	*name, *digest, *gen, *key, *s;
	struct version	*v;
	int		 bad;

	if (!cJSON_IsObject(page))
		return (fail(cause, "not a JSON object"));
	if ((items = array_of(page, "items", &bad)) == NULL)
		return (bad ? fail(cause, "\"items\" is not an array") : 0);
	cJSON_ArrayForEach(it, items) {
		if ((name = json_str(it, "name")) == NULL || *name == '\0')
			continue;
		/* Folders made by the console: no object to deliver. */
		if (name[strlen(name) - 1] == '/')
			continue;
		v = versions_add(out, name);
		/*
		 * Composite objects have no md5Hash: crc32c then.  Every
		 * write makes a new generation, the same bytes or not: the
		 * digest carries it (HASH@GENERATION), so the core sees an
		 * object written again as updated.
		 */
		key = "md5Hash";
		if ((digest = json_str(it, key)) == NULL || *digest == '\0')
			digest = json_str(it, (key = "crc32c"));
		gen = json_str(it, "generation");
		if (digest != NULL && *digest != '\0') {
			version_set_meta(v, key, digest);
			if (gen != NULL && *gen != '\0')
				xasprintf(&v->digest, "%s@%s", digest, gen);
			else
				v->digest = xstrdup(digest);
		}
		v->pushed_at = time_field(it, "updated");
		v->size = num_field(it, "size");
		version_set(v, "path", name);
		if (v->size >= 0)
			version_set_number(v, "size", (double)v->size);
		version_set_meta(v, "filePath", name);
		if ((s = json_str(it, "generation")) != NULL)
			version_set_meta(v, "generation", s);
		if ((s = json_str(it, "contentType")) != NULL)
			version_set_meta(v, "contentType", s);
		if ((s = json_str(it, "mediaLink")) != NULL)
			version_set_meta(v, "url", s);
	}
	return (0);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* The last segment of a resource name, %2F and friends decoded. */
static char *
last_segment(const char *name, const char *marker)
{
	const char	*at = strstr(name, marker);
	struct buf	 b = { 0 };
	const char	*p;
	int		 hi, lo;
	char		 c;

	if (at == NULL)
		return (NULL);
	for (p = at + strlen(marker); *p != '\0'; p++) {
		if (*p == '%' && (hi = hexval(p[1])) >= 0 &&
		    (lo = hexval(p[2])) >= 0) {
			c = (char)(hi * 16 + lo);
			buf_add(&b, &c, 1);
			p += 2;
		} else
			buf_add(&b, p, 1);
	}
	if (b.len == 0 || memchr(b.data, '\0', b.len) != NULL) {
		buf_free(&b);
		return (NULL);
	}
	return (buf_take(&b));
}

int
gcp_parse_ar_images(const cJSON *page, const char *package,
    struct versions *out, char **cause)
{
	const cJSON	*imgs, *img, *tags, *t;
	const char	*uri, *at, *name;
	char		*pkg, *cut;
	struct version	*v;
	int64_t		 pushed, size;
	int		 bad;

	if (!cJSON_IsObject(page))
		return (fail(cause, "not a JSON object"));
	if ((imgs = array_of(page, "dockerImages", &bad)) == NULL)
		return (bad ? fail(cause, "\"dockerImages\" is not an array") :
		    0);
	cJSON_ArrayForEach(img, imgs) {
		/* .../dockerImages/<pkg %2F-escaped>@sha256:… */
		if ((name = json_str(img, "name")) == NULL ||
		    (pkg = last_segment(name, "/dockerImages/")) == NULL)
			continue;
		if ((cut = strrchr(pkg, '@')) != NULL)
			*cut = '\0';
		if (package != NULL && strcmp(pkg, package) != 0) {
			free(pkg);
			continue;
		}
		free(pkg);
		uri = json_str(img, "uri");
		at = uri != NULL ? strrchr(uri, '@') : NULL;
		if (at == NULL && (at = strrchr(name, '@')) == NULL)
			continue;
		pushed = time_field(img, "uploadTime");
		size = num_field(img, "imageSizeBytes");
		tags = cJSON_GetObjectItemCaseSensitive(img, "tags");
		cJSON_ArrayForEach(t, list_of(tags)) {
			if (!cJSON_IsString(t) || t->valuestring[0] == '\0')
				continue;
			v = versions_add(out, t->valuestring);
			v->digest = xstrdup(at + 1);
			v->pushed_at = pushed;
			v->size = size;
			if (uri != NULL)
				version_set_meta(v, "uri", uri);
		}
	}
	return (0);
}

int
gcp_parse_ar_versions(const cJSON *page, struct versions *out, char **cause)
{
	const cJSON	*vers, *it, *tags, *t;
	const char	*name, *tn;
	char		*id, *tag;
	struct version	*v;
	struct buf	 b;
	int		 bad;

	if (!cJSON_IsObject(page))
		return (fail(cause, "not a JSON object"));
	if ((vers = array_of(page, "versions", &bad)) == NULL)
		return (bad ? fail(cause, "\"versions\" is not an array") : 0);
	cJSON_ArrayForEach(it, vers) {
		if ((name = json_str(it, "name")) == NULL ||
		    (id = last_segment(name, "/versions/")) == NULL)
			continue;
		v = versions_add(out, id);
		free(id);
		v->pushed_at = time_field(it, "createTime");
		memset(&b, 0, sizeof b);
		tags = cJSON_GetObjectItemCaseSensitive(it, "relatedTags");
		cJSON_ArrayForEach(t, list_of(tags)) {
			if ((tn = json_str(t, "name")) == NULL ||
			    (tag = last_segment(tn, "/tags/")) == NULL)
				continue;
			buf_printf(&b, "%s%s", b.len > 0 ? "," : "", tag);
			free(tag);
		}
		if (b.len > 0)
			version_set_meta(v, "tags", b.data);
		buf_free(&b);
	}
	return (0);
}

int
gcp_parse_gcr_tags(const cJSON *page, struct versions *out, char **cause)
{
	const cJSON	*man, *m, *tags, *t;
	struct version	*v;
	int64_t		 ms, size;

	if (!cJSON_IsObject(page))
		return (fail(cause, "not a JSON object"));
	man = cJSON_GetObjectItemCaseSensitive(page, "manifest");
	if (man != NULL && !cJSON_IsNull(man) && !cJSON_IsObject(man))
		return (fail(cause, "\"manifest\" is not an object"));
	cJSON_ArrayForEach(m, list_of(man)) {
		if (m->string == NULL || strncmp(m->string, "sha256:", 7) != 0)
			continue;
		if ((ms = num_field(m, "timeUploadedMs")) < 0)
			ms = num_field(m, "timeCreatedMs");
		size = num_field(m, "imageSizeBytes");
		tags = cJSON_GetObjectItemCaseSensitive(m, "tag");
		cJSON_ArrayForEach(t, list_of(tags)) {
			if (!cJSON_IsString(t) || t->valuestring[0] == '\0')
				continue;
			v = versions_add(out, t->valuestring);
			v->digest = xstrdup(m->string);
			v->pushed_at = ms > 0 ? ms / 1000 : 0;
			v->size = size;
		}
	}
	/* A registry without the map: the plain tag list, no digests. */
	if (!cJSON_IsObject(man)) {
		tags = cJSON_GetObjectItemCaseSensitive(page, "tags");
		if (tags != NULL && !cJSON_IsNull(tags) && !cJSON_IsArray(tags))
			return (fail(cause, "\"tags\" is not an array"));
		cJSON_ArrayForEach(t, list_of(tags))
			if (cJSON_IsString(t) && t->valuestring[0] != '\0')
				(void)versions_add(out, t->valuestring);
	}
	return (0);
}
