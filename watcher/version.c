/*
 * version.c: the list of versions a provider hands back from a poll, and
 * the setters of a version's kind fields and metadata.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "watcher.h"

struct version *
versions_add(struct versions *vs, const char *name)
{
	struct version	*v;

	if (vs->n == vs->size) {
		vs->size = vs->size == 0 ? 64 : vs->size * 2;
		vs->v = xreallocarray(vs->v, vs->size, sizeof *vs->v);
	}
	v = &vs->v[vs->n++];
	memset(v, 0, sizeof *v);
	v->name = xstrdup(name);
	v->size = -1;
	return (v);
}

void
version_clear(struct version *v)
{
	free(v->name);
	free(v->digest);
	cJSON_Delete(v->labels);
	cJSON_Delete(v->metadata);
	cJSON_Delete(v->fields);
	memset(v, 0, sizeof *v);
}

void
versions_free(struct versions *vs)
{
	size_t	 i;

	if (vs == NULL)
		return;
	for (i = 0; i < vs->n; i++)
		version_clear(&vs->v[i]);
	free(vs->v);
	memset(vs, 0, sizeof *vs);
}

static void
object_set(cJSON **obj, const char *key, cJSON *item)
{
	if (*obj == NULL)
		*obj = cJSON_CreateObject();
	if (cJSON_GetObjectItemCaseSensitive(*obj, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(*obj, key, item);
	else
		cJSON_AddItemToObject(*obj, key, item);
}

void
version_set(struct version *v, const char *field, const char *value)
{
	object_set(&v->fields, field, value == NULL ? cJSON_CreateNull() :
	    cJSON_CreateString(value));
}

void
version_set_number(struct version *v, const char *field, double value)
{
	object_set(&v->fields, field, cJSON_CreateNumber(value));
}

void
version_set_meta(struct version *v, const char *key, const char *value)
{
	object_set(&v->metadata, key, value == NULL ? cJSON_CreateNull() :
	    cJSON_CreateString(value));
}
