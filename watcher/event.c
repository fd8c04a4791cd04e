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

static cJSON *
event_data(const struct event_info *ei)
{
	const struct version	*v = ei->version;
	cJSON			*data, *url;
	char			*image, pushed[32];

	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "sourceId", ei->source_id);
	add_string_or_null(data, "sourceType", ei->source_type);
	add_string_or_null(data, "connectorRef", ei->connector_ref);
	add_string_or_null(data, "registry", ei->registry);
	add_string_or_null(data, "repository", ei->repository);
	cJSON_AddStringToObject(data, "version", v->name);
	add_string_or_null(data, "digest", v->digest);
	add_string_or_null(data, "previousDigest",
	    ei->type == EVENT_UPDATED ? ei->previous_digest : NULL);

	if (ei->repository == NULL)
		cJSON_AddNullToObject(data, "image");
	else {
		if (ei->registry != NULL)
			xasprintf(&image, "%s/%s:%s", ei->registry,
			    ei->repository, v->name);
		else
			xasprintf(&image, "%s:%s", ei->repository, v->name);
		cJSON_AddStringToObject(data, "image", image);
		free(image);
	}

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

cJSON *
event_object(const struct event_info *ei, char id[33])
{
	cJSON	*ev;
	char	*subject, *source, when[32];

	event_id(ei->source_id, ei->version->name, ei->version->digest, id);
	xasprintf(&source, "/artifact-watcher/sources/%s", ei->source_id);
	if (ei->repository != NULL)
		xasprintf(&subject, "%s:%s", ei->repository,
		    ei->version->name);
	else
		subject = xstrdup(ei->version->name);
	time_format_rfc3339(ei->detected_s, when, sizeof when);

	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "specversion", "1.0");
	cJSON_AddStringToObject(ev, "id", id);
	cJSON_AddStringToObject(ev, "source", source);
	cJSON_AddStringToObject(ev, "type", ei->type == EVENT_UPDATED ?
	    "artifact.updated" : "artifact.created");
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
