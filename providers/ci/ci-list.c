/*
 * ci-list.c: what the Bamboo and Jenkins sources share: which build states
 * count, and how a build becomes a version of kind `build` (DESIGN §4):
 * version = build number, digest = its result key, pushedAt = when it
 * completed, and the fields buildNumber, result and artifacts (name, path,
 * url), the metadata url and buildNumber.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "order.h"
#include "provider-ci.h"

int
ci_state_accepted(const struct cfg_strlist *states, const char *def,
    const char *state)
{
	size_t	 i;

	if (state == NULL)
		return (0);
	if (states == NULL || states->n == 0)
		return (strcasecmp(state, def) == 0);
	for (i = 0; i < states->n; i++) {
		if (strcmp(states->v[i], "*") == 0 ||
		    strcasecmp(states->v[i], state) == 0)
			return (1);
	}
	return (0);
}

/* Bamboo's artifactPaths: the artifact's name, or a glob of it. */
static int
artifact_named(const struct cfg_strlist *names, const struct ci_artifact *a)
{
	size_t	 i;

	if (names == NULL || names->n == 0)
		return (1);
	for (i = 0; i < names->n; i++) {
		if (strcmp(names->v[i], a->name) == 0 ||
		    fnmatch(names->v[i], a->name, 0) == 0)
			return (1);
	}
	return (0);
}

void
ci_version_fill(struct version *v, const struct ci_build *b,
    const char *digest, const struct filter *af,
    const struct cfg_strlist *names)
{
	const struct ci_artifact *a;
	cJSON		*arts, *o;
	char		 num[32], *key, *why;
	size_t		 i;
	int		 rc;

	if (digest != NULL)
		v->digest = xstrdup(digest);
	v->pushed_at = b->completed_at;
	version_set_number(v, "buildNumber", (double)b->number);
	version_set(v, "result", b->state);
	arts = cJSON_CreateArray();
	for (i = 0; i < b->nartifacts; i++) {
		a = &b->artifacts[i];
		if (!artifact_named(names, a))
			continue;
		if (af != NULL) {
			key = why = NULL;
			rc = filter_match(af, a->path != NULL ? a->path :
			    a->name, &key, &why);
			free(key);
			free(why);
			if (rc != 1)
				continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", a->name);
		if (a->path != NULL)
			cJSON_AddStringToObject(o, "path", a->path);
		else
			cJSON_AddNullToObject(o, "path");
		if (a->url != NULL)
			cJSON_AddStringToObject(o, "url", a->url);
		else
			cJSON_AddNullToObject(o, "url");
		if (a->size >= 0)
			cJSON_AddNumberToObject(o, "size", (double)a->size);
		cJSON_AddItemToArray(arts, o);
	}
	version_set(v, "artifacts", NULL);
	cJSON_ReplaceItemInObject(v->fields, "artifacts", arts);
	snprintf(num, sizeof num, "%lld", b->number);
	version_set_meta(v, "buildNumber", num);
	if (b->url != NULL)
		version_set_meta(v, "url", b->url);
}
