/*
 * fetch.c: the fetch engine (fetch.h).  A batch (struct fetch) holds the
 * requests of one provider call; each request goes through the limiter of
 * the provider's connector, carries the credentials the connector gives,
 * meets a 401 with one learned retry (Basic, or a Bearer token fetched once
 * for every request waiting on it), and its answer is checked (status, body
 * parsed as JSON or XML when asked) before the provider's callback sees it.
 * A paged request is sent again for each next page until the callback
 * stops it or there is none.  The first failure cancels everything.
 *
 * The challenge a fetcher met is kept on the fetcher (it names the scope of
 * one repository), the tokens on the connector (shared by its sources).
 */
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "connector.h"
#include "fetch.h"
#include "index.h"
#include "json.h"
#include "limit.h"
#include "provider.h"
#include "xml.h"

struct fetcher {
	struct env		*env;
	struct connector	*conn;
	char			*default_scope;
	size_t			 inflight;
	/* The last challenge met: sent ahead on the next requests. */
	char			*scheme;	/* "Basic", "Bearer" or NULL */
	char			*realm;
	char			*service;
	char			*scope;
	char			*token_url;
	struct fetch		*cur;
	struct event		*later;		/* the batch's, reused */
};

struct freq {
	struct fetch		*f;
	char			 method[16];
	char			*url;
	char			**headers;	/* the caller's, NULL-ended */
	char			*body;
	size_t			 body_len;
	size_t			 max_body;
	unsigned		 flags;
	char			*etag;
	struct fetch_paging	 paging;
	int			 paged;
	char			*origin;	/* next pages stay here */
	struct index		*visited;	/* page URLs asked */
	unsigned		 page;
	long long		 offset;
	fetch_cb		 cb;
	void			*arg;
	int			 is_token;
	int			 auth_retried;
	char			*sent_token;
	char			*use_token;
	struct limit_req	*http;
	TAILQ_ENTRY(freq)	 entry;
};
TAILQ_HEAD(freq_list, freq);

struct fetch {
	struct fetcher		*fr;
	fetch_done_cb		 done;
	void			*arg;
	struct freq_list	 queued;	/* waiting for a slot */
	struct freq_list	 reqs;		/* in flight */
	struct freq_list	 waiting;	/* for the token */
	struct freq		*token_req;
	size_t			 active;	/* slots taken */
	unsigned		 requests;
	int			 failed;
	char			*cause;
	int64_t			 retry_after;
	int			 armed;		/* fr->later is pending */
	int			 creds_done;
	struct connector_creds	 creds;
	char			*basic;		/* Authorization: Basic … */
};

static void	freq_send(struct freq *);
static void	fetch_check(struct fetch *);

struct fetcher *
fetcher_create(struct provider *p, const struct fetcher_conf *fc)
{
	return (fetcher_create_connector(p->connector, fc));
}

struct fetcher *
fetcher_create_connector(struct connector *c, const struct fetcher_conf *fc)
{
	struct fetcher	*fr;

	fr = xcalloc(1, sizeof *fr);
	fr->env = c->env;
	fr->conn = c;
	if (fc != NULL && fc->default_scope != NULL)
		fr->default_scope = xstrdup(fc->default_scope);
	fr->inflight = fc != NULL && fc->inflight > 0 ? fc->inflight :
	    FETCH_INFLIGHT;
	return (fr);
}

static void
fetcher_forget(struct fetcher *fr)
{
	free(fr->scheme);
	free(fr->realm);
	free(fr->service);
	free(fr->scope);
	free(fr->token_url);
	fr->scheme = fr->realm = fr->service = fr->scope = NULL;
	fr->token_url = NULL;
}

static void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void
freq_free(struct freq *r)
{
	size_t	 i;

	limit_cancel(r->http);
	free(r->url);
	for (i = 0; r->headers != NULL && r->headers[i] != NULL; i++)
		free(r->headers[i]);
	free(r->headers);
	free(r->body);
	free(r->etag);
	free(r->origin);
	index_free(r->visited);
	free(r->sent_token);
	secret_free(r->use_token);
	free(r);
}

static void
fetch_free(struct fetch *f)
{
	struct freq	*r;

	while ((r = TAILQ_FIRST(&f->reqs)) != NULL) {
		TAILQ_REMOVE(&f->reqs, r, entry);
		freq_free(r);
	}
	while ((r = TAILQ_FIRST(&f->waiting)) != NULL) {
		TAILQ_REMOVE(&f->waiting, r, entry);
		freq_free(r);
	}
	while ((r = TAILQ_FIRST(&f->queued)) != NULL) {
		TAILQ_REMOVE(&f->queued, r, entry);
		freq_free(r);
	}
	if (f->armed)
		evtimer_del(f->fr->later);
	connector_creds_clear(&f->creds);
	secret_free(f->basic);
	free(f->cause);
	if (f->fr->cur == f)
		f->fr->cur = NULL;
	free(f);
}

void
fetcher_free(struct fetcher *fr)
{
	if (fr == NULL)
		return;
	fetch_cancel(fr);
	fetcher_forget(fr);
	free(fr->default_scope);
	if (fr->later != NULL)
		event_free(fr->later);
	free(fr);
}

struct fetch *
fetcher_current(const struct fetcher *fr)
{
	return (fr->cur);
}

void
fetch_cancel(struct fetcher *fr)
{
	if (fr != NULL && fr->cur != NULL)
		fetch_free(fr->cur);
}

/* End the batch: free it first, so `done` may free the provider. */
static void
fetch_finish(struct fetch *f)
{
	struct provider_result	 r;
	fetch_done_cb		 done = f->done;
	void			*arg = f->arg;
	char			*cause = f->cause;

	memset(&r, 0, sizeof r);
	r.status = f->failed ? -1 : 0;
	r.cause = cause;
	r.retry_after_s = f->retry_after;
	r.requests = f->requests;
	f->cause = NULL;
	fetch_free(f);
	done(&r, arg);
	free(cause);
}

static void
fetch_later_cb(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct fetcher	*fr = arg;

	if (fr->cur != NULL) {
		fr->cur->armed = 0;
		fetch_check(fr->cur);
	}
}

/* Look at the batch from the loop: it failed, or may have no request. */
static void
fetch_arm(struct fetch *f)
{
	struct timeval	 now = { 0, 0 };

	evtimer_add(f->fr->later, &now);
	f->armed = 1;
}

/* Finish when failed, or when nothing is left. */
static void
fetch_check(struct fetch *f)
{
	if (f->failed || (TAILQ_EMPTY(&f->reqs) && TAILQ_EMPTY(&f->queued) &&
	    TAILQ_EMPTY(&f->waiting) && f->active == 0))
		fetch_finish(f);
}

struct fetch *
fetch_start(struct fetcher *fr, fetch_done_cb done, void *arg)
{
	struct fetch	*f;

	if (fr->cur != NULL)
		fatalx("fetch_start: a batch is in flight");
	f = xcalloc(1, sizeof *f);
	f->fr = fr;
	f->done = done;
	f->arg = arg;
	TAILQ_INIT(&f->queued);
	TAILQ_INIT(&f->reqs);
	TAILQ_INIT(&f->waiting);
	if (fr->later == NULL &&
	    (fr->later = evtimer_new(fr->env->base, fetch_later_cb, fr)) ==
	    NULL)
		fatalx("evtimer_new failed");
	fr->cur = f;
	fetch_arm(f);	/* a batch with no request ends from the loop */
	return (f);
}

int
fetch_failed(const struct fetch *f)
{
	return (f->failed);
}

void
fetch_fail(struct fetch *f, int64_t retry_after, const char *fmt, ...)
{
	struct freq	*r;
	va_list		 ap;

	if (f->failed)
		return;
	f->failed = 1;
	f->retry_after = retry_after;
	va_start(ap, fmt);
	xvasprintf(&f->cause, fmt, ap);
	va_end(ap);
	while ((r = TAILQ_FIRST(&f->reqs)) != NULL) {
		TAILQ_REMOVE(&f->reqs, r, entry);
		freq_free(r);
	}
	fetch_arm(f);
}

/* The connector's credentials, once per batch. */
static int
fetch_credentials(struct fetch *f)
{
	struct connector	*c = f->fr->conn;
	char			*cause, *pair, *enc;

	if (f->creds_done)
		return (0);
	f->creds_done = 1;
	if (c == NULL || c->entry->credentials == NULL)
		return (0);
	if (c->entry->credentials(c, &f->creds, &cause) != 0) {
		fetch_fail(f, 0, "connector %s: %s", log_q(c->conf->id), cause);
		free(cause);
		return (-1);
	}
	if (f->creds.username != NULL && f->creds.password != NULL) {
		xasprintf(&pair, "%s:%s", f->creds.username,
		    f->creds.password);
		enc = base64_encode(pair, strlen(pair));
		xasprintf(&f->basic, "Authorization: Basic %s", enc);
		secret_free(pair);
		secret_free(enc);
	}
	return (0);
}

static void
freq_method(struct freq *r, const char *method)
{
	size_t	 n = strlen(method);

	if (n >= sizeof r->method)
		n = sizeof r->method - 1;
	memcpy(r->method, method, n);
	r->method[n] = '\0';
}

void
fetch_submit(struct fetch *f, const struct fetch_request *rq, fetch_cb cb,
    void *arg)
{
	struct freq	*r;
	size_t		 n, i;

	if (f->failed)
		return;
	r = xcalloc(1, sizeof *r);
	r->f = f;
	freq_method(r, rq->method != NULL ? rq->method : "GET");
	r->url = xstrdup(rq->url);
	for (n = 0; rq->headers != NULL && rq->headers[n] != NULL; n++)
		/* count */;
	r->headers = xcalloc(n + 1, sizeof *r->headers);
	for (i = 0; i < n; i++)
		r->headers[i] = xstrdup(rq->headers[i]);
	if (rq->body != NULL) {
		r->body = xmalloc(rq->body_len + 1);
		memcpy(r->body, rq->body, rq->body_len);
		r->body[rq->body_len] = '\0';
		r->body_len = rq->body_len;
	}
	r->max_body = rq->max_body != 0 ? rq->max_body : FETCH_MAX_BODY;
	r->flags = rq->flags;
	r->etag = rq->etag != NULL ? xstrdup(rq->etag) : NULL;
	if (rq->paging != NULL) {
		r->paged = 1;
		r->paging = *rq->paging;
		if (r->paging.max_pages == 0)
			r->paging.max_pages = FETCH_MAX_PAGES;
		/* The origin and the pages seen: when a next page comes. */
		if (rq->paging->origin != NULL)
			r->origin = url_origin(rq->paging->origin);
	}
	r->page = 1;
	r->cb = cb;
	r->arg = arg;
	if (f->armed && !f->failed) {
		/* It has a request now: its end comes from that. */
		evtimer_del(f->fr->later);
		f->armed = 0;
	}
	if (f->active >= f->fr->inflight) {
		TAILQ_INSERT_TAIL(&f->queued, r, entry);
		return;
	}
	f->active++;
	freq_send(r);
}

/* A slot came free: send the next queued request. */
static void
fetch_pump(struct fetch *f)
{
	struct freq	*r;

	while (!f->failed && f->active < f->fr->inflight &&
	    (r = TAILQ_FIRST(&f->queued)) != NULL) {
		TAILQ_REMOVE(&f->queued, r, entry);
		f->active++;
		freq_send(r);
	}
}

static struct freq *
freq_token(struct fetch *f)
{
	struct freq	*r;

	r = xcalloc(1, sizeof *r);
	r->f = f;
	memcpy(r->method, "GET", 4);
	r->url = xstrdup(f->fr->token_url);
	r->headers = xcalloc(1, sizeof *r->headers);
	r->max_body = 1024 * 1024;
	r->is_token = 1;
	r->page = 1;
	return (r);
}

static void	freq_done(const struct http_response *, void *);

/* Add the signature lines of a connector that signs its requests. */
static int
freq_sign(struct freq *r, struct buf *signed_hdrs)
{
	struct connector	*c = r->f->fr->conn;
	char			*cause;

	if (c == NULL || c->entry->sign == NULL || (r->flags & FETCH_ANONYMOUS))
		return (0);
	if (c->entry->sign(c, r->method, r->url, r->body, r->body_len,
	    signed_hdrs, &cause) != 0) {
		fetch_fail(r->f, 0, "%s %s: cannot sign: %s", r->method,
		    r->url, cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/* Send, or wait behind the token request when a token is needed. */
static void
freq_send(struct freq *r)
{
	struct fetch		*f = r->f;
	struct fetcher		*fr = f->fr;
	struct http_request	 hr;
	struct buf		 sig = { 0 };
	const char		**headers, *token = NULL;
	char			*auth = NULL, *inm = NULL, *line, *nl;
	size_t			 n = 0, i;

	/* A failed batch keeps it (fetch_free frees it). */
	if (f->failed || (!(r->flags & FETCH_ANONYMOUS) &&
	    fetch_credentials(f) != 0)) {
		TAILQ_INSERT_TAIL(&f->reqs, r, entry);
		return;
	}
	free(r->sent_token);
	r->sent_token = NULL;
	if (r->flags & FETCH_ANONYMOUS) {
		/* A public API: no credentials of the connector. */
	} else if (r->is_token || (fr->scheme != NULL &&
	    strcasecmp(fr->scheme, "Basic") == 0)) {
		/* Basic credentials below. */
	} else if (r->use_token != NULL) {
		token = r->use_token;
	} else if (fr->scheme != NULL) {
		token = fetch_tokens_get(fr->conn->tokens, fr->realm,
		    fr->service, fr->scope, now_ms() / 1000);
		if (token == NULL) {
			TAILQ_INSERT_TAIL(&f->waiting, r, entry);
			if (f->token_req == NULL) {
				f->token_req = freq_token(f);
				freq_send(f->token_req);
			}
			return;
		}
	}
	if (!r->is_token && freq_sign(r, &sig) != 0) {
		buf_free(&sig);
		TAILQ_INSERT_TAIL(&f->reqs, r, entry);
		return;
	}
	for (i = 0; r->headers[i] != NULL; i++)
		/* count */;
	headers = xcalloc(i + 8 + (sig.len / 2), sizeof *headers);
	for (i = 0; r->headers[i] != NULL; i++)
		headers[n++] = r->headers[i];
	if (r->etag != NULL && r->page == 1) {
		xasprintf(&inm, "If-None-Match: %s", r->etag);
		headers[n++] = inm;
	}
	if (token != NULL) {
		xasprintf(&auth, "Authorization: Bearer %s", token);
		headers[n++] = auth;
		r->sent_token = xstrdup(token);
	} else if (!(r->flags & FETCH_ANONYMOUS) && f->basic != NULL &&
	    (r->is_token || (fr->scheme != NULL &&
	    strcasecmp(fr->scheme, "Basic") == 0)))
		headers[n++] = f->basic;
	else if (!(r->flags & FETCH_ANONYMOUS) && !r->is_token &&
	    f->creds.header != NULL)
		headers[n++] = f->creds.header;
	for (line = sig.data; line != NULL && *line != '\0'; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		if (*line != '\0')
			headers[n++] = line;
	}
	headers[n] = NULL;
	memset(&hr, 0, sizeof hr);
	hr.method = r->method;
	hr.url = r->url;
	hr.headers = headers;
	hr.body = r->body;
	hr.body_len = r->body_len;
	hr.max_body = r->max_body;
	hr.tls = fr->conn->tls;		/* the connector's TLS and proxy */
	TAILQ_INSERT_TAIL(&f->reqs, r, entry);
	r->http = limiter_submit(fr->conn->limiter, &hr, freq_done, r);
	free(headers);
	free(inm);
	secret_free(auth);
	if (sig.data != NULL)
		explicit_bzero(sig.data, sig.size);
	buf_free(&sig);
}

/*
 * A 401: learn the challenge and send the request once more (0: it is the
 * fetch's again), or fail (-1: still the caller's).
 */
static int
freq_unauthorized(struct freq *r, const struct http_response *resp)
{
	struct fetch		*f = r->f;
	struct fetcher		*fr = f->fr;
	struct challenge	 ch;
	const char		*value;
	char			*cause, *msg;
	int			 creds = f->basic != NULL ||
	    f->creds.header != NULL;

	if (r->auth_retried || (r->flags & FETCH_ANONYMOUS)) {
		msg = json_error_message(resp->body.data, resp->body.len);
		fetch_fail(f, 0, "%s %s: HTTP 401 (%s)%s%s", r->method, r->url,
		    creds ? "credentials rejected" : "anonymous access denied",
		    msg != NULL ? ": " : "", msg != NULL ? msg : "");
		free(msg);
		return (-1);
	}
	if ((value = http_header(resp, "WWW-Authenticate")) == NULL) {
		msg = json_error_message(resp->body.data, resp->body.len);
		fetch_fail(f, 0, "%s %s: HTTP 401 without a WWW-Authenticate "
		    "challenge%s%s", r->method, r->url, msg != NULL ? ": " : "",
		    msg != NULL ? msg : "");
		free(msg);
		return (-1);
	}
	memset(&ch, 0, sizeof ch);
	if (challenge_parse(value, &ch, &cause) != 0) {
		fetch_fail(f, 0, "%s %s: bad WWW-Authenticate: %s", r->method,
		    r->url, cause);
		free(cause);
		return (-1);
	}
	if (strcasecmp(ch.scheme, "Basic") == 0) {
		if (f->basic == NULL) {
			challenge_clear(&ch);
			fetch_fail(f, 0, "%s %s: HTTP 401: the server asks for "
			    "a username and password (auth UsernamePassword); "
			    "none configured", r->method, r->url);
			return (-1);
		}
	} else if (strcasecmp(ch.scheme, "Bearer") == 0) {
		if (ch.realm == NULL || *ch.realm == '\0') {
			challenge_clear(&ch);
			fetch_fail(f, 0, "%s %s: HTTP 401: Bearer challenge "
			    "without a realm", r->method, r->url);
			return (-1);
		}
		if (strncasecmp(r->url, "https:", 6) == 0 &&
		    strncasecmp(ch.realm, "http:", 5) == 0 &&
		    !fr->conn->http_realm_ok) {
			/* The realm gets the password and hands out tokens. */
			fetch_fail(f, 0, "%s %s: HTTP 401: the server is https "
			    "but its token realm %s is plain http, where the "
			    "password and the token would cross the network in "
			    "clear; refused (set allowHttpTokenRealm: true in "
			    "the connector's spec to accept it)", r->method,
			    r->url, log_q(ch.realm));
			challenge_clear(&ch);
			return (-1);
		}
		if (r->sent_token != NULL)
			fetch_tokens_drop(fr->conn->tokens, fr->realm,
			    fr->service, fr->scope, r->sent_token);
	} else {
		fetch_fail(f, 0, "%s %s: HTTP 401: unsupported auth scheme %s",
		    r->method, r->url, log_q(ch.scheme));
		challenge_clear(&ch);
		return (-1);
	}
	fetcher_forget(fr);
	fr->scheme = ch.scheme;
	fr->realm = ch.realm;
	fr->service = ch.service;
	if (ch.scope != NULL && *ch.scope != '\0')
		fr->scope = ch.scope;
	else {
		free(ch.scope);
		fr->scope = fr->default_scope != NULL ?
		    xstrdup(fr->default_scope) : NULL;
	}
	if (strcasecmp(fr->scheme, "Bearer") == 0 &&
	    (fr->token_url = fetch_token_url(fr->realm, fr->service,
	    fr->scope)) == NULL) {
		fetch_fail(f, 0, "%s %s: HTTP 401: the token realm %s is not "
		    "an http(s) URL", r->method, r->url, log_q(fr->realm));
		return (-1);
	}
	r->auth_retried = 1;
	secret_free(r->use_token);
	r->use_token = NULL;
	freq_send(r);
	return (0);
}

static void
freq_token_done(struct freq *r, const struct http_response *resp)
{
	struct fetch	*f = r->f;
	struct fetcher	*fr = f->fr;
	struct freq	*w;
	char		*token, *cause;
	int64_t		 expires, now = now_ms() / 1000;

	f->token_req = NULL;
	if (resp->status != 200) {
		fetch_fail(f, 0, "GET %s: HTTP %ld", r->url, resp->status);
		return;
	}
	if (fetch_parse_token(resp->body.data, resp->body.len, now, &token,
	    &expires, &cause) != 0) {
		fetch_fail(f, 0, "GET %s: %s", r->url, cause);
		free(cause);
		return;
	}
	fetch_tokens_put(fr->conn->tokens, fr->realm, fr->service, fr->scope,
	    token, now, expires);
	while ((w = TAILQ_FIRST(&f->waiting)) != NULL) {
		TAILQ_REMOVE(&f->waiting, w, entry);
		w->use_token = xstrdup(token);
		freq_send(w);
	}
	secret_free(token);
}

/* url with query parameter name=value, replacing one already there. */
static char *
url_with_param(const char *url, const char *name, const char *value)
{
	struct buf	 b = { 0 };
	const char	*q, *p, *amp;
	char		*esc;
	size_t		 nlen = strlen(name);
	int		 first = 1;

	q = strchr(url, '?');
	buf_add(&b, url, q != NULL ? (size_t)(q - url) : strlen(url));
	for (p = q != NULL ? q + 1 : NULL; p != NULL && *p != '\0'; p = amp) {
		amp = strchr(p, '&');
		if (!(strncmp(p, name, nlen) == 0 && p[nlen] == '=')) {
			buf_adds(&b, first ? "?" : "&");
			buf_add(&b, p, amp != NULL ? (size_t)(amp - p) :
			    strlen(p));
			first = 0;
		}
		if (amp != NULL)
			amp++;
	}
	esc = url_escape(value);
	buf_printf(&b, "%s%s=%s", first ? "?" : "&", name, esc);
	free(esc);
	return (buf_take(&b));
}

/* The next page's URL: 1 and *next, 0 none, -1 failed (fetch_fail). */
static int
freq_next(struct freq *r, const struct http_response *resp,
    const struct fetch_page *pg, char **next)
{
	const struct fetch_paging *pp = &r->paging;
	const char		*s;
	char			*cause, *t, num[32];
	int			 rc;

	*next = NULL;
	switch (pp->kind) {
	case PAGING_LINK:
		if ((rc = link_next(resp, next, &cause)) == -1) {
			fetch_fail(r->f, 0, "%s %s: bad Link header: %s",
			    r->method, r->url, cause);
			free(cause);
		}
		return (rc);
	case PAGING_URL_FIELD:
		if ((s = json_str(pg->json, pp->field)) == NULL || *s == '\0')
			return (0);
		if ((*next = url_resolve(r->url, s)) == NULL) {
			fetch_fail(r->f, 0, "%s %s: the next page %s is not a "
			    "URL", r->method, r->url, log_q(s));
			return (-1);
		}
		return (1);
	case PAGING_TOKEN:
		if ((s = json_str(pg->json, pp->field)) == NULL || *s == '\0')
			return (0);
		*next = url_with_param(r->url, pp->param, s);
		return (1);
	case PAGING_OFFSET:
		if (pp->page_size <= 0 || (long long)pg->items < pp->page_size)
			return (0);
		r->offset += pp->page_size;
		snprintf(num, sizeof num, "%lld", r->offset);
		t = url_with_param(r->url, pp->param, num);
		if (pp->limit_param != NULL) {
			snprintf(num, sizeof num, "%lld", pp->page_size);
			*next = url_with_param(t, pp->limit_param, num);
			free(t);
		} else
			*next = t;
		return (1);
	case PAGING_S3:
		t = xml_text(xml_root(pg->xml), "IsTruncated");
		rc = t != NULL && strcmp(t, "true") == 0;
		free(t);
		if (!rc)
			return (0);
		if ((t = xml_text(xml_root(pg->xml),
		    "NextContinuationToken")) == NULL || *t == '\0') {
			free(t);
			fetch_fail(r->f, 0, "%s %s: IsTruncated without a "
			    "NextContinuationToken", r->method, r->url);
			return (-1);
		}
		*next = url_with_param(r->url, pp->param != NULL ? pp->param :
		    "continuation-token", t);
		free(t);
		return (1);
	}
	return (0);
}

/* Go to the next page: same origin, not seen, not too many.  0 or -1. */
static int
freq_follow(struct freq *r, char *next)
{
	char	*origin;

	if (r->visited == NULL) {
		/* The first next page: the first page's URL is r->url. */
		r->visited = index_create();
		index_put(r->visited, r->url, NULL, 0);
		if (r->origin == NULL)
			r->origin = url_origin(r->url);
	}
	/*
	 * The next page gets the connector's credentials: it must stay on
	 * the first page's origin (scheme, host, port: no https -> http).
	 */
	if (r->origin == NULL || !url_same_origin(next, r->origin)) {
		origin = url_origin(next);
		fetch_fail(r->f, 0, "%s %s: the next page points to another "
		    "origin (%s, not %s); it is not followed, so the "
		    "connector's credentials stay with its server", r->method,
		    r->url, origin != NULL ? origin : "not a URL",
		    r->origin != NULL ? r->origin : "a URL");
		free(origin);
		free(next);
		return (-1);
	}
	if (index_get(r->visited, next, NULL)) {
		fetch_fail(r->f, 0, "%s %s: the next page goes back to %s "
		    "(a cycle)", r->method, r->url, next);
		free(next);
		return (-1);
	}
	if (r->page >= r->paging.max_pages) {
		fetch_fail(r->f, 0, "%s %s: more than %u pages", r->method,
		    r->url, r->paging.max_pages);
		free(next);
		return (-1);
	}
	index_put(r->visited, next, NULL, 0);
	free(r->url);
	r->url = next;
	r->page++;
	r->auth_retried = 0;
	freq_send(r);
	return (0);
}

static int
freq_status_ok(const struct freq *r, long status)
{
	if (r->flags & FETCH_OK_ANY)
		return (1);
	if (status >= 200 && status < 300)
		return (1);
	if (status == 304 && r->etag != NULL && r->page == 1)
		return (1);
	return (status == 404 && (r->flags & FETCH_OK_404));
}

/* A request is over: its slot goes to the next queued one. */
static void
freq_end(struct freq *r)
{
	struct fetch	*f = r->f;

	freq_free(r);
	f->active--;
	fetch_pump(f);
}

static void
freq_answer(struct freq *r, const struct http_response *resp)
{
	struct fetch		*f = r->f;
	struct fetch_page	 pg;
	cJSON			*json = NULL;
	xmlDoc			*xml = NULL;
	char			*cause, *next = NULL;
	int			 rc, ok2xx;

	ok2xx = resp->status >= 200 && resp->status < 300;
	if (ok2xx && ((r->flags & FETCH_JSON) || (r->paged &&
	    (r->paging.kind == PAGING_URL_FIELD ||
	    r->paging.kind == PAGING_TOKEN))) &&
	    json_parse(resp->body.data, resp->body.len, &json, &cause) != 0) {
		fetch_fail(f, 0, "%s %s: %s", r->method, r->url, cause);
		free(cause);
		freq_end(r);
		return;
	}
	if (ok2xx && ((r->flags & FETCH_XML) || (r->paged &&
	    r->paging.kind == PAGING_S3)) &&
	    xml_parse(resp->body.data, resp->body.len, &xml, &cause) != 0) {
		fetch_fail(f, 0, "%s %s: %s", r->method, r->url, cause);
		free(cause);
		freq_end(r);
		return;
	}
	memset(&pg, 0, sizeof pg);
	pg.resp = resp;
	pg.url = r->url;
	pg.number = r->page;
	pg.json = json;
	pg.xml = xml;
	rc = r->cb(f, &pg, r->arg);
	if (rc == FETCH_NEXT && !f->failed && r->paged && ok2xx &&
	    freq_next(r, resp, &pg, &next) == 1) {
		cJSON_Delete(json);
		xml_free(xml);
		if (freq_follow(r, next) != 0)
			freq_end(r);
		return;
	}
	cJSON_Delete(json);
	xml_free(xml);
	freq_end(r);
}

/* "GET URL: HTTP 403: the server's message" (when its body has one). */
static void
freq_fail_status(struct fetch *f, struct freq *r,
    const struct http_response *resp)
{
	char	*msg;

	msg = json_error_message(resp->body.data, resp->body.len);
	fetch_fail(f, 0, "%s %s: HTTP %ld%s%s", r->method, r->url,
	    resp->status, msg != NULL ? ": " : "", msg != NULL ? msg : "");
	free(msg);
}

static void
freq_done(const struct http_response *resp, void *arg)
{
	struct freq	*r = arg;
	struct fetch	*f = r->f;
	const char	*value;
	int64_t		 retry_after = 0;

	TAILQ_REMOVE(&f->reqs, r, entry);
	r->http = NULL;
	f->requests++;
	if (resp->error != 0)
		fetch_fail(f, 0, "%s %s: %s", r->method, r->url, resp->cause);
	else if (r->is_token) {
		freq_token_done(r, resp);
		freq_free(r);
		fetch_check(f);
		return;
	} else if (resp->status == 401 && !(r->flags & FETCH_OK_ANY)) {
		if (freq_unauthorized(r, resp) == 0) {
			/* Sent again, or waits for the token. */
			fetch_check(f);
			return;
		}
	} else if ((resp->status == 429 || resp->status == 503) &&
	    !(r->flags & FETCH_OK_ANY)) {
		/* The limiter paused the connector: resume after it. */
		retry_after = (limiter_pause_left(f->fr->conn->limiter) +
		    999) / 1000;
		value = http_header(resp, "Retry-After");
		if (retry_after == 0 && value != NULL &&
		    retry_after_parse(value, now_ms() / 1000, &retry_after) != 0)
			retry_after = 0;
		fetch_fail(f, retry_after, "%s %s: HTTP %ld (%s)", r->method,
		    r->url, resp->status, resp->status == 429 ?
		    "rate limited" : "unavailable");
	} else if (!freq_status_ok(r, resp->status))
		freq_fail_status(f, r, resp);
	else {
		freq_answer(r, resp);
		fetch_check(f);
		return;
	}
	freq_end(r);
	fetch_check(f);
}
