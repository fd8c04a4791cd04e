/*
 * gcp-auth.c: the Gcp connector's access token, and keeping it fresh.
 * With a service-account key (ManualConfig's secretKeyRef, or the file
 * GOOGLE_APPLICATION_CREDENTIALS names) the token comes from a JWT bearer
 * grant (RS256, jwt.c) POSTed to the key's own token_uri; without one,
 * from the metadata server (Metadata-Flavor: Google), as on GCE and GKE.
 * Both ask for the read-only scope (provider-protocols.md §2.2).
 *
 * The token is renewed in the background ahead of its expiry (5 minutes,
 * or halfway through a shorter life; it is used while it has a minute, or
 * a quarter of a short life, left), so a poll waits for a grant only on
 * the first use or after a failure; callers that ask while a grant is under
 * way wait for it (the queue).  A 401 from an API calls gcp_auth_expired():
 * that token is forgotten and the next get makes a new grant.  The key and
 * the tokens are never logged: a cause holds the grant's URL, its status
 * and Google's own message.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "google.h"
#include "fetch.h"
#include "http.h"
#include "jwt.h"
#include "token-cache.h"

#define GCP_REFRESH_AHEAD_S	300	/* renew 5 min before expiry */
#define GCP_GOOD_S		60	/* a token good this long is used */

struct gcp_auth {
	struct env		*env;
	struct gcp_key		 key;
	int			 have_key;
	char			*key_error;	/* the key cannot be used: why */
	char			*metadata_url;
	char			*scope;
	char			*token;		/* secret */
	int64_t			 granted_s;
	int64_t			 expires_s;
	unsigned		 grants;
	struct http_req		*req;
	char			*what;		/* the grant's URL, for causes */
	struct token_cache	 cache;		/* waiters, renewal timer */
};

static void	gcp_auth_refresh(void *);

static void
token_forget(struct gcp_auth *a)
{
	if (a->token != NULL) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	a->token = NULL;
	a->expires_s = 0;
}

/* Everyone waiting gets the outcome, then the next grant is planned. */
static void
gcp_auth_settle(struct gcp_auth *a, const char *cause)
{
	struct token_waiter	*list = token_cache_take(&a->cache);
	token_fn		 fn;
	void			*arg;

	if (cause != NULL) {
		/* No timer: the next poll asks again. */
		log_warn("gcp token failed", "cause=%s", log_q(cause));
	} else
		token_cache_plan(&a->cache, a->expires_s, GCP_REFRESH_AHEAD_S);
	while (token_cache_pop(&list, &fn, &arg))
		((gcp_auth_cb)fn)(cause == NULL ? a->token : NULL, cause, arg);
}

/* One line for a cause: the grant, its status, Google's message. */
static char *
answer_cause(const char *what, const struct http_response *r)
{
	char	*status = NULL, *message = NULL, *out, *c;

	if (r->error != 0)
		xasprintf(&out, "%s: %s", what, r->cause);
	else if (gcp_parse_error(r->body.data, r->body.len, &status,
	    &message) == 0)
		xasprintf(&out, "%s: HTTP %ld %s%s%s", what, r->status,
		    status != NULL ? status : "", status != NULL &&
		    message != NULL ? ": " : "", message != NULL ? message :
		    "");
	else
		xasprintf(&out, "%s: HTTP %ld", what, r->status);
	free(status);
	free(message);
	for (c = out; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return (out);
}

static void
gcp_auth_answer(const struct http_response *r, void *arg)
{
	struct gcp_auth	*a = arg;
	char		*cause = NULL, *token, *why;
	int64_t		 expires;

	a->req = NULL;
	if (r->error != 0 || r->status != 200) {
		cause = answer_cause(a->what, r);
		gcp_auth_settle(a, cause);
		free(cause);
		return;
	}
	if (fetch_parse_token(r->body.data != NULL ? r->body.data : "",
	    r->body.len, now_ms() / 1000, &token, &expires, &why) != 0) {
		xasprintf(&cause, "%s: %s", a->what, why);
		free(why);
		gcp_auth_settle(a, cause);
		free(cause);
		return;
	}
	token_forget(a);
	a->token = token;
	a->granted_s = now_ms() / 1000;
	a->expires_s = expires;
	a->grants++;
	log_info("gcp token granted", "via=%s expires_in=%lld",
	    log_q(a->what), (long long)(expires - now_ms() / 1000));
	gcp_auth_settle(a, NULL);
}

static void
form_add(struct buf *b, const char *k, const char *v)
{
	char	*e = url_escape(v);

	buf_printf(b, "%s%s=%s", b->len > 0 ? "&" : "", k, e);
	free(e);
}

/* The key's grant: a signed JWT to its token_uri. */
static void
gcp_auth_grant(struct gcp_auth *a)
{
	struct http_request	 req;
	struct buf		 form = { 0 };
	cJSON			*h = cJSON_CreateObject();
	char			*header, *claims, *jwt, *cause, *why;
	static const char *const hdrs[] = {
		"Content-Type: application/x-www-form-urlencoded",
		"Accept: application/json", NULL
	};

	cJSON_AddStringToObject(h, "alg", "RS256");
	cJSON_AddStringToObject(h, "typ", "JWT");
	if (a->key.private_key_id != NULL)
		cJSON_AddStringToObject(h, "kid", a->key.private_key_id);
	header = cJSON_PrintUnformatted(h);
	cJSON_Delete(h);
	claims = gcp_grant_claims(&a->key, a->scope, now_ms() / 1000);
	if (jwt_rs256(header, claims, a->key.private_key, &jwt, &why) != 0) {
		xasprintf(&cause, "%s: cannot sign the grant: %s", a->what,
		    why);
		free(why);
		free(header);
		free(claims);
		gcp_auth_settle(a, cause);
		free(cause);
		return;
	}
	free(header);
	free(claims);
	form_add(&form, "grant_type",
	    "urn:ietf:params:oauth:grant-type:jwt-bearer");
	form_add(&form, "assertion", jwt);
	free(jwt);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.url = a->key.token_uri;
	req.headers = hdrs;
	req.body = form.data;
	req.body_len = form.len;
	req.max_body = 64 * 1024;
	a->req = http_submit(a->env->http, &req, gcp_auth_answer, a);
	buf_free(&form);
}

/* No key: the metadata server's token of the instance's account. */
static void
gcp_auth_metadata(struct gcp_auth *a)
{
	struct http_request	 req;
	char			*url, *scope = url_escape(a->scope);
	static const char *const hdrs[] = { "Metadata-Flavor: Google", NULL };

	xasprintf(&url, "%s/computeMetadata/v1/instance/service-accounts/"
	    "default/token?scopes=%s", a->metadata_url, scope);
	free(scope);
	memset(&req, 0, sizeof req);
	req.url = url;
	req.headers = hdrs;
	req.max_body = 64 * 1024;
	req.no_redirects = 1;
	a->req = http_submit(a->env->http, &req, gcp_auth_answer, a);
	free(url);
}

static void
gcp_auth_refresh(void *arg)
{
	struct gcp_auth	*a = arg;

	if (a->req != NULL)
		return;			/* already under way */
	token_cache_stop(&a->cache);
	if (a->key_error != NULL)
		gcp_auth_settle(a, a->key_error);
	else if (a->have_key)
		gcp_auth_grant(a);
	else
		gcp_auth_metadata(a);
}

struct gcp_auth *
gcp_auth_create(struct env *env, const struct gcp_auth_conf *conf)
{
	struct gcp_auth	*a = xcalloc(1, sizeof *a);
	char		*why;

	a->env = env;
	a->scope = xstrdup(conf->scope != NULL ? conf->scope : GCP_SCOPE);
	if (conf->key_error != NULL) {
		a->key_error = xstrdup(conf->key_error);
		a->what = xstrdup("the service-account key");
	} else if (conf->key_json != NULL) {
		/* A bad key fails the sources on it, not the daemon. */
		if (gcp_parse_key(conf->key_json, conf->key_len, &a->key,
		    &why) != 0) {
			xasprintf(&a->key_error, "%s: %s", conf->key_name, why);
			free(why);
		}
		a->have_key = 1;
		xasprintf(&a->what, "token grant at %s", a->key.token_uri);
	} else {
		a->metadata_url = xstrdup(conf->metadata_url);
		xasprintf(&a->what, "metadata server %s", a->metadata_url);
	}
	token_cache_init(&a->cache, env->base, gcp_auth_refresh, a);
	return (a);
}

const char *
gcp_auth_token(const struct gcp_auth *a)
{
	/* A short-lived token: good until its last quarter. */
	if (a->token == NULL || !token_cache_fresh(a->granted_s, a->expires_s,
	    GCP_GOOD_S, now_ms() / 1000))
		return (NULL);
	return (a->token);
}

void
gcp_auth_get(struct gcp_auth *a, gcp_auth_cb done, void *arg)
{
	if (gcp_auth_token(a) != NULL) {
		done(a->token, NULL, arg);
		return;
	}
	token_cache_wait(&a->cache, (token_fn)done, arg);
	gcp_auth_refresh(a);
}

void
gcp_auth_cancel(struct gcp_auth *a, void *arg)
{
	token_cache_cancel(&a->cache, arg);
}

void
gcp_auth_expired(struct gcp_auth *a, const char *token)
{
	if (a->token != NULL && token != NULL && strcmp(a->token, token) == 0)
		token_forget(a);
}

unsigned
gcp_auth_grants(const struct gcp_auth *a)
{
	return (a->grants);
}

void
gcp_auth_free(struct gcp_auth *a)
{
	if (a == NULL)
		return;
	http_cancel(a->req);
	token_cache_clear(&a->cache);
	token_forget(a);
	gcp_key_clear(&a->key);
	free(a->key_error);
	free(a->metadata_url);
	free(a->scope);
	free(a->what);
	free(a);
}
