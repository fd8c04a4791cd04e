/*
 * fetch-auth.c: the registry token dance's pure parts for the fetch engine
 * (provider-protocols.md §1.2; OCI registries, GHCR, ACR, GAR and Helm OCI
 * repositories all speak it): the token cache, the token request URL, the
 * token answer's parser and the Basic header.  Tokens are kept per (realm,
 * service, scope) on the connector, so its sources share them, and are
 * dropped a little before they expire.  No I/O here: fetch.c does that.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "fetch.h"
#include "json.h"

struct fetch_token {
	char		*realm;
	char		*service;
	char		*scope;
	char		*token;
	int64_t		 stale_s;	/* stop using it from then on */
};

struct fetch_tokens {
	struct fetch_token	*v;
	size_t			 n;
};

struct fetch_tokens *
fetch_tokens_create(void)
{
	return (xcalloc(1, sizeof (struct fetch_tokens)));
}

static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

static struct fetch_token *
tokens_find(struct fetch_tokens *t, const char *realm, const char *service,
    const char *scope)
{
	size_t	 i;

	for (i = 0; i < t->n; i++) {
		if (same(t->v[i].realm, realm) &&
		    same(t->v[i].service, service) &&
		    same(t->v[i].scope, scope))
			return (&t->v[i]);
	}
	return (NULL);
}

static void
token_clear(struct fetch_token *tok)
{
	free(tok->realm);
	free(tok->service);
	free(tok->scope);
	if (tok->token != NULL) {
		explicit_bzero(tok->token, strlen(tok->token));
		free(tok->token);
	}
}

static void
tokens_remove(struct fetch_tokens *t, struct fetch_token *tok)
{
	token_clear(tok);
	*tok = t->v[--t->n];
}

const char *
fetch_tokens_get(struct fetch_tokens *t, const char *realm,
    const char *service, const char *scope, int64_t now_s)
{
	struct fetch_token	*tok;

	if ((tok = tokens_find(t, realm, service, scope)) == NULL)
		return (NULL);
	if (now_s >= tok->stale_s) {
		tokens_remove(t, tok);
		return (NULL);
	}
	return (tok->token);
}

void
fetch_tokens_put(struct fetch_tokens *t, const char *realm,
    const char *service, const char *scope, const char *token,
    int64_t now_s, int64_t expires_s)
{
	struct fetch_token	*tok;
	int64_t			 margin;

	if ((tok = tokens_find(t, realm, service, scope)) != NULL)
		tokens_remove(t, tok);
	/* 30 s early, or half the lifetime of a very short-lived token. */
	margin = (expires_s - now_s) / 2;
	if (margin > 30)
		margin = 30;
	if (expires_s - margin <= now_s)
		return;		/* already stale: use once, never cache */
	t->v = xreallocarray(t->v, t->n + 1, sizeof *t->v);
	tok = &t->v[t->n++];
	tok->realm = realm != NULL ? xstrdup(realm) : NULL;
	tok->service = service != NULL ? xstrdup(service) : NULL;
	tok->scope = scope != NULL ? xstrdup(scope) : NULL;
	tok->token = xstrdup(token);
	tok->stale_s = expires_s - margin;
}

void
fetch_tokens_drop(struct fetch_tokens *t, const char *realm,
    const char *service, const char *scope, const char *token)
{
	struct fetch_token	*tok;

	tok = tokens_find(t, realm, service, scope);
	if (tok != NULL && same(tok->token, token))
		tokens_remove(t, tok);
}

void
fetch_tokens_free(struct fetch_tokens *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		token_clear(&t->v[i]);
	free(t->v);
	free(t);
}

/*
 * realm?service=…&scope=…&scope=…: one scope parameter per space-separated
 * scope of the challenge.  NULL if the realm is not an http(s) URL.
 */
char *
fetch_token_url(const char *realm, const char *service, const char *scope)
{
	struct buf	 b = { 0 };
	const char	*p, *sp;
	char		*one, *esc;
	char		 sep;

	if (strncmp(realm, "https://", 8) != 0 &&
	    strncmp(realm, "http://", 7) != 0)
		return (NULL);
	if (strpbrk(realm, " \t\r\n#") != NULL)
		return (NULL);
	buf_adds(&b, realm);
	sep = strchr(realm, '?') != NULL ? '&' : '?';
	if (service != NULL && *service != '\0') {
		esc = url_escape(service);
		buf_printf(&b, "%cservice=%s", sep, esc);
		free(esc);
		sep = '&';
	}
	for (p = scope; p != NULL && *p != '\0'; p = sp) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if ((sp = strchr(p, ' ')) == NULL)
			sp = p + strlen(p);
		one = xstrndup(p, (size_t)(sp - p));
		esc = url_escape(one);
		buf_printf(&b, "%cscope=%s", sep, esc);
		free(esc);
		free(one);
		sep = '&';
	}
	return (buf_take(&b));
}

/* "Authorization: Basic …" for user:password. */
char *
fetch_basic_header(const char *user, const char *password)
{
	char	*pair, *enc, *header;

	xasprintf(&pair, "%s:%s", user, password);
	enc = base64_encode(pair, strlen(pair));
	xasprintf(&header, "Authorization: Basic %s", enc);
	explicit_bzero(pair, strlen(pair));
	explicit_bzero(enc, strlen(enc));
	free(pair);
	free(enc);
	return (header);
}

/* A number, or a string holding one (some servers quote them). */
static int
json_seconds(const cJSON *item, int64_t *out)
{
	char	*end;
	double	 d;

	if (cJSON_IsNumber(item))
		d = item->valuedouble;
	else if (cJSON_IsString(item)) {
		d = strtod(item->valuestring, &end);
		if (end == item->valuestring || *end != '\0')
			return (-1);
	} else
		return (-1);
	if (!(d >= 0 && d <= 10.0 * 365 * 86400))
		return (-1);
	*out = (int64_t)d;
	return (0);
}

/* A token goes into a header: printable ASCII only, and not too long. */
static int
token_valid(const char *t)
{
	size_t	 n;

	for (n = 0; t[n] != '\0'; n++) {
		if (t[n] < 0x21 || t[n] > 0x7e || n >= 16384)
			return (0);
	}
	return (n > 0);
}

int
fetch_parse_token(const char *body, size_t len, int64_t now_s, char **token,
    int64_t *expires_s, char **cause)
{
	cJSON		*json, *item;
	const char	*field = "token";
	int64_t		 lifetime = 60, issued;

	*token = NULL;
	if (json_parse_object(body, len, &json, cause) != 0)
		return (-1);
	item = cJSON_GetObjectItemCaseSensitive(json, "token");
	if (item == NULL || cJSON_IsNull(item) ||
	    (cJSON_IsString(item) && item->valuestring[0] == '\0')) {
		field = "access_token";
		item = cJSON_GetObjectItemCaseSensitive(json, field);
	}
	if (item == NULL || cJSON_IsNull(item)) {
		cJSON_Delete(json);
		return (fail(cause, "no token in the response"));
	}
	if (!cJSON_IsString(item) || !token_valid(item->valuestring)) {
		cJSON_Delete(json);
		return (fail(cause, "\"%s\" is not a usable token", field));
	}
	*token = xstrdup(item->valuestring);

	item = cJSON_GetObjectItemCaseSensitive(json, "expires_in");
	if (item != NULL && !cJSON_IsNull(item)) {
		if (json_seconds(item, &lifetime) != 0 || lifetime == 0) {
			free(*token);
			*token = NULL;
			cJSON_Delete(json);
			return (fail(cause, "\"expires_in\" is not a duration "
			    "in seconds"));
		}
	}
	/* issued_at only counts when it is a time and not in our future. */
	issued = now_s;
	item = cJSON_GetObjectItemCaseSensitive(json, "issued_at");
	if (cJSON_IsString(item) &&
	    time_parse_rfc3339(item->valuestring, &issued) == 0 &&
	    issued > now_s)
		issued = now_s;
	*expires_s = issued + lifetime;
	cJSON_Delete(json);
	return (0);
}
