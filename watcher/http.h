/*
 * http.h: the HTTP engine (libcurl's multi-socket interface on the one
 * libevent base) and the pure parsers every provider needs: Link headers,
 * WWW-Authenticate challenges, Retry-After, URL resolution.
 */
#ifndef HTTP_H
#define HTTP_H

#include "watcher.h"

#define HTTP_MAX_BODY	(64 * 1024 * 1024)	/* default body cap */

/*
 * How to reach a server: TLS trust and identity, and a proxy.  The
 * connector's or sink's, loaded by http_tls_load() (http-tls.c); shared by
 * all its requests, never copied.  Zeroed: the system's trust store, no
 * client certificate, verification on, HTTPS_PROXY/NO_PROXY from the
 * environment (libcurl's default, which nothing here turns off).
 */
struct http_tls {
	char		*ca;		/* PEM bundle: trust only these CAs */
	size_t		 ca_len;
	char		*cert;		/* PEM client certificate (mTLS) */
	size_t		 cert_len;
	char		*key;		/* PEM private key of cert */
	size_t		 key_len;
	int		 insecure;	/* insecureSkipVerify: no checks */
	char		*proxy;		/* proxyUrl, or NULL */
};

/* What to send.  Everything is copied by http_submit(), except tls. */
struct http_request {
	const char		*method;	/* "GET" (default), "HEAD", "POST"… */
	const char		*url;
	const char *const	*headers;	/* "Name: value", NULL-terminated */
	const char		*body;		/* POST body */
	size_t			 body_len;
	long			 timeout_ms;	/* whole transfer; 0: 30 s */
	size_t			 max_body;	/* 0: HTTP_MAX_BODY */
	long			 connect_timeout_ms; /* 0: 10 s, at most timeout */
	/*
	 * Redirects are followed (at most 5; from https only to https, and
	 * Authorization is dropped on another origin) unless no_redirects:
	 * then a 3xx is the answer, its Location in the headers.
	 */
	int			 no_redirects;
	const struct http_tls	*tls;		/* NULL: the defaults */
};

struct http_header {
	char	*name;
	char	*value;
};

/* What came back.  Valid only during the done callback. */
struct http_response {
	int			 error;		/* 0, or a CURLcode */
	const char		*cause;		/* set when error != 0: why */
	long			 status;	/* HTTP status, 0 on error */
	const char		*url;		/* the URL that was requested */
	struct buf		 body;
	struct http_header	*headers;	/* of the last response */
	size_t			 nheaders;
	int64_t			 elapsed_ms;
	const char		*final_url;	/* after redirects */
};

struct http_req;
typedef void (*http_done_cb)(const struct http_response *, void *arg);

/*
 * Create the engine on `base` (calls curl_global_init(), balanced by
 * http_free(); create the first engine before starting threads).  NULL and
 * *cause on failure.  Free it before the base.
 */
struct http	*http_create(struct event_base *, char **cause);
/*
 * Cancels every request (no callbacks), then frees.  Accepts NULL.  Safe from
 * a done callback: the last teardown step then waits for it to return.
 */
void		 http_free(struct http *);
/*
 * Start a request.  `done` runs exactly once, later, from the event loop,
 * unless the request is cancelled first; even a request that cannot start
 * reports its error that way.  Never NULL.  The handle is valid until `done`
 * returns or http_cancel(); a callback may submit and cancel freely.
 * A transport error, a body over max_body ("body exceeds N bytes"), a
 * timeout or a truncated body sets error and cause; any HTTP status is not
 * an error.
 */
struct http_req	*http_submit(struct http *, const struct http_request *,
		    http_done_cb done, void *arg);
/* Abandon a request: its callback never runs.  Accepts NULL. */
void		 http_cancel(struct http_req *);
/* Requests in flight. */
size_t		 http_inflight(const struct http *);

/* The first header of that name (case-insensitive), or NULL. */
const char	*http_header(const struct http_response *, const char *name);

/* httpparse.c: pure parsers, bytes in, values out. */

/*
 * Response header lines as libcurl hands them over, one at a time: "Name:
 * value" adds a header, an obsolete folded line (leading space or tab)
 * continues the last value after one space, a status line ("HTTP/…")
 * empties the list (a redirect or a 100 Continue ends a response), the
 * blank line and anything else are skipped.  Work is linear in the bytes
 * given, however many lines fold: the last value grows by doubling.
 * `copied` counts the bytes moved (appended, or moved by a growth) so tests
 * can check that.  Start from all zeroes; header_list_clear() frees.
 */
struct header_list {
	struct http_header	*v;
	size_t			 n;
	size_t			 cap;		/* slots in v */
	size_t			 last_len;	/* strlen(v[n - 1].value) */
	size_t			 last_size;	/* bytes allocated for it */
	size_t			 copied;
};
/* 1 when the line was a status line (the list starts again), else 0. */
int	 header_list_line(struct header_list *, const char *data, size_t len);
void	 header_list_clear(struct header_list *);

/*
 * The rel="next" target of every Link header in `r` (repeated headers and
 * comma-separated values), resolved against the final URL (after redirects).
 * Returns 1 with *next (allocated) set, 0 when there is none, -1 with *cause
 * on a malformed header.
 */
int	 link_next(const struct http_response *r, char **next, char **cause);
int	 link_next_values(const char *const *values, size_t n,
	    const char *base_url, char **next, char **cause);

/*
 * A WWW-Authenticate challenge: the first one of the value.  Unknown
 * parameters are ignored, repeated scopes are joined with a space.
 * challenge_parse() overwrites *c; 0, or -1 with *cause (and *c empty).
 */
struct challenge {
	char	*scheme;	/* "Bearer", "Basic" (as sent) */
	char	*realm;
	char	*service;
	char	*scope;		/* may hold several, space-separated */
};
int	 challenge_parse(const char *value, struct challenge *, char **cause);
void	 challenge_clear(struct challenge *);

/*
 * Retry-After: delta seconds or HTTP-date, as seconds from `now` (0 for a
 * date in the past).  0, or -1 if the value is neither.
 */
int	 retry_after_parse(const char *value, int64_t now_s, int64_t *secs);

/*
 * Resolve `ref` (absolute, absolute-path or relative) against `base` as
 * RFC 3986 5.2 says.  Allocated; NULL when base is not absolute and ref
 * is relative.
 */
char	*url_resolve(const char *base, const char *ref);
/* Percent-encode for a query string component. */
char	*url_escape(const char *);
/* "scheme://host[:port]" of a URL, allocated; NULL if not a URL. */
char	*url_origin(const char *);
/* The host part only (no port, lowercase), allocated; NULL if not a URL. */
char	*url_host(const char *);
/*
 * 1 when both are URLs of the same origin: scheme, host and port (a port
 * left out is the scheme's default, 80 or 443), compared without case and
 * without user information; 0 otherwise, and for anything not a URL.
 */
int	 url_same_origin(const char *, const char *);

/*
 * http-tls.c: load a connector's or sink's TLS and proxy settings
 * (struct tls_conf of config.h: secret names or paths) into *out, reading
 * the PEM files and secrets now.  0, or -1 with *cause (naming the key,
 * never a value).  http_tls_clear() frees and wipes what it loaded.
 */
struct config;
struct tls_conf;
int	 http_tls_load(const struct config *, const struct tls_conf *,
	    struct http_tls *out, char **cause);
void	 http_tls_clear(struct http_tls *);

/* Base64 (standard alphabet, padded), allocated. */
char	*base64_encode(const void *, size_t);

#endif
