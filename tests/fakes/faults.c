/*
 * faults.c: the fault engine.  Tests add rules through POST /_fake/faults
 * ({"path_prefix": "/v2/a/", "fault": "429", "retry_after": "5",
 * "count": 3}); every request to an API is matched against them in the
 * order they were added, and the first live rule that matches decides how
 * the reply goes out: replaced by an error, a garbage or a huge body, or
 * the real reply delayed, dripped, truncated, chunked or followed by a
 * close.  Rules run out after `count` replies (-1: never).
 *
 * Delayed and dripped replies wait on timers; libevent keeps a request whose
 * client went away alive (detached from its connection) until we finish
 * sending, so the timers never touch freed memory.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"

#define FAULT_FILLER_LEN	65536
#define FAULT_HUGE_DEFAULT	(100 * 1024 * 1024)

/* A reply waiting on a timer: delayed headers or a dripping body. */
struct fault_pending {
	struct faults			*faults;
	struct evhttp_request		*req;
	struct event			*timer;
	struct timeval			 tick;
	enum fault_kind			 kind;
	int				 status;
	struct evbuffer			*body;		/* still to send */
	size_t				 drip_bytes;
	TAILQ_ENTRY(fault_pending)	 link;
};

struct faults {
	struct event_base		*base;
	TAILQ_HEAD(, fault)		 rules;
	uint64_t			 next_id;
	TAILQ_HEAD(, fault_pending)	 pending;
	char				*filler;	/* huge bodies reuse it */
};

static const struct {
	const char	*name;
	enum fault_kind	 kind;
} fault_kinds[] = {
	{ "slow_headers", FAULT_SLOW_HEADERS },
	{ "slow_body", FAULT_SLOW_BODY },
	{ "truncate", FAULT_TRUNCATE },
	{ "truncated", FAULT_TRUNCATE },
	{ "huge", FAULT_HUGE },
	{ "garbage", FAULT_GARBAGE },
	{ "html", FAULT_HTML },
	{ "chunked", FAULT_CHUNKED },
	{ "close", FAULT_CLOSE },
	{ "expired_token", FAULT_EXPIRED_TOKEN },
	{ "expired_tokens", FAULT_EXPIRED_TOKEN },
};

/* The engine, with no rules. */
struct faults *
faults_new(struct event_base *base)
{
	struct faults	*fs;
	const char	*unit = "\"aaaaaaaaaaaaaa\",";	/* 17 bytes */
	size_t		 i, n = strlen(unit);

	fs = xcalloc(1, sizeof *fs);
	fs->base = base;
	TAILQ_INIT(&fs->rules);
	TAILQ_INIT(&fs->pending);
	fs->next_id = 1;
	fs->filler = xmalloc(FAULT_FILLER_LEN);
	for (i = 0; i < FAULT_FILLER_LEN; i++)
		fs->filler[i] = unit[i % n];
	return (fs);
}

/* An integer member, or def when absent; -1 when present but not one. */
static int
faults_int(const cJSON *o, const char *name, int64_t def, int64_t *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = def;
	if (v == NULL)
		return (0);
	if (!cJSON_IsNumber(v))
		return (-1);
	*out = (int64_t)v->valuedouble;
	return (0);
}

/* A string member copied, or NULL when absent or not a string. */
static char *
faults_string(const cJSON *o, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, name);

	return (cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL);
}

/* Frees one rule. */
static void
fault_free(struct fault *f)
{
	free(f->kind_name);
	free(f->path_prefix);
	free(f->method);
	free(f->retry_after);
	free(f->body);
	free(f->content_type);
	free(f);
}

/* The kind named by s: a status code or one of fault_kinds. */
static int
faults_kind(const char *s, struct fault *f)
{
	size_t	i;
	char	*end;
	long	 status;

	status = strtol(s, &end, 10);
	if (*s != '\0' && *end == '\0') {
		if (status < 200 || status > 599)
			return (-1);
		f->kind = FAULT_STATUS;
		f->status = (int)status;
		return (0);
	}
	for (i = 0; i < nitems(fault_kinds); i++) {
		if (strcmp(s, fault_kinds[i].name) == 0) {
			f->kind = fault_kinds[i].kind;
			return (0);
		}
	}
	return (-1);
}

/* Adds a rule from its JSON form (see docs/fakes.md). */
struct fault *
faults_add(struct faults *fs, const cJSON *o, char **cause)
{
	struct fault	*f;
	const cJSON	*ra;
	int64_t		 status;
	char		*kind;

	if (!cJSON_IsObject(o)) {
		*cause = xstrdup("a fault is a JSON object");
		return (NULL);
	}
	if ((kind = faults_string(o, "fault")) == NULL) {
		*cause = xstrdup("missing \"fault\"");
		return (NULL);
	}
	f = xcalloc(1, sizeof *f);
	f->kind_name = kind;
	if (faults_kind(kind, f) != 0) {
		xasprintf(cause, "unknown fault \"%s\"", kind);
		fault_free(f);
		return (NULL);
	}
	if ((f->path_prefix = faults_string(o, "path_prefix")) == NULL)
		f->path_prefix = xstrdup("/");
	f->method = faults_string(o, "method");
	f->body = faults_string(o, "body");
	f->content_type = faults_string(o, "content_type");
	ra = cJSON_GetObjectItemCaseSensitive(o, "retry_after");
	if (cJSON_IsString(ra))
		f->retry_after = xstrdup(ra->valuestring);
	else if (cJSON_IsNumber(ra))
		xasprintf(&f->retry_after, "%lld", (long long)ra->valuedouble);
	if (faults_int(o, "count", -1, &f->count) != 0 ||
	    faults_int(o, "delay_ms", 2000, &f->delay_ms) != 0 ||
	    faults_int(o, "drip_bytes", 1, &f->drip_bytes) != 0 ||
	    faults_int(o, "drip_ms", 100, &f->drip_ms) != 0 ||
	    faults_int(o, "size", FAULT_HUGE_DEFAULT, &f->size) != 0 ||
	    faults_int(o, "keep", -1, &f->keep) != 0 ||
	    faults_int(o, "retry_after_date_in", -1,
	    &f->retry_after_date_in) != 0 ||
	    faults_int(o, "uses", 0, &f->token_uses) != 0 ||
	    faults_int(o, "expires_in", 0, &f->token_expires_in) != 0 ||
	    faults_int(o, "status", f->kind == FAULT_STATUS ? f->status : 200,
	    &status) != 0) {
		*cause = xstrdup("a numeric member is not a number");
		fault_free(f);
		return (NULL);
	}
	f->status = (int)status;
	if (f->status < 200 || f->status > 599 || f->drip_bytes < 1 ||
	    f->drip_ms < 0 || f->delay_ms < 0 || f->size < 0) {
		*cause = xstrdup("a numeric member is out of range");
		fault_free(f);
		return (NULL);
	}
	if (f->kind == FAULT_EXPIRED_TOKEN && f->token_uses == 0 &&
	    f->token_expires_in == 0)
		f->token_expires_in = 1;
	f->id = fs->next_id++;
	TAILQ_INSERT_TAIL(&fs->rules, f, link);
	return (f);
}

/* The first live rule for this request, counted as used; or NULL. */
struct fault *
faults_match(struct faults *fs, const char *method, const char *path)
{
	struct fault	*f;

	TAILQ_FOREACH(f, &fs->rules, link) {
		if (f->count == 0 || f->kind == FAULT_EXPIRED_TOKEN)
			continue;
		if (strncmp(path, f->path_prefix, strlen(f->path_prefix)) != 0)
			continue;
		if (f->method != NULL && strcasecmp(f->method, method) != 0)
			continue;
		if (f->count > 0)
			f->count--;
		f->hits++;
		return (f);
	}
	return (NULL);
}

/* The live expired_token rule, or NULL. */
const struct fault *
faults_token_rule(const struct faults *fs)
{
	const struct fault	*f;

	TAILQ_FOREACH(f, &fs->rules, link) {
		if (f->kind == FAULT_EXPIRED_TOKEN && f->count != 0)
			return (f);
	}
	return (NULL);
}

/* The rules as JSON: [{"id", "fault", "path_prefix", "count", "hits"}]. */
cJSON *
faults_json(const struct faults *fs)
{
	const struct fault	*f;
	cJSON			*list, *o;

	list = cJSON_CreateArray();
	TAILQ_FOREACH(f, &fs->rules, link) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)f->id);
		cJSON_AddStringToObject(o, "fault", f->kind_name);
		cJSON_AddStringToObject(o, "path_prefix", f->path_prefix);
		cJSON_AddNumberToObject(o, "count", (double)f->count);
		cJSON_AddNumberToObject(o, "hits", (double)f->hits);
		cJSON_AddItemToArray(list, o);
	}
	return (list);
}

/* Removes every rule; replies already waiting still go out. */
void
faults_clear(struct faults *fs)
{
	struct fault	*f;

	while ((f = TAILQ_FIRST(&fs->rules)) != NULL) {
		TAILQ_REMOVE(&fs->rules, f, link);
		fault_free(f);
	}
}

/* Frees a waiting reply's state, not its request. */
static void
fault_pending_free(struct fault_pending *p)
{
	TAILQ_REMOVE(&p->faults->pending, p, link);
	event_free(p->timer);
	if (p->body != NULL)
		evbuffer_free(p->body);
	free(p);
}

/*
 * Frees the engine.  Waiting replies are dropped; their requests belong to
 * libevent, which frees them with the server (call this after evhttp_free).
 */
void
faults_free(struct faults *fs)
{
	struct fault_pending	*p;

	if (fs == NULL)
		return;
	faults_clear(fs);
	while ((p = TAILQ_FIRST(&fs->pending)) != NULL)
		fault_pending_free(p);
	free(fs->filler);
	free(fs);
}

/* Drops the state of a request libevent gave up on; -1 if not ours. */
int
faults_forget(struct faults *fs, struct evhttp_request *req)
{
	struct fault_pending	*p;

	TAILQ_FOREACH(p, &fs->pending, link) {
		if (p->req == req) {
			fault_pending_free(p);
			return (0);
		}
	}
	return (-1);
}

/* Sets a header, replacing any value the handler gave it. */
static void
faults_header(struct evhttp_request *req, const char *name, const char *v)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_remove_header(h, name);
	evhttp_add_header(h, name, v);
}

/* The reason phrase libevent lacks for some statuses, or NULL. */
static const char *
faults_reason(int status)
{
	switch (status) {
	case 429:
		return ("Too Many Requests");
	case 502:
		return ("Bad Gateway");
	case 503:
		return ("Service Unavailable");
	default:
		return (NULL);
	}
}

/* Sends a reply and frees the body. */
static void
faults_send_plain(struct evhttp_request *req, int status,
    struct evbuffer *body)
{
	evhttp_send_reply(req, status, faults_reason(status), body);
	if (body != NULL)
		evbuffer_free(body);
}

/* The timer of a waiting reply: headers now, or the next drop of body. */
static void
faults_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fault_pending	*p = arg;
	struct evbuffer		*chunk;

	(void)fd;
	(void)what;
	if (p->kind == FAULT_SLOW_HEADERS) {
		faults_send_plain(p->req, p->status, p->body);
		p->body = NULL;
		fault_pending_free(p);
		return;
	}
	chunk = evbuffer_new();
	evbuffer_remove_buffer(p->body, chunk, p->drip_bytes);
	evhttp_send_reply_chunk(p->req, chunk);
	evbuffer_free(chunk);
	if (evbuffer_get_length(p->body) == 0) {
		evhttp_send_reply_end(p->req);
		fault_pending_free(p);
		return;
	}
	evtimer_add(p->timer, &p->tick);
}

/* Keeps a reply waiting on a timer. */
static void
faults_wait(struct faults *fs, struct evhttp_request *req, int status,
    struct evbuffer *body, const struct fault *f)
{
	struct fault_pending	*p;
	int64_t			 ms;
	char			 len[32];

	p = xcalloc(1, sizeof *p);
	p->faults = fs;
	p->req = req;
	p->kind = f->kind;
	p->status = status;
	p->body = body != NULL ? body : evbuffer_new();
	p->drip_bytes = (size_t)f->drip_bytes;
	ms = f->kind == FAULT_SLOW_HEADERS ? f->delay_ms : f->drip_ms;
	p->tick.tv_sec = ms / 1000;
	p->tick.tv_usec = (ms % 1000) * 1000;
	p->timer = evtimer_new(fs->base, faults_tick, p);
	TAILQ_INSERT_TAIL(&fs->pending, p, link);
	if (f->kind == FAULT_SLOW_BODY) {
		/* A HEAD reply keeps the length the handler gave it. */
		if (evbuffer_get_length(p->body) > 0) {
			snprintf(len, sizeof len, "%zu",
			    evbuffer_get_length(p->body));
			faults_header(req, "Content-Length", len);
		}
		evhttp_send_reply_start(req, status, faults_reason(status));
	}
	evtimer_add(p->timer, &p->tick);
}

/* Sends the real reply in chunked transfer encoding. */
static void
faults_send_chunked(struct evhttp_request *req, int status,
    struct evbuffer *body)
{
	struct evbuffer	*chunk;

	evhttp_remove_header(evhttp_request_get_output_headers(req),
	    "Content-Length");
	evhttp_send_reply_start(req, status, faults_reason(status));
	chunk = evbuffer_new();
	while (body != NULL && evbuffer_get_length(body) > 0) {
		evbuffer_remove_buffer(body, chunk, 4096);
		evhttp_send_reply_chunk(req, chunk);
	}
	evbuffer_free(chunk);
	evhttp_send_reply_end(req);
	if (body != NULL)
		evbuffer_free(body);
}

/* Promises the whole body, sends part of it, then closes. */
static void
faults_send_truncated(struct evhttp_request *req, int status,
    struct evbuffer *body, const struct fault *f)
{
	struct evbuffer	*part;
	size_t		 len, keep;
	char		 n[32];

	len = body != NULL ? evbuffer_get_length(body) : 0;
	keep = f->keep >= 0 && (size_t)f->keep < len ? (size_t)f->keep :
	    len / 2;
	if (len > 0) {
		snprintf(n, sizeof n, "%zu", len);
		faults_header(req, "Content-Length", n);
	}
	faults_header(req, "Connection", "close");
	part = evbuffer_new();
	if (body != NULL) {
		evbuffer_remove_buffer(body, part, keep);
		evbuffer_free(body);
	}
	faults_send_plain(req, status, part);
}

/* Sends status and body as the fault f in force says; takes body. */
void
faults_send(struct faults *fs, struct evhttp_request *req, int status,
    struct evbuffer *body, const struct fault *f)
{
	switch (f == NULL ? FAULT_NONE : f->kind) {
	case FAULT_SLOW_HEADERS:
	case FAULT_SLOW_BODY:
		faults_wait(fs, req, status, body, f);
		break;
	case FAULT_TRUNCATE:
		faults_send_truncated(req, status, body, f);
		break;
	case FAULT_CHUNKED:
		faults_send_chunked(req, status, body);
		break;
	case FAULT_CLOSE:
		faults_header(req, "Connection", "close");
		faults_send_plain(req, status, body);
		break;
	default:
		faults_send_plain(req, status, body);
		break;
	}
}

/* An error body in the OCI shape for a status fault. */
static const char *
faults_error_body(int status)
{
	switch (status) {
	case 429:
		return ("{\"errors\":[{\"code\":\"TOOMANYREQUESTS\","
		    "\"message\":\"too many requests\",\"detail\":null}]}");
	case 503:
		return ("{\"errors\":[{\"code\":\"UNAVAILABLE\","
		    "\"message\":\"service unavailable\",\"detail\":null}]}");
	default:
		return ("{\"errors\":[{\"code\":\"UNKNOWN\","
		    "\"message\":\"internal server error\",\"detail\":null}]}");
	}
}

/* A body of f->size bytes made of references to the filler block. */
static struct evbuffer *
faults_huge_body(struct faults *fs, const struct fault *f)
{
	struct evbuffer	*b;
	const char	*head = "{\"name\":\"huge\",\"tags\":[";
	size_t		 left = (size_t)f->size, n;

	b = evbuffer_new();
	n = strlen(head) < left ? strlen(head) : left;
	evbuffer_add(b, head, n);
	left -= n;
	while (left > 0) {
		n = left < FAULT_FILLER_LEN ? left : FAULT_FILLER_LEN;
		evbuffer_add_reference(b, fs->filler, n, NULL, NULL);
		left -= n;
	}
	return (b);
}

/*
 * Answers in place of the API when the fault replaces the reply; returns
 * the status sent, or 0 when the API must answer (the fault may still
 * shape its reply through faults_send).
 */
int
faults_answer(struct faults *fs, struct evhttp_request *req,
    const struct fault *f)
{
	static const char	 garbage[] = "\x1f\x8b\x08\x00<<not json>>"
				    "{\"tags\":[\"v1\",\xff\xfe]]}}\x00\x01 ";
	static const char	 html[] = "<!DOCTYPE html>\n<html><head><title>"
				    "502 Bad Gateway</title></head><body><h1>Bad "
				    "Gateway</h1><p>The proxy could not reach the "
				    "upstream.</p></body></html>\n";
	struct evbuffer		*body;
	const char		*type = "application/json";
	char			 date[64];

	if (f == NULL)
		return (0);
	body = evbuffer_new();
	switch (f->kind) {
	case FAULT_STATUS:
		if (f->retry_after != NULL)
			faults_header(req, "Retry-After", f->retry_after);
		else if (f->retry_after_date_in >= 0) {
			http_date(clock_ms() / 1000 + f->retry_after_date_in,
			    date, sizeof date);
			faults_header(req, "Retry-After", date);
		}
		evbuffer_add_printf(body, "%s", f->body != NULL ? f->body :
		    faults_error_body(f->status));
		break;
	case FAULT_GARBAGE:
		evbuffer_add(body, garbage, sizeof garbage - 1);
		break;
	case FAULT_HTML:
		type = "text/html; charset=utf-8";
		evbuffer_add(body, html, sizeof html - 1);
		break;
	case FAULT_HUGE:
		evbuffer_free(body);
		body = faults_huge_body(fs, f);
		break;
	default:
		evbuffer_free(body);
		return (0);
	}
	faults_header(req, "Content-Type",
	    f->content_type != NULL ? f->content_type : type);
	faults_send_plain(req, f->status, body);
	return (f->status);
}
