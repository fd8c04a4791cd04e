/*
 * url.c: the little URL arithmetic the providers need, without a URL library:
 * resolve a reference against a base (RFC 3986 section 5: Link targets and
 * Location-style relative paths), percent-encode a query component, and cut
 * a URL down to its origin or host (token caches, the "same host" checks).
 *
 * url_same_origin() is the one rule for following a URL a response named
 * (a Link rel="next", a page's `next`): only to the origin the connector was
 * configured for, so its credentials never travel anywhere else.
 *
 * Pure functions: strings in, allocated strings out.  Nothing here touches
 * the network or validates more than it needs to; a string that is not a URL
 * gives NULL where a URL is required.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "watcher.h"
#include "http.h"

/* The five components of a URI reference; "has_" tells absent from empty. */
struct url_parts {
	const char	*scheme;
	size_t		 scheme_len;	/* 0: no scheme */
	const char	*auth;
	size_t		 auth_len;
	int		 has_auth;
	const char	*path;
	size_t		 path_len;
	const char	*query;
	size_t		 query_len;
	int		 has_query;
	const char	*frag;
	size_t		 frag_len;
	int		 has_frag;
};

/* Split a reference as RFC 3986 appendix B does; never fails. */
static void
url_split(const char *s, struct url_parts *u)
{
	const char	*p;

	memset(u, 0, sizeof *u);
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	if (isalpha((unsigned char)*s)) {
		for (p = s + 1; isalnum((unsigned char)*p) || *p == '+' ||
		    *p == '-' || *p == '.'; p++)
			/* nothing */;
		if (*p == ':') {
			u->scheme = s;
			u->scheme_len = (size_t)(p - s);
			s = p + 1;
		}
	}
	if (s[0] == '/' && s[1] == '/') {
		u->has_auth = 1;
		u->auth = s + 2;
		u->auth_len = strcspn(u->auth, "/?#");
		s = u->auth + u->auth_len;
	}
	u->path = s;
	u->path_len = strcspn(s, "?#");
	s += u->path_len;
	if (*s == '?') {
		u->has_query = 1;
		u->query = s + 1;
		u->query_len = strcspn(u->query, "#");
		s = u->query + u->query_len;
	}
	if (*s == '#') {
		u->has_frag = 1;
		u->frag = s + 1;
		u->frag_len = strlen(u->frag);
	}
}

/* Drop the last segment and its "/" from the output path. */
static void
url_pop_segment(struct buf *out)
{
	char	*slash;

	if (out->len == 0)
		return;
	slash = memrchr(out->data, '/', out->len);
	out->len = slash != NULL ? (size_t)(slash - out->data) : 0;
	out->data[out->len] = '\0';
}

/* RFC 3986 5.2.4: resolve "." and ".." segments of a path. */
static void
url_remove_dots(const char *path, size_t len, struct buf *out)
{
	char	*copy, *in;
	size_t	 seg;

	copy = in = xstrndup(path, len);
	while (*in != '\0') {
		if (strncmp(in, "../", 3) == 0)
			in += 3;
		else if (strncmp(in, "./", 2) == 0)
			in += 2;
		else if (strncmp(in, "/./", 3) == 0)
			in += 2;
		else if (strcmp(in, "/.") == 0)
			in[1] = '\0';
		else if (strncmp(in, "/../", 4) == 0) {
			in += 3;
			url_pop_segment(out);
		} else if (strcmp(in, "/..") == 0) {
			in[1] = '\0';
			url_pop_segment(out);
		} else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0)
			in += strlen(in);
		else {
			seg = 1 + strcspn(in + 1, "/");
			if (*in != '/')
				seg = strcspn(in, "/");
			buf_add(out, in, seg);
			in += seg;
		}
	}
	free(copy);
	if (out->data == NULL)
		buf_add(out, "", 0);
}

char *
url_resolve(const char *base, const char *ref)
{
	struct url_parts	 b, r;
	struct buf		 out = { 0 }, path = { 0 };
	const char		*slash;
	char			*merged;
	int			 own_authority;

	url_split(ref, &r);
	url_split(base, &b);
	if (r.scheme_len != 0) {
		/* Absolute: everything from ref, only its dots resolved. */
		b.scheme = r.scheme;
		b.scheme_len = r.scheme_len;
	} else if (b.scheme_len == 0)
		return (NULL);
	own_authority = r.scheme_len != 0 || r.has_auth;

	buf_add(&out, b.scheme, b.scheme_len);
	buf_adds(&out, ":");
	if (own_authority) {
		if (r.has_auth) {
			buf_adds(&out, "//");
			buf_add(&out, r.auth, r.auth_len);
		}
		url_remove_dots(r.path, r.path_len, &path);
	} else {
		if (b.has_auth) {
			buf_adds(&out, "//");
			buf_add(&out, b.auth, b.auth_len);
		}
		if (r.path_len == 0) {
			buf_add(&path, b.path, b.path_len);
			if (!r.has_query) {
				r.has_query = b.has_query;
				r.query = b.query;
				r.query_len = b.query_len;
			}
		} else if (r.path[0] == '/')
			url_remove_dots(r.path, r.path_len, &path);
		else {
			/* RFC 3986 5.2.3: merge with the base's directory. */
			slash = b.path_len == 0 ? NULL :
			    memrchr(b.path, '/', b.path_len);
			if (slash == NULL && b.has_auth)
				xasprintf(&merged, "/%.*s", (int)r.path_len,
				    r.path);
			else if (slash == NULL)
				merged = xstrndup(r.path, r.path_len);
			else
				xasprintf(&merged, "%.*s%.*s",
				    (int)(slash + 1 - b.path), b.path,
				    (int)r.path_len, r.path);
			url_remove_dots(merged, strlen(merged), &path);
			free(merged);
		}
	}
	buf_add(&out, path.data != NULL ? path.data : "", path.len);
	buf_free(&path);
	if (r.has_query) {
		buf_adds(&out, "?");
		buf_add(&out, r.query, r.query_len);
	}
	if (r.has_frag) {
		buf_adds(&out, "#");
		buf_add(&out, r.frag, r.frag_len);
	}
	return (buf_take(&out));
}

char *
url_escape(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct buf		 out = { 0 };
	unsigned char		 c;
	char			 pct[3];

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			buf_add(&out, s, 1);
			continue;
		}
		pct[0] = '%';
		pct[1] = hex[c >> 4];
		pct[2] = hex[c & 0xf];
		buf_add(&out, pct, 3);
	}
	return (buf_take(&out));
}

/*
 * The host[:port] of an absolute URL, without user information, or NULL.
 * *len is set to its length.
 */
static const char *
url_hostport(const char *s, size_t *len)
{
	struct url_parts	 u;
	const char		*at, *host;

	url_split(s, &u);
	if (u.scheme_len == 0 || !u.has_auth)
		return (NULL);
	host = u.auth;
	at = memrchr(u.auth, '@', u.auth_len);
	if (at != NULL)
		host = at + 1;
	*len = u.auth_len - (size_t)(host - u.auth);
	if (*len == 0)
		return (NULL);
	return (host);
}

static char *
lowercase(char *s)
{
	char	*p;

	for (p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return (s);
}

char *
url_host(const char *s)
{
	const char	*host, *end;
	size_t		 len;

	if ((host = url_hostport(s, &len)) == NULL)
		return (NULL);
	if (host[0] == '[') {
		/* An IP literal keeps its brackets: "[::1]". */
		end = memchr(host, ']', len);
		if (end == NULL)
			return (NULL);
		len = (size_t)(end + 1 - host);
	} else if ((end = memchr(host, ':', len)) != NULL)
		len = (size_t)(end - host);
	if (len == 0)
		return (NULL);
	return (lowercase(xstrndup(host, len)));
}

char *
url_origin(const char *s)
{
	const char	*host;
	size_t		 len;
	char		*out, *name;

	if ((name = url_host(s)) == NULL)
		return (NULL);
	free(name);
	host = url_hostport(s, &len);
	xasprintf(&out, "%.*s://%.*s", (int)strcspn(s, ":"), s, (int)len,
	    host);
	return (lowercase(out));
}

/* The port of an http(s) URL's authority: written, or the scheme's default. */
static long
url_port(const char *scheme, size_t scheme_len, const char *host, size_t len)
{
	const char	*colon, *p;
	long		 port = 0;

	colon = host[0] == '[' ? memchr(host, ']', len) : host;
	if (colon != NULL)
		colon = memchr(colon, ':', len - (size_t)(colon - host));
	if (colon == NULL || colon + 1 == host + len) {
		if (scheme_len == 5 && strncasecmp(scheme, "https", 5) == 0)
			return (443);
		if (scheme_len == 4 && strncasecmp(scheme, "http", 4) == 0)
			return (80);
		return (-1);
	}
	for (p = colon + 1; p < host + len; p++) {
		if (!isdigit((unsigned char)*p) || port > 65535)
			return (-1);
		port = port * 10 + (*p - '0');
	}
	return (port > 65535 ? -1 : port);
}

int
url_same_origin(const char *a, const char *b)
{
	struct url_parts	 ua, ub;
	const char		*ha, *hb;
	char			*na, *nb;
	size_t			 la, lb;
	long			 pa, pb;
	int			 same;

	if ((na = url_host(a)) == NULL || (nb = url_host(b)) == NULL) {
		free(na);
		return (0);
	}
	same = strcmp(na, nb) == 0;
	free(na);
	free(nb);
	url_split(a, &ua);
	url_split(b, &ub);
	if (!same || ua.scheme_len != ub.scheme_len ||
	    strncasecmp(ua.scheme, ub.scheme, ua.scheme_len) != 0)
		return (0);
	ha = url_hostport(a, &la);
	hb = url_hostport(b, &lb);
	pa = url_port(ua.scheme, ua.scheme_len, ha, la);
	pb = url_port(ub.scheme, ub.scheme_len, hb, lb);
	return (pa != -1 && pa == pb);
}
