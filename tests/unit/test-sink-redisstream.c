/*
 * test-sink-redisstream.c: the RedisStream sink against a real redis-server
 * (redis-util.h): a window of XADDs in flight at once, each acknowledged
 * once, in order in the stream with the id field; binary mode fields; a
 * stream template that renders empty is permanent; cancel() drops every
 * outstanding `done`; an unreachable server is a retry; and the config
 * errors with their positions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "config.h"
#include "redis-util.h"
#include "sink-suite.h"
#include "sink.h"
#include "store.h"

/* redis-util.h helpers this file does not need. */
static long long (*const unused_changes)(int) __unused = redis_util_changes;
static int (*const unused_delete)(int, const char *) __unused =
    redis_util_delete_prefix;

static struct redis_server	 server;
static struct event_base	*base;
static struct env		 env;

static void
setup(void)
{
	memset(&server, 0, sizeof server);
	cr_assert_eq(redis_server_start(&server), 0);
	base = event_base_new();
	memset(&env, 0, sizeof env);
	env.base = base;
}

static void
teardown(void)
{
	suite_conf_free();
	event_base_free(base);
	redis_server_kill(&server, SIGKILL);
	redis_server_remove(&server);
}

TestSuite(redisstream, .init = setup, .fini = teardown, .timeout = 30);

static struct sink *
make_sink(const char *spec)
{
	struct sink		*s;
	char			*text;

	xasprintf(&text, "sinks:\n  - identifier: q\n    type: RedisStream\n"
	    "    spec: %s\n", spec);
	s = suite_sink(&env, text);
	free(text);
	return (s);
}

static redisReply *
xrange(const char *stream)
{
	redisContext	*c;
	redisReply	*r;

	c = redisConnect("127.0.0.1", server.port);
	cr_assert(c != NULL && c->err == 0);
	r = redisCommand(c, "XRANGE %s - +", stream);
	redisFree(c);
	cr_assert_not_null(r);
	return (r);
}

static const char *
field(const redisReply *entry, const char *name)
{
	const redisReply	*f = entry->element[1];
	size_t			 i;

	for (i = 0; i + 1 < f->elements; i += 2) {
		if (strcmp(f->element[i]->str, name) == 0)
			return (f->element[i + 1]->str);
	}
	return (NULL);
}

Test(redisstream, a_window_in_flight_acked_once_each_in_order)
{
	struct outbox_entry	 e[20];
	struct outcome		 o[20] = { 0 };
	struct sink		*s;
	redisReply		*r;
	char			 spec[128];
	int			 i, all;

	snprintf(spec, sizeof spec, "{ url: \"redis://127.0.0.1:%d/0\", "
	    "stream: \"s.<+event.data.sourceId>\", maxLen: 5 }", server.port);
	s = make_sink(spec);
	cr_assert_geq(s->entry->max_inflight, 16);
	for (i = 0; i < 20; i++) {
		entry_for(&e[i], i, "a");
		s->entry->deliver(s, &e[i], outcome_cb, &o[i]);
		cr_assert_eq(o[i].called, 0, "done never runs inside deliver");
	}
	do {
		event_base_loop(base, EVLOOP_ONCE);
		for (all = 1, i = 0; i < 20; i++)
			all &= o[i].called > 0;
	} while (!all);
	for (i = 0; i < 20; i++) {
		cr_assert_eq(o[i].called, 1);
		cr_assert_eq(o[i].d, DELIVERY_OK, "%d: %s", i, o[i].cause);
	}
	r = xrange("s.a");
	/* MAXLEN ~ trims whole macro nodes only: at least the last 5. */
	cr_assert_geq(r->elements, 5);
	cr_assert_leq(r->elements, 20);
	for (i = 0; i < (int)r->elements; i++) {
		char	 want[32];

		snprintf(want, sizeof want, "id-a-%d",
		    20 - (int)r->elements + i);
		cr_assert_str_eq(field(r->element[i], "id"), want);
		cr_assert_not_null(strstr(field(r->element[i], "event"),
		    want));
	}
	freeReplyObject(r);
	sink_free(s);
	for (i = 0; i < 20; i++) {
		entry_free(&e[i]);
		free(o[i].cause);
	}
}

Test(redisstream, binary_mode_fields)
{
	struct outbox_entry	 e;
	struct outcome		 o = { 0 };
	struct sink		*s;
	redisReply		*r;
	char			 spec[128];

	snprintf(spec, sizeof spec, "{ url: \"redis://127.0.0.1:%d/0\", "
	    "stream: b, contentMode: binary }", server.port);
	s = make_sink(spec);
	entry_for(&e, 7, "bin");
	s->entry->deliver(s, &e, outcome_cb, &o);
	while (o.called == 0)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert_eq(o.d, DELIVERY_OK, "%s", o.cause);
	r = xrange("b");
	cr_assert_eq(r->elements, 1);
	cr_assert_str_eq(field(r->element[0], "specversion"), "1.0");
	cr_assert_str_eq(field(r->element[0], "id"), "id-bin-7");
	cr_assert_str_eq(field(r->element[0], "type"), "artifact.created");
	cr_assert_str_eq(field(r->element[0], "subject"), "x:7");
	cr_assert_str_eq(field(r->element[0], "datacontenttype"),
	    "application/json");
	cr_assert_str_eq(field(r->element[0], "data"),
	    "{\"sourceId\":\"bin\",\"version\":\"1.0.7\"}");
	cr_assert_null(field(r->element[0], "event"));
	freeReplyObject(r);
	sink_free(s);
	entry_free(&e);
	free(o.cause);
}

Test(redisstream, empty_stream_name_is_permanent)
{
	struct outbox_entry	 e;
	struct outcome		 o = { 0 };
	struct sink		*s;
	char			 spec[128];

	snprintf(spec, sizeof spec, "{ url: \"redis://127.0.0.1:%d/0\", "
	    "stream: \"<+event.data.labels.team>\" }", server.port);
	s = make_sink(spec);
	entry_for(&e, 1, "a");
	s->entry->deliver(s, &e, outcome_cb, &o);
	while (o.called == 0)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert_eq(o.d, DELIVERY_PERMANENT);
	cr_assert_not_null(strstr(o.cause, "renders empty"), "%s", o.cause);
	sink_free(s);
	entry_free(&e);
	free(o.cause);
}

Test(redisstream, cancel_drops_every_done)
{
	struct outbox_entry	 e[3];
	struct outcome		 o[3] = { 0 };
	struct sink		*s;
	redisReply		*r;
	char			 spec[128];
	int			 i;

	snprintf(spec, sizeof spec, "{ url: \"redis://127.0.0.1:%d/0\", "
	    "stream: c }", server.port);
	s = make_sink(spec);
	for (i = 0; i < 3; i++) {
		entry_for(&e[i], i, "c");
		s->entry->deliver(s, &e[i], outcome_cb, &o[i]);
	}
	s->entry->cancel(s);
	/* The XADDs still go out; their answers call nobody. */
	do {
		event_base_loop(base, EVLOOP_NONBLOCK);
		r = xrange("c");
		i = (int)r->elements;
		freeReplyObject(r);
	} while (i < 3);
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (i = 0; i < 3; i++)
		cr_assert_eq(o[i].called, 0);
	/* A delivery after the cancel works as usual. */
	s->entry->deliver(s, &e[0], outcome_cb, &o[0]);
	while (o[0].called == 0)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert_eq(o[0].d, DELIVERY_OK);
	sink_free(s);
	for (i = 0; i < 3; i++) {
		entry_free(&e[i]);
		free(o[i].cause);
	}
}

Test(redisstream, server_down_is_a_retry_and_free_with_outstanding)
{
	struct outbox_entry	 e;
	struct outcome		 o = { 0 }, o2 = { 0 };
	struct sink		*s;
	char			 spec[128];

	snprintf(spec, sizeof spec, "{ url: \"redis://127.0.0.1:%d/0\", "
	    "stream: d }", redis_util_free_port());
	s = make_sink(spec);
	entry_for(&e, 1, "d");
	s->entry->deliver(s, &e, outcome_cb, &o);
	while (o.called == 0)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert_eq(o.d, DELIVERY_RETRY);
	cr_assert_not_null(o.cause);
	s->entry->deliver(s, &e, outcome_cb, &o2);
	sink_free(s);		/* with one outstanding: no done */
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_assert_eq(o2.called, 0);
	entry_free(&e);
	free(o.cause);
}

static char *
errors_of(const char *text)
{
	return (suite_errors(text));
}

Test(redisstream, config_errors)
{
	char	*m;

	m = errors_of("sinks:\n  - identifier: q\n    type: RedisStream\n"
	    "    spec: { stream: s }\n");
	cr_assert_not_null(strstr(m, ":4:11: spec.url of sink \"q\" is "
	    "required: the store is not Redis"), "%s", m);
	free(m);
	m = errors_of("sinks:\n  - identifier: q\n    type: RedisStream\n"
	    "    spec: { stream: s, maxLen: -1, bogus: 1 }\n");
	cr_assert_not_null(strstr(m, "bogus"), "%s", m);
	cr_assert_not_null(strstr(m, "maxLen"), "%s", m);
	free(m);
	m = errors_of("sinks:\n  - identifier: q\n    type: RedisStream\n"
	    "    spec: { url: \"redis://u:pw@h:1/0\", stream: s }\n");
	cr_assert_not_null(strstr(m, ":4:18: spec.url of sink \"q\" holds a "
	    "password"), "%s", m);
	cr_assert_null(strstr(m, "pw@"), "%s", m);
	free(m);
	m = errors_of("sinks:\n  - identifier: q\n    type: RedisStream\n"
	    "    spec: { url: \"redis://h:1/0\", stream: \"a.<+x>\" }\n");
	cr_assert_not_null(strstr(m, ":4:46: spec.stream of sink \"q\""),
	    "%s", m);
	free(m);
	m = errors_of("sinks:\n  - identifier: q\n    type: RedisStream\n"
	    "    spec: { url: \"http://h/\", stream: s }\n");
	cr_assert_not_null(strstr(m, "must start with redis://"), "%s", m);
	free(m);
	m = errors_of("sinks:\n  - identifier: q\n    type: RedisStream\n"
	    "    spec: { url: \"redis://h/\", stream: s, contentMode: text }\n");
	cr_assert_not_null(strstr(m, "contentMode"), "%s", m);
	free(m);
}

Test(redisstream, on_the_store_redis_without_url)
{
	struct outbox_entry	 e;
	struct outcome		 o = { 0 };
	struct sink		*s;
	redisReply		*r;
	char			*text;

	xasprintf(&text, "store: { type: redis, url: "
	    "\"redis://127.0.0.1:%d/0\" }\nsinks:\n  - identifier: q\n"
	    "    type: RedisStream\n    spec: { stream: st }\n", server.port);
	s = suite_sink(&env, text);
	free(text);
	entry_for(&e, 1, "st");
	s->entry->deliver(s, &e, outcome_cb, &o);
	while (o.called == 0)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert_eq(o.d, DELIVERY_OK, "%s", o.cause);
	r = xrange("st");
	cr_assert_eq(r->elements, 1);
	freeReplyObject(r);
	sink_free(s);
	entry_free(&e);
}
