/*
 * event.c: the event of DESIGN §4, a CloudEvents 1.0 structured JSON object,
 * and its id.  The id hashes (source, version, digest) so that the same
 * artifact always yields the same id and receivers can drop repeats, across
 * restarts and replicas alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "event.h"
#include "provider.h"

void
event_id(const char *source, const char *version, const char *digest,
    char out[33])
{
	EVP_MD_CTX	*ctx;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	size_t		 i;

	if (digest == NULL)
		digest = "";
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		fatalx("EVP_MD_CTX_new failed");
	/* Each part with its NUL, so ("ab", "c") and ("a", "bc") differ. */
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, source, strlen(source) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, version, strlen(version) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, digest, strlen(digest)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		fatalx("SHA-256 failed");
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[32] = '\0';
}

/* A string member, or null when the value is unknown. */
static void
add_string_or_null(cJSON *obj, const char *name, const char *value)
{
	if (value == NULL)
		cJSON_AddNullToObject(obj, name);
	else
		cJSON_AddStringToObject(obj, name, value);
}

/*
 * metadata: SHA and SHAV2 (the names Harness expressions use) when the
 * digest is known, then whatever the provider recorded for the version.
 */
static cJSON *
event_metadata(const struct version *v)
{
	cJSON	*md, *item;

	md = cJSON_CreateObject();
	if (v->digest != NULL) {
		cJSON_AddStringToObject(md, "SHA", v->digest);
		cJSON_AddStringToObject(md, "SHAV2", v->digest);
	}
	if (v->metadata == NULL)
		return (md);
	cJSON_ArrayForEach(item, v->metadata) {
		if (item->string == NULL ||
		    cJSON_GetObjectItemCaseSensitive(md, item->string) != NULL)
			continue;
		cJSON_AddItemToObject(md, item->string,
		    cJSON_Duplicate(item, 1));
	}
	return (md);
}

/*
 * The fields of each kind (DESIGN §4), in the order they appear: `head`
 * ones between connectorRef/kind and version (the container layout events
 * have always had), the others after previousDigest.  `always`: null when
 * unknown; otherwise left out when the provider has no value (a file in a
 * bucket has no host, one on an SFTP server no bucket).
 */
struct kind_field {
	const char	*name;
	int		 head;
	int		 always;
};
static const struct kind_field container_fields[] = {
	{ "registry", 1, 1 }, { "repository", 1, 1 }, { "image", 0, 1 },
	{ NULL, 0, 0 }
};
static const struct kind_field file_fields[] = {
	{ "bucket", 0, 0 }, { "host", 0, 0 }, { "share", 0, 0 },
	{ "path", 0, 1 }, { "size", 0, 1 }, { NULL, 0, 0 }
};
static const struct kind_field machine_image_fields[] = {
	{ "region", 0, 1 }, { "imageId", 0, 1 }, { "name", 0, 1 },
	{ "tags", 0, 1 }, { NULL, 0, 0 }
};
static const struct kind_field build_fields[] = {
	{ "server", 0, 1 }, { "job", 0, 1 }, { "buildNumber", 0, 1 },
	{ "result", 0, 1 }, { "artifacts", 0, 1 }, { NULL, 0, 0 }
};
static const struct kind_field package_fields[] = {
	{ "repository", 0, 1 }, { "package", 0, 1 }, { "group", 0, 1 },
	{ "format", 0, 1 }, { "downloadUrl", 0, 1 }, { NULL, 0, 0 }
};
static const struct kind_field chart_fields[] = {
	{ "repository", 0, 1 }, { "chart", 0, 1 }, { "appVersion", 0, 1 },
	{ NULL, 0, 0 }
};
static const struct kind_field custom_fields[] = {
	{ NULL, 0, 0 }
};
static const struct kind_field *const kind_fields[] = {
	container_fields, file_fields, machine_image_fields, build_fields,
	package_fields, chart_fields, custom_fields
};

const char *const event_kind_fields[] = {
	"kind", "registry", "repository", "image", "bucket", "host", "share",
	"path", "size", "region", "imageId", "name", "tags", "server", "job",
	"buildNumber", "result", "artifacts", "package", "group", "format",
	"downloadUrl", "chart", "appVersion", NULL
};

static const struct kind_field *
event_kind(enum artifact_kind k)
{
	if ((size_t)k >= nitems(kind_fields))
		return (custom_fields);
	return (kind_fields[k]);
}

/* A kind field: the version's, the source's, then the legacy members. */
static const cJSON *
event_field(const struct event_info *ei, const char *name)
{
	const cJSON	*v;

	v = ei->version->fields == NULL ? NULL :
	    cJSON_GetObjectItemCaseSensitive(ei->version->fields, name);
	if (v != NULL)
		return (v);
	if (ei->fields != NULL &&
	    (v = cJSON_GetObjectItemCaseSensitive(ei->fields, name)) != NULL)
		return (v);
	return (NULL);
}

static const char *
event_field_str(const struct event_info *ei, const char *name)
{
	const cJSON	*v = event_field(ei, name);

	if (cJSON_IsString(v))
		return (v->valuestring);
	if (ei->kind == KIND_CONTAINER && strcmp(name, "registry") == 0)
		return (ei->registry);
	if (ei->kind == KIND_CONTAINER && strcmp(name, "repository") == 0)
		return (ei->repository);
	return (NULL);
}

/* A container's image: registry/repository:tag. */
static char *
event_image(const struct event_info *ei)
{
	const char	*registry = event_field_str(ei, "registry");
	const char	*repository = event_field_str(ei, "repository");
	char		*image;

	if (repository == NULL)
		return (NULL);
	if (registry != NULL)
		xasprintf(&image, "%s/%s:%s", registry, repository,
		    ei->version->name);
	else
		xasprintf(&image, "%s:%s", repository, ei->version->name);
	return (image);
}

static void
event_add_fields(cJSON *data, const struct event_info *ei, int head)
{
	const struct kind_field	*kf;
	const cJSON		*v;
	const char		*str;
	char			*image;

	for (kf = event_kind(ei->kind); kf->name != NULL; kf++) {
		if (kf->head != head)
			continue;
		if (ei->kind == KIND_CONTAINER &&
		    strcmp(kf->name, "image") == 0) {
			image = event_image(ei);
			add_string_or_null(data, "image", image);
			free(image);
			continue;
		}
		if ((v = event_field(ei, kf->name)) != NULL) {
			cJSON_AddItemToObject(data, kf->name,
			    cJSON_Duplicate(v, 1));
			continue;
		}
		str = event_field_str(ei, kf->name);
		if (str != NULL || kf->always)
			add_string_or_null(data, kf->name, str);
	}
}

static cJSON *
event_data(const struct event_info *ei)
{
	const struct version	*v = ei->version;
	cJSON			*data, *url;
	char			 pushed[32];

	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "sourceId", ei->source_id);
	add_string_or_null(data, "sourceType", ei->source_type);
	add_string_or_null(data, "connectorRef", ei->connector_ref);
	cJSON_AddStringToObject(data, "kind", artifact_kind_name(ei->kind));
	event_add_fields(data, ei, 1);
	cJSON_AddStringToObject(data, "version", v->name);
	add_string_or_null(data, "digest", v->digest);
	add_string_or_null(data, "previousDigest",
	    ei->type == EVENT_UPDATED ? ei->previous_digest : NULL);
	event_add_fields(data, ei, 0);

	if (v->pushed_at == 0)
		cJSON_AddNullToObject(data, "pushedAt");
	else {
		time_format_rfc3339(v->pushed_at, pushed, sizeof pushed);
		cJSON_AddStringToObject(data, "pushedAt", pushed);
	}

	if (v->labels != NULL && cJSON_IsObject(v->labels))
		cJSON_AddItemToObject(data, "labels",
		    cJSON_Duplicate(v->labels, 1));
	else
		cJSON_AddItemToObject(data, "labels", cJSON_CreateObject());
	cJSON_AddItemToObject(data, "metadata", event_metadata(v));

	url = v->metadata == NULL ? NULL :
	    cJSON_GetObjectItemCaseSensitive(v->metadata, "url");
	add_string_or_null(data, "url",
	    cJSON_IsString(url) ? url->valuestring : NULL);
	return (data);
}

/* A field as text for the subject: strings as they are, numbers whole. */
static char *
event_field_text(const struct event_info *ei, const char *name)
{
	const cJSON	*v = event_field(ei, name);
	const char	*s;
	char		*out;

	if (cJSON_IsNumber(v)) {
		xasprintf(&out, "%.0f", v->valuedouble);
		return (out);
	}
	s = event_field_str(ei, name);
	return (s != NULL ? xstrdup(s) : NULL);
}

/* The URL scheme of a file source's subject. */
static const char *
event_file_scheme(const char *source_type)
{
	static const char *const map[][2] = {
		{ "AmazonS3", "s3" }, { "GoogleCloudStorage", "gs" },
		{ "Sftp", "sftp" }, { "Smb", "smb" },
	};
	size_t	 i;

	for (i = 0; source_type != NULL && i < nitems(map); i++) {
		if (strcmp(map[i][0], source_type) == 0)
			return (map[i][1]);
	}
	return ("file");
}

/* `subject` per kind (DESIGN §4); the version alone when a part lacks. */
static char *
event_subject(const struct event_info *ei)
{
	const char	*name = ei->version->name;
	char		*a = NULL, *b = NULL, *c = NULL, *subject = NULL;

	switch (ei->kind) {
	case KIND_CONTAINER:
		if ((a = event_field_text(ei, "repository")) != NULL)
			xasprintf(&subject, "%s:%s", a, name);
		break;
	case KIND_FILE:
		a = event_field_text(ei, "bucket");
		b = event_field_text(ei, "host");
		c = event_field_text(ei, "path");
		if (c == NULL)
			c = xstrdup(name);
		if (a != NULL || b != NULL)
			xasprintf(&subject, "%s://%s/%s",
			    event_file_scheme(ei->source_type),
			    a != NULL ? a : b, c[0] == '/' ? c + 1 : c);
		else
			subject = xstrdup(c);
		break;
	case KIND_MACHINE_IMAGE:
		a = event_field_text(ei, "imageId");
		b = event_field_text(ei, "name");
		if (a != NULL)
			xasprintf(&subject, "%s (%s)", a, b != NULL ? b : name);
		break;
	case KIND_BUILD:
		if ((a = event_field_text(ei, "job")) != NULL) {
			b = event_field_text(ei, "buildNumber");
			xasprintf(&subject, "%s #%s", a, b != NULL ? b : name);
		}
		break;
	case KIND_PACKAGE:
		a = event_field_text(ei, "group");
		if ((b = event_field_text(ei, "package")) != NULL)
			xasprintf(&subject, "%s%s%s@%s", a != NULL ? a : "",
			    a != NULL ? ":" : "", b, name);
		break;
	case KIND_CHART:
		if ((a = event_field_text(ei, "chart")) != NULL)
			xasprintf(&subject, "%s@%s", a, name);
		break;
	case KIND_CUSTOM:
		xasprintf(&subject, "%s@%s", ei->source_id, name);
		break;
	}
	free(a);
	free(b);
	free(c);
	return (subject != NULL ? subject : xstrdup(name));
}

const char *const event_type_names[] = {
	[EVENT_CREATED] = "artifact.created",
	[EVENT_UPDATED] = "artifact.updated",
	NULL
};

cJSON *
event_object(const struct event_info *ei, char id[33])
{
	cJSON	*ev;
	char	*subject, *source, when[32];

	event_id(ei->source_id, ei->version->name, ei->version->digest, id);
	xasprintf(&source, "/artifact-watcher/sources/%s", ei->source_id);
	subject = event_subject(ei);
	time_format_rfc3339(ei->detected_s, when, sizeof when);

	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "specversion", "1.0");
	cJSON_AddStringToObject(ev, "id", id);
	cJSON_AddStringToObject(ev, "source", source);
	cJSON_AddStringToObject(ev, "type", event_type_names[ei->type]);
	cJSON_AddStringToObject(ev, "subject", subject);
	cJSON_AddStringToObject(ev, "time", when);
	cJSON_AddStringToObject(ev, "datacontenttype", "application/json");
	cJSON_AddItemToObject(ev, "data", event_data(ei));
	free(source);
	free(subject);
	return (ev);
}

char *
event_print(const cJSON *ev)
{
	char	*s, *out;

	s = cJSON_PrintUnformatted(ev);
	if (s == NULL)
		fatalx("cJSON_PrintUnformatted failed");
	out = xstrdup(s);
	cJSON_free(s);
	return (out);
}

char *
event_json(const struct event_info *ei, char id[33])
{
	cJSON	*ev = event_object(ei, id);
	char	*s = event_print(ev);

	cJSON_Delete(ev);
	return (s);
}
