/*
 * provider-helm-chart.c: the HelmChart provider over an HTTP chart
 * repository (the HttpHelmRepo connector).  One request per poll: GET
 * <helmRepoUrl>/index.yaml through the fetch engine, conditional on the
 * ETag of the last index the core recorded (a 304 costs no parse), then
 * the pure parser (helm-parse.c) picks the chart's versions.  The listing
 * tells everything (version, digest, created, appVersion), so there is no
 * resolve().  Events are of kind `chart`: repository and chart per source,
 * appVersion per version, the archive URL under metadata.url.
 *
 * OCI chart repositories (OciHelmRepo) are a different listing (registry
 * tags) and come with issue 12.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "connector.h"
#include "fetch.h"
#include "provider.h"
#include "helm.h"

#define SRC_OFF(f)	offsetof(struct helm_source, f)

static const struct cfg_key helm_source_keys[] = {
	/* Checked and resolved by the loader; listed so it is a known key. */
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "chartName", .type = CFG_STRING, .off = SRC_OFF(chart_name),
	  .flags = CFG_REQUIRED },
	{ .name = "chartVersion", .type = CFG_STRING,
	  .off = SRC_OFF(chart_version) },
	{ .name = "helmVersion", .type = CFG_IGNORE },
	{ .name = NULL }
};

/* One instance (provider->data). */
struct helm {
	struct fetcher		*fetcher;
	char			*index_url;	/* <repo>/index.yaml */
	char			*repo_url;	/* helmRepoUrl, as configured */
	char			*etag;		/* of the last index parsed */
	/* The listing in flight. */
	provider_done_cb	 done;
	void			*arg;
	long long		 max;
	struct versions		*vs;
	int			 unchanged;
};

static int
helm_chart_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct helm_source	*src = conf->data;
	const struct cfg_node		*n;

	if (src->chart_version != NULL)
		log_warn("chartVersion is ignored: a source watches every "
		    "version of its chart", "source=%s", log_q(conf->id));
	if (src->chart_name == NULL || helm_chart_valid(src->chart_name))
		return (0);
	n = conf->spec != NULL ? cfg_node_get(conf->spec, "chartName") : NULL;
	cfg_error(errs, n != NULL ? n : conf->node, "chartName %s is not a "
	    "chart name (letters, digits, . _ -)", log_q(src->chart_name));
	return (1);
}

static char *
helm_chart_identity(const struct source_conf *conf)
{
	const struct helm_source	*src = conf->data;

	return (src->chart_name != NULL ? xstrdup(src->chart_name) : NULL);
}

static int
helm_chart_init(struct provider *p, char **cause)
{
	const struct helm_connector	*c = p->conf->connector->data;
	const struct helm_source	*src = p->conf->data;
	struct helm			*d;

	if (c->url == NULL || src->chart_name == NULL)
		return (fail(cause, "HelmChart needs helmRepoUrl and "
		    "chartName"));
	d = xcalloc(1, sizeof *d);
	d->repo_url = xstrdup(c->url);
	d->index_url = helm_index_url(c->url);
	d->fetcher = fetcher_create(p, &(struct fetcher_conf){ 0 });
	p->data = d;
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "repository", d->repo_url);
	cJSON_AddStringToObject(p->fields, "chart", src->chart_name);
	return (0);
}

/* The chart's versions, newest first, at most max; truncated if cut. */
static struct versions *
helm_versions(struct helm *d, struct helm_index *idx)
{
	struct versions		*vs;
	struct version		*v;
	struct helm_entry	*e;
	char			*url;
	size_t			 i, n;

	helm_index_sort(idx);
	n = idx->n;
	vs = xcalloc(1, sizeof *vs);
	if (d->max > 0 && n > (size_t)d->max) {
		n = (size_t)d->max;
		vs->truncated = 1;
	}
	for (i = 0; i < n; i++) {
		e = &idx->v[i];
		v = versions_add(vs, e->version);
		if (e->digest != NULL)
			v->digest = xstrdup(e->digest);
		v->pushed_at = e->created_s;
		version_set(v, "appVersion", e->app_version);
		if (e->url != NULL) {
			url = helm_chart_url(d->repo_url, e->url);
			version_set_meta(v, "url", url);
			free(url);
		}
	}
	return (vs);
}

static int
helm_chart_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct provider			*p = arg;
	struct helm			*d = p->data;
	const struct helm_source	*src = p->conf->data;
	struct helm_index		 idx;
	const char			*etag;
	char				*cause = NULL;

	if (pg->resp->status == 304) {
		d->unchanged = 1;
		return (FETCH_STOP);
	}
	if (helm_parse_index(pg->resp->body.data, pg->resp->body.len,
	    src->chart_name, &idx, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	if (!idx.found) {
		fetch_fail(f, 0, "GET %s: chart %s is not in the index",
		    pg->url, src->chart_name);
		helm_index_clear(&idx);
		return (FETCH_FAILED);
	}
	if (idx.skipped > 0) {
		log_warn("helm index: versions skipped", "source=%s chart=%s "
		    "skipped=%zu first=%s", log_q(p->conf->id),
		    log_q(src->chart_name), idx.skipped,
		    log_q(idx.skip_cause));
	}
	versions_free(d->vs);
	free(d->vs);
	d->vs = helm_versions(d, &idx);
	helm_index_clear(&idx);
	free(d->etag);
	etag = http_header(pg->resp, "ETag");
	d->etag = etag != NULL && *etag != '\0' ? xstrdup(etag) : NULL;
	return (FETCH_STOP);
}

static void
helm_chart_listed(struct provider_result *r, void *arg)
{
	struct provider		*p = arg;
	struct helm		*d = p->data;
	provider_done_cb	 done = d->done;

	d->done = NULL;
	if (r->status == 0 && d->unchanged)
		r->unchanged = 1;
	else if (r->status == 0) {
		r->versions = d->vs;
		d->vs = NULL;
	} else if (d->vs != NULL) {
		versions_free(d->vs);
		free(d->vs);
		d->vs = NULL;
	}
	done(r, d->arg);
}

static void
helm_chart_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct helm	*d = p->data;
	struct fetch	*f;

	d->done = done;
	d->arg = arg;
	d->max = req->max;
	d->unchanged = 0;
	f = fetch_start(d->fetcher, helm_chart_listed, p);
	fetch_submit(f, &(struct fetch_request){
	    .url = d->index_url,
	    .max_body = HELM_MAX_INDEX,
	    .etag = req->may_be_unchanged ? d->etag : NULL,
	}, helm_chart_page, p);
}

static void
helm_chart_cancel(struct provider *p)
{
	struct helm	*d = p->data;

	fetch_cancel(d->fetcher);
	d->done = NULL;
	if (d->vs != NULL) {
		versions_free(d->vs);
		free(d->vs);
		d->vs = NULL;
	}
}

static void
helm_chart_free(struct provider *p)
{
	struct helm	*d = p->data;

	if (d == NULL)
		return;
	helm_chart_cancel(p);
	fetcher_free(d->fetcher);
	free(d->index_url);
	free(d->repo_url);
	free(d->etag);
	free(d);
	p->data = NULL;
}

const struct provider_entry provider_helm_chart_entry = {
	.name = "HelmChart",
	.connector = "HttpHelmRepo",
	.kind = KIND_CHART,
	.source_keys = helm_source_keys,
	.source_size = sizeof (struct helm_source),
	.check = helm_chart_check,
	.identity = helm_chart_identity,
	.init = helm_chart_init,
	.list = helm_chart_list,
	.cancel = helm_chart_cancel,
	.free = helm_chart_free,
};
