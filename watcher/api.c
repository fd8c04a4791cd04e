/*
 * api.c: the HTTP API of DESIGN §7 (docs/api.md), served by libevent's
 * evhttp on the daemon's one event base: nothing here blocks.
 *
 *   GET  /healthz /readyz /metrics
 *   GET  /api/v1/sources[/ID] /api/v1/sinks /api/v1/events
 *   POST /api/v1/sources/ID/{pause,resume,resync,fast-forward,emit-newest}
 *   POST /api/v1/sinks/ID/replay?event=ID|since=…
 *
 * Sources and dispatchers are looked up by id in every request (a reload
 * replaces them), never kept.  Requests that need the store (events,
 * replay) wait for its callback; a struct api_op carries them there and
 * outlives the API if need be: the store may answer while it closes, after
 * api_free().  With a token configured every request must carry it as
 * `Authorization: Bearer …`; the comparison is of SHA-256 digests with
 * CRYPTO_memcmp, so its time tells nothing about the token.  Without
 * one, a request that changes state must not look like a browser's
 * cross-origin post (api-guard.c).
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api.h"
#include "config.h"
#include "daemon.h"
#include "dispatch.h"
#include "limit.h"
#include "source.h"
#include "store.h"

#define API_MAX_HEADERS		(16 * 1024)
#define API_MAX_BODY		(64 * 1024)
#define API_TIMEOUT_S		30
#define API_EVENTS_DEFAULT	100
#define API_EVENTS_MAX		10000
#define API_MAX_SEGMENTS	6
#define API_MAX_REASONS		20
#define API_GET			(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)

/* A request waiting for the store. */
struct api_op {
	struct api		*api;	/* NULL once the API is freed */
	struct evhttp_request	*req;	/* NULL then too */
	char			*sink;	/* replay: the sink to wake */
	char			*source;
	char			*event;
	int64_t			 since_ms;
	size_t			 limit;
	LIST_ENTRY(api_op)	 entry;
};

struct api {
	struct daemon		*daemon;
	struct evhttp		*http;
	char			*listen;	/* as configured */
	struct api_addr		 addr;
	unsigned		 port;		/* bound */
	int			 has_token;
	unsigned char		 token[SHA256_DIGEST_LENGTH]; /* hash */
	char			**paused;	/* ids an operator paused */
	size_t			 npaused;
	LIST_HEAD(, api_op)	 ops;
};

/* ------------------------------------------------------------ replies */

static void
api_send(struct evhttp_request *req, int code, const char *type,
    const char *body, size_t len)
{
	struct evbuffer	*out = evbuffer_new();

	if (out == NULL)
		fatalx("evbuffer_new failed");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, code, NULL, out);
	evbuffer_free(out);
}

/* Sends and deletes o. */
static void
api_json(struct evhttp_request *req, int code, cJSON *o)
{
	char	*s = cJSON_PrintUnformatted(o);

	if (s == NULL)
		fatalx("cJSON_PrintUnformatted failed");
	api_send(req, code, "application/json", s, strlen(s));
	free(s);
	cJSON_Delete(o);
}

static void printflike(3, 4)
api_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
	cJSON	*o = cJSON_CreateObject();
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(o, "error", msg);
	free(msg);
	api_json(req, code, o);
}

/* 0 when the method is one of `allowed`; otherwise answers 405. */
static int
api_method(struct evhttp_request *req, int allowed)
{
	if (evhttp_request_get_command(req) & allowed)
		return (0);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    allowed == EVHTTP_REQ_POST ? "POST" : "GET, HEAD");
	api_error(req, 405, "method not allowed: use %s",
	    allowed == EVHTTP_REQ_POST ? "POST" : "GET");
	return (-1);
}

/* -------------------------------------------------------------- lookup */

static struct source *
api_source(struct api *api, const char *id)
{
	struct source *const	*sources;
	size_t			 n, i;

	sources = daemon_sources(api->daemon, &n);
	for (i = 0; i < n; i++) {
		if (strcmp(source_conf(sources[i])->id, id) == 0)
			return (sources[i]);
	}
	return (NULL);
}

static struct dispatch *
api_dispatch(struct api *api, const char *id)
{
	struct dispatch *const	*dps;
	size_t			 n, i;

	dps = daemon_dispatchers(api->daemon, &n);
	for (i = 0; i < n; i++) {
		if (strcmp(dispatch_sink_id(dps[i]), id) == 0)
			return (dps[i]);
	}
	return (NULL);
}

/* ---------------------------------------------------------------- auth */

static int
api_token_load(const struct config *conf, unsigned char *digest,
    char **cause)
{
	char	*value;

	if (secret_resolve(conf, conf->api.token_ref, &value, cause) != 0)
		return (-1);
	SHA256((const unsigned char *)value, strlen(value), digest);
	OPENSSL_cleanse(value, strlen(value));
	free(value);
	return (0);
}

static int
api_authorized(const struct api *api, struct evhttp_request *req)
{
	unsigned char	 got[SHA256_DIGEST_LENGTH];
	const char	*h;

	if (!api->has_token)
		return (1);
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return (0);
	for (h += 7; *h == ' '; h++)
		/* nothing */;
	SHA256((const unsigned char *)h, strlen(h), got);
	return (CRYPTO_memcmp(got, api->token, sizeof got) == 0);
}

/*
 * Without a token, anything but GET and HEAD must be JSON from no origin
 * or our own; otherwise answers 403 and returns -1.  A token is what a
 * page cannot send, so with one this has nothing to check.
 */
static int
api_browser_guard(const struct api *api, struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	const char		*why;

	if (api->has_token || (evhttp_request_get_command(req) & API_GET))
		return (0);
	why = api_guard_check(evhttp_find_header(h, "Content-Type"),
	    evhttp_find_header(h, "Origin"), api->port);
	if (why == NULL)
		return (0);
	log_info("api: request refused", "uri=%s origin=%s error=%s",
	    log_q(evhttp_request_get_uri(req)),
	    log_q(evhttp_find_header(h, "Origin")), log_q(why));
	api_error(req, 403, "%s", why);
	return (-1);
}

/* ------------------------------------------------------ store requests */

static struct api_op *
api_op_new(struct api *api, struct evhttp_request *req)
{
	struct api_op	*op = xcalloc(1, sizeof *op);

	op->api = api;
	op->req = req;
	LIST_INSERT_HEAD(&api->ops, op, entry);
	return (op);
}

static void
api_op_free(struct api_op *op)
{
	if (op->api != NULL)
		LIST_REMOVE(op, entry);
	free(op->sink);
	free(op->source);
	free(op->event);
	free(op);
}

static void
api_op_query(const struct api_op *op, struct history_query *q)
{
	memset(q, 0, sizeof *q);
	q->source = op->source;
	q->since_ms = op->since_ms;
	q->event_id = op->event;
}

/* since=: a duration back from now ("2h") or an RFC 3339 time. */
static int
api_parse_since(const char *s, int64_t *ms)
{
	int64_t	 d, t;

	if (time_parse_rfc3339(s, &t) == 0) {
		*ms = t * 1000;
		return (0);
	}
	if (duration_parse(s, &d, NULL) == 0) {
		*ms = now_ms() - d;
		return (0);
	}
	return (-1);
}

/*
 * Fill op from the query's source, event and since; answers 400 and
 * returns -1 on a bad since.
 */
static int
api_op_filters(struct api_op *op, struct evkeyvalq *q)
{
	const char	*v;

	if ((v = evhttp_find_header(q, "source")) != NULL && *v != '\0')
		op->source = xstrdup(v);
	if ((v = evhttp_find_header(q, "event")) != NULL && *v != '\0')
		op->event = xstrdup(v);
	if ((v = evhttp_find_header(q, "since")) != NULL &&
	    api_parse_since(v, &op->since_ms) != 0) {
		api_error(op->req, 400, "since takes a duration (2h) or an "
		    "RFC 3339 time, not \"%s\"", v);
		return (-1);
	}
	return (0);
}

static void
api_history_done(int status, struct history_entry *h, size_t n,
    const char *cause, void *arg)
{
	struct api_op	*op = arg;
	cJSON		*o, *arr;
	size_t		 i;

	if (op->req != NULL && status != STORE_OK)
		api_error(op->req, 503, "store: %s", cause);
	else if (op->req != NULL) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "total", (double)n);
		arr = cJSON_AddArrayToObject(o, "events");
		/* The newest `limit`, oldest first. */
		for (i = n > op->limit ? n - op->limit : 0; i < n; i++)
			cJSON_AddItemToArray(arr, history_json(&h[i]));
		api_json(op->req, 200, o);
	}
	api_op_free(op);
}

static void
api_events(struct api *api, struct evhttp_request *req, struct evkeyvalq *q)
{
	struct store		*st = daemon_env(api->daemon)->store;
	struct history_query	 hq;
	struct api_op		*op;
	const char		*v;
	char			*end;
	unsigned long		 limit = API_EVENTS_DEFAULT;

	if (api_method(req, API_GET) != 0)
		return;
	if ((v = evhttp_find_header(q, "limit")) != NULL) {
		errno = 0;
		limit = strtoul(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 ||
		    limit == 0 || limit > API_EVENTS_MAX) {
			api_error(req, 400, "limit takes a number from 1 to "
			    "%d", API_EVENTS_MAX);
			return;
		}
	}
	op = api_op_new(api, req);
	op->limit = limit;
	if (api_op_filters(op, q) != 0) {
		api_op_free(op);
		return;
	}
	api_op_query(op, &hq);
	st->entry->history(st, &hq, api_history_done, op);
}

static void
api_replay_done(int status, const char *cause, void *arg)
{
	struct api_op	*op = arg;
	struct dispatch	*dp;
	cJSON		*o;

	if (op->api != NULL && status == STORE_OK &&
	    (dp = api_dispatch(op->api, op->sink)) != NULL)
		dispatch_wake(dp);
	if (op->req != NULL && status != STORE_OK)
		api_error(op->req, 503, "store: %s", cause);
	else if (op->req != NULL) {
		log_info("events replayed by an operator", "sink=%s",
		    log_q(op->sink));
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "sink", op->sink);
		cJSON_AddBoolToObject(o, "replayed", 1);
		api_json(op->req, 200, o);
	}
	api_op_free(op);
}

static void
api_replay(struct api *api, struct evhttp_request *req, const char *sink,
    struct evkeyvalq *q)
{
	struct store		*st = daemon_env(api->daemon)->store;
	struct history_query	 hq;
	struct api_op		*op;

	if (api_method(req, EVHTTP_REQ_POST) != 0)
		return;
	if (api_dispatch(api, sink) == NULL) {
		api_error(req, 404, "no sink \"%s\"", sink);
		return;
	}
	op = api_op_new(api, req);
	op->sink = xstrdup(sink);
	if (api_op_filters(op, q) != 0) {
		api_op_free(op);
		return;
	}
	if (op->event == NULL && evhttp_find_header(q, "since") == NULL) {
		api_error(req, 400, "replay needs event=ID or since=…");
		api_op_free(op);
		return;
	}
	api_op_query(op, &hq);
	st->entry->replay(st, sink, &hq, api_replay_done, op);
}

/* ----------------------------------------------------- admin: sources */

static void
api_paused_add(struct api *api, const char *id)
{
	size_t	 i;

	for (i = 0; i < api->npaused; i++) {
		if (strcmp(api->paused[i], id) == 0)
			return;
	}
	api->paused = xreallocarray(api->paused, api->npaused + 1,
	    sizeof *api->paused);
	api->paused[api->npaused++] = xstrdup(id);
}

static void
api_paused_remove(struct api *api, size_t i)
{
	free(api->paused[i]);
	api->paused[i] = api->paused[--api->npaused];
}

static void
api_paused_drop(struct api *api, const char *id)
{
	size_t	 i;

	for (i = 0; i < api->npaused; i++) {
		if (strcmp(api->paused[i], id) == 0) {
			api_paused_remove(api, i);
			return;
		}
	}
}

enum api_action {
	ACTION_PAUSE, ACTION_RESUME, ACTION_RESYNC, ACTION_FAST_FORWARD,
	ACTION_EMIT_NEWEST
};
static const char *const action_names[] = {
	"pause", "resume", "resync", "fast-forward", "emit-newest", NULL
};

static void
api_source_action(struct api *api, struct evhttp_request *req,
    const char *id, const char *name)
{
	struct source		*s;
	struct source_status	 st;
	cJSON			*o, *limits;
	size_t			 a;
	int			 rc = 0, code = 200;

	for (a = 0; action_names[a] != NULL; a++) {
		if (strcmp(action_names[a], name) == 0)
			break;
	}
	if (action_names[a] == NULL) {
		api_error(req, 404, "no action \"%s\" (pause, resume, "
		    "resync, fast-forward, emit-newest)", name);
		return;
	}
	if (api_method(req, EVHTTP_REQ_POST) != 0)
		return;
	if ((s = api_source(api, id)) == NULL) {
		api_error(req, 404, "no source \"%s\"", id);
		return;
	}
	switch ((enum api_action)a) {
	case ACTION_PAUSE:
		source_pause(s);
		api_paused_add(api, id);
		break;
	case ACTION_RESUME:
		source_resume(s);
		api_paused_drop(api, id);
		break;
	case ACTION_RESYNC:
		rc = source_resync(s);
		code = 202;
		break;
	case ACTION_FAST_FORWARD:
		rc = source_release(s, BURST_FAST_FORWARD);
		code = 202;
		break;
	case ACTION_EMIT_NEWEST:
		rc = source_release(s, BURST_EMIT_NEWEST);
		code = 202;
		break;
	}
	if (rc != 0) {
		source_status(s, &st);
		api_error(req, 409, "source \"%s\" %s", id, st.paused ?
		    "is paused: resume it first" :
		    "holds no burst to release");
		return;
	}
	log_info("operator action", "source=%s action=%s", log_q(id), name);
	limits = limits_json(daemon_env(api->daemon)->limits);
	o = api_source_json(s, limits);
	cJSON_Delete(limits);
	cJSON_AddStringToObject(o, "action", name);
	api_json(req, code, o);
}

/* --------------------------------------------------------- GET routes */

static void
api_sources(struct api *api, struct evhttp_request *req, const char *id)
{
	struct source *const	*sources;
	struct source		*s;
	cJSON			*limits, *o, *arr;
	size_t			 n, i;

	if (api_method(req, API_GET) != 0)
		return;
	if (id != NULL && (s = api_source(api, id)) == NULL) {
		api_error(req, 404, "no source \"%s\"", id);
		return;
	}
	limits = limits_json(daemon_env(api->daemon)->limits);
	if (id != NULL)
		o = api_source_json(s, limits);
	else {
		o = cJSON_CreateObject();
		arr = cJSON_AddArrayToObject(o, "sources");
		sources = daemon_sources(api->daemon, &n);
		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(arr,
			    api_source_json(sources[i], limits));
	}
	cJSON_Delete(limits);
	api_json(req, 200, o);
}

static void
api_sinks(struct api *api, struct evhttp_request *req)
{
	struct dispatch *const	*dps;
	cJSON			*o, *arr;
	size_t			 n, i;

	if (api_method(req, API_GET) != 0)
		return;
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "sinks");
	dps = daemon_dispatchers(api->daemon, &n);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, api_sink_json(dps[i],
		    config_sink(daemon_env(api->daemon)->conf,
		    dispatch_sink_id(dps[i]))));
	api_json(req, 200, o);
}

static void
api_healthz(struct evhttp_request *req)
{
	if (api_method(req, API_GET) == 0)
		api_send(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

/* Ready: not stopping, and every source has read its state once. */
static void
api_readyz(struct api *api, struct evhttp_request *req)
{
	struct source *const	*sources;
	struct source_status	 st;
	cJSON			*o, *reasons;
	size_t			 n, i, waiting = 0;
	char			*why;

	if (api_method(req, API_GET) != 0)
		return;
	o = cJSON_CreateObject();
	reasons = cJSON_CreateArray();
	if (daemon_stopping(api->daemon))
		cJSON_AddItemToArray(reasons,
		    cJSON_CreateString("shutting down"));
	if (daemon_env(api->daemon)->store == NULL)
		cJSON_AddItemToArray(reasons,
		    cJSON_CreateString("the store is not open"));
	sources = daemon_sources(api->daemon, &n);
	for (i = 0; i < n; i++) {
		source_status(sources[i], &st);
		if (st.loaded || waiting++ >= API_MAX_REASONS)
			continue;
		xasprintf(&why, "source %s: state not loaded yet%s%s", st.id,
		    st.last_error != NULL ? ": " : "",
		    st.last_error != NULL ? st.last_error : "");
		cJSON_AddItemToArray(reasons, cJSON_CreateString(why));
		free(why);
	}
	if (waiting > API_MAX_REASONS) {
		xasprintf(&why, "and %zu more sources not loaded yet",
		    waiting - API_MAX_REASONS);
		cJSON_AddItemToArray(reasons, cJSON_CreateString(why));
		free(why);
	}
	cJSON_AddBoolToObject(o, "ready", cJSON_GetArraySize(reasons) == 0);
	cJSON_AddItemToObject(o, "reasons", reasons);
	api_json(req, cJSON_GetArraySize(reasons) == 0 ? 200 : 503, o);
}

static void
api_metrics(struct api *api, struct evhttp_request *req)
{
	struct buf	 b = { 0 };

	if (api_method(req, API_GET) != 0)
		return;
	metrics_write(&b, api->daemon);
	api_send(req, 200, METRICS_CONTENT_TYPE, b.data, b.len);
	buf_free(&b);
}

/* ------------------------------------------------------------- routing */

static void
api_route(struct api *api, struct evhttp_request *req, char **seg, size_t n,
    struct evkeyvalq *q)
{
	if (n == 1 && strcmp(seg[0], "healthz") == 0)
		api_healthz(req);
	else if (n == 1 && strcmp(seg[0], "readyz") == 0)
		api_readyz(api, req);
	else if (n == 1 && strcmp(seg[0], "metrics") == 0)
		api_metrics(api, req);
	else if (n < 3 || strcmp(seg[0], "api") != 0 ||
	    strcmp(seg[1], "v1") != 0)
		api_error(req, 404, "no such endpoint");
	else if (strcmp(seg[2], "sources") == 0 && n <= 4)
		api_sources(api, req, n == 4 ? seg[3] : NULL);
	else if (strcmp(seg[2], "sources") == 0 && n == 5)
		api_source_action(api, req, seg[3], seg[4]);
	else if (strcmp(seg[2], "sinks") == 0 && n == 3)
		api_sinks(api, req);
	else if (strcmp(seg[2], "sinks") == 0 && n == 5 &&
	    strcmp(seg[4], "replay") == 0)
		api_replay(api, req, seg[3], q);
	else if (strcmp(seg[2], "events") == 0 && n == 3)
		api_events(api, req, q);
	else
		api_error(req, 404, "no such endpoint");
}

static void
api_request_cb(struct evhttp_request *req, void *arg)
{
	struct api		*api = arg;
	const struct evhttp_uri	*uri;
	const char		*path, *query;
	struct evkeyvalq	 q;
	char			*copy, *seg[API_MAX_SEGMENTS], *p, *save;
	size_t			 n = 0;

	uri = evhttp_request_get_evhttp_uri(req);
	if (!api_authorized(api, req)) {
		log_debug("api: request without the token", "uri=%s",
		    log_q(evhttp_request_get_uri(req)));
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"" AW_NAME "\"");
		api_error(req, 401, "a valid bearer token is needed");
		return;
	}
	if (api_browser_guard(api, req) != 0)
		return;
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	TAILQ_INIT(&q);
	if (path == NULL || (query != NULL &&
	    evhttp_parse_query_str(query, &q) != 0)) {
		evhttp_clear_headers(&q);
		api_error(req, 400, "bad request target");
		return;
	}
	copy = xstrdup(path);
	for (p = strtok_r(copy, "/", &save); p != NULL;
	    p = strtok_r(NULL, "/", &save)) {
		if (n == API_MAX_SEGMENTS)
			break;
		seg[n++] = p;
	}
	if (p != NULL)
		api_error(req, 404, "no such endpoint");
	else
		api_route(api, req, seg, n, &q);
	free(copy);
	evhttp_clear_headers(&q);
}

/* ----------------------------------------------------------- lifetime */

/* Note the port bound and log "HOST:PORT". */
static void
api_log_listening(struct api *api, struct evhttp_bound_socket *bound)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	int			 fd = evhttp_bound_socket_get_fd(bound);
	int			 v6 = strchr(api->addr.host, ':') != NULL;

	api->port = api->addr.port;
	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			api->port =
			    ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			api->port =
			    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	log_info("api listening", "addr=%s%s%s:%u token=%s", v6 ? "[" : "",
	    api->addr.host, v6 ? "]" : "", api->port,
	    api->has_token ? "required" : "none");
}

struct api *
api_create(struct daemon *d, char **cause)
{
	const struct config		*conf = daemon_env(d)->conf;
	struct evhttp_bound_socket	*bound;
	struct api			*api;
	char				*why;

	api = xcalloc(1, sizeof *api);
	api->daemon = d;
	LIST_INIT(&api->ops);
	api->listen = xstrdup(conf->api.listen);
	if (api_listen_parse(api->listen, &api->addr, &why) != 0) {
		fail(cause, "api.listen %s", why);
		goto fail;
	}
	if (conf->api.token_ref != NULL) {
		if (api_token_load(conf, api->token, &why) != 0) {
			fail(cause, "api.tokenRef: %s", why);
			goto fail;
		}
		api->has_token = 1;
	}
	if ((api->http = evhttp_new(daemon_env(d)->base)) == NULL) {
		fail(cause, "evhttp_new failed");
		api_free(api);
		return (NULL);
	}
	evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(api->http, API_MAX_HEADERS);
	evhttp_set_max_body_size(api->http, API_MAX_BODY);
	evhttp_set_timeout(api->http, API_TIMEOUT_S);
	evhttp_set_gencb(api->http, api_request_cb, api);
	bound = evhttp_bind_socket_with_handle(api->http, api->addr.host,
	    (ev_uint16_t)api->addr.port);
	if (bound == NULL) {
		fail(cause, "cannot listen on %s: %s", api->listen,
		    strerror(errno));
		api_free(api);
		return (NULL);
	}
	api_log_listening(api, bound);
	return (api);

fail:
	free(why);
	api_free(api);
	return (NULL);
}

void
api_free(struct api *api)
{
	struct api_op	*op;
	size_t		 i;

	if (api == NULL)
		return;
	/* Their requests go with the connections; the store may still
	 * answer them (while it closes), then they only free themselves. */
	while ((op = LIST_FIRST(&api->ops)) != NULL) {
		LIST_REMOVE(op, entry);
		op->api = NULL;
		op->req = NULL;
	}
	if (api->http != NULL)
		evhttp_free(api->http);
	for (i = 0; i < api->npaused; i++)
		free(api->paused[i]);
	free(api->paused);
	free(api->addr.host);
	free(api->listen);
	OPENSSL_cleanse(api->token, sizeof api->token);
	free(api);
}

/* Take the reloaded config's token; the address waits for a restart. */
static void
api_reload_token(struct api *api, const struct config *conf)
{
	unsigned char	 digest[SHA256_DIGEST_LENGTH];
	char		*why;

	if (!conf->api.enabled || strcmp(conf->api.listen, api->listen) != 0)
		log_warn("reload: the api block changed; the API keeps its "
		    "address until the next restart", "listen=%s",
		    log_q(api->listen));
	if (!conf->api.enabled)
		return;
	if (conf->api.token_ref == NULL) {
		if (api->addr.loopback)
			api->has_token = 0;
		else
			log_warn("reload: api.tokenRef removed; kept, since "
			    "the API listens beyond loopback", "listen=%s",
			    log_q(api->listen));
		return;
	}
	if (api_token_load(conf, digest, &why) != 0) {
		log_error("reload: api.tokenRef unusable; the old token "
		    "stays", "error=%s", log_q(why));
		free(why);
		return;
	}
	memcpy(api->token, digest, sizeof api->token);
	OPENSSL_cleanse(digest, sizeof digest);
	api->has_token = 1;
}

void
api_reloaded(struct api *api)
{
	struct source	*s;
	size_t		 i = 0;

	if (api == NULL)
		return;
	api_reload_token(api, daemon_env(api->daemon)->conf);
	while (i < api->npaused) {
		if ((s = api_source(api, api->paused[i])) == NULL) {
			log_info("reload: a paused source is gone",
			    "source=%s", log_q(api->paused[i]));
			api_paused_remove(api, i);
			continue;
		}
		source_pause(s);
		i++;
	}
}
