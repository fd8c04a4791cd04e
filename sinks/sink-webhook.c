/*
 * sink-webhook.c: the Webhook sink of DESIGN §6.  Each event is POSTed as a
 * structured-mode CloudEvent (application/cloudevents+json) with the event id
 * as Idempotency-Key, signed with HMAC-SHA256 over "<ts>.<body>" when a
 * secretRef is set.  The answer decides: 2xx delivered; 408, 429, 5xx and
 * transport failures retried (with the receiver's Retry-After); anything
 * else will never work and is dead-lettered by the dispatcher.
 *
 * With maxInFlight above 1, that many requests run at once, each with its
 * own callback.
 *
 * An optional bodyTemplate replaces the CloudEvent with text rendered from
 * it (template.h), and header values may hold <+…> expressions too; both
 * are compiled by check() so a bad one is a config error with its position.
 * A header value may instead come from `secrets:` ({secretRef: NAME}),
 * read when the sink starts and never rendered or logged.
 *
 * Redirects are not followed: a 3xx is a permanent failure naming where it
 * pointed, and nothing (headers, body, signature) goes to that other place.
 * TLS and proxy keys (caCertRef, clientCertRef, clientKeyRef,
 * insecureSkipVerify, proxyUrl) are the generic ones of config.h.
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "sink.h"
#include "template.h"

struct webhook_conf {
	char			*url;
	char			*secret_ref;
	struct cfg_strmap	 headers;
	int64_t			 timeout_ms;
	char			*body_template;
	char			*content_type;
	struct tls_conf		 tls;
};

static const struct cfg_key webhook_keys[] = {
	{ .name = "url", .type = CFG_STRING,
	  .off = offsetof(struct webhook_conf, url), .flags = CFG_REQUIRED },
	{ .name = "secretRef", .type = CFG_SECRET,
	  .off = offsetof(struct webhook_conf, secret_ref) },
	{ .name = "headers", .type = CFG_STRMAP,
	  .off = offsetof(struct webhook_conf, headers),
	  .flags = CFG_SECRET_VALUES },
	{ .name = "timeout", .type = CFG_DURATION,
	  .off = offsetof(struct webhook_conf, timeout_ms), .def = "10s",
	  .min = 1, .max = 60 * 60 * 1000 },
	{ .name = "bodyTemplate", .type = CFG_STRING,
	  .off = offsetof(struct webhook_conf, body_template) },
	{ .name = "contentType", .type = CFG_STRING,
	  .off = offsetof(struct webhook_conf, content_type) },
	CFG_TLS_KEYS(struct webhook_conf, tls),
	{ .name = NULL }
};

/* Headers the sink sets itself; a user header may not replace them. */
static const char *const webhook_own_headers[] = {
	"Content-Type", "Content-Length", "Idempotency-Key",
	"X-Artifact-Watcher-Timestamp", "X-Artifact-Watcher-Signature",
};

/* The receiver's answer in a failure's cause: bytes read, bytes kept. */
#define WEBHOOK_ANSWER_SCAN	4096
#define WEBHOOK_ANSWER_MAX	200

/* One instance: the resolved secret and the delivery in flight. */
/* One request in flight (several with maxInFlight above 1). */
struct webhook_call {
	struct webhook		*w;
	struct http_req		*req;
	sink_done_cb		 done;
	void			*arg;
	TAILQ_ENTRY(webhook_call) entry;
};

/* One instance: the resolved secret and the deliveries in flight. */
struct webhook {
	const struct webhook_conf *wc;
	const char		*id;		/* the sink's identifier */
	char			*secret;	/* NULL: unsigned */
	size_t			 secret_len;
	TAILQ_HEAD(, webhook_call) calls;
	struct template		*body;		/* NULL: send the event */
	char			*body_type;	/* its Content-Type */
	struct template		**headers;	/* of wc->headers values */
	char			**secret_values; /* of {secretRef} headers */
	struct http_tls		 tls;
};

/* Why a user header cannot be sent, or NULL when it can. */
static const char *
webhook_header_problem(const char *name, const char *value)
{
	size_t	 i;

	if (*name == '\0' || strpbrk(name, ": \t\r\n") != NULL)
		return ("is not a valid header name");
	if (strpbrk(value, "\r\n") != NULL)
		return ("has a line break in its value");
	for (i = 0; i < nitems(webhook_own_headers); i++) {
		if (strcasecmp(name, webhook_own_headers[i]) == 0)
			return ("is set by the sink itself");
	}
	return (NULL);
}

/* The key node of `name` in a map, for the error's position. */
static const struct cfg_node *
webhook_key_node(const struct cfg_node *map, const char *name)
{
	size_t	 i;

	if (map == NULL || map->kind != CFG_MAP)
		return (map);
	for (i = 0; i < map->n; i++) {
		if (strcmp(map->keys[i]->value, name) == 0)
			return (map->keys[i]);
	}
	return (map);
}

/* JSON templates for a JSON content type, plain text for another. */
static enum template_mode
webhook_body_mode(const struct webhook_conf *wc)
{
	if (wc->content_type == NULL)
		return (TEMPLATE_AUTO);
	if (strcasestr(wc->content_type, "json") != NULL)
		return (TEMPLATE_JSON);
	return (TEMPLATE_RAW);
}

/* Compile the body and header templates once, for their errors. */
static int
webhook_check_templates(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct webhook_conf	*wc = sc->data;
	const struct cfg_node		*headers, *v;
	struct template			*t;
	char				*what;
	size_t				 i;
	int				 n = 0;

	if (wc->body_template != NULL) {
		xasprintf(&what, "spec.bodyTemplate of sink \"%s\"", sc->id);
		t = template_from_node(cfg_node_get(sc->spec, "bodyTemplate"),
		    webhook_body_mode(wc), what, errs);
		n += t == NULL;
		template_free(t);
		free(what);
	}
	headers = cfg_node_get(sc->spec, "headers");
	for (i = 0; i < wc->headers.n; i++) {
		if (wc->headers.secret_refs[i] != NULL ||
		    (v = cfg_node_get(headers, wc->headers.keys[i])) == NULL)
			continue;
		xasprintf(&what, "spec.headers.%s of sink \"%s\"",
		    wc->headers.keys[i], sc->id);
		t = template_from_node(v, TEMPLATE_HEADER, what, errs);
		n += t == NULL;
		template_free(t);
		free(what);
	}
	return (n);
}

/* The url is never repeated in an error: it may carry credentials. */
static int
webhook_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct webhook_conf	*wc = sc->data;
	const struct cfg_node		*headers;
	const char			*problem;
	char				*what;
	size_t				 i;
	int				 n = 0;

	if (wc->url != NULL && strncmp(wc->url, "http://", 7) != 0 &&
	    strncmp(wc->url, "https://", 8) != 0) {
		cfg_error(errs, cfg_node_get(sc->spec, "url"), "spec.url of "
		    "sink \"%s\" must start with http:// or https://", sc->id);
		n++;
	}
	headers = cfg_node_get(sc->spec, "headers");
	for (i = 0; i < wc->headers.n; i++) {
		problem = webhook_header_problem(wc->headers.keys[i],
		    wc->headers.values[i]);
		if (problem == NULL)
			continue;
		cfg_error(errs, webhook_key_node(headers, wc->headers.keys[i]),
		    "spec.headers of sink \"%s\": \"%s\" %s", sc->id,
		    wc->headers.keys[i], problem);
		n++;
	}
	if (wc->content_type != NULL &&
	    strpbrk(wc->content_type, "\r\n") != NULL) {
		cfg_error(errs, cfg_node_get(sc->spec, "contentType"),
		    "spec.contentType of sink \"%s\" has a line break", sc->id);
		n++;
	}
	xasprintf(&what, "sink \"%s\"", sc->id);
	n += config_tls_check(&wc->tls, sc->spec, what, errs);
	free(what);
	if (n == 0)
		n += webhook_check_templates(sc, errs);
	return (n);
}

/* check() has compiled them already; a failure here is a cause. */
static int
webhook_init_templates(struct webhook *w, char **cause)
{
	const struct webhook_conf	*wc = w->wc;
	char				*why;
	size_t				 i, off;

	if (wc->body_template != NULL) {
		w->body = template_compile(wc->body_template,
		    webhook_body_mode(wc), &off, &why);
		if (w->body == NULL)
			goto fail;
		if (wc->content_type != NULL)
			w->body_type = xstrdup(wc->content_type);
		else if (template_mode(w->body) == TEMPLATE_JSON)
			w->body_type = xstrdup("application/json");
		else
			w->body_type = xstrdup("text/plain; charset=utf-8");
	}
	w->headers = xcalloc(wc->headers.n + 1, sizeof *w->headers);
	for (i = 0; i < wc->headers.n; i++) {
		if (wc->headers.secret_refs[i] != NULL)
			continue;	/* webhook_init_secrets() */
		w->headers[i] = template_compile(wc->headers.values[i],
		    TEMPLATE_HEADER, &off, &why);
		if (w->headers[i] == NULL)
			goto fail;
	}
	return (0);
fail:
	fail(cause, "webhook %s: template at offset %zu: %s", w->id, off, why);
	free(why);
	return (-1);
}

/* The header values that come from secrets; never in a cause. */
static int
webhook_init_secrets(struct webhook *w, const struct config *conf,
    char **cause)
{
	const struct cfg_strmap	*h = &w->wc->headers;
	char			*why;
	size_t			 i;

	w->secret_values = xcalloc(h->n + 1, sizeof *w->secret_values);
	for (i = 0; i < h->n; i++) {
		if (h->secret_refs[i] == NULL)
			continue;
		if (secret_resolve(conf, h->secret_refs[i],
		    &w->secret_values[i], &why) != 0) {
			fail(cause, "webhook %s: headers.%s: %s", w->id,
			    h->keys[i], why);
			free(why);
			return (-1);
		}
		if (strpbrk(w->secret_values[i], "\r\n") != NULL)
			return (fail(cause, "webhook %s: headers.%s: secret "
			    "\"%s\" holds a line break", w->id, h->keys[i],
			    h->secret_refs[i]));
	}
	return (0);
}

static int
webhook_init(struct sink *s, char **cause)
{
	struct webhook	*w;
	char		*why;

	w = xcalloc(1, sizeof *w);
	w->wc = s->conf->data;
	w->id = s->conf->id;
	TAILQ_INIT(&w->calls);
	s->data = w;
	if (webhook_init_templates(w, cause) != 0 ||
	    webhook_init_secrets(w, s->env->conf, cause) != 0)
		return (-1);
	if (http_tls_load(s->env->conf, &w->wc->tls, &w->tls, &why) != 0) {
		fail(cause, "webhook %s: %s", w->id, why);
		free(why);
		return (-1);
	}
	if (w->wc->secret_ref != NULL) {
		if (secret_resolve(s->env->conf, w->wc->secret_ref,
		    &w->secret, &why) != 0) {
			fail(cause, "webhook %s: secretRef %s: %s", w->id,
			    w->wc->secret_ref, why);
			free(why);
			return (-1);
		}
		w->secret_len = strlen(w->secret);
	}
	return (0);
}

/*
 * What the receiver's answer means for the dispatcher.  A redirect is not
 * followed (the event, its signature and the configured headers are for
 * the url of the config only) and is a permanent failure: the url should
 * name the final address.  Its Location is named without user information,
 * query or fragment, which may hold a token.
 */
/* A redirect's Location, resolved, without userinfo, query, fragment. */
static char *
webhook_location(const struct http_response *r)
{
	const char	*value, *path;
	char		*abs, *origin, *out;

	if ((value = http_header(r, "Location")) == NULL)
		return (NULL);
	if ((abs = url_resolve(r->url, value)) == NULL)
		return (xstrdup("an unusable Location"));
	if ((origin = url_origin(abs)) == NULL) {
		free(abs);
		return (xstrdup("an unusable Location"));
	}
	path = strstr(abs, "://") + 3;
	path += strcspn(path, "/?#");
	xasprintf(&out, "%s%.*s", origin, (int)strcspn(path, "?#"), path);
	free(origin);
	free(abs);
	return (out);
}

static enum delivery
webhook_verdict(const struct http_response *r, const char *id,
    int64_t *retry_after_ms, char **cause)
{
	const char	*value;
	char		*location;
	int64_t		 secs;

	*retry_after_ms = -1;
	if (r->error != 0) {
		xasprintf(cause, "webhook %s: %s", id, r->cause != NULL ?
		    r->cause : "transport error");
		return (DELIVERY_RETRY);
	}
	if (r->status >= 300 && r->status <= 399) {
		location = webhook_location(r);
		xasprintf(cause, "webhook %s: HTTP %ld, a redirect to %s; "
		    "redirects are not followed: set url to the final address",
		    id, r->status, location != NULL ? location :
		    "(no Location)");
		free(location);
		return (DELIVERY_PERMANENT);
	}
	if (r->status >= 200 && r->status <= 299)
		return (DELIVERY_OK);
	xasprintf(cause, "webhook %s: HTTP %ld", id, r->status);
	if (r->status == 408 || r->status == 429 ||
	    (r->status >= 500 && r->status <= 599)) {
		value = http_header(r, "Retry-After");
		if (value != NULL &&
		    retry_after_parse(value, now_ms() / 1000, &secs) == 0 &&
		    secs >= 0)
			*retry_after_ms = secs > INT64_MAX / 1000 ?
			    INT64_MAX : secs * 1000;
		return (DELIVERY_RETRY);
	}
	return (DELIVERY_PERMANENT);
}

/* Overwrite every occurrence of secret in body[0..len) with '*'. */
static void
webhook_mask(char *body, size_t len, const char *secret, size_t slen)
{
	char	*at;

	if (slen == 0)
		return;
	while ((at = memmem(body, len, secret, slen)) != NULL)
		memset(at, '*', slen);
}

/*
 * Append the first bytes of the receiver's answer to a failure's cause, so
 * that a dead-letter reason says what the receiver did not like (excerpt():
 * no control characters, WEBHOOK_ANSWER_MAX bytes at most).  Our secrets,
 * the signing key and the {secretRef} header values, are masked first,
 * should the receiver echo them.
 */
static void
webhook_cause_answer(const struct webhook *w, const struct http_response *r,
    char **cause)
{
	char	*body, *text, *joined;
	size_t	 len = r->body.len, i;

	if (len > WEBHOOK_ANSWER_SCAN)
		len = WEBHOOK_ANSWER_SCAN;
	if (len == 0)
		return;
	body = xmalloc(len + 1);
	memcpy(body, r->body.data, len);
	body[len] = '\0';
	webhook_mask(body, len, w->secret, w->secret_len);
	for (i = 0; w->secret_values != NULL && i < w->wc->headers.n; i++) {
		if (w->secret_values[i] != NULL)
			webhook_mask(body, len, w->secret_values[i],
			    strlen(w->secret_values[i]));
	}
	text = excerpt(body, len, WEBHOOK_ANSWER_MAX);
	free(body);
	if (text == NULL)
		return;
	xasprintf(&joined, "%s: %s", *cause, text);
	free(text);
	free(*cause);
	*cause = joined;
}

static void
webhook_done(const struct http_response *r, void *arg)
{
	struct webhook_call	*c = arg;
	struct webhook		*w = c->w;
	sink_done_cb		 done = c->done;
	void			*done_arg = c->arg;
	enum delivery		 d;
	int64_t			 retry_after_ms;
	char			*cause = NULL;

	TAILQ_REMOVE(&w->calls, c, entry);
	free(c);
	d = webhook_verdict(r, w->id, &retry_after_ms, &cause);
	if (d != DELIVERY_OK && r->error == 0)
		webhook_cause_answer(w, r, &cause);
	/* The callback may deliver the next event or free the sink. */
	done(d, retry_after_ms, cause, done_arg);
	free(cause);
}

/* The stored event for templates; unreadable JSON renders empty fields. */
static cJSON *
webhook_event(const struct webhook *w, const struct outbox_entry *e)
{
	cJSON	*event;

	if ((event = cJSON_Parse(e->json)) == NULL)
		log_warn("webhook event is not JSON; templates render it "
		    "empty", "sink=%s event=%s", log_q(w->id), log_q(e->id));
	return (event);
}

static void
webhook_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct webhook		*w = s->data;
	struct webhook_call	*c;
	struct http_request	 req = { 0 };
	const char		**headers;
	char			**owned, *sig, *body, *value;
	size_t			 n = 0, nowned = 0, i, len;
	int64_t			 ts;
	cJSON			*event = NULL;

	if (w->body != NULL || w->wc->headers.n != 0)
		event = webhook_event(w, e);
	body = w->body != NULL ? template_render(w->body, event) : e->json;
	len = strlen(body);
	headers = xcalloc(w->wc->headers.n + 6, sizeof *headers);
	owned = xcalloc(w->wc->headers.n + 6, sizeof *owned);
	if (w->body != NULL) {
		xasprintf(&owned[nowned], "Content-Type: %s", w->body_type);
		headers[n++] = owned[nowned++];
	} else
		headers[n++] = "Content-Type: application/cloudevents+json";
	/* No "100 Continue" round trip: the receiver reads the body anyway. */
	headers[n++] = "Expect:";
	xasprintf(&owned[nowned], "Idempotency-Key: %s", e->id);
	headers[n++] = owned[nowned++];
	if (w->secret != NULL) {
		ts = now_ms() / 1000;
		sig = sign_body(w->secret, w->secret_len, ts, body, len);
		xasprintf(&owned[nowned], "X-Artifact-Watcher-Timestamp: %"
		    PRId64, ts);
		headers[n++] = owned[nowned++];
		xasprintf(&owned[nowned], "X-Artifact-Watcher-Signature: %s",
		    sig);
		headers[n++] = owned[nowned++];
		free(sig);
	}
	for (i = 0; i < w->wc->headers.n; i++) {
		if (w->secret_values[i] != NULL) {
			xasprintf(&owned[nowned], "%s: %s",
			    w->wc->headers.keys[i], w->secret_values[i]);
			headers[n++] = owned[nowned++];
			continue;
		}
		value = template_render(w->headers[i], event);
		xasprintf(&owned[nowned], "%s: %s", w->wc->headers.keys[i],
		    value);
		headers[n++] = owned[nowned++];
		free(value);
	}
	headers[n] = NULL;
	cJSON_Delete(event);

	req.method = "POST";
	req.url = w->wc->url;
	req.headers = headers;
	req.body = body;
	req.body_len = len;
	req.timeout_ms = (long)w->wc->timeout_ms;
	req.max_body = 64 * 1024;	/* the answer is only looked at */
	req.no_redirects = 1;
	req.tls = &w->tls;

	c = xcalloc(1, sizeof *c);
	c->w = w;
	c->done = done;
	c->arg = arg;
	TAILQ_INSERT_TAIL(&w->calls, c, entry);
	c->req = http_submit(s->env->http, &req, webhook_done, c);
	for (i = 0; i < nowned; i++) {
		/* Signatures and secret header values: wipe them. */
		explicit_bzero(owned[i], strlen(owned[i]));
		free(owned[i]);
	}
	free(owned);
	free(headers);
	if (body != e->json)
		free(body);
}

static void
webhook_cancel(struct sink *s)
{
	struct webhook		*w = s->data;
	struct webhook_call	*c;

	if (w == NULL)
		return;
	while ((c = TAILQ_FIRST(&w->calls)) != NULL) {
		TAILQ_REMOVE(&w->calls, c, entry);
		http_cancel(c->req);
		free(c);
	}
}

static void
webhook_free(struct sink *s)
{
	struct webhook	*w = s->data;
	size_t		 i;

	if (w == NULL)
		return;
	if (w->secret != NULL) {
		explicit_bzero(w->secret, w->secret_len);
		free(w->secret);
	}
	template_free(w->body);
	free(w->body_type);
	for (i = 0; w->headers != NULL && i < w->wc->headers.n; i++)
		template_free(w->headers[i]);
	free(w->headers);
	for (i = 0; w->secret_values != NULL && i < w->wc->headers.n; i++) {
		if (w->secret_values[i] == NULL)
			continue;
		explicit_bzero(w->secret_values[i],
		    strlen(w->secret_values[i]));
		free(w->secret_values[i]);
	}
	free(w->secret_values);
	http_tls_clear(&w->tls);
	free(w);
	s->data = NULL;
}

const struct sink_entry sink_webhook_entry = {
	.name = "Webhook",
	.keys = webhook_keys,
	.size = sizeof (struct webhook_conf),
	.check = webhook_check,
	.init = webhook_init,
	.deliver = webhook_deliver,
	.cancel = webhook_cancel,
	.free = webhook_free,
	.max_inflight = 1,	/* one at a time unless maxInFlight says */
};
