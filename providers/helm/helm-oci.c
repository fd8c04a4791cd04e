/*
 * helm-oci.c: Helm charts in OCI registries.  The OciHelmRepo connector
 * (helmRepoUrl oci://host/namespace, auth Anonymous or UsernamePassword,
 * the registry token dance of the fetch engine) and the HelmChart source
 * on it: the tags of <namespace>/<chartName> through the docker family's
 * registry listing, each tag kept only when its manifest's config media
 * type is Helm's (an image pushed beside it is not a chart).
 *
 * A tag's manifest (and for a chart its tiny config blob, for appVersion)
 * is read once: the instance remembers what each tag was, so a poll costs
 * the listing plus the new tags.  Tags are re-pointable (PROVIDER_TAGS):
 * the core's digest checks go through the docker family's resolve, with
 * '+' of a chart version spelt '_' in the tag.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "connector-http.h"
#include "docker/provider-docker.h"
#include "fetch.h"
#include "helm-oci.h"
#include "http.h"
#include "provider.h"

#define HELM_OCI_MANIFEST_MAX	(4 * 1024 * 1024)
#define HELM_OCI_CONFIG_MAX	(1024 * 1024)

static const char *const helm_oci_auth_types[] = {
	"Anonymous", "UsernamePassword", NULL
};

#define CONN_OFF(f)	offsetof(struct helm_oci_connector, f)
#define SRC_OFF(f)	offsetof(struct helm_oci_source, f)

static const struct cfg_key helm_oci_auth_spec_keys[] = {
	{ .name = "username", .type = CFG_STRING, .off = CONN_OFF(username) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = CONN_OFF(password_ref) },
	{ .name = NULL }
};

static const struct cfg_key helm_oci_auth_keys[] = {
	{ .name = "type", .type = CFG_ENUM, .off = CONN_OFF(auth_type),
	  .def = "Anonymous", .choices = helm_oci_auth_types },
	{ .name = "spec", .type = CFG_OBJECT, .sub = helm_oci_auth_spec_keys },
	{ .name = NULL }
};

static const struct cfg_key helm_oci_connector_keys[] = {
	{ .name = "helmRepoUrl", .type = CFG_STRING, .off = CONN_OFF(url),
	  .flags = CFG_REQUIRED },
	{ .name = "auth", .type = CFG_OBJECT, .sub = helm_oci_auth_keys },
	{ .name = "executeOnDelegate", .type = CFG_IGNORE },
	{ .name = "delegateSelectors", .type = CFG_IGNORE },
	{ .name = NULL }
};

static const struct cfg_key helm_oci_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "chartName", .type = CFG_STRING, .off = SRC_OFF(chart_name),
	  .flags = CFG_REQUIRED },
	{ .name = "chartVersion", .type = CFG_STRING,
	  .off = SRC_OFF(chart_version) },
	{ .name = "helmVersion", .type = CFG_IGNORE },
	{ .name = NULL }
};

static const char helm_oci_accept[] = "Accept: "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";
static const char *const helm_oci_headers[] = { helm_oci_accept, NULL };

/* ------------------------------------------------------------ connector */

static int
helm_oci_connector_check(struct connector_conf *cc, struct cfg_errors *errs)
{
	const struct helm_oci_connector	*c = cc->data;
	struct helm_oci_url		 u;
	char				*cause;
	int				 n = 0;

	if (c->url != NULL && helm_oci_url_parse(c->url, &u, &cause) != 0) {
		cfg_error(errs, connector_spec_node(cc, "helmRepoUrl"), "%s",
		    cause);
		free(cause);
		n++;
	} else if (c->url != NULL)
		helm_oci_url_clear(&u);
	if (c->auth_type == HELM_OCI_PASSWORD)
		n += connector_check_password(cc, errs, c->username,
		    c->password_ref);
	return (n);
}

/* oci://host[:port]/namespace, canonical (http for a plain registry). */
static char *
helm_oci_connector_identity(const struct connector_conf *cc)
{
	const struct helm_oci_connector	*c = cc->data;
	struct helm_oci_url		 u;
	char				*cause, *id;

	if (c == NULL || c->url == NULL)
		return (NULL);
	if (helm_oci_url_parse(c->url, &u, &cause) != 0) {
		free(cause);
		return (xstrdup(c->url));
	}
	xasprintf(&id, "%s/%s", u.base, u.namespace);
	helm_oci_url_clear(&u);
	return (id);
}

static int
helm_oci_connector_credentials(struct connector *conn,
    struct connector_creds *cr, char **cause)
{
	const struct helm_oci_connector	*c = conn->conf->data;

	if (c->auth_type != HELM_OCI_PASSWORD)
		return (0);
	return (connector_basic(conn, cr, c->username, c->password_ref,
	    cause));
}

/* check --connect: GET /v2/, the registry API's root, with the auth. */
static void
helm_oci_connector_probe(struct connector *conn,
    void (*done)(int, const char *, void *), void *arg)
{
	const struct helm_oci_connector	*c = conn->conf->data;
	struct helm_oci_url		 u;
	char				*cause, *url = NULL;

	if (helm_oci_url_parse(c->url, &u, &cause) == 0) {
		xasprintf(&url, "%s/v2/", u.base);
		helm_oci_url_clear(&u);
	} else
		free(cause);
	connector_probe_get(conn, url, 0, NULL, done, arg);
	free(url);
}

const struct connector_entry connector_helm_oci_entry = {
	.name = "OciHelmRepo",
	.keys = helm_oci_connector_keys,
	.size = sizeof (struct helm_oci_connector),
	.auth_kinds = helm_oci_auth_types,
	.check = helm_oci_connector_check,
	.identity = helm_oci_connector_identity,
	.credentials = helm_oci_connector_credentials,
	.probe = helm_oci_connector_probe,
};

/* ------------------------------------------------------------ source */

struct helm_oci {
	struct docker		 docker;	/* the registry API */
	cJSON			*seen;		/* tag -> {chart, appVersion} */
	struct helm_oci_call	*call;
};

/* One list() past the tag listing: the manifests of new tags. */
struct helm_oci_call {
	struct helm_oci		*h;
	provider_done_cb	 done;
	void			*arg;
	struct versions		*tags;		/* the registry's listing */
	unsigned		 requests;	/* the listing's */
	int			 phase;		/* 1 listing, 2 manifests */
	struct helm_oci_job	*jobs;
	size_t			 njobs;
};

struct helm_oci_job {
	struct helm_oci_call	*call;
	char			*tag;
	char			*digest;
	int			 chart;
	char			*app_version;
	int			 done;
};

static int
helm_oci_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct helm_oci_source	*src = conf->data;
	const struct cfg_node		*n;

	if (src->chart_name != NULL &&
	    !docker_repository_valid(src->chart_name)) {
		n = cfg_node_get(conf->spec, "chartName");
		cfg_error(errs, n != NULL ? n : conf->node, "chartName %s is "
		    "not a repository name (lowercase letters, digits, . _ -)",
		    log_q(src->chart_name));
		return (1);
	}
	if (src->chart_version != NULL)
		log_warn("chartVersion is ignored: a source watches every "
		    "version", "source=%s", log_q(conf->id));
	return (0);
}

static char *
helm_oci_identity(const struct source_conf *conf)
{
	const struct helm_oci_source	*src = conf->data;

	if (src == NULL || src->chart_name == NULL)
		return (NULL);
	return (xstrdup(src->chart_name));
}

static int
helm_oci_init(struct provider *p, char **cause)
{
	const struct helm_oci_connector	*c = p->conf->connector->data;
	const struct helm_oci_source	*src = p->conf->data;
	struct helm_oci_url		 u;
	struct helm_oci			*h;
	char				*repo, *id;

	if (helm_oci_url_parse(c->url, &u, cause) != 0)
		return (-1);
	if (*u.namespace != '\0')
		xasprintf(&repo, "%s/%s", u.namespace, src->chart_name);
	else
		repo = xstrdup(src->chart_name);
	h = xcalloc(1, sizeof *h);
	if (docker_open(p, &h->docker, u.base, u.registry, repo,
	    cause) != 0) {
		free(repo);
		free(h);
		helm_oci_url_clear(&u);
		return (-1);
	}
	h->docker.tag_of = helm_oci_tag_of;
	h->seen = cJSON_CreateObject();
	xasprintf(&id, "oci://%s%s%s", u.registry, *u.namespace != '\0' ?
	    "/" : "", u.namespace);
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "repository", id);
	cJSON_AddStringToObject(p->fields, "chart", src->chart_name);
	free(id);
	free(repo);
	helm_oci_url_clear(&u);
	p->data = h;
	return (0);
}

static void
call_free(struct helm_oci_call *l)
{
	size_t	 i;

	if (l->tags != NULL) {
		versions_free(l->tags);
		free(l->tags);
	}
	for (i = 0; i < l->njobs; i++) {
		free(l->jobs[i].tag);
		free(l->jobs[i].digest);
		free(l->jobs[i].app_version);
	}
	free(l->jobs);
	free(l);
}

static void
seen_put(struct helm_oci *h, const char *tag, int chart,
    const char *app_version)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "chart", chart);
	if (app_version != NULL)
		cJSON_AddStringToObject(o, "appVersion", app_version);
	cJSON_DeleteItemFromObjectCaseSensitive(h->seen, tag);
	cJSON_AddItemToObject(h->seen, tag, o);
}

/* The charts among the listed tags, in the listing's order. */
static struct versions *
charts_of(struct helm_oci_call *l)
{
	struct helm_oci		*h = l->h;
	struct versions		*vs;
	struct version		*v;
	const cJSON		*s;
	const char		*app;
	char			*name;
	size_t			 i, j;

	vs = xcalloc(1, sizeof *vs);
	vs->truncated = l->tags->truncated;
	for (i = 0; i < l->tags->n; i++) {
		s = cJSON_GetObjectItemCaseSensitive(h->seen,
		    l->tags->v[i].name);
		if (s == NULL || !cJSON_IsTrue(cJSON_GetObjectItem(s,
		    "chart")))
			continue;
		name = helm_oci_version_of(l->tags->v[i].name);
		v = versions_add(vs, name);
		free(name);
		app = cJSON_GetStringValue(cJSON_GetObjectItem(s,
		    "appVersion"));
		version_set(v, "appVersion", app);
		for (j = 0; j < l->njobs; j++) {
			if (strcmp(l->jobs[j].tag, l->tags->v[i].name) == 0 &&
			    l->jobs[j].digest != NULL) {
				v->digest = xstrdup(l->jobs[j].digest);
				break;
			}
		}
	}
	return (vs);
}

static void
manifests_done(struct provider_result *r, void *arg)
{
	struct helm_oci_call	*l = arg;
	struct helm_oci		*h = l->h;
	provider_done_cb	 done = l->done;
	void			*done_arg = l->arg;
	size_t			 i;

	h->call = NULL;
	r->requests += l->requests;
	if (r->status == 0) {
		for (i = 0; i < l->njobs; i++) {
			if (l->jobs[i].done)
				seen_put(h, l->jobs[i].tag, l->jobs[i].chart,
				    l->jobs[i].app_version);
		}
		r->versions = charts_of(l);
	}
	call_free(l);
	done(r, done_arg);
}

static int
config_got(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct helm_oci_job	*job = arg;
	char			*name, *version, *cause;

	if (helm_oci_parse_config(pg->resp->body.data, pg->resp->body.len,
	    &name, &version, &job->app_version, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	free(name);
	free(version);
	job->done = 1;
	return (FETCH_STOP);
}

static int
manifest_got(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct helm_oci_job	*job = arg;
	struct docker		*d = &job->call->h->docker;
	struct helm_oci_manifest m;
	struct fetch_request	 rq;
	const char		*stated;
	char			*cause, *url;

	if (pg->resp->status == 404)
		return (FETCH_STOP);	/* gone since the listing */
	if (helm_oci_parse_manifest(pg->resp->body.data, pg->resp->body.len,
	    &m, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	stated = http_header(pg->resp, "Docker-Content-Digest");
	job->digest = stated != NULL && docker_digest_valid(stated) ?
	    xstrdup(stated) : docker_body_digest(&pg->resp->body);
	job->chart = m.chart;
	if (!m.chart) {
		job->done = 1;
		helm_oci_manifest_clear(&m);
		return (FETCH_STOP);
	}
	xasprintf(&url, "%s/v2/%s/blobs/%s", d->base, d->repository,
	    m.config_digest);
	memset(&rq, 0, sizeof rq);
	rq.url = url;
	rq.max_body = HELM_OCI_CONFIG_MAX;
	fetch_submit(f, &rq, config_got, job);
	free(url);
	helm_oci_manifest_clear(&m);
	return (FETCH_STOP);
}

/* The tags are listed: read the manifests of those not seen before. */
static void
tags_done(const struct provider_result *r, void *arg)
{
	struct helm_oci_call	*l = arg;
	struct helm_oci		*h = l->h;
	struct docker		*d = &h->docker;
	struct provider_result	 out;
	struct fetch_request	 rq;
	struct fetch		*f;
	provider_done_cb	 done = l->done;
	void			*done_arg = l->arg;
	size_t			 i;
	char			*url;

	if (r->status != 0 || r->unchanged) {
		h->call = NULL;
		call_free(l);
		done(r, done_arg);
		return;
	}
	l->tags = r->versions;		/* handed over */
	l->requests = r->requests;
	l->jobs = xcalloc(l->tags->n + 1, sizeof *l->jobs);
	for (i = 0; i < l->tags->n; i++) {
		if (cJSON_GetObjectItemCaseSensitive(h->seen,
		    l->tags->v[i].name) != NULL)
			continue;
		l->jobs[l->njobs].call = l;
		l->jobs[l->njobs++].tag = xstrdup(l->tags->v[i].name);
	}
	if (l->njobs == 0) {
		/* Nothing new: the listing says it all (from the loop). */
		h->call = NULL;
		memset(&out, 0, sizeof out);
		out.requests = l->requests;
		out.versions = charts_of(l);
		call_free(l);
		done(&out, done_arg);
		return;
	}
	l->phase = 2;
	f = fetch_start(d->fetcher, manifests_done, l);
	for (i = 0; i < l->njobs; i++) {
		xasprintf(&url, "%s/v2/%s/manifests/%s", d->base,
		    d->repository, l->jobs[i].tag);
		memset(&rq, 0, sizeof rq);
		rq.url = url;
		rq.headers = helm_oci_headers;
		rq.max_body = HELM_OCI_MANIFEST_MAX;
		rq.flags = FETCH_OK_404;
		fetch_submit(f, &rq, manifest_got, &l->jobs[i]);
		free(url);
	}
}

static void
helm_oci_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct helm_oci		*h = p->data;
	struct helm_oci_call	*l;

	l = xcalloc(1, sizeof *l);
	l->h = h;
	l->done = done;
	l->arg = arg;
	l->phase = 1;
	h->call = l;
	docker_list_on(p, &h->docker, req, tags_done, l);
}

static void
helm_oci_resolve(struct provider *p, struct version **v, size_t n,
    provider_done_cb done, void *arg)
{
	struct helm_oci	*h = p->data;

	docker_resolve_on(p, &h->docker, v, n, done, arg);
}

static void
helm_oci_cancel(struct provider *p)
{
	struct helm_oci	*h = p->data;

	if (h == NULL)
		return;
	if (h->call != NULL && h->call->phase == 2)
		fetch_cancel(h->docker.fetcher);
	else
		docker_cancel_on(&h->docker);
	if (h->call != NULL)
		call_free(h->call);
	h->call = NULL;
}

static void
helm_oci_free(struct provider *p)
{
	struct helm_oci	*h = p->data;

	if (h == NULL)
		return;
	helm_oci_cancel(p);
	docker_close(&h->docker);
	cJSON_Delete(h->seen);
	free(h);
	p->data = NULL;
}

const struct provider_entry provider_helm_oci_entry = {
	.name = "HelmChart",
	.connector = "OciHelmRepo",
	.kind = KIND_CHART,
	.source_keys = helm_oci_source_keys,
	.source_size = sizeof (struct helm_oci_source),
	.flags = PROVIDER_TAGS,
	.check = helm_oci_check,
	.identity = helm_oci_identity,
	.init = helm_oci_init,
	.list = helm_oci_list,
	.resolve = helm_oci_resolve,
	.cancel = helm_oci_cancel,
	.free = helm_oci_free,
};
