/*
 * test-webhook.c: the Webhook sink against a real HTTP receiver (libevent's
 * evhttp on 127.0.0.1, a free port, in the same event base): the headers it
 * sends, a signature the receiver can verify, and how each answer maps to
 * delivered, retry (with Retry-After) or permanent.  The config is loaded
 * from YAML through the real loader, as the daemon does.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http.h"
#include "sink.h"
#include "unit.h"

#define SECRET	"s3cr3t-hook-key"

/* The receiver: what to answer, and what it saw. */
struct receiver {
	struct ut_stub		 srv;		/* unit.h: evhttp, port */
	int			 status;
	const char		*retry_after;	/* header to send, or NULL */
	int			 hang;		/* never answer */
	int			 redirect_status;	/* for /old */
	const char		*answer;	/* body to answer, or NULL */
	int			 requests;
	char			*method;
	char			*body;
	char			*content_type;
	char			*idempotency_key;
	char			*timestamp;
	char			*signature;
	char			*team;
	int			 expect_seen;
};

/* What the sink said. */
struct outcome {
	int		 called;
	enum delivery	 result;
	int64_t		 retry_after_ms;
	char		*cause;
};

static struct event_base	*base;
static struct receiver		 rx;
static struct env		 env;
static struct config		*conf;
static char			 conf_path[64];

/* Keep what the last request carried in that header (NULL: absent). */
static void
header_keep(char **slot, struct evkeyvalq *h, const char *name)
{
	const char	*v = evhttp_find_header(h, name);

	free(*slot);
	*slot = v != NULL ? xstrdup(v) : NULL;
}

static void
receiver_cb(struct evhttp_request *req, void *arg __unused)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evbuffer		*body = evhttp_request_get_input_buffer(req);
	struct evbuffer		*out;
	size_t			 len = evbuffer_get_length(body);

	rx.requests++;
	free(rx.method);
	rx.method = xstrdup(evhttp_request_get_command(req) ==
	    EVHTTP_REQ_POST ? "POST" : "other");
	free(rx.body);
	rx.body = xmalloc(len + 1);
	evbuffer_copyout(body, rx.body, len);
	rx.body[len] = '\0';
	header_keep(&rx.content_type, in, "Content-Type");
	header_keep(&rx.idempotency_key, in, "Idempotency-Key");
	header_keep(&rx.timestamp, in, "X-Artifact-Watcher-Timestamp");
	header_keep(&rx.signature, in, "X-Artifact-Watcher-Signature");
	header_keep(&rx.team, in, "X-Team");
	rx.expect_seen = evhttp_find_header(in, "Expect") != NULL;
	if (rx.hang)
		return;		/* evhttp_free() drops it at the end */
	if (strncmp(evhttp_request_get_uri(req), "/old", 4) == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Location", "/hook");
		evhttp_send_reply(req, rx.redirect_status, "Moved", NULL);
		return;
	}
	if (rx.retry_after != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", rx.retry_after);
	if (rx.answer == NULL) {
		evhttp_send_reply(req, rx.status, "Status", NULL);
		return;
	}
	out = evbuffer_new();
	evbuffer_add(out, rx.answer, strlen(rx.answer));
	evhttp_send_reply(req, rx.status, "Status", out);
	evbuffer_free(out);
}

/* A loopback port that nobody listens on (bound, read, closed). */
static int
closed_port(void)
{
	struct sockaddr_in	 sin = { 0 };
	int			 fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	port = ut_bound_port(fd);
	close(fd);
	return (port);
}

static void
setup(void)
{
	char				*cause = NULL;

	base = event_base_new();
	cr_assert_not_null(base);
	memset(&rx, 0, sizeof rx);
	rx.status = 200;
	ut_stub_start(&rx.srv, base, NULL, receiver_cb, NULL);

	memset(&env, 0, sizeof env);
	env.base = base;
	env.http = http_create(base, &cause);
	cr_assert_not_null(env.http, "http_create: %s", cause);
	setenv("AW_TEST_HOOK_KEY", SECRET, 1);
}

static void
teardown(void)
{
	http_free(env.http);
	ut_stub_stop(&rx.srv);
	config_free(conf);
	conf = NULL;
	if (conf_path[0] != '\0')
		unlink(conf_path);
	conf_path[0] = '\0';
	event_base_free(base);
	free(rx.method);
	free(rx.body);
	free(rx.content_type);
	free(rx.idempotency_key);
	free(rx.timestamp);
	free(rx.signature);
	free(rx.team);
}

TestSuite(webhook, .init = setup, .fini = teardown, .timeout = 20);

static char	*load_errors(const char *);

/* Load a config whose one sink "ci" is described by `spec` (YAML flow). */
static struct sink *
make_sink(const char *spec)
{
	struct cfg_errors	 errs = { 0 };
	struct sink		*s;
	char			*cause = NULL;
	FILE			*f;
	int			 fd;
	size_t			 i;

	snprintf(conf_path, sizeof conf_path, "/tmp/test-webhook-XXXXXX");
	fd = mkstemp(conf_path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fprintf(f, "secrets:\n  hook_key: env:AW_TEST_HOOK_KEY\n"
	    "sinks:\n  - identifier: ci\n    type: Webhook\n"
	    "    spec: %s\n", spec);
	fclose(f);
	conf = config_load(conf_path, &errs);
	for (i = 0; i < errs.n; i++)
		cr_log_error("%s", errs.msg[i]);
	cr_assert_not_null(conf, "config_load failed");
	cfg_errors_free(&errs);
	env.conf = conf;
	s = sink_create(&env, config_sink(conf, "ci"), &cause);
	cr_assert_not_null(s, "sink_create: %s", cause);
	return (s);
}

static struct sink *
sink_at(const char *extra)
{
	char		*spec;
	struct sink	*s;

	xasprintf(&spec, "{ url: \"http://127.0.0.1:%d/hook\"%s }", rx.srv.port,
	    extra);
	s = make_sink(spec);
	free(spec);
	return (s);
}

static void
outcome_cb(enum delivery result, int64_t retry_after_ms, const char *cause,
    void *arg)
{
	struct outcome	*o = arg;

	o->called++;
	o->result = result;
	o->retry_after_ms = retry_after_ms;
	o->cause = cause != NULL ? xstrdup(cause) : NULL;
	event_base_loopbreak(base);
}

static const struct outbox_entry sample = {
	.key = "1-0",
	.id = "e6810a5ffef042de2c1aee1b674c5c32",
	.source = "nginx",
	.json = "{\"specversion\":\"1.0\",\"id\":"
	    "\"e6810a5ffef042de2c1aee1b674c5c32\"}",
};

static void
deliver(struct sink *s, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	s->entry->deliver(s, &sample, outcome_cb, o);
	cr_assert_eq(o->called, 0, "done ran before deliver returned");
	event_base_dispatch(base);
	cr_assert_eq(o->called, 1);
}

Test(webhook, posts_signed_cloudevent_with_headers)
{
	struct sink	*s;
	struct outcome	 o;
	char		*want;
	long long	 ts;

	s = sink_at(", secretRef: hook_key, headers: { X-Team: platform }");
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_OK);
	cr_assert_null(o.cause);
	cr_assert_eq(rx.requests, 1);
	cr_assert_str_eq(rx.method, "POST");
	cr_assert_str_eq(rx.body, sample.json);
	cr_assert_str_eq(rx.content_type, "application/cloudevents+json");
	cr_assert_str_eq(rx.idempotency_key, sample.id);
	cr_assert_str_eq(rx.team, "platform");
	cr_assert_eq(rx.expect_seen, 0);
	cr_assert_not_null(rx.timestamp);
	ts = atoll(rx.timestamp);
	cr_assert(ts > now_ms() / 1000 - 60 && ts <= now_ms() / 1000,
	    "timestamp %s is not now", rx.timestamp);
	/* What a receiver does: recompute over "<ts>.<body>" and compare. */
	want = sign_body(SECRET, strlen(SECRET), ts, rx.body,
	    strlen(rx.body));
	cr_assert_str_eq(rx.signature, want);
	free(want);
	free(o.cause);
	sink_free(s);
}

Test(webhook, unsigned_without_secret)
{
	struct sink	*s;
	struct outcome	 o;

	s = sink_at("");
	rx.status = 204;
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_OK);
	cr_assert_null(rx.signature);
	cr_assert_null(rx.timestamp);
	cr_assert_str_eq(rx.idempotency_key, sample.id);
	sink_free(s);
}

Test(webhook, unavailable_with_retry_after_retries)
{
	struct sink	*s;
	struct outcome	 o;

	s = sink_at("");
	rx.status = 503;
	rx.retry_after = "7";
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	cr_assert_eq(o.retry_after_ms, 7000);
	cr_assert_str_eq(o.cause, "webhook ci: HTTP 503");
	free(o.cause);
	sink_free(s);
}

Test(webhook, server_error_without_retry_after)
{
	struct sink	*s;
	struct outcome	 o;

	s = sink_at("");
	rx.status = 500;
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	cr_assert_eq(o.retry_after_ms, -1);
	free(o.cause);
	sink_free(s);
}

Test(webhook, garbage_retry_after_is_ignored)
{
	struct sink	*s;
	struct outcome	 o;

	s = sink_at("");
	rx.status = 429;
	rx.retry_after = "soon, maybe";
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	cr_assert_eq(o.retry_after_ms, -1);
	cr_assert_str_eq(o.cause, "webhook ci: HTTP 429");
	free(o.cause);
	sink_free(s);
}

Test(webhook, request_timeout_and_too_many_requests_retry)
{
	struct sink	*s;
	struct outcome	 o;

	s = sink_at("");
	rx.status = 408;
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	free(o.cause);
	rx.status = 429;
	rx.retry_after = "2";
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	cr_assert_eq(o.retry_after_ms, 2000);
	free(o.cause);
	sink_free(s);
}

Test(webhook, not_found_is_permanent)
{
	struct sink	*s;
	struct outcome	 o;

	s = sink_at("");
	rx.status = 404;
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_PERMANENT);
	cr_assert_str_eq(o.cause, "webhook ci: HTTP 404");
	free(o.cause);
	rx.status = 400;
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_PERMANENT);
	free(o.cause);
	sink_free(s);
}

/*
 * A failure's cause carries the start of the answer, printable and
 * bounded, with our secret masked should the receiver echo it; a retried
 * failure too.
 */
Test(webhook, cause_carries_the_answer)
{
	struct sink	*s;
	struct outcome	 o;
	char		 big[1024];

	s = sink_at(", secretRef: hook_key");
	rx.status = 422;
	rx.answer = "{\"error\": \"field\tsubject\r\n is required\"}\n"
	    "echo: " SECRET "\n";
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_PERMANENT);
	cr_expect_str_eq(o.cause, "webhook ci: HTTP 422: {\"error\": \"field "
	    "subject is required\"} echo: ***************");
	free(o.cause);

	rx.status = 503;
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	rx.answer = big;
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	cr_expect_eq(strncmp(o.cause, "webhook ci: HTTP 503: zzz", 25), 0,
	    "%s", o.cause);
	cr_expect_eq(strlen(o.cause), strlen("webhook ci: HTTP 503: ") + 203);
	free(o.cause);

	rx.status = 404;
	rx.answer = " \r\n";
	deliver(s, &o);
	cr_expect_str_eq(o.cause, "webhook ci: HTTP 404");
	free(o.cause);
	sink_free(s);
}

/*
 * A redirect is not followed, whatever its code: the receiver sees the one
 * POST to /old and never a request to /hook, and the cause names the
 * Location without its query.
 */
Test(webhook, redirect_is_permanent_and_not_followed)
{
	static const int	 codes[] = { 301, 302, 303, 307, 308 };
	struct sink		*s;
	struct outcome		 o;
	char			*spec, *want;
	size_t			 i;

	xasprintf(&spec, "{ url: \"http://127.0.0.1:%d/old?token=t0p\" }",
	    rx.srv.port);
	s = make_sink(spec);
	free(spec);
	for (i = 0; i < nitems(codes); i++) {
		rx.redirect_status = codes[i];
		rx.requests = 0;
		deliver(s, &o);
		cr_assert_eq(o.result, DELIVERY_PERMANENT);
		cr_assert_eq(rx.requests, 1, "HTTP %d was followed: %d "
		    "requests", codes[i], rx.requests);
		xasprintf(&want, "webhook ci: HTTP %d, a redirect to "
		    "http://127.0.0.1:%d/hook; redirects are not followed: set "
		    "url to the final address", codes[i], rx.srv.port);
		cr_assert_str_eq(o.cause, want);
		cr_assert_null(strstr(o.cause, "t0p"));
		free(want);
		free(o.cause);
	}
	sink_free(s);
}

/* headers: { X-Team: { secretRef: hook_key } } sends the secret's value. */
Test(webhook, header_value_from_a_secret)
{
	struct sink	*s;
	struct outcome	 o;

	s = sink_at(", headers: { X-Team: { secretRef: hook_key } }");
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_OK);
	cr_assert_str_eq(rx.team, SECRET);
	sink_free(s);
}

Test(webhook, header_secret_must_exist)
{
	char	*msg = load_errors("{ url: \"http://x/\", headers: "
	    "{ X-Api-Key: { secretRef: nope }, X-B: { secretRef: a, b: c } } }");

	cr_assert_not_null(strstr(msg, "spec.headers.X-Api-Key of sink \"ci\": "
	    "secret \"nope\" is not defined under secrets:"), "errors: %s",
	    msg);
	cr_assert_not_null(strstr(msg, "spec.headers.X-B of sink \"ci\" must "
	    "be a string or {secretRef: NAME}"), "errors: %s", msg);
	free(msg);
}

Test(webhook, connection_refused_retries)
{
	struct sink	*s;
	struct outcome	 o;
	char		*spec;

	xasprintf(&spec, "{ url: \"http://127.0.0.1:%d/hook\" }",
	    closed_port());
	s = make_sink(spec);
	free(spec);
	deliver(s, &o);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	cr_assert_eq(o.retry_after_ms, -1);
	cr_assert_not_null(o.cause);
	cr_assert_eq(strncmp(o.cause, "webhook ci: ", 12), 0, "cause: %s",
	    o.cause);
	free(o.cause);
	sink_free(s);
}

Test(webhook, timeout_retries)
{
	struct sink	*s;
	struct outcome	 o;

	s = sink_at(", timeout: 300ms");
	rx.hang = 1;
	deliver(s, &o);
	cr_assert_eq(rx.requests, 1);
	cr_assert_eq(o.result, DELIVERY_RETRY);
	cr_assert_not_null(o.cause);
	free(o.cause);
	sink_free(s);
}

/* Freed while the request is in flight: the callback never runs. */
Test(webhook, cancel_in_flight)
{
	struct sink	*s;
	struct outcome	 o = { 0 };

	s = sink_at("");
	rx.hang = 1;
	s->entry->deliver(s, &sample, outcome_cb, &o);
	while (rx.requests == 0)
		event_base_loop(base, EVLOOP_ONCE);
	sink_free(s);
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_assert_eq(o.called, 0);
}

Test(webhook, secret_is_resolved_at_init)
{
	struct cfg_errors	 errs = { 0 };
	struct sink		*s;
	char			*cause = NULL, spec[128];
	FILE			*f;
	int			 fd;

	unsetenv("AW_TEST_HOOK_KEY");
	snprintf(spec, sizeof spec, "{ url: \"http://127.0.0.1:%d/\", "
	    "secretRef: hook_key }", rx.srv.port);
	snprintf(conf_path, sizeof conf_path, "/tmp/test-webhook-XXXXXX");
	fd = mkstemp(conf_path);
	f = fdopen(fd, "w");
	fprintf(f, "secrets:\n  hook_key: env:AW_TEST_HOOK_KEY\n"
	    "sinks:\n  - identifier: ci\n    type: Webhook\n"
	    "    spec: %s\n", spec);
	fclose(f);
	conf = config_load(conf_path, &errs);
	cr_assert_not_null(conf);
	cfg_errors_free(&errs);
	env.conf = conf;
	s = sink_create(&env, config_sink(conf, "ci"), &cause);
	cr_assert_null(s);
	cr_assert_not_null(cause);
	cr_assert_not_null(strstr(cause, "webhook ci: secretRef hook_key"),
	    "cause: %s", cause);
	free(cause);
}

/* Bad spec blocks are config errors, with the position of the key. */
static char *
load_errors(const char *spec)
{
	struct cfg_errors	 errs = { 0 };
	struct buf		 all = { 0 };
	FILE			*f;
	int			 fd;
	size_t			 i;

	snprintf(conf_path, sizeof conf_path, "/tmp/test-webhook-XXXXXX");
	fd = mkstemp(conf_path);
	f = fdopen(fd, "w");
	fprintf(f, "sinks:\n  - identifier: ci\n    type: Webhook\n"
	    "    spec: %s\n", spec);
	fclose(f);
	conf = config_load(conf_path, &errs);
	cr_assert_null(conf);
	for (i = 0; i < errs.n; i++) {
		buf_adds(&all, errs.msg[i]);
		buf_adds(&all, "\n");
	}
	cfg_errors_free(&errs);
	return (buf_take(&all));
}

Test(webhook, rejects_non_http_url)
{
	char	*msg = load_errors("{ url: \"ftp://example.com/x\" }");

	cr_assert_not_null(strstr(msg, ":4:18: spec.url of sink \"ci\" must "
	    "start with http:// or https://\n"), "errors: %s", msg);
	cr_assert_null(strstr(msg, "example.com"), "the url is not repeated");
	free(msg);
}

Test(webhook, rejects_headers_it_sets_itself)
{
	char	*msg = load_errors("{ url: \"http://x/\", headers: "
	    "{ content-type: text/plain, \"A B\": x, X-C: \"1\\r\\nD: 2\" } }");

	cr_assert_not_null(strstr(msg, ": spec.headers of sink \"ci\": "
	    "\"content-type\" is set by the sink itself\n"), "errors: %s", msg);
	cr_assert_not_null(strstr(msg, ": spec.headers of sink \"ci\": "
	    "\"A B\" is not a valid header name\n"), "errors: %s", msg);
	cr_assert_not_null(strstr(msg, ": spec.headers of sink \"ci\": "
	    "\"X-C\" has a line break in its value\n"), "errors: %s", msg);
	free(msg);
}

Test(webhook, requires_url)
{
	char	*msg = load_errors("{ timeout: 5s }");

	cr_assert_not_null(strstr(msg, "url"), "errors: %s", msg);
	free(msg);
}

/* maxInFlight above 1: requests side by side, each answered to its own. */
Test(webhook, several_in_flight_each_answered_once)
{
	struct sink	*s;
	struct outcome	 o[3];
	int		 i;

	s = sink_at("");
	memset(o, 0, sizeof o);
	for (i = 0; i < 3; i++)
		s->entry->deliver(s, &sample, outcome_cb, &o[i]);
	while (o[0].called + o[1].called + o[2].called < 3)
		event_base_loop(base, EVLOOP_ONCE);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(o[i].called, 1, "delivery %d", i);
		cr_assert_eq(o[i].result, DELIVERY_OK);
		free(o[i].cause);
	}
	cr_assert_eq(rx.requests, 3);
	sink_free(s);
}

Test(webhook, cancel_drops_every_request_in_flight)
{
	struct sink	*s;
	struct outcome	 o[3];
	int		 i;

	s = sink_at("");
	rx.hang = 1;
	memset(o, 0, sizeof o);
	for (i = 0; i < 3; i++)
		s->entry->deliver(s, &sample, outcome_cb, &o[i]);
	while (rx.requests < 3)
		event_base_loop(base, EVLOOP_ONCE);
	s->entry->cancel(s);
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (i = 0; i < 3; i++)
		cr_assert_eq(o[i].called, 0);
	sink_free(s);
}
