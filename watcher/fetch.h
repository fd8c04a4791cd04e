/*
 * fetch.h: the fetch engine under every HTTP provider (DESIGN §8).  On top
 * of the HTTP engine (http.h) and the connector's limiter (limit.h) it
 * gives a provider:
 *
 * - batches: a `struct fetch` is the requests of one list() or resolve()
 *   call.  Its `done` runs once, from the event loop, when nothing is left
 *   in flight, or at the first failure, which cancels everything else;
 * - auth: the connector's credentials (connector.h) and the registry token
 *   dance: a 401 is read (WWW-Authenticate), Basic credentials or a Bearer
 *   token fetched once per (realm, service, scope) and cached on the
 *   connector, and the request sent once more; a second 401 fails;
 * - body caps, 429/503 with Retry-After, one clear cause per failure
 *   ("GET URL: HTTP 500"), the request count;
 * - paging: by Link rel="next", by a URL field in the JSON body (Docker
 *   Hub's "next"), by a token field (nextToken, continuationToken,
 *   nextPageToken) sent back as a query parameter, by offset/limit, and by
 *   S3's IsTruncated/NextContinuationToken (XML).  A next page must stay on
 *   the origin of the first, must not repeat, and there are at most
 *   max_pages;
 * - parsed bodies: FETCH_JSON and FETCH_XML hand the callback the parsed
 *   document (json.h, xml.h), or fail with a clear cause when the body is
 *   not one (an HTML error page, a truncated body).
 *
 * Parsers stay pure: the callback gives the bytes or the document to one.
 */
#ifndef FETCH_H
#define FETCH_H

#include "watcher.h"
#include "http.h"

#define FETCH_MAX_BODY		(8 * 1024 * 1024)	/* default body cap */
#define FETCH_MAX_PAGES		1000
#define FETCH_INFLIGHT		8	/* requests at once per call */

struct provider;
struct provider_result;
struct fetcher;
struct fetch;

/* One per provider instance: its connector, and the challenge it met. */
struct fetcher_conf {
	/*
	 * The scope of a Bearer challenge that names none (the registry
	 * token dance), e.g. "repository:library/nginx:pull".  May be NULL.
	 */
	const char	*default_scope;
	size_t		 inflight;	/* requests at once, 0: FETCH_INFLIGHT */
};
struct fetcher	*fetcher_create(struct provider *, const struct fetcher_conf *);
/* The same without a source: a connector's own requests (its probe). */
struct connector;
struct fetcher	*fetcher_create_connector(struct connector *,
		    const struct fetcher_conf *);
void		 fetcher_free(struct fetcher *);	/* accepts NULL */

/* How the next page is found (struct fetch_request.paging). */
enum fetch_paging_kind {
	PAGING_LINK,		/* Link: <url>; rel="next" */
	PAGING_URL_FIELD,	/* JSON: a field holds the next URL ("next") */
	PAGING_TOKEN,		/* JSON: a field holds a token for `param` */
	PAGING_OFFSET,		/* `param`=offset&`limit_param`=page_size */
	PAGING_S3,		/* XML: IsTruncated, NextContinuationToken */
};
struct fetch_paging {
	enum fetch_paging_kind	 kind;
	/* URL_FIELD, TOKEN: where in the JSON body (dotted: "a.b"). */
	const char		*field;
	/*
	 * TOKEN: the query parameter the token goes back in; OFFSET: the
	 * one of the offset; S3: default "continuation-token".
	 */
	const char		*param;
	const char		*limit_param;	/* OFFSET: page size's */
	long long		 page_size;	/* OFFSET: a shorter page ends */
	unsigned		 max_pages;	/* 0: FETCH_MAX_PAGES */
	/* Next URLs must be on this origin; NULL: the first URL's. */
	const char		*origin;
};

#define FETCH_ANONYMOUS	0x01	/* no credentials, no token (a public API) */
#define FETCH_OK_404	0x02	/* a 404 goes to the callback, not a failure */
#define FETCH_JSON	0x04	/* parse the body as JSON: page->json */
#define FETCH_XML	0x08	/* parse the body as XML: page->xml */
#define FETCH_OK_ANY	0x10	/* every status goes to the callback */

/* One request (copied by fetch_submit). */
struct fetch_request {
	const char		*method;	/* "GET" (default), "HEAD"… */
	const char		*url;
	const char *const	*headers;	/* "Name: value", NULL-ended */
	const char		*body;
	size_t			 body_len;
	size_t			 max_body;	/* 0: FETCH_MAX_BODY */
	unsigned		 flags;		/* FETCH_* */
	/* If-None-Match on the first page; a 304 goes to the callback. */
	const char		*etag;
	const struct fetch_paging *paging;	/* NULL: one request */
};

/* What a callback gets: one answer (one page of a paged request). */
struct fetch_page {
	const struct http_response *resp;	/* status, headers, body */
	const char		*url;		/* what was asked */
	unsigned		 number;	/* page number, from 1 */
	cJSON			*json;		/* FETCH_JSON (2xx), else NULL */
	void			*xml;		/* FETCH_XML: an xmlDoc * */
	/* PAGING_OFFSET: the callback says how many items the page had. */
	size_t			 items;
};

/* Callback answers: go on paging, stop paging, or fetch_fail() was called. */
#define FETCH_NEXT	0
#define FETCH_STOP	1
#define FETCH_FAILED	(-1)
typedef int (*fetch_cb)(struct fetch *, struct fetch_page *, void *arg);
/*
 * The batch ended: r->status, cause, retry_after_s and requests are set
 * (versions is the caller's to fill before passing r on).  The fetch is
 * already freed.
 */
typedef void (*fetch_done_cb)(struct provider_result *r, void *arg);

/* A batch on the fetcher; at most one per fetcher at a time. */
struct fetch	*fetch_start(struct fetcher *, fetch_done_cb, void *arg);
/* Queue a request; its callback runs for each answer (page). */
void		 fetch_submit(struct fetch *, const struct fetch_request *,
		    fetch_cb, void *arg);
/* Fail the batch (cancels the rest; `done` runs from the loop). */
void		 fetch_fail(struct fetch *, int64_t retry_after_s,
		    const char *fmt, ...) printflike(3, 4);
int		 fetch_failed(const struct fetch *);
/* Abandon the fetcher's batch in flight: no callback runs.  NULL ok. */
void		 fetch_cancel(struct fetcher *);
/* The batch of the fetcher, or NULL. */
struct fetch	*fetcher_current(const struct fetcher *);

/* fetch-auth.c: Bearer tokens per (realm, service, scope), on a connector. */
struct fetch_tokens;
struct fetch_tokens *fetch_tokens_create(void);
void	 fetch_tokens_free(struct fetch_tokens *);	/* accepts NULL */
/* The cached token, or NULL when there is none or it is about to expire. */
const char *fetch_tokens_get(struct fetch_tokens *, const char *realm,
	    const char *service, const char *scope, int64_t now_s);
void	 fetch_tokens_put(struct fetch_tokens *, const char *realm,
	    const char *service, const char *scope, const char *token,
	    int64_t now_s, int64_t expires_s);
/* Forget the token of that key, if it is still `token`. */
void	 fetch_tokens_drop(struct fetch_tokens *, const char *realm,
	    const char *service, const char *scope, const char *token);
/* realm?service=…&scope=… (one scope= per scope); NULL if not http(s). */
char	*fetch_token_url(const char *realm, const char *service,
	    const char *scope);
/*
 * A token response (pure): token (or access_token), expires_in (default
 * 60 s), issued_at (optional, else now_s).  *expires_s: when it stops.
 */
int	 fetch_parse_token(const char *body, size_t len, int64_t now_s,
	    char **token, int64_t *expires_s, char **cause);
/* "Authorization: Basic …" for user:password. */
char	*fetch_basic_header(const char *user, const char *password);

#endif
