/*
 * ci-list.c: what the Bamboo and Jenkins sources share: their instance
 * (the server, the fetcher, the listing in flight) and its end, which
 * build states count, and how a build becomes a version of kind `build`
 * (DESIGN §4): version = build number, digest = its result key, pushedAt =
 * when it completed, and the fields buildNumber, result and artifacts
 * (name, path, url), the metadata url and buildNumber.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "fetch.h"
#include "order.h"
#include "provider.h"
#include "provider-ci.h"

struct ci_source *
ci_source_new(struct provider *p, const char *job)
{
	struct fetcher_conf	 fc;
	struct ci_source	*d;

	d = xcalloc(1, sizeof *d);
	d->base = ci_connector_identity(p->conf->connector);
	d->job = xstrdup(job);
	memset(&fc, 0, sizeof fc);
	d->fetcher = fetcher_create(p, &fc);
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "server", d->base);
	cJSON_AddStringToObject(p->fields, "job", d->job);
	p->data = d;
	return (d);
}

static void
ci_call_free(struct ci_call *l)
{
	if (l->vs != NULL) {
		versions_free(l->vs);
		free(l->vs);
	}
	free(l);
}

struct ci_call *
ci_call_new(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct ci_source	*d = p->data;
	struct ci_call		*l;

	l = xcalloc(1, sizeof *l);
	l->p = p;
	l->done = done;
	l->arg = arg;
	l->max = req->max > 0 ? req->max : 10000;
	l->vs = xcalloc(1, sizeof *l->vs);
	d->call = l;
	return (l);
}

/* The batch ended: the versions (when it went well) to the core. */
static void
ci_list_done(struct provider_result *r, void *arg)
{
	struct ci_call		*l = arg;
	struct ci_source	*d = l->p->data;
	provider_done_cb	 done = l->done;
	void			*done_arg = l->arg;

	d->call = NULL;
	if (r->status == 0) {
		r->versions = l->vs;
		l->vs = NULL;
	}
	ci_call_free(l);
	done(r, done_arg);
}

struct fetch *
ci_call_fetch(struct ci_call *l)
{
	struct ci_source	*d = l->p->data;

	return (fetch_start(d->fetcher, ci_list_done, l));
}

void
ci_cancel(struct provider *p)
{
	struct ci_source	*d = p->data;

	if (d == NULL || d->call == NULL)
		return;
	fetch_cancel(d->fetcher);
	ci_call_free(d->call);
	d->call = NULL;
}

void
ci_free(struct provider *p)
{
	struct ci_source	*d = p->data;
	size_t			 i;

	if (d == NULL)
		return;
	ci_cancel(p);
	fetcher_free(d->fetcher);
	filter_free(d->artifacts);
	for (i = 0; i < d->names.n; i++)
		free(d->names.v[i]);
	free(d->names.v);
	free(d->base);
	free(d->job);
	free(d->job_path);
	free(d);
	p->data = NULL;
}

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
