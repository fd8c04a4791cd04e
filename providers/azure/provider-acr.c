/*
 * provider-acr.c: the Acr source type: the tags of one repository of an
 * Azure Container Registry (provider-protocols.md §7), through ACR's own
 * metadata API, /acr/v1/<repo>/_tags?orderby=timedesc: newest first, each
 * tag with its digest and last update time, paged by Link rel="next".  So
 * the cap (maxTags) keeps the newest tags, and a re-pointed `latest` is an
 * update without a request more.
 *
 * With a service principal or a managed identity, the connector's token
 * chain (azure-token.c) gives the registry's access token for
 * repository:<repo>:pull,metadata_read first; the listing then carries it
 * itself (FETCH_ANONYMOUS: none of the fetch engine's auth).  A 401 drops
 * that token and the listing starts over once with a new one.  With the
 * admin user, the fetch engine does the registry token dance with the
 * connector's Basic credentials.  A source with `tag:` lists that one tag
 * (/acr/v1/<repo>/_tags/<tag>).  resolve() is acr-labels.c.
 */
#include <ctype.h>
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

#define ACR_PAGE	100
#define ACR_LIST_MAX	(8 * 1024 * 1024)

struct acr_source {
	char		*connector_ref;
	char		*subscription_id;
	char		*registry;
	char		*repository;
	char		*tag;
	char		*digest;	/* accepted, ignored */
};


struct acr_call {
	struct provider		*p;
	provider_done_cb	 done;
	void			*arg;
	struct versions		*vs;
	long long		 max;
	char			*token;		/* the one sent */
	unsigned		 requests;
	int			 refused;	/* a 401: once more */
	int			 retried;
};

#define SRC_OFF(f)	offsetof(struct acr_source, f)

static const struct cfg_key acr_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "subscriptionId", .type = CFG_STRING,
	  .off = SRC_OFF(subscription_id) },
	{ .name = "registry", .type = CFG_STRING, .off = SRC_OFF(registry),
	  .flags = CFG_REQUIRED },
	{ .name = "repository", .type = CFG_STRING, .off = SRC_OFF(repository),
	  .flags = CFG_REQUIRED },
	{ .name = "tag", .type = CFG_STRING, .off = SRC_OFF(tag) },
	{ .name = "digest", .type = CFG_STRING, .off = SRC_OFF(digest) },
	{ .name = NULL }
};

static int
acr_name_ok(const char *s, const char *extra)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return (0);
	return (1);
}

static int
acr_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct acr_source	*src = conf->data;
	int			 n = 0;

	if (src->registry != NULL && !acr_name_ok(src->registry, ".-:")) {
		cfg_error(errs, cfg_node_get(conf->spec, "registry"),
		    "registry %s is not a registry name (myregistry, or "
		    "myregistry.azurecr.io)", log_q(src->registry));
		n++;
	}
	if (src->repository != NULL &&
	    (!acr_name_ok(src->repository, "._-/") ||
	    src->repository[0] == '/' || strstr(src->repository, "//"))) {
		cfg_error(errs, cfg_node_get(conf->spec, "repository"),
		    "repository %s is not a repository name",
		    log_q(src->repository));
		n++;
	}
	if (src->tag != NULL && !acr_name_ok(src->tag, "._-")) {
		cfg_error(errs, cfg_node_get(conf->spec, "tag"), "tag %s is "
		    "not a tag name", log_q(src->tag));
		n++;
	}
	if (src->digest != NULL)
		log_warn("digest is ignored: a source watches tags",
		    "source=%s", log_q(conf->id));
	/* The listing is newest first: keep that order unless told. */
	if (conf->order == ORDER_NONE)
		conf->order = ORDER_PUSHED;
	return (n);
}

static char *
acr_identity(const struct source_conf *conf)
{
	const struct acr_source	*src = conf->data;
	char			*id;

	if (src == NULL || src->registry == NULL || src->repository == NULL)
		return (NULL);
	xasprintf(&id, "%s/%s%s%s", src->registry, src->repository,
	    src->tag != NULL ? ":" : "", src->tag != NULL ? src->tag : "");
	return (id);
}

static void
call_free(struct acr_call *c)
{
	if (c->vs != NULL) {
		versions_free(c->vs);
		free(c->vs);
	}
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c);
}

static void	acr_go(const char *, const char *, void *);

static void
acr_ended(struct provider_result *r, void *arg)
{
	struct acr_call		*c = arg;
	struct acr_src		*a = c->p->data;
	provider_done_cb	 done = c->done;
	void			*done_arg = c->arg;

	if (c->refused && !c->retried) {
		/* The token was refused: once more with a new one. */
		c->retried = 1;
		c->refused = 0;
		c->requests += r->requests;
		versions_free(c->vs);
		memset(c->vs, 0, sizeof *c->vs);
		az_token_refused(a->token, c->token);
		az_token_get(a->token, acr_go, c);
		return;
	}
	r->requests += c->requests;
	if (r->status == 0) {
		r->versions = c->vs;
		c->vs = NULL;
	}
	a->call = NULL;
	call_free(c);
	done(r, done_arg);
}

/* Why a non-2xx answer failed, into the batch. */
static int
acr_failed(struct acr_call *c, struct fetch *f, struct fetch_page *pg)
{
	const struct http_response	*resp = pg->resp;
	char				*msg;
	int64_t				 wait = 0;

	msg = az_parse_error(resp->body.data, resp->body.len);
	if (resp->status == 429 || resp->status == 503) {
		wait = (limiter_pause_left(c->p->connector->limiter) + 999) /
		    1000;
		if (wait == 0 && http_header(resp, "Retry-After") != NULL)
			wait = (limit_retry_after_ms(http_header(resp,
			    "Retry-After"), now_ms() / 1000, 0) + 999) / 1000;
	}
	fetch_fail(f, wait, "GET %s: HTTP %ld%s%s%s", pg->url, resp->status,
	    resp->status == 429 ? " (rate limited)" : "",
	    msg != NULL ? " " : "", msg != NULL ? msg : "");
	free(msg);
	return (FETCH_FAILED);
}

static int
acr_page(struct fetch *f, struct fetch_page *pg, void *arg)
{
	struct acr_call		*c = arg;
	char			*cause = NULL, *next = NULL, *msg;
	cJSON			*one = NULL;
	const cJSON		*doc = pg->json;
	int			 more, r;

	if (pg->resp->status == 401 && c->token != NULL && !c->retried) {
		c->refused = 1;
		log_info("acr token refused", "source=%s",
		    log_q(c->p->conf->id));
		return (FETCH_STOP);
	}
	if (pg->resp->status == 404 && c->p->conf->data != NULL &&
	    ((const struct acr_source *)c->p->conf->data)->tag != NULL &&
	    (msg = az_parse_error(pg->resp->body.data,
	    pg->resp->body.len)) != NULL) {
		/* The one tag, not pushed yet: nothing to list. */
		r = strncmp(msg, "TAG_UNKNOWN", 11) == 0 ||
		    strncmp(msg, "MANIFEST_UNKNOWN", 16) == 0;
		free(msg);
		if (r)
			return (FETCH_STOP);
	}
	if (pg->resp->status < 200 || pg->resp->status >= 300)
		return (acr_failed(c, f, pg));
	if (cJSON_GetObjectItem(doc, "tag") != NULL) {
		/* One tag: {"registry","imageName","tag":{…}}. */
		one = cJSON_CreateObject();
		cJSON_AddItemToObject(one, "tags", cJSON_CreateArray());
		cJSON_AddItemToArray(cJSON_GetObjectItem(one, "tags"),
		    cJSON_Duplicate(cJSON_GetObjectItem(doc, "tag"), 1));
		doc = one;
	}
	r = az_parse_acr_tags(doc, c->vs, c->max, &more, &cause);
	cJSON_Delete(one);
	if (r != 0) {
		fetch_fail(f, 0, "GET %s: %s", pg->url, cause);
		free(cause);
		return (FETCH_FAILED);
	}
	if (more) {
		c->vs->truncated = 1;
		return (FETCH_STOP);
	}
	if ((long long)c->vs->n >= c->max) {
		if (link_next(pg->resp, &next, &cause) == 1)
			c->vs->truncated = 1;
		free(next);
		free(cause);
		return (FETCH_STOP);
	}
	return (FETCH_NEXT);
}

/* The token is there (or not): the listing goes. */
static void
acr_go(const char *token, const char *cause, void *arg)
{
	struct acr_call		*c = arg;
	struct acr_src		*a = c->p->data;
	const struct acr_source	*src = c->p->conf->data;
	struct fetch		*f;
	struct fetch_request	 rq;
	struct fetch_paging	 pg;
	const char		*h[3] = { "Accept: application/json", NULL,
	    NULL };
	char			*url, *auth = NULL, *e;
	long long		 n;

	f = fetch_start(a->fetcher, acr_ended, c);
	if (a->token != NULL && token == NULL) {
		fetch_fail(f, 0, "no registry token for %s: %s", a->service,
		    cause);
		return;
	}
	memset(&rq, 0, sizeof rq);
	memset(&pg, 0, sizeof pg);
	if (token != NULL) {
		free(c->token);
		c->token = xstrdup(token);
		xasprintf(&auth, "Authorization: Bearer %s", token);
		h[1] = auth;
		rq.flags = FETCH_JSON | FETCH_ANONYMOUS | FETCH_OK_ANY;
	} else
		rq.flags = FETCH_JSON;	/* the engine's dance, Basic */
	if (src->tag != NULL) {
		e = url_escape(src->tag);
		xasprintf(&url, "%s/acr/v1/%s/_tags/%s", a->base,
		    src->repository, e);
		free(e);
	} else {
		n = c->max < ACR_PAGE ? c->max : ACR_PAGE;
		xasprintf(&url, "%s/acr/v1/%s/_tags?n=%lld&orderby=timedesc",
		    a->base, src->repository, n);
		pg.kind = PAGING_LINK;
		rq.paging = &pg;
	}
	if (token == NULL)
		rq.flags |= FETCH_OK_404;
	rq.url = url;
	rq.headers = h;
	rq.max_body = ACR_LIST_MAX;
	fetch_submit(f, &rq, acr_page, c);
	free(url);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
}

static void
acr_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct acr_src	*a = p->data;
	struct acr_call	*c = xcalloc(1, sizeof *c);

	c->p = p;
	c->done = done;
	c->arg = arg;
	c->vs = xcalloc(1, sizeof *c->vs);
	c->max = req->max > 0 ? req->max : 10000;
	a->call = c;
	if (a->token != NULL)
		az_token_get(a->token, acr_go, c);
	else
		acr_go(NULL, NULL, c);
}

static void
acr_cancel(struct provider *p)
{
	struct acr_src	*a = p->data;

	if (a == NULL)
		return;
	if (a->resolving != NULL) {
		if (a->token != NULL)
			az_token_cancel(a->token, a->resolving);
		fetch_cancel(a->fetcher);
		acr_resolve_free(a->resolving);
		a->resolving = NULL;
	}
	if (a->call == NULL)
		return;
	if (a->token != NULL)
		az_token_cancel(a->token, a->call);
	fetch_cancel(a->fetcher);
	call_free(a->call);
	a->call = NULL;
}

static int
acr_init(struct provider *p, char **cause __unused)
{
	const struct acr_source	*src = p->conf->data;
	struct azure_conn	*conn = p->connector->data;
	struct fetcher_conf	 fc;
	struct acr_src		*a = xcalloc(1, sizeof *a);

	a->base = az_registry_url(p->connector, src->registry, &a->service);
	a->repository = src->repository;
	xasprintf(&a->scope, "repository:%s:pull,metadata_read",
	    src->repository);
	memset(&fc, 0, sizeof fc);
	fc.default_scope = a->scope;
	a->fetcher = fetcher_create(p, &fc);
	if (conn->auth != NULL)
		a->token = az_auth_acr(conn->auth, a->base, a->service,
		    a->scope);
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "registry", a->service);
	cJSON_AddStringToObject(p->fields, "repository", src->repository);
	p->data = a;
	return (0);
}

static void
acr_free(struct provider *p)
{
	struct acr_src	*a = p->data;

	if (a == NULL)
		return;
	acr_cancel(p);
	fetcher_free(a->fetcher);
	free(a->base);
	free(a->service);
	free(a->scope);
	free(a);
	p->data = NULL;
}

const struct provider_entry provider_acr_entry = {
	.name = "Acr",
	.connector = "Azure",
	.kind = KIND_CONTAINER,
	.source_keys = acr_source_keys,
	.source_size = sizeof (struct acr_source),
	.flags = PROVIDER_TAGS,
	.check = acr_check,
	.identity = acr_identity,
	.init = acr_init,
	.list = acr_list,
	.resolve = acr_resolve,
	.cancel = acr_cancel,
	.free = acr_free,
};
