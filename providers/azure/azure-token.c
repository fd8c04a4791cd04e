/*
 * azure-token.c: the tokens of an Azure connector, fetched, cached and kept
 * fresh (azure.h).  A chain: the Azure AD token (client credentials with a
 * client secret or a client assertion signed with the certificate's key, or
 * the managed identity's from the instance metadata service), traded per
 * registry at /oauth2/exchange for an ACR refresh token, traded per
 * repository scope at /oauth2/token for an ACR access token.  Each link is
 * a struct az_token: its value, when it expires, who waits for it, and the
 * link it is made from (its parent).
 *
 * A token is handed out at once while it is good for a while more (a
 * minute, or a quarter of a short life); else the callers wait for one
 * refresh.  A token that was used is refreshed in the background ahead of
 * its expiry (five minutes, or halfway through a short life), so a poll
 * does not wait for the chain; one nobody used since is left to expire and
 * fetched when asked.  A 401 with a token drops it (az_token_refused).
 * Requests go through the connector's limiter (429 and Retry-After, the
 * connector's TLS and proxy); no secret is ever in a cause or a log line.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "azure.h"
#include "connector.h"
#include "http.h"
#include "limit.h"
#include "token-cache.h"

#define AZ_AHEAD_S	300	/* background refresh this far ahead */
#define AZ_FRESH_S	60	/* handed out while good this much longer */
#define AZ_BODY_MAX	(1024 * 1024)

struct az_token {
	struct az_auth		*auth;
	enum az_token_kind	 kind;
	struct az_token		*parent;	/* made from its value */
	char			*base;		/* ACR: the registry's URL */
	char			*service;	/* ACR: its name */
	char			*scope;		/* ACR access: the scope */
	char			*value;		/* secret */
	int64_t			 obtained_s;
	int64_t			 expires_s;
	int			 used;		/* since the last refresh */
	int			 busy;		/* a refresh under way */
	unsigned		 fetches;
	struct limit_req	*req;
	struct token_cache	 cache;		/* waiters, renewal timer */
	struct az_token		*next;
};

struct az_auth {
	struct connector	*conn;
	struct az_auth_conf	 conf;		/* copied */
	struct az_token		*tokens;	/* the AD token first */
};

static void	az_token_refresh(struct az_token *);

static char *
dup_or_null(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

static void
wipe(char **s)
{
	if (*s != NULL) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

static int
az_fresh(const struct az_token *t, int64_t now)
{
	return (t->value != NULL && token_cache_fresh(t->obtained_s,
	    t->expires_s, AZ_FRESH_S, now));
}

/* Everyone waiting gets the outcome; the next refresh is planned. */
static void
az_token_settle(struct az_token *t, const char *cause)
{
	struct token_waiter	*list = token_cache_take(&t->cache);
	token_fn		 fn;
	void			*arg;

	t->busy = 0;
	if (cause != NULL)
		/* The poll that waited says it once; here for debugging. */
		log_debug("azure token failed",
		    "connector=%s token=%s cause=%s",
		    log_q(t->auth->conn->conf->id), t->kind ==
		    AZ_TOKEN_ACR_REFRESH ? "acr-refresh" : t->kind ==
		    AZ_TOKEN_ACR_ACCESS ? "acr-access" : "aad", log_q(cause));
	else
		token_cache_plan(&t->cache, t->expires_s, AZ_AHEAD_S);
	while (token_cache_pop(&list, &fn, &arg))
		((az_token_cb)fn)(cause == NULL ? t->value : NULL, cause, arg);
}

static void
form_add(struct buf *b, const char *k, const char *v)
{
	char	*e = url_escape(v);

	buf_printf(b, "%s%s=%s", b->len > 0 ? "&" : "", k, e);
	explicit_bzero(e, strlen(e));
	free(e);
}

static char *
az_uuid(void)
{
	unsigned char	 r[16];
	char		*s;

	if (RAND_bytes(r, sizeof r) != 1)
		fatalx("RAND_bytes failed");
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	xasprintf(&s, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	return (s);
}

static const char *
az_step(const struct az_token *t)
{
	switch (t->kind) {
	case AZ_TOKEN_IMDS:
		return ("managed identity token (instance metadata)");
	case AZ_TOKEN_ACR_REFRESH:
		return ("ACR refresh token (POST /oauth2/exchange)");
	case AZ_TOKEN_ACR_ACCESS:
		return ("ACR access token (POST /oauth2/token)");
	default:
		return ("Azure AD token");
	}
}

static void
az_token_answer(const struct http_response *r, void *arg)
{
	struct az_token	*t = arg;
	const char	*field;
	char		*msg, *cause = NULL, *why, *value;
	int64_t		 now = now_ms() / 1000, exp;

	t->req = NULL;
	if (r->error != 0) {
		xasprintf(&why, "%s: %s", az_step(t), r->cause);
		az_token_settle(t, why);
		free(why);
		return;
	}
	if (r->status != 200) {
		msg = az_parse_error(r->body.data, r->body.len);
		xasprintf(&why, "%s: HTTP %ld%s%s", az_step(t), r->status,
		    msg != NULL ? " " : "", msg != NULL ? msg : "");
		free(msg);
		if (r->status == 401 && t->parent != NULL)
			/* Maybe its parent went stale: ask it anew too. */
			az_token_refused(t->parent, t->parent->value);
		az_token_settle(t, why);
		free(why);
		return;
	}
	field = t->kind == AZ_TOKEN_ACR_REFRESH ? "refresh_token" :
	    "access_token";
	if (az_parse_token(r->body.data, r->body.len, field, now, &value,
	    &exp, &cause) != 0) {
		xasprintf(&why, "%s: %s", az_step(t), cause);
		free(cause);
		az_token_settle(t, why);
		free(why);
		return;
	}
	wipe(&t->value);
	t->value = value;
	t->obtained_s = now;
	t->expires_s = exp > now ? exp : now + 1;
	t->fetches++;
	log_debug("azure token", "connector=%s kind=%d expires_in=%lld",
	    log_q(t->auth->conn->conf->id), (int)t->kind,
	    (long long)(t->expires_s - now));
	az_token_settle(t, NULL);
}

static void
az_token_send(struct az_token *t, struct http_request *hr)
{
	hr->tls = t->auth->conn->tls;
	hr->max_body = AZ_BODY_MAX;
	t->req = limiter_submit(t->auth->conn->limiter, hr, az_token_answer,
	    t);
}

/* The request of this link; parent: the parent's value (or NULL). */
static void
az_token_request(struct az_token *t, const char *parent)
{
	const struct az_auth_conf *c = &t->auth->conf;
	struct http_request	 hr;
	struct buf		 body = { 0 };
	const char		*form[] = { "Content-Type: application/"
	    "x-www-form-urlencoded", "Accept: application/json", NULL };
	const char		*imds[] = { "Metadata: true", NULL };
	char			*url, *scope, *jti, *jwt, *cause, *why, *e;

	memset(&hr, 0, sizeof hr);
	hr.method = "POST";
	hr.headers = form;
	switch (t->kind) {
	case AZ_TOKEN_IMDS:
		e = url_escape(c->resource);
		scope = c->client_id != NULL ? url_escape(c->client_id) : NULL;
		xasprintf(&url, "%s/metadata/identity/oauth2/token?api-version="
		    "2018-02-01&resource=%s%s%s", c->imds, e, scope != NULL ?
		    "&client_id=" : "", scope != NULL ? scope : "");
		free(scope);
		free(e);
		hr.method = "GET";
		hr.headers = imds;
		hr.timeout_ms = 5000;	/* a host without IMDS: fail fast */
		hr.connect_timeout_ms = 2000;
		break;
	case AZ_TOKEN_AAD_SECRET:
	case AZ_TOKEN_AAD_CERT:
		xasprintf(&url, "%s/%s/oauth2/v2.0/token", c->login, c->tenant);
		xasprintf(&scope, "%s.default", c->resource);
		form_add(&body, "grant_type", "client_credentials");
		form_add(&body, "client_id", c->client_id);
		form_add(&body, "scope", scope);
		free(scope);
		if (t->kind == AZ_TOKEN_AAD_SECRET) {
			form_add(&body, "client_secret", c->secret);
			break;
		}
		jti = az_uuid();
		if (az_client_assertion(c->secret, c->client_id, url,
		    now_ms() / 1000, jti, &jwt, &cause) != 0) {
			free(jti);
			free(url);
			buf_free(&body);
			xasprintf(&why, "certificateRef: %s", cause);
			free(cause);
			az_token_settle(t, why);
			free(why);
			return;
		}
		free(jti);
		form_add(&body, "client_assertion_type", "urn:ietf:params:"
		    "oauth:client-assertion-type:jwt-bearer");
		form_add(&body, "client_assertion", jwt);
		wipe(&jwt);
		break;
	case AZ_TOKEN_ACR_REFRESH:
		xasprintf(&url, "%s/oauth2/exchange", t->base);
		form_add(&body, "grant_type", "access_token");
		form_add(&body, "service", t->service);
		if (c->tenant != NULL)
			form_add(&body, "tenant", c->tenant);
		form_add(&body, "access_token", parent);
		break;
	default:
		xasprintf(&url, "%s/oauth2/token", t->base);
		form_add(&body, "grant_type", "refresh_token");
		form_add(&body, "service", t->service);
		form_add(&body, "scope", t->scope);
		form_add(&body, "refresh_token", parent);
		break;
	}
	hr.url = url;
	if (body.len > 0) {
		hr.body = body.data;
		hr.body_len = body.len;
	}
	az_token_send(t, &hr);
	free(url);
	if (body.data != NULL)
		explicit_bzero(body.data, body.size);
	buf_free(&body);
}

/* The parent's value came (or did not). */
static void
az_token_parent(const char *value, const char *cause, void *arg)
{
	struct az_token	*t = arg;

	if (value == NULL) {
		az_token_settle(t, cause);
		return;
	}
	az_token_request(t, value);
}

static void
az_token_refresh(struct az_token *t)
{
	if (t->busy)
		return;			/* under way */
	t->busy = 1;
	t->used = 0;
	token_cache_stop(&t->cache);
	if (t->parent != NULL)
		az_token_get(t->parent, az_token_parent, t);
	else
		az_token_request(t, NULL);
}

static void
az_token_timer(void *arg)
{
	struct az_token	*t = arg;

	/* Nobody used it since: it may expire; it is fetched when asked. */
	if (t->used)
		az_token_refresh(t);
}

static struct az_token *
az_token_new(struct az_auth *a, enum az_token_kind kind,
    struct az_token *parent)
{
	struct az_token	*t = xcalloc(1, sizeof *t), **end;

	t->auth = a;
	t->kind = kind;
	t->parent = parent;
	token_cache_init(&t->cache, a->conn->env->base, az_token_timer, t);
	for (end = &a->tokens; *end != NULL; end = &(*end)->next)
		;
	*end = t;
	return (t);
}

struct az_auth *
az_auth_create(struct connector *conn, const struct az_auth_conf *conf)
{
	struct az_auth	*a = xcalloc(1, sizeof *a);

	a->conn = conn;
	a->conf.kind = conf->kind;
	a->conf.login = dup_or_null(conf->login);
	a->conf.imds = dup_or_null(conf->imds);
	a->conf.resource = dup_or_null(conf->resource);
	a->conf.tenant = dup_or_null(conf->tenant);
	a->conf.client_id = dup_or_null(conf->client_id);
	a->conf.secret = dup_or_null(conf->secret);
	az_token_new(a, conf->kind, NULL);
	return (a);
}

void
az_auth_free(struct az_auth *a)
{
	struct az_token		*t;

	if (a == NULL)
		return;
	while ((t = a->tokens) != NULL) {
		a->tokens = t->next;
		limit_cancel(t->req);
		token_cache_clear(&t->cache);
		wipe(&t->value);
		free(t->base);
		free(t->service);
		free(t->scope);
		free(t);
	}
	free((char *)a->conf.login);
	free((char *)a->conf.imds);
	free((char *)a->conf.resource);
	free((char *)a->conf.tenant);
	free((char *)a->conf.client_id);
	if (a->conf.secret != NULL) {
		explicit_bzero((char *)a->conf.secret,
		    strlen(a->conf.secret));
		free((char *)a->conf.secret);
	}
	free(a);
}

struct az_token *
az_auth_aad(struct az_auth *a)
{
	return (a->tokens);
}

static struct az_token *
az_find(struct az_auth *a, enum az_token_kind kind, const char *base,
    const char *scope)
{
	struct az_token	*t;

	for (t = a->tokens; t != NULL; t = t->next)
		if (t->kind == kind && strcmp(t->base, base) == 0 &&
		    (scope == NULL || strcmp(t->scope, scope) == 0))
			return (t);
	return (NULL);
}

struct az_token *
az_auth_acr(struct az_auth *a, const char *base, const char *service,
    const char *scope)
{
	struct az_token	*r, *t;

	if ((r = az_find(a, AZ_TOKEN_ACR_REFRESH, base, NULL)) == NULL) {
		r = az_token_new(a, AZ_TOKEN_ACR_REFRESH, a->tokens);
		r->base = xstrdup(base);
		r->service = xstrdup(service);
	}
	if ((t = az_find(a, AZ_TOKEN_ACR_ACCESS, base, scope)) == NULL) {
		t = az_token_new(a, AZ_TOKEN_ACR_ACCESS, r);
		t->base = xstrdup(base);
		t->service = xstrdup(service);
		t->scope = xstrdup(scope);
	}
	return (t);
}

void
az_token_get(struct az_token *t, az_token_cb done, void *arg)
{
	struct az_token		*p;

	/* The chain above is in use too: keep it fresh. */
	for (p = t; p != NULL; p = p->parent)
		p->used = 1;
	if (az_fresh(t, now_ms() / 1000)) {
		done(t->value, NULL, arg);
		return;
	}
	token_cache_wait(&t->cache, (token_fn)done, arg);
	az_token_refresh(t);
}

void
az_token_cancel(struct az_token *t, void *arg)
{
	token_cache_cancel(&t->cache, arg);
}

void
az_token_refused(struct az_token *t, const char *token)
{
	if (t->value != NULL && token != NULL && strcmp(t->value, token) == 0)
		wipe(&t->value);
}

unsigned
az_token_fetches(const struct az_token *t)
{
	return (t->fetches);
}
