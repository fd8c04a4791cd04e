/*
 * provider-bamboo.c: the Bamboo source type (provider-protocols.md §11.1):
 * the finished results of one plan, newest first, through the result
 * resource in JSON, paged by start-index and max-results until `size` is
 * reached or a page is empty (a server may cap a page below max-results).  A result in an accepted state
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
#define BAMBOO_PAGES_MAX 2000	/* pages of one listing at most */

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
	struct ci_source		*d;
	size_t				 i;

	if (!bamboo_plan_key_valid(src->plan_key))
		return (fail(cause, "planKey %s is not a plan key",
		    src->plan_key));
	d = ci_source_new(p, src->plan_key);
	if (n != NULL && n->kind == CFG_SCALAR && n->value != NULL)
		names_add(&d->names, n->value);
	for (i = 0; n != NULL && n->kind == CFG_SEQ && i < n->n; i++) {
		if (n->items[i]->kind == CFG_SCALAR)
			names_add(&d->names, n->items[i]->value);
	}
	return (0);
}

static int	bamboo_page(struct fetch *, struct fetch_page *, void *);

/*
 * The page at l->start.  The paging is the provider's, not the fetch
 * engine's PAGING_OFFSET: a server may cap max-results below what was
 * asked (bamboo.rest.max.results), so a short page is not the last one;
 * the next start-index is where this page ended, until `size`.
 */
static void
bamboo_submit(struct fetch *f, struct ci_call *l)
{
	static const char *const headers[] = {
		"Accept: application/json", NULL
	};
	struct ci_source	*d = l->p->data;
	char			*url, *plan;

	plan = url_escape(d->job);
	xasprintf(&url, "%s/rest/api/latest/result/%s.json?expand="
	    "results.result.artifacts&start-index=%lld&max-results=%d",
	    d->base, plan, l->start, BAMBOO_PAGE);
	free(plan);
	fetch_submit(f, &(struct fetch_request){ .url = url,
	    .headers = headers, .flags = FETCH_JSON }, bamboo_page, l);
	free(url);
}

static int
bamboo_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct ci_call			*l = arg;
	const struct bamboo_source	*src = l->p->conf->data;
	struct ci_source		*d = l->p->data;
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
	/* An empty page, or all of `size` read (without it: until empty). */
	if (n == 0 || (size >= 0 && l->start >= size))
		return (FETCH_STOP);
	if (++l->pages >= BAMBOO_PAGES_MAX) {
		fetch_fail(f, 0, "GET %s: more than %d pages of results",
		    pg->url, BAMBOO_PAGES_MAX);
		return (FETCH_FAILED);
	}
	bamboo_submit(f, l);
	return (FETCH_STOP);
}

static void
bamboo_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct ci_call	*l;

	l = ci_call_new(p, req, done, arg);
	bamboo_submit(ci_call_fetch(l), l);
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
	.cancel = ci_cancel,
	.free = ci_free,
};
