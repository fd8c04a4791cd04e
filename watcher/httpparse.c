/*
 * httpparse.c: the header values every provider has to read or write: Link
 * (RFC 8288, for pagination), WWW-Authenticate (RFC 7235, for the registry
 * token dance), Retry-After (RFC 9110, for throttling) and base64 (for
 * Authorization: Basic); and the response header lines themselves, folded
 * continuation lines (RFC 9112 5.2, obs-fold) included.
 *
 * Pure functions, no I/O, so they can be fed hostile bytes by tests and
 * fuzzers: every input gives a value or a clear error, never a crash, in
 * time linear in its length.  provider-protocols.md 0.2-0.4 lists the header
 * shapes seen in the wild.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "watcher.h"
#include "http.h"

/* Optional whitespace (RFC 9110 OWS). */
static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return (p);
}

/* RFC 9110 tchar. */
static int
is_tchar(char c)
{
	return (isalnum((unsigned char)c) || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL));
}

static const char *
skip_token(const char *p)
{
	while (is_tchar(*p))
		p++;
	return (p);
}

/*
 * A parameter value at *p: a quoted-string (backslash escapes honoured) or,
 * leniently, anything up to a separator.  Advances *p; -1 if a quote is
 * never closed.
 */
static int
param_value(const char **p, char **value, const char *stops)
{
	struct buf	 b = { 0 };
	const char	*s = *p;

	if (*s != '"') {
		*p = s + strcspn(s, stops);
		*value = xstrndup(s, (size_t)(*p - s));
		return (0);
	}
	for (s++; *s != '"'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		if (*s == '\0') {
			buf_free(&b);
			return (-1);
		}
		buf_add(&b, s, 1);
	}
	*p = s + 1;
	*value = buf_take(&b);
	return (0);
}

static int
is_lws(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

/* Room for `more` bytes and a NUL after the last value, by doubling. */
static void
header_list_reserve(struct header_list *h, size_t more)
{
	struct http_header	*last = &h->v[h->n - 1];
	size_t			 need = h->last_len + more + 1, size;

	if (need <= h->last_size)
		return;
	size = h->last_size * 2 > need ? h->last_size * 2 : need;
	last->value = xrealloc(last->value, size);
	h->last_size = size;
	h->copied += h->last_len;	/* realloc may move it */
}

/* Append " " and the folded line's text to the last value. */
static void
header_list_fold(struct header_list *h, const char *v, size_t len)
{
	char	*value;

	if (h->n == 0)
		return;		/* nothing to continue: ignore it */
	header_list_reserve(h, len + 1);
	value = h->v[h->n - 1].value;
	value[h->last_len++] = ' ';
	memcpy(value + h->last_len, v, len);
	h->last_len += len;
	value[h->last_len] = '\0';
	h->copied += len + 1;
}

static void
header_list_add(struct header_list *h, const char *name, size_t nlen,
    const char *v, size_t vlen)
{
	if (h->n == h->cap) {
		h->cap = h->cap == 0 ? 16 : h->cap * 2;
		h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
		h->copied += h->n * sizeof *h->v;
	}
	h->v[h->n].name = xstrndup(name, nlen);
	h->v[h->n].value = xstrndup(v, vlen);
	h->n++;
	h->last_len = vlen;
	h->last_size = vlen + 1;
	h->copied += nlen + vlen;
}

int
header_list_line(struct header_list *h, const char *data, size_t len)
{
	const char	*end = data + len, *colon, *v;
	size_t		 nlen;

	while (end > data && is_lws(end[-1]))
		end--;
	if (end == data)
		return (0);	/* the blank line ending the headers */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		header_list_clear(h);
		return (1);
	}
	if (data[0] == ' ' || data[0] == '\t') {
		for (v = data; v < end && is_lws(*v); v++)
			/* nothing */;
		header_list_fold(h, v, (size_t)(end - v));
		return (0);
	}
	if ((colon = memchr(data, ':', (size_t)(end - data))) == NULL)
		return (0);	/* not a header; ignore it */
	nlen = (size_t)(colon - data);
	while (nlen > 0 && is_lws(data[nlen - 1]))
		nlen--;
	for (v = colon + 1; v < end && is_lws(*v); v++)
		/* nothing */;
	header_list_add(h, data, nlen, v, (size_t)(end - v));
	return (0);
}

void
header_list_clear(struct header_list *h)
{
	size_t	 i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	memset(h, 0, sizeof *h);
}

/* Whether a rel value (space-separated relation types) holds "next". */
static int
rel_has_next(const char *rel)
{
	const char	*p = rel;
	size_t		 len;

	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			return (0);
		len = strcspn(p, " \t");
		if (len == 4 && strncasecmp(p, "next", 4) == 0)
			return (1);
		p += len;
	}
}

/*
 * Scan one Link field value (a comma-separated list of link-values) for the
 * first rel="next".  Returns 1 with *target set (allocated, unresolved), 0
 * when there is none, -1 when the value is malformed.
 */
static int
link_scan(const char *s, char **target, char **cause)
{
	const char	*p = s, *uri, *gt, *name;
	char		*value;
	size_t		 nlen;
	int		 seen_rel, is_next;

	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return (0);
		if (*p != '<')
			return (fail(cause, "Link: expected '<' at offset %zu",
			    (size_t)(p - s)));
		uri = p + 1;
		if ((gt = strchr(uri, '>')) == NULL)
			return (fail(cause, "Link: '<' never closed"));
		p = gt + 1;
		seen_rel = is_next = 0;
		for (;;) {
			p = skip_ows(p);
			if (*p == ',' || *p == '\0')
				break;
			if (*p != ';')
				return (fail(cause, "Link: expected ';' or ',' "
				    "at offset %zu", (size_t)(p - s)));
			p = skip_ows(p + 1);
			name = p;
			p = skip_token(p);
			if ((nlen = (size_t)(p - name)) == 0)
				return (fail(cause, "Link: parameter without a "
				    "name at offset %zu", (size_t)(p - s)));
			p = skip_ows(p);
			if (*p != '=')
				continue;
			p = skip_ows(p + 1);
			if (param_value(&p, &value, ";, \t") != 0)
				return (fail(cause, "Link: quoted string never "
				    "closed"));
			/* RFC 8288 3.3: only the first rel counts. */
			if (!seen_rel && nlen == 3 &&
			    strncasecmp(name, "rel", 3) == 0) {
				seen_rel = 1;
				is_next = rel_has_next(value);
			}
			free(value);
		}
		if (is_next) {
			while (uri < gt && (*uri == ' ' || *uri == '\t'))
				uri++;
			while (gt > uri && (gt[-1] == ' ' || gt[-1] == '\t'))
				gt--;
			*target = xstrndup(uri, (size_t)(gt - uri));
			return (1);
		}
	}
}

int
link_next_values(const char *const *values, size_t n, const char *base_url,
    char **next, char **cause)
{
	char	*target = NULL;
	size_t	 i;
	int	 found;

	for (i = 0; i < n; i++) {
		found = link_scan(values[i], &target, cause);
		if (found == 0)
			continue;
		if (found < 0)
			return (-1);
		*next = url_resolve(base_url, target);
		if (*next == NULL) {
			fail(cause, "Link: cannot resolve \"%s\" against "
			    "\"%s\"", target, base_url);
			free(target);
			return (-1);
		}
		free(target);
		return (1);
	}
	return (0);
}

int
link_next(const struct http_response *r, char **next, char **cause)
{
	const char	**values;
	const char	*base;
	size_t		 i, n = 0;
	int		 found;

	values = xreallocarray(NULL, r->nheaders + 1, sizeof *values);
	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, "Link") == 0)
			values[n++] = r->headers[i].value;
	}
	base = r->final_url != NULL ? r->final_url : r->url;
	found = link_next_values(values, n, base, next, cause);
	free(values);
	return (found);
}

/* Keep one challenge parameter we care about; scopes accumulate. */
static void
challenge_set(struct challenge *c, const char *name, size_t nlen, char *value)
{
	char	**slot = NULL, *joined;

	if (nlen == 5 && strncasecmp(name, "realm", 5) == 0)
		slot = &c->realm;
	else if (nlen == 7 && strncasecmp(name, "service", 7) == 0)
		slot = &c->service;
	else if (nlen == 5 && strncasecmp(name, "scope", 5) == 0) {
		if (c->scope != NULL) {
			xasprintf(&joined, "%s %s", c->scope, value);
			free(c->scope);
			free(value);
			c->scope = joined;
			return;
		}
		slot = &c->scope;
	}
	if (slot == NULL || *slot != NULL) {
		free(value);	/* unknown, or repeated: the first wins */
		return;
	}
	*slot = value;
}

int
challenge_parse(const char *value, struct challenge *c, char **cause)
{
	const char	*p, *scheme, *name, *after;
	char		*v;
	size_t		 nlen;

	memset(c, 0, sizeof *c);
	p = skip_ows(value);
	scheme = p;
	p = skip_token(p);
	if (p == scheme)
		return (fail(cause, "WWW-Authenticate: no auth scheme"));
	c->scheme = xstrndup(scheme, (size_t)(p - scheme));
	if (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',') {
		challenge_clear(c);
		return (fail(cause, "WWW-Authenticate: bad auth scheme"));
	}

	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		name = p;
		p = skip_token(p);
		if ((nlen = (size_t)(p - name)) == 0) {
			challenge_clear(c);
			return (fail(cause, "WWW-Authenticate: unexpected "
			    "'%c' at offset %zu", *p, (size_t)(p - value)));
		}
		after = skip_ows(p);
		if (*after != '=') {
			/* token68, or the next challenge: ours is complete. */
			break;
		}
		p = skip_ows(after + 1);
		if (param_value(&p, &v, ", \t") != 0) {
			challenge_clear(c);
			return (fail(cause, "WWW-Authenticate: quoted string "
			    "never closed"));
		}
		challenge_set(c, name, nlen, v);
	}
	return (0);
}

void
challenge_clear(struct challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof *c);
}

int
retry_after_parse(const char *value, int64_t now_s, int64_t *secs)
{
	const char	*p;
	char		*s, *end;
	long long	 n;
	int64_t		 when;
	size_t		 len;

	p = skip_ows(value);
	len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len == 0)
		return (-1);
	s = xstrndup(p, len);
	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0') {
			free(s);
			return (-1);
		}
		free(s);
		*secs = n;
		return (0);
	}
	if (time_parse_http(s, &when) != 0) {
		free(s);
		return (-1);
	}
	free(s);
	*secs = when > now_s ? when - now_s : 0;
	return (0);
}

char *
base64_encode(const void *data, size_t len)
{
	static const char	 abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*p = data;
	char			*out, *o;
	uint32_t		 v;
	size_t			 i;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		fatalx("base64_encode: input too large");
	o = out = xmalloc((len + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = abc[v >> 6 & 63];
		*o++ = abc[v & 63];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = i + 1 < len ? abc[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return (out);
}
