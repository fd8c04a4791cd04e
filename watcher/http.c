/*
 * http.c: the HTTP engine.  Every request of the daemon goes through one
 * libcurl multi handle driven by the daemon's one libevent base, so that
 * nothing ever blocks the loop and connections are reused across requests.
 *
 * DESIGN
 * ------
 * libcurl's multi-socket interface tells us which sockets to watch and when
 * to wake it up; we never poll it.
 *
 * - CURLMOPT_SOCKETFUNCTION (http_socket_cb) creates one struct http_sock per
 *   socket the first time curl wants it watched, stores it with
 *   curl_multi_assign() and re-arms its event on every change; on
 *   CURL_POLL_REMOVE it deletes the event and frees the context.
 * - CURLMOPT_TIMERFUNCTION (http_timer_cb) only (re)arms or deletes the one
 *   evtimer.  Neither hook ever calls libcurl: curl forbids it.
 * - When a socket is ready or the timer fires, http_action() calls
 *   curl_multi_socket_action() and then http_check_done() reads every
 *   CURLMSG_DONE, finds our struct http_req through CURLINFO_PRIVATE, removes
 *   the easy handle and runs the request's done callback.
 *
 * Callbacks run exactly once, always from the loop, never from inside
 * http_submit().  A callback may submit, cancel other requests (curl drops a
 * removed handle's pending message, so a cancelled request is never reported)
 * or even free the engine: http_free() called while callbacks are running
 * cancels everything at once and leaves the final teardown to the outermost
 * frame (h->busy, h->dying).
 *
 * The response headers kept are those of the final response: every status
 * line (a redirect, a 100 Continue) starts the list again.  Repeated headers
 * such as Link are all kept.  The body is capped (max_body) both by
 * CURLOPT_MAXFILESIZE_LARGE, which fails early when Content-Length is known,
 * and in the write callback, which covers chunked bodies.
 *
 * Easy handles outlive their requests: a finished one is reset
 * (curl_easy_reset() keeps nothing of the request's options) and kept, up
 * to HTTP_IDLE_HANDLES, for the next request, since creating and destroying
 * one per request was a large share of a poll's CPU (bench/RESULTS.md).
 * Connections live in the multi handle's cache either way.
 *
 * Redirects are followed (at most 5, http and https only; from an https URL
 * only to https, so no step down to plain text), unless the request says
 * no_redirects (webhooks: a 3xx is their answer).  CURLOPT_UNRESTRICTED_AUTH
 * stays unset, so libcurl drops a custom Authorization header when a
 * redirect leads to another host, port or scheme (libcurl >= 7.83): a blob
 * redirected to storage on another host goes there without credentials.
 *
 * TLS and proxy settings (struct http_tls) are applied per request: a CA
 * bundle, a client certificate and key (all PEM in memory), verification
 * off only when insecureSkipVerify was written, a proxy.  CURLOPT_PROXY is
 * set only for a configured proxy, so HTTPS_PROXY, HTTP_PROXY and NO_PROXY
 * of the environment apply otherwise (libcurl's default).
 *
 * http_create() calls curl_global_init() and http_free() the matching
 * curl_global_cleanup(); libcurl (>= 7.84) counts these calls, so several
 * engines may exist, but create the first one before starting any thread.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "watcher.h"
#include "http.h"

#define HTTP_TIMEOUT_MS		30000	/* whole transfer, by default */
#define HTTP_CONNECT_MS		10000	/* connecting, at most */
#define HTTP_MAX_REDIRS		5
#define HTTP_MAX_HEADER_BYTES	(1024 * 1024)	/* per response */
#define HTTP_IDLE_HANDLES	64	/* easy handles kept for reuse */

struct http_sock {
	struct http		*http;
	curl_socket_t		 fd;
	struct event		*ev;
	LIST_ENTRY(http_sock)	 entry;
};

struct http_req {
	struct http		*http;
	CURL			*easy;
	struct curl_slist	*slist;
	char			*url;
	size_t			 max_body;
	int64_t			 started;
	http_done_cb		 done;
	void			*arg;

	struct buf		 body;
	struct header_list	 headers;
	size_t			 header_bytes;

	char			*cause;		/* ours; beats errbuf */
	struct event		*fail_ev;	/* report a failed set-up */
	int			 completing;	/* in its done callback */
	char			 errbuf[CURL_ERROR_SIZE];
	TAILQ_ENTRY(http_req)	 entry;
};

struct http {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	TAILQ_HEAD(, http_req)	 reqs;
	LIST_HEAD(, http_sock)	 socks;
	size_t			 inflight;
	CURL			*idle[HTTP_IDLE_HANDLES]; /* for reuse */
	size_t			 nidle;
	int			 busy;	/* our callbacks on the stack */
	int			 dying;	/* http_free() ran meanwhile */
};

static void	http_destroy(struct http *);
static void	http_req_free(struct http_req *);

/* Forget the headers collected so far: a new response begins. */
static void
http_req_reset_headers(struct http_req *req)
{
	header_list_clear(&req->headers);
	req->header_bytes = 0;
}

static void
http_req_fail(struct http_req *req, const char *fmt, ...) printflike(2, 3);

/* Remember why we stopped a transfer; the first reason wins. */
static void
http_req_fail(struct http_req *req, const char *fmt, ...)
{
	va_list	 ap;

	if (req->cause != NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&req->cause, fmt, ap);
	va_end(ap);
}

/*
 * CURLOPT_HEADERFUNCTION: one header line at a time, status lines too
 * (header_list_line(): folded lines cost linear time, however many).
 */
static size_t
http_header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_req		*req = arg;
	size_t			 len = size * n;

	req->header_bytes += len;
	if (req->header_bytes > HTTP_MAX_HEADER_BYTES) {
		http_req_fail(req, "headers exceed %d bytes",
		    HTTP_MAX_HEADER_BYTES);
		return (0);
	}
	if (header_list_line(&req->headers, data, len))
		req->header_bytes = len;
	return (len);
}

/* CURLOPT_WRITEFUNCTION: append to the body, up to the cap. */
static size_t
http_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_req	*req = arg;
	size_t		 len = size * n;

	if (len > req->max_body - req->body.len) {
		http_req_fail(req, "body exceeds %zu bytes", req->max_body);
		return (0);
	}
	buf_add(&req->body, data, len);
	return (len);
}

/*
 * A refused step from https down to http: libcurl only says the protocol
 * is disabled.  The headers kept are the redirect's, so its Location is
 * there; only its origin is named (a query may hold a token).
 */
static void
http_req_downgrade_hint(struct http_req *req, CURLcode code)
{
	char	*to = NULL, *origin;
	size_t	 i;

	if (code != CURLE_UNSUPPORTED_PROTOCOL ||
	    strncasecmp(req->url, "https:", 6) != 0)
		return;
	for (i = 0; i < req->headers.n && to == NULL; i++) {
		if (strcasecmp(req->headers.v[i].name, "Location") == 0)
			to = url_resolve(req->url, req->headers.v[i].value);
	}
	if (to != NULL && strncasecmp(to, "http:", 5) == 0) {
		origin = url_origin(to);
		http_req_fail(req, "redirected from https to plain http (%s); "
		    "not followed", origin != NULL ? origin : "?");
		free(origin);
	}
	free(to);
}

/*
 * TLS failures in words a config can act on, with libcurl's own message
 * after them.  A refused client certificate shows only as the server's
 * alert, often at the first read (TLS 1.3), so it is told by the alert.
 */
static void
http_req_tls_hint(struct http_req *req, CURLcode code)
{
	const char	*why;

	why = req->errbuf[0] != '\0' ? req->errbuf : curl_easy_strerror(code);
	if (code == CURLE_PEER_FAILED_VERIFICATION)
		http_req_fail(req, "the server's TLS certificate is not "
		    "trusted (name its CA in caCertRef): %s", why);
	else if (code == CURLE_SSL_CERTPROBLEM)
		http_req_fail(req, "the client certificate or key cannot be "
		    "used (clientCertRef, clientKeyRef): %s", why);
	else if (strstr(why, "certificate required") != NULL ||
	    strstr(why, "alert bad certificate") != NULL ||
	    strstr(why, "alert handshake failure") != NULL)
		http_req_fail(req, "the server refused the TLS connection, "
		    "probably for want of a client certificate it trusts "
		    "(clientCertRef, clientKeyRef): %s", why);
}

/* Build the response, run the callback, free the request. */
static void
http_req_finish(struct http_req *req, CURLcode code)
{
	struct http		*h = req->http;
	struct http_response	 r;
	char			*final_url = NULL;
	long			 status = 0;

	TAILQ_REMOVE(&h->reqs, req, entry);
	h->inflight--;

	memset(&r, 0, sizeof r);
	r.url = req->url;
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(req->easy, CURLINFO_EFFECTIVE_URL, &final_url);
	if (code == CURLE_FILESIZE_EXCEEDED)
		http_req_fail(req, "body exceeds %zu bytes", req->max_body);
	if (code != CURLE_OK) {
		r.error = (int)code;
		http_req_downgrade_hint(req, code);
		http_req_tls_hint(req, code);
		if (req->cause == NULL && req->errbuf[0] != '\0')
			http_req_fail(req, "%s", req->errbuf);
		if (req->cause == NULL)
			http_req_fail(req, "%s", curl_easy_strerror(code));
		r.cause = req->cause;
	} else
		r.status = status;
	r.final_url = final_url != NULL ? final_url : req->url;
	if (req->body.data == NULL)
		buf_add(&req->body, "", 0);	/* always a C string */
	r.body = req->body;
	r.headers = req->headers.v;
	r.nheaders = req->headers.n;
	r.elapsed_ms = mono_ms() - req->started;

	h->busy++;
	req->completing = 1;
	req->done(&r, req->arg);
	h->busy--;

	http_req_free(req);
}

/* After our callbacks ran: finish an http_free() they asked for. */
static void
http_reap(struct http *h)
{
	if (h->dying && h->busy == 0)
		http_destroy(h);
}

/* Read curl's completion messages and finish those requests. */
static void
http_check_done(struct http *h)
{
	struct http_req	*req;
	CURLMsg		*msg;
	CURLcode	 code;
	char		*priv;
	int		 left;

	while (!h->dying &&
	    (msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv == NULL)
			continue;	/* not one of ours */
		req = (struct http_req *)priv;
		code = msg->data.result;
		curl_multi_remove_handle(h->multi, req->easy);
		http_req_finish(req, code);
	}
	http_reap(h);
}

/* Let curl act on a socket (or on the timeout), then collect results. */
static void
http_action(struct http *h, curl_socket_t fd, int flags)
{
	int	 running;

	curl_multi_socket_action(h->multi, fd, flags, &running);
	http_check_done(h);
}

/* A watched socket is ready. */
static void
http_sock_ready(evutil_socket_t fd, short what, void *arg)
{
	struct http_sock	*s = arg;
	int			 flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	http_action(s->http, fd, flags);
}

/* The one timer fired: curl has timeouts to handle. */
static void
http_timer_fired(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	http_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

static void
http_sock_free(struct http_sock *s)
{
	LIST_REMOVE(s, entry);
	event_free(s->ev);
	free(s);
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-arm or forget a socket. */
static int
http_socket_cb(__unused CURL *easy, curl_socket_t fd, int action, void *arg,
    void *sockp)
{
	struct http		*h = arg;
	struct http_sock	*s = sockp;
	short			 events = EV_PERSIST;

	if (action == CURL_POLL_REMOVE) {
		if (s != NULL) {
			curl_multi_assign(h->multi, fd, NULL);
			http_sock_free(s);
		}
		return (0);
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->http = h;
		s->fd = fd;
		s->ev = event_new(h->base, fd, 0, http_sock_ready, s);
		if (s->ev == NULL)
			fatalx("event_new failed");
		LIST_INSERT_HEAD(&h->socks, s, entry);
		curl_multi_assign(h->multi, fd, s);
	}
	if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
		events |= EV_READ;
	if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
		events |= EV_WRITE;
	event_del(s->ev);
	event_assign(s->ev, h->base, fd, events, http_sock_ready, s);
	event_add(s->ev, NULL);
	return (0);
}

/* CURLMOPT_TIMERFUNCTION: only (re)arm or stop the timer. */
static int
http_timer_cb(__unused CURLM *multi, long timeout_ms, void *arg)
{
	struct http	*h = arg;
	struct timeval	 tv;

	evtimer_del(h->timer);
	if (timeout_ms < 0)
		return (0);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(h->timer, &tv);
	return (0);
}

struct http *
http_create(struct event_base *base, char **cause)
{
	struct http	*h;
	CURLcode	 code;

	code = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (code != CURLE_OK) {
		fail(cause, "curl_global_init: %s", curl_easy_strerror(code));
		return (NULL);
	}
	h = xcalloc(1, sizeof *h);
	h->base = base;
	TAILQ_INIT(&h->reqs);
	LIST_INIT(&h->socks);
	h->timer = evtimer_new(base, http_timer_fired, h);
	h->multi = curl_multi_init();
	if (h->timer == NULL || h->multi == NULL) {
		fail(cause, "cannot create the HTTP engine");
		http_destroy(h);
		return (NULL);
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return (h);
}

/* The final teardown, once no callback of ours is running. */
static void
http_destroy(struct http *h)
{
	struct http_sock	*s;
	struct http_req		*req;

	/* Submitted by a callback after http_free(): never reported. */
	while ((req = TAILQ_FIRST(&h->reqs)) != NULL)
		http_cancel(req);
	while (h->nidle > 0)
		curl_easy_cleanup(h->idle[--h->nidle]);
	/* May call http_socket_cb, which needs the base and h->socks. */
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	while ((s = LIST_FIRST(&h->socks)) != NULL)
		http_sock_free(s);
	if (h->timer != NULL)
		event_free(h->timer);
	free(h);
	curl_global_cleanup();
}

void
http_free(struct http *h)
{
	struct http_req	*req;

	if (h == NULL || h->dying)
		return;
	h->dying = 1;
	while ((req = TAILQ_FIRST(&h->reqs)) != NULL)
		http_cancel(req);
	if (h->busy == 0)
		http_destroy(h);
}

static void
http_req_free(struct http_req *req)
{
	struct http		*h = req->http;
	struct curl_slist	*l;

	if (req->fail_ev != NULL)
		event_free(req->fail_ev);
	/* Out of the multi by now: keep it for the next request, or drop it. */
	if (h->nidle < HTTP_IDLE_HANDLES && !h->dying) {
		curl_easy_reset(req->easy);
		h->idle[h->nidle++] = req->easy;
	} else
		curl_easy_cleanup(req->easy);
	/* Headers carry tokens and passwords: leave none in freed memory. */
	for (l = req->slist; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(req->slist);
	http_req_reset_headers(req);
	buf_free(&req->body);
	free(req->cause);
	free(req->url);
	free(req);
}

/* The deferred report of a request that could not even start. */
static void
http_req_failed_early(__unused evutil_socket_t fd, __unused short what,
    void *arg)
{
	struct http_req	*req = arg;
	struct http	*h = req->http;

	http_req_finish(req, CURLE_FAILED_INIT);
	http_reap(h);
}

/* A PEM blob for a CURLOPT_*_BLOB option; libcurl keeps its own copy. */
static int
http_req_blob(struct http_req *req, CURLoption opt, const char *what,
    char *data, size_t len)
{
	struct curl_blob	 blob;

	blob.data = data;
	blob.len = len;
	blob.flags = CURL_BLOB_COPY;
	if (curl_easy_setopt(req->easy, opt, &blob) != CURLE_OK) {
		http_req_fail(req, "this libcurl cannot take a %s from memory",
		    what);
		return (-1);
	}
	return (0);
}

/* TLS trust, client identity and proxy of the connector or sink. */
static int
http_req_tls(struct http_req *req, const struct http_tls *t)
{
	CURL	*e = req->easy;

	if (t->ca != NULL) {
		/* Exactly these CAs: not the system's directory as well. */
		if (http_req_blob(req, CURLOPT_CAINFO_BLOB, "CA bundle",
		    t->ca, t->ca_len) != 0)
			return (-1);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (t->cert != NULL) {
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		if (http_req_blob(req, CURLOPT_SSLCERT_BLOB,
		    "client certificate", t->cert, t->cert_len) != 0)
			return (-1);
	}
	if (t->key != NULL) {
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
		if (http_req_blob(req, CURLOPT_SSLKEY_BLOB, "client key",
		    t->key, t->key_len) != 0)
			return (-1);
	}
	if (t->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (t->proxy != NULL && curl_easy_setopt(e, CURLOPT_PROXY,
	    t->proxy) != CURLE_OK) {
		http_req_fail(req, "bad proxyUrl");
		return (-1);
	}
	return (0);
}

/* Fill the easy handle from the request; -1 with req->cause if bad. */
static int
http_req_setup(struct http_req *req, const struct http_request *hr)
{
	CURL		*e = req->easy;
	const char	*method = hr->method != NULL ? hr->method : "GET";
	long		 timeout, connect;
	size_t		 i;

	timeout = hr->timeout_ms > 0 ? hr->timeout_ms : HTTP_TIMEOUT_MS;
	connect = hr->connect_timeout_ms > 0 ? hr->connect_timeout_ms :
	    HTTP_CONNECT_MS;
	if (connect > timeout)
		connect = timeout;

	for (i = 0; hr->headers != NULL && hr->headers[i] != NULL; i++) {
		if (strpbrk(hr->headers[i], "\r\n") != NULL) {
			http_req_fail(req, "header %zu holds a line break", i);
			return (-1);
		}
		req->slist = curl_slist_append(req->slist, hr->headers[i]);
		if (req->slist == NULL)
			fatalx("curl_slist_append failed");
	}
	/* Never wait for a 100 Continue: send POST bodies at once. */
	req->slist = curl_slist_append(req->slist, "Expect:");
	if (req->slist == NULL)
		fatalx("curl_slist_append failed");

	if (curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK) {
		http_req_fail(req, "bad URL");
		return (-1);
	}
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)req);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, AW_NAME "/" AW_VERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->slist);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, hr->no_redirects ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRS);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* From https, never down to http. */
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
	    strncasecmp(req->url, "https:", 6) == 0 ? "https" : "http,https");
	if (hr->tls != NULL && http_req_tls(req, hr->tls) != 0)
		return (-1);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);

	/* A HEAD may announce a large Content-Length: no cap on it. */
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		return (0);
	}
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)req->max_body);
	if (strcmp(method, "GET") != 0) {
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
		if (strcmp(method, "POST") == 0 || hr->body != NULL) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)hr->body_len);
			curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
			    hr->body != NULL ? hr->body : "");
		}
	}
	return (0);
}

struct http_req *
http_submit(struct http *h, const struct http_request *hr, http_done_cb done,
    void *arg)
{
	struct http_req	*req;
	CURLMcode	 mc;

	req = xcalloc(1, sizeof *req);
	req->http = h;
	req->url = xstrdup(hr->url != NULL ? hr->url : "");
	req->max_body = hr->max_body > 0 ? hr->max_body : HTTP_MAX_BODY;
	req->started = mono_ms();
	req->done = done;
	req->arg = arg;
	TAILQ_INSERT_TAIL(&h->reqs, req, entry);
	h->inflight++;

	if (h->nidle > 0)
		req->easy = h->idle[--h->nidle];
	else
		req->easy = curl_easy_init();
	if (req->easy == NULL)
		fatalx("curl_easy_init failed");
	if (h->dying)
		http_req_fail(req, "the HTTP engine is shutting down");
	else if (http_req_setup(req, hr) == 0) {
		mc = curl_multi_add_handle(h->multi, req->easy);
		if (mc == CURLM_OK)
			return (req);
		http_req_fail(req, "curl_multi_add_handle: %s",
		    curl_multi_strerror(mc));
	}

	/* Report the failure from the loop, never from here. */
	req->fail_ev = evtimer_new(h->base, http_req_failed_early, req);
	if (req->fail_ev == NULL)
		fatalx("evtimer_new failed");
	event_active(req->fail_ev, EV_TIMEOUT, 1);
	return (req);
}

void
http_cancel(struct http_req *req)
{
	struct http	*h;

	if (req == NULL || req->completing)
		return;
	h = req->http;
	TAILQ_REMOVE(&h->reqs, req, entry);
	h->inflight--;
	if (req->fail_ev == NULL)
		curl_multi_remove_handle(h->multi, req->easy);
	http_req_free(req);
}

size_t
http_inflight(const struct http *h)
{
	return (h->inflight);
}

const char *
http_header(const struct http_response *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, name) == 0)
			return (r->headers[i].value);
	}
	return (NULL);
}
