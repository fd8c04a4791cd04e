/*
 * provider-docker-auth.c: the registry token cache and the token request URL
 * of the DockerRegistry provider (provider-protocols.md §1.2).  Tokens are
 * kept per (realm, service, scope) in the provider instance, so the polls of
 * one source reuse them, and are dropped a little before they expire.  No
 * I/O here: the poll does the requests.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "provider-docker.h"

struct docker_token {
	char		*realm;
	char		*service;
	char		*scope;
	char		*token;
	int64_t		 stale_s;	/* stop using it from then on */
};

struct docker_tokens {
	struct docker_token	*v;
	size_t			 n;
};

struct docker_tokens *
docker_tokens_create(void)
{
	return (xcalloc(1, sizeof (struct docker_tokens)));
}

static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

static struct docker_token *
tokens_find(struct docker_tokens *t, const char *realm, const char *service,
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
token_clear(struct docker_token *tok)
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
tokens_remove(struct docker_tokens *t, struct docker_token *tok)
{
	token_clear(tok);
	*tok = t->v[--t->n];
}

const char *
docker_tokens_get(struct docker_tokens *t, const char *realm,
    const char *service, const char *scope, int64_t now_s)
{
	struct docker_token	*tok;

	if ((tok = tokens_find(t, realm, service, scope)) == NULL)
		return (NULL);
	if (now_s >= tok->stale_s) {
		tokens_remove(t, tok);
		return (NULL);
	}
	return (tok->token);
}

void
docker_tokens_put(struct docker_tokens *t, const char *realm,
    const char *service, const char *scope, const char *token,
    int64_t now_s, int64_t expires_s)
{
	struct docker_token	*tok;
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
docker_tokens_drop(struct docker_tokens *t, const char *realm,
    const char *service, const char *scope, const char *token)
{
	struct docker_token	*tok;

	tok = tokens_find(t, realm, service, scope);
	if (tok != NULL && same(tok->token, token))
		tokens_remove(t, tok);
}

void
docker_tokens_free(struct docker_tokens *t)
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
docker_token_url(const char *realm, const char *service, const char *scope)
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
docker_basic_header(const char *user, const char *password)
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
