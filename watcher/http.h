/*
 * http.h: the HTTP engine (libcurl's multi-socket interface on the one
 * libevent base) and the pure parsers every provider needs: Link headers,
 * WWW-Authenticate challenges, Retry-After, URL resolution.
 */
#ifndef HTTP_H
#define HTTP_H

#include "watcher.h"

#define HTTP_MAX_BODY	(64 * 1024 * 1024)	/* default body cap */

/* What to send.  Everything is copied by http_submit(). */
struct http_request {
	const char		*method;	/* "GET" (default), "HEAD", "POST" */
	const char		*url;
	const char *const	*headers;	/* "Name: value", NULL-terminated */
	const char		*body;		/* POST body */
	size_t			 body_len;
	long			 timeout_ms;	/* whole transfer; 0: 30 s */
	size_t			 max_body;	/* 0: HTTP_MAX_BODY */
};

struct http_header {
	char	*name;
	char	*value;
};

/* What came back.  Valid only during the done callback. */
struct http_response {
	int			 error;		/* 0, or transport error */
	const char		*cause;		/* set when error != 0 */
	long			 status;	/* HTTP status, 0 on error */
	const char		*url;		/* the URL that was requested */
	struct buf		 body;
	struct http_header	*headers;	/* of the last response */
	size_t			 nheaders;
	int64_t			 elapsed_ms;
};

struct http_req;
typedef void (*http_done_cb)(const struct http_response *, void *arg);

/* Create the engine on `base`.  NULL and *cause on failure. */
struct http	*http_create(struct event_base *, char **cause);
/* Cancels every request (no callbacks), then frees.  Accepts NULL. */
void		 http_free(struct http *);
/*
 * Start a request.  `done` runs exactly once, later, from the event loop,
 * unless the request is cancelled first.  Never NULL.
 */
struct http_req	*http_submit(struct http *, const struct http_request *,
		    http_done_cb done, void *arg);
/* Abandon a request: its callback never runs. */
void		 http_cancel(struct http_req *);
/* Requests in flight. */
size_t		 http_inflight(const struct http *);

/* The first header of that name (case-insensitive), or NULL. */
const char	*http_header(const struct http_response *, const char *name);

/* httpparse.c: pure parsers, bytes in, values out. */

/*
 * The rel="next" target of every Link header in `r` (repeated headers and
 * comma-separated values), resolved against the request URL.  Returns 1 with
 * *next (allocated) set, 0 when there is none, -1 on a malformed header.
 */
int	 link_next(const struct http_response *r, char **next, char **cause);
int	 link_next_values(const char *const *values, size_t n,
	    const char *base_url, char **next, char **cause);

/* A WWW-Authenticate challenge. */
struct challenge {
	char	*scheme;	/* "Bearer", "Basic" (as sent) */
	char	*realm;
	char	*service;
	char	*scope;		/* may hold several, space-separated */
};
int	 challenge_parse(const char *value, struct challenge *, char **cause);
void	 challenge_clear(struct challenge *);

/* Retry-After: delta seconds or HTTP-date, as seconds from `now`. */
int	 retry_after_parse(const char *value, int64_t now_s, int64_t *secs);

/* Resolve `ref` (absolute, absolute-path or relative) against `base`. */
char	*url_resolve(const char *base, const char *ref);
/* Percent-encode for a query string component. */
char	*url_escape(const char *);
/* "scheme://host[:port]" of a URL, allocated; NULL if not a URL. */
char	*url_origin(const char *);
/* The host part only (no port), allocated; NULL if not a URL. */
char	*url_host(const char *);

/* Base64 (standard alphabet, padded), allocated. */
char	*base64_encode(const void *, size_t);

#endif
