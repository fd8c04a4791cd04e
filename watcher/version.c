/*
 * version.c: the list of versions a provider hands back from a poll.
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
	return (v);
}

void
version_clear(struct version *v)
{
	free(v->name);
	free(v->digest);
	cJSON_Delete(v->labels);
	cJSON_Delete(v->metadata);
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
