/*
 * provider-bamboo.c: the Bamboo source type (provider-protocols.md §11.1):
 * the finished results of one plan, newest first, through the result
 * resource in JSON, paged by start-index and max-results until the page
 * is short or `size` is reached.  A result in an accepted state
 * (buildStates, default Successful) is a version: its build number, with
 * its result key as the digest, its completion time, and its artifacts
 * (filtered by artifactPaths).  Kind `build`.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "provider.h"
#include "provider-ci.h"

#define BAMBOO_PAGE	25	/* some servers cap pages at 25 anyway */

#define SRC_OFF(f)	offsetof(struct bamboo_source, f)

static const struct cfg_key bamboo_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "planKey", .type = CFG_STRING, .off = SRC_OFF(plan_key),
	  .flags = CFG_REQUIRED },
	{ .name = "artifactPaths", .type = CFG_NODE,
	  .off = SRC_OFF(artifact_paths) },
	{ .name = "buildStates", .type = CFG_STRLIST, .off = SRC_OFF(states) },
	/* Harness pins one build with it; a watcher watches them all. */
	{ .name = "build", .type = CFG_IGNORE },
	{ .name = NULL }
};

struct bamboo_call;
struct bamboo {
	char			*base;		/* bambooUrl, no trailing / */
	char			*plan;
	struct cfg_strlist	 names;		/* artifactPaths */
	struct fetcher		*fetcher;
	struct bamboo_call	*call;
};

struct bamboo_call {
	struct provider		*p;
	provider_done_cb	 done;
	void			*arg;
	struct versions		*vs;
	long long		 max;
	long long		 start;		/* start-index of the page */
	long long		 last;		/* the oldest build so far */
};

static int
bamboo_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct bamboo_source	*src = conf->data;
	const struct cfg_node		*n = src->artifact_paths;
	size_t				 i;
	int				 bad = 0;

	if (src->plan_key != NULL && !bamboo_plan_key_valid(src->plan_key)) {
		cfg_error(errs, cfg_node_get(conf->spec, "planKey"),
		    "planKey %s is not a plan key (PROJECT-PLAN)",
		    log_q(src->plan_key));
		bad++;
	}
	if (n != NULL && n->kind == CFG_MAP) {
		cfg_error(errs, n, "artifactPaths must be a string or a list "
		    "of strings");
		bad++;
	}
	for (i = 0; n != NULL && n->kind == CFG_SEQ && i < n->n; i++) {
		if (n->items[i]->kind != CFG_SCALAR) {
			cfg_error(errs, n->items[i], "artifactPaths[%zu] must "
			    "be a string", i);
			bad++;
		}
	}
	return (bad);
}

static char *
bamboo_identity(const struct source_conf *conf)
{
	const struct bamboo_source	*src = conf->data;

	return (src != NULL && src->plan_key != NULL ?
	    xstrdup(src->plan_key) : NULL);
}

static void
names_add(struct cfg_strlist *l, const char *s)
{
	char	*copy, *p, *tok, *save;

	/* "a, b" in one string is two names, as Harness' field allows. */
	copy = xstrdup(s);
	for (p = copy; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
		l->v[l->n++] = xstrdup(tok);
	}
	free(copy);
}

static int
bamboo_init(struct provider *p, char **cause)
{
	const struct bamboo_source	*src = p->conf->data;
	const struct cfg_node		*n = src->artifact_paths;
	struct fetcher_conf		 fc;
	struct bamboo			*d;
	size_t				 i;

	if (!bamboo_plan_key_valid(src->plan_key))
		return (fail(cause, "planKey %s is not a plan key",
		    src->plan_key));
	d = xcalloc(1, sizeof *d);
	d->base = ci_connector_identity(p->conf->connector);
	d->plan = xstrdup(src->plan_key);
	if (n != NULL && n->kind == CFG_SCALAR && n->value != NULL)
		names_add(&d->names, n->value);
	for (i = 0; n != NULL && n->kind == CFG_SEQ && i < n->n; i++) {
		if (n->items[i]->kind == CFG_SCALAR)
			names_add(&d->names, n->items[i]->value);
	}
	memset(&fc, 0, sizeof fc);
	d->fetcher = fetcher_create(p, &fc);
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "server", d->base);
	cJSON_AddStringToObject(p->fields, "job", d->plan);
	p->data = d;
	return (0);
}

static void
call_free(struct bamboo_call *l)
{
	if (l->vs != NULL) {
		versions_free(l->vs);
		free(l->vs);
	}
	free(l);
}

static void
bamboo_list_done(struct provider_result *r, void *arg)
{
	struct bamboo_call	*l = arg;
	struct bamboo		*d = l->p->data;
	provider_done_cb	 done = l->done;
	void			*done_arg = l->arg;

	d->call = NULL;
	if (r->status == 0) {
		r->versions = l->vs;
		l->vs = NULL;
	}
	call_free(l);
	done(r, done_arg);
}

static int
bamboo_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct bamboo_call		*l = arg;
	const struct bamboo_source	*src = l->p->conf->data;
	struct bamboo			*d = l->p->data;
	struct ci_build			*b;
	struct version			*v;
	long long			 size;
	size_t				 n, i;
	char				*cause, num[32];

	if (bamboo_parse_results(pg->json, &b, &n, &size, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	pg->items = n;
	for (i = 0; i < n; i++) {
		if (!b[i].finished ||
		    !ci_state_accepted(&src->states, "Successful", b[i].state))
			continue;
		if ((long long)l->vs->n >= l->max) {
			l->vs->truncated = 1;
			ci_builds_free(b, n);
			return (FETCH_STOP);
		}
		/* A build that arrived between pages shifts the rest. */
		if (l->last > 0 && b[i].number >= l->last)
			continue;
		l->last = b[i].number;
		snprintf(num, sizeof num, "%lld", b[i].number);
		v = versions_add(l->vs, num);
		ci_version_fill(v, &b[i], b[i].key != NULL ? b[i].key : v->name,
		    NULL, &d->names);
	}
	ci_builds_free(b, n);
	l->start += (long long)n;
	if (n == 0 || (size >= 0 && l->start >= size))
		return (FETCH_STOP);
	return (FETCH_NEXT);
}

static void
bamboo_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	static const char *const headers[] = {
		"Accept: application/json", NULL
	};
	static const struct fetch_paging paging = {
		.kind = PAGING_OFFSET, .param = "start-index",
		.limit_param = "max-results", .page_size = BAMBOO_PAGE,
	};
	struct bamboo		*d = p->data;
	struct bamboo_call	*l;
	struct fetch		*f;
	char			*url, *plan;

	l = xcalloc(1, sizeof *l);
	l->p = p;
	l->done = done;
	l->arg = arg;
	l->max = req->max > 0 ? req->max : 10000;
	l->vs = xcalloc(1, sizeof *l->vs);
	d->call = l;
	plan = url_escape(d->plan);
	xasprintf(&url, "%s/rest/api/latest/result/%s.json?expand="
	    "results.result.artifacts&start-index=0&max-results=%d", d->base,
	    plan, BAMBOO_PAGE);
	free(plan);
	f = fetch_start(d->fetcher, bamboo_list_done, l);
	fetch_submit(f, &(struct fetch_request){ .url = url,
	    .headers = headers, .flags = FETCH_JSON, .paging = &paging },
	    bamboo_page, l);
	free(url);
}

static void
bamboo_cancel(struct provider *p)
{
	struct bamboo	*d = p->data;

	if (d == NULL || d->call == NULL)
		return;
	fetch_cancel(d->fetcher);
	call_free(d->call);
	d->call = NULL;
}

static void
bamboo_free(struct provider *p)
{
	struct bamboo	*d = p->data;
	size_t		 i;

	if (d == NULL)
		return;
	bamboo_cancel(p);
	fetcher_free(d->fetcher);
	for (i = 0; i < d->names.n; i++)
		free(d->names.v[i]);
	free(d->names.v);
	free(d->base);
	free(d->plan);
	free(d);
	p->data = NULL;
}

const struct provider_entry provider_bamboo_entry = {
	.name = "Bamboo",
	.connector = "Bamboo",
	.kind = KIND_BUILD,
	.source_keys = bamboo_source_keys,
	.source_size = sizeof (struct bamboo_source),
	.check = bamboo_check,
	.identity = bamboo_identity,
	.init = bamboo_init,
	.list = bamboo_list,
	.cancel = bamboo_cancel,
	.free = bamboo_free,
};
