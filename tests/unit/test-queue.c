/*
 * test-queue.c: the queue sinks' shared helpers (sinks/queue.h): the
 * CloudEvents attributes of binary mode in their order with extensions,
 * the binary-mode body for each kind of data, destination templates and
 * their config errors with positions, and broker URLs with passwords.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "sink.h"
#include "store.h"
#include "../../sinks/queue.h"

static const char event_text[] =
    "{\"specversion\":\"1.0\",\"id\":\"abc123\","
    "\"source\":\"/artifact-watcher/sources/nginx\","
    "\"type\":\"artifact.created\",\"subject\":\"library/nginx:1.27.3\","
    "\"time\":\"2026-11-22T10:00:00Z\","
    "\"datacontenttype\":\"application/json\",\"data\":{"
    "\"sourceId\":\"nginx\",\"version\":\"1.27.3\","
    "\"digest\":\"sha256:aaaa\"},"
    "\"traceparent\":\"00-1-2-01\",\"attempt\":3,\"flag\":true,"
    "\"nested\":{\"a\":1},\"nothing\":null}";

static struct outbox_entry entry = {
	.key = "1-0", .id = "abc123", .source = "nginx",
	.json = (char *)event_text,
};

struct walk {
	struct buf	 b;
	size_t		 n;
};

static void
walk_cb(const char *name, const char *value, void *arg)
{
	struct walk	*w = arg;

	buf_printf(&w->b, "%s=%s;", name, value);
	w->n++;
}

Test(queue, attributes_in_order_with_extensions)
{
	struct queue_event	 ev;
	struct walk		 w = { 0 };
	size_t			 n;

	queue_event_parse(&entry, &ev);
	cr_assert_not_null(ev.event);
	n = queue_attrs(&ev, walk_cb, &w);
	cr_assert_eq(n, w.n);
	cr_assert_str_eq(w.b.data, "specversion=1.0;id=abc123;"
	    "source=/artifact-watcher/sources/nginx;type=artifact.created;"
	    "subject=library/nginx:1.27.3;time=2026-11-22T10:00:00Z;"
	    "datacontenttype=application/json;traceparent=00-1-2-01;"
	    "attempt=3;flag=true;");
	buf_free(&w.b);
	queue_event_free(&ev);
}

Test(queue, the_id_is_the_outbox_id)
{
	struct outbox_entry	 e = entry;
	struct queue_event	 ev;
	char			*v;

	e.id = "fromoutbox";
	queue_event_parse(&e, &ev);
	v = queue_attr(&ev, "id");
	cr_assert_str_eq(v, "fromoutbox");
	free(v);
	v = queue_attr(&ev, "type");
	cr_assert_str_eq(v, "artifact.created");
	free(v);
	cr_assert_null(queue_attr(&ev, "dataschema"));
	cr_assert_null(queue_attr(&ev, "nested"));
	queue_event_free(&ev);
}

Test(queue, wrap_does_not_parse)
{
	struct queue_event	 ev;
	struct queue_dest	*d;
	char			*cause = NULL, *s;

	queue_event_wrap(&entry, &ev);
	cr_assert_null(ev.event);
	cr_assert_str_eq(ev.id, "abc123");
	cr_assert_eq(ev.json_len, strlen(event_text));
	d = queue_dest_compile("fixed", &cause);
	s = queue_dest_render(d, &ev);
	cr_assert_str_eq(s, "fixed");
	free(s);
	queue_dest_free(d);
	queue_event_free(&ev);
}

Test(queue, not_json_keeps_only_the_id)
{
	struct outbox_entry	 e = entry;
	struct queue_event	 ev;
	struct walk		 w = { 0 };
	size_t			 len;
	char			*data;

	e.json = "not json [";
	queue_event_parse(&e, &ev);
	cr_assert_null(ev.event);
	cr_assert_str_eq(ev.json, "not json [");
	cr_assert_eq(queue_attrs(&ev, walk_cb, &w), 1);
	cr_assert_str_eq(w.b.data, "id=abc123;");
	data = queue_data(&ev, &len);
	cr_assert_eq(len, 0);
	free(data);
	buf_free(&w.b);
	queue_event_free(&ev);

	e.json = "[1,2]";	/* JSON, but not an event */
	queue_event_parse(&e, &ev);
	cr_assert_null(ev.event);
	queue_event_free(&ev);
}

/* The binary-mode body of an event whose data is `data`. */
static char *
body_of(const char *data, size_t *len)
{
	struct outbox_entry	 e = entry;
	struct queue_event	 ev;
	char			*json, *body;

	xasprintf(&json, "{\"specversion\":\"1.0\",\"id\":\"x\"%s%s}",
	    data != NULL ? "," : "", data != NULL ? data : "");
	e.json = json;
	queue_event_parse(&e, &ev);
	body = queue_data(&ev, len);
	queue_event_free(&ev);
	free(json);
	return (body);
}

Test(queue, binary_body)
{
	size_t	 len;
	char	*b;

	b = body_of("\"data\":{\"a\":[1,\"x\"],\"b\":null}", &len);
	cr_assert_str_eq(b, "{\"a\":[1,\"x\"],\"b\":null}");
	cr_assert_eq(len, strlen(b));
	free(b);
	b = body_of("\"data\":\"plain text\"", &len);
	cr_assert_str_eq(b, "plain text");
	free(b);
	b = body_of("\"data\":42", &len);
	cr_assert_str_eq(b, "42");
	free(b);
	b = body_of(NULL, &len);
	cr_assert_eq(len, 0);
	cr_assert_str_eq(b, "");
	free(b);
	b = body_of("\"data_base64\":\"AAFiYw==\"", &len);
	cr_assert_eq(len, 4);
	cr_assert_eq(memcmp(b, "\0\001bc", 4), 0);
	free(b);
	b = body_of("\"data_base64\":\"aGk=\"", &len);
	cr_assert_eq(len, 2);
	cr_assert_str_eq(b, "hi");
	free(b);
}

Test(queue, fixed_destination)
{
	struct queue_event	 ev;
	struct queue_dest	*d;
	char			*cause = NULL, *s;

	d = queue_dest_compile("artifacts", &cause);
	cr_assert_not_null(d, "%s", cause);
	cr_assert(queue_dest_fixed(d));
	queue_event_parse(&entry, &ev);
	s = queue_dest_render(d, &ev);
	cr_assert_str_eq(s, "artifacts");
	free(s);
	queue_event_free(&ev);
	queue_dest_free(d);
}

Test(queue, templated_destination)
{
	struct queue_event	 ev;
	struct queue_dest	*d;
	char			*cause = NULL, *s;

	d = queue_dest_compile("artifacts.<+event.data.sourceId>."
	    "<+artifacts.primary.tag>", &cause);
	cr_assert_not_null(d, "%s", cause);
	cr_assert(!queue_dest_fixed(d));
	queue_event_parse(&entry, &ev);
	s = queue_dest_render(d, &ev);
	cr_assert_str_eq(s, "artifacts.nginx.1.27.3");
	free(s);
	queue_event_free(&ev);

	/* An event that is not JSON renders the fields empty. */
	entry.json = "oops";
	queue_event_parse(&entry, &ev);
	s = queue_dest_render(d, &ev);
	cr_assert_str_eq(s, "artifacts..");
	free(s);
	queue_event_free(&ev);
	entry.json = (char *)event_text;
	queue_dest_free(d);

	cr_assert_null(queue_dest_compile("a.<+event.data.sourceId", &cause));
	cr_assert_not_null(strstr(cause, "at offset 2"), "%s", cause);
	free(cause);
}

/* A sink_conf named q whose spec is the YAML flow map `spec`. */
static struct cfg_node *
spec_node(const char *spec, struct sink_conf *sc)
{
	struct cfg_errors	 errs = { 0 };
	struct cfg_node		*root = NULL;

	cr_assert_eq(cfg_parse_text(spec, strlen(spec), &root, &errs), 0);
	cr_assert_eq(errs.n, 0);
	memset(sc, 0, sizeof *sc);
	sc->id = "q";
	sc->spec = root;
	return (root);
}

Test(queue, destination_config_errors)
{
	struct cfg_errors	 errs = { .file = "w.yaml" };
	struct sink_conf	 sc;
	struct cfg_node		*root;

	root = spec_node("{ subject: \"a.<+event.nope>\", topic: \"\", "
	    "stream: [x], ok: \"s.<+event.data.sourceId>\" }", &sc);
	cr_assert_eq(queue_dest_check(&sc, "subject", &errs), 1);
	cr_assert_eq(queue_dest_check(&sc, "topic", &errs), 1);
	cr_assert_eq(queue_dest_check(&sc, "stream", &errs), 1);
	cr_assert_eq(queue_dest_check(&sc, "ok", &errs), 0);
	cr_assert_eq(queue_dest_check(&sc, "absent", &errs), 0);
	cr_assert_eq(errs.n, 3);
	/* The column points at the bad expression inside the string. */
	cr_assert_not_null(strstr(errs.msg[0], "w.yaml:1:15: spec.subject "
	    "of sink \"q\""), "%s", errs.msg[0]);
	cr_assert_not_null(strstr(errs.msg[1], "w.yaml:1:"), "%s",
	    errs.msg[1]);
	cr_assert_not_null(strstr(errs.msg[1], "spec.topic of sink \"q\" is "
	    "empty"), "%s", errs.msg[1]);
	cr_assert_not_null(strstr(errs.msg[2], "must be a string"), "%s",
	    errs.msg[2]);
	cfg_errors_free(&errs);
	cfg_node_free(root);
}

Test(queue, url_checks)
{
	static const char *const nats[] = { "nats://", "tls://", NULL };
	struct cfg_errors	 errs = { .file = "w.yaml" };
	struct sink_conf	 sc;
	struct cfg_node		*root;

	root = spec_node("{ url: x }", &sc);
	cr_assert_eq(queue_url_check(&sc, "url", NULL, nats, &errs), 0);
	cr_assert_eq(queue_url_check(&sc, "url", "nats://127.0.0.1:4222",
	    nats, &errs), 0);
	cr_assert_eq(queue_url_check(&sc, "url", "tls://user@h:4222/x:y",
	    nats, &errs), 0);
	cr_assert_eq(queue_url_check(&sc, "url", "nats://a:1,nats://b:2",
	    nats, &errs), 0);
	cr_assert_eq(errs.n, 0);
	cr_assert_eq(queue_url_check(&sc, "url", "http://h", nats, &errs), 1);
	cr_assert_str_eq(errs.msg[0], "w.yaml:1:8: spec.url of sink \"q\" "
	    "must start with nats:// or tls://");
	cr_assert_eq(queue_url_check(&sc, "url", "nats://u:s3cret@h:4222",
	    nats, &errs), 1);
	cr_assert_eq(queue_url_check(&sc, "url",
	    "nats://a:1,nats://u:s3cret@b:2", nats, &errs), 1);
	/* The same message at the same place is added once. */
	cr_assert_eq(errs.n, 2);
	cr_assert_null(strstr(errs.msg[1], "s3cret"));
	cr_assert_not_null(strstr(errs.msg[1], "holds a password"));
	cfg_errors_free(&errs);
	cfg_node_free(root);
}
