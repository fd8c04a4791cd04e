/*
 * provider-artifacts.c: the AzureArtifacts source type: the versions of one
 * package of an Azure Artifacts feed (provider-protocols.md §8), through
 * the feeds API of the AzureArtifacts connector's organization: the
 * package's id from the feed's packages (protocolType, packageNameQuery,
 * matched exactly), then its versions (publishDate, isLatest), newest
 * first.  The id is kept across polls, so a steady poll is one request; a
 * 404 of the versions looks the package up again once.
 *
 * Every request says X-TFS-FedAuthRedirect: Suppress, so a refused token is
 * a 401; a server that answers its 203 sign-in page anyway (an HTML page
 * with a 2xx status) is told as the auth error it is, not as bad JSON.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "azure.h"
#include "connector.h"
#include "fetch.h"
#include "http.h"
#include "json.h"
#include "limit.h"
#include "order.h"
#include "provider.h"

#define AZART_BODY_MAX	(16 * 1024 * 1024)

enum azart_scope { AZART_ORG, AZART_PROJECT };
static const char *const azart_scopes[] = { "org", "project", NULL };
static const char *const azart_types[] = {
	"maven", "nuget", "npm", "upack", NULL
};

struct azart_source {
	char		*connector_ref;
	int		 scope;
	char		*project;
	char		*feed;
	int		 package_type;
	char		*package;
	char		*version;	/* accepted, ignored */
};

struct azart_call;
struct azart {
	char			*base;		/* …/_apis/packaging */
	char			*package_id;	/* found, kept */
	struct fetcher		*fetcher;
	struct azart_call	*call;
};

struct azart_call {
	struct provider		*p;
	provider_done_cb	 done;
	void			*arg;
	struct versions		*vs;
	long long		 max;
	int			 looked_up;	/* the package, this call */
};

#define SRC_OFF(f)	offsetof(struct azart_source, f)

static const struct cfg_key azart_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "scope", .type = CFG_ENUM, .off = SRC_OFF(scope),
	  .def = "org", .choices = azart_scopes },
	{ .name = "project", .type = CFG_STRING, .off = SRC_OFF(project) },
	{ .name = "feed", .type = CFG_STRING, .off = SRC_OFF(feed),
	  .flags = CFG_REQUIRED },
	{ .name = "packageType", .type = CFG_ENUM,
	  .off = SRC_OFF(package_type), .flags = CFG_REQUIRED,
	  .choices = azart_types },
	{ .name = "package", .type = CFG_STRING, .off = SRC_OFF(package),
	  .flags = CFG_REQUIRED },
	{ .name = "version", .type = CFG_STRING, .off = SRC_OFF(version) },
	{ .name = NULL }
};

static int
path_part_ok(const char *s)
{
	return (s != NULL && *s != '\0' && strpbrk(s, "/?#%\\") == NULL &&
	    strcmp(s, ".") != 0 && strcmp(s, "..") != 0);
}

static int
azart_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct azart_source	*src = conf->data;
	int				 n = 0;

	if (src->scope == AZART_PROJECT && src->project == NULL) {
		cfg_error(errs, cfg_node_get(conf->spec, "scope"), "scope "
		    "project needs spec.project");
		n++;
	}
	if (src->scope == AZART_ORG && src->project != NULL) {
		cfg_error(errs, cfg_node_get(conf->spec, "project"), "project "
		    "is for scope project (an organization-scoped feed has "
		    "none)");
		n++;
	}
	if (src->project != NULL && !path_part_ok(src->project)) {
		cfg_error(errs, cfg_node_get(conf->spec, "project"), "project "
		    "%s is not a project name", log_q(src->project));
		n++;
	}
	if (src->feed != NULL && !path_part_ok(src->feed)) {
		cfg_error(errs, cfg_node_get(conf->spec, "feed"), "feed %s is "
		    "not a feed name or id", log_q(src->feed));
		n++;
	}
	if (src->version != NULL)
		log_warn("version is ignored: a source watches every version "
		    "(use tagRegex to narrow)", "source=%s", log_q(conf->id));
	if (conf->order == ORDER_NONE)
		conf->order = ORDER_PUSHED;
	return (n);
}

static char *
azart_identity(const struct source_conf *conf)
{
	const struct azart_source	*src = conf->data;
	char				*id;

	if (src == NULL || src->feed == NULL || src->package == NULL)
		return (NULL);
	xasprintf(&id, "%s/%s/%s:%s", src->project != NULL ? src->project :
	    "-", src->feed, azart_types[src->package_type], src->package);
	return (id);
}

static void
call_free(struct azart_call *c)
{
	if (c->vs != NULL) {
		versions_free(c->vs);
		free(c->vs);
	}
	free(c);
}

static void
azart_ended(struct provider_result *r, void *arg)
{
	struct azart_call	*c = arg;
	struct azart		*a = c->p->data;
	provider_done_cb	 done = c->done;
	void			*done_arg = c->arg;

	if (r->status == 0) {
		r->versions = c->vs;
		c->vs = NULL;
	}
	a->call = NULL;
	call_free(c);
	done(r, done_arg);
}

/*
 * Every answer: a 2xx JSON document into *doc (0), or the batch failed
 * (-1), or a 404 the caller may take (1).
 */
static int
azart_answer(struct azart_call *c, struct fetch *f, struct fetch_page *pg,
    cJSON **doc)
{
	const struct http_response	*resp = pg->resp;
	const char			*body = resp->body.data != NULL ?
	    resp->body.data : "";
	char				*msg, *cause;
	int64_t				 wait = 0;

	*doc = NULL;
	if (resp->status >= 200 && resp->status < 300) {
		if (resp->status == 203 || az_is_html(http_header(resp,
		    "Content-Type"), body, resp->body.len)) {
			fetch_fail(f, 0, "GET %s: HTTP %ld: Azure DevOps "
			    "answered its sign-in page: the personal access "
			    "token was refused (expired, revoked, or without "
			    "Packaging (Read))", pg->url, resp->status);
			return (-1);
		}
		if (json_parse_object(body, resp->body.len, doc, &cause) != 0) {
			fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
			free(cause);
			return (-1);
		}
		return (0);
	}
	msg = az_parse_error(body, resp->body.len);
	if (resp->status == 404 && !c->looked_up) {
		free(msg);
		return (1);
	}
	if (resp->status == 429 || resp->status == 503) {
		wait = (limiter_pause_left(c->p->connector->limiter) + 999) /
		    1000;
		if (wait == 0 && http_header(resp, "Retry-After") != NULL)
			wait = (limit_retry_after_ms(http_header(resp,
			    "Retry-After"), now_ms() / 1000, 0) + 999) / 1000;
	}
	fetch_fail(f, wait, "GET %s: HTTP %ld%s%s%s%s", pg->url, resp->status,
	    resp->status == 401 || resp->status == 403 ? " (the personal "
	    "access token was refused)" : "", resp->status == 429 ?
	    " (rate limited)" : "", msg != NULL ? " " : "",
	    msg != NULL ? msg : "");
	free(msg);
	return (-1);
}

static void	azart_lookup(struct azart_call *, struct fetch *);

static int
azart_versions_got(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct azart_call	*c = arg;
	struct azart		*a = c->p->data;
	cJSON			*doc;
	char			*cause;

	switch (azart_answer(c, f, pg, &doc)) {
	case -1:
		return (FETCH_FAILED);
	case 1:
		/* The package was deleted and pushed anew: look again. */
		free(a->package_id);
		a->package_id = NULL;
		azart_lookup(c, f);
		return (FETCH_STOP);
	}
	if (az_parse_feed_versions(doc, c->vs, &cause) != 0) {
		cJSON_Delete(doc);
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	cJSON_Delete(doc);
	if ((long long)c->vs->n > c->max) {
		c->vs->truncated = 1;
		while ((long long)c->vs->n > c->max)
			version_clear(&c->vs->v[--c->vs->n]);
	}
	return (FETCH_STOP);
}

static const char *const azart_headers[] = {
	"Accept: application/json",
	"X-TFS-FedAuthRedirect: Suppress",
	NULL
};

static void
azart_get(struct fetch *f, const char *url, fetch_cb cb, void *arg)
{
	struct fetch_request	 rq;

	memset(&rq, 0, sizeof rq);
	rq.url = url;
	rq.headers = azart_headers;
	rq.max_body = AZART_BODY_MAX;
	/* Every status to the callback: a 203 page, the server's message. */
	rq.flags = FETCH_OK_ANY;
	fetch_submit(f, &rq, cb, arg);
}

static void
azart_versions(struct azart_call *c, struct fetch *f)
{
	struct azart	*a = c->p->data;
	char		*url;

	xasprintf(&url, "%s/Feeds/%s/Packages/%s/versions?isDeleted=false&"
	    "api-version=7.1", a->base, ((const struct azart_source *)
	    c->p->conf->data)->feed, a->package_id);
	azart_get(f, url, azart_versions_got, c);
	free(url);
}

static int
azart_package_got(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct azart_call		*c = arg;
	struct azart			*a = c->p->data;
	const struct azart_source	*src = c->p->conf->data;
	cJSON				*doc;
	char				*cause, *id;
	int				 r;

	if (azart_answer(c, f, pg, &doc) != 0)
		return (FETCH_FAILED);
	r = az_parse_feed_package(doc, src->package, &id, &cause);
	cJSON_Delete(doc);
	if (r == -1) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	if (r == 0) {
		fetch_fail(f, 0, "feed %s has no %s package %s",
		    log_q(src->feed), azart_types[src->package_type],
		    log_q(src->package));
		return (FETCH_FAILED);
	}
	free(a->package_id);
	a->package_id = id;
	azart_versions(c, f);
	return (FETCH_STOP);
}

static void
azart_lookup(struct azart_call *c, struct fetch *f)
{
	struct azart			*a = c->p->data;
	const struct azart_source	*src = c->p->conf->data;
	char				*url, *q;

	c->looked_up = 1;
	q = url_escape(src->package);
	xasprintf(&url, "%s/Feeds/%s/packages?protocolType=%s&"
	    "packageNameQuery=%s&includeAllVersions=false&api-version=7.1",
	    a->base, src->feed, azart_types[src->package_type], q);
	free(q);
	azart_get(f, url, azart_package_got, c);
	free(url);
}

static void
azart_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct azart		*a = p->data;
	struct azart_call	*c = xcalloc(1, sizeof *c);
	struct fetch		*f;

	c->p = p;
	c->done = done;
	c->arg = arg;
	c->vs = xcalloc(1, sizeof *c->vs);
	c->max = req->max > 0 ? req->max : 10000;
	a->call = c;
	f = fetch_start(a->fetcher, azart_ended, c);
	if (a->package_id == NULL)
		azart_lookup(c, f);
	else
		azart_versions(c, f);
}

static void
azart_cancel(struct provider *p)
{
	struct azart	*a = p->data;

	if (a == NULL || a->call == NULL)
		return;
	fetch_cancel(a->fetcher);
	call_free(a->call);
	a->call = NULL;
}

static int
azart_init(struct provider *p, char **cause)
{
	const struct azart_source	*src = p->conf->data;
	const struct azart_connector	*cc = p->conf->connector->data;
	struct azart			*a;
	char				*base, *colon;

	if ((base = azart_feeds_base(cc->url)) == NULL)
		return (fail(cause, "azureArtifactsUrl %s is not a URL",
		    cc->url));
	a = xcalloc(1, sizeof *a);
	xasprintf(&a->base, "%s%s%s/_apis/packaging", base,
	    src->project != NULL ? "/" : "", src->project != NULL ?
	    src->project : "");
	free(base);
	a->fetcher = fetcher_create(p, NULL);
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "repository", src->feed);
	cJSON_AddStringToObject(p->fields, "package", src->package);
	if (src->package_type == 0 &&
	    (colon = strchr(src->package, ':')) != NULL) {
		char	*g = xstrndup(src->package, (size_t)(colon -
		    src->package));

		cJSON_AddStringToObject(p->fields, "group", g);
		free(g);
	}
	cJSON_AddStringToObject(p->fields, "format",
	    azart_types[src->package_type]);
	p->data = a;
	return (0);
}

static void
azart_free(struct provider *p)
{
	struct azart	*a = p->data;

	if (a == NULL)
		return;
	azart_cancel(p);
	fetcher_free(a->fetcher);
	free(a->base);
	free(a->package_id);
	free(a);
	p->data = NULL;
}

const struct provider_entry provider_azart_entry = {
	.name = "AzureArtifacts",
	.connector = "AzureArtifacts",
	.kind = KIND_PACKAGE,
	.source_keys = azart_source_keys,
	.source_size = sizeof (struct azart_source),
	.check = azart_check,
	.identity = azart_identity,
	.init = azart_init,
	.list = azart_list,
	.cancel = azart_cancel,
	.free = azart_free,
};
