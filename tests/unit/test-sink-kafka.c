/*
 * test-sink-kafka.c: the Kafka sink against librdkafka's mock cluster in
 * this process (no Kafka broker is packaged): a window of produces acked
 * once each by their delivery reports, one source in one partition in
 * order with its key and headers, binary mode headers, brokers down is a
 * retry, cancel() drops every `done`, and the config errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "config.h"
#include "sink-suite.h"
#include "sink.h"
#include "store.h"

static struct event_base	*base;
static struct env		 env;
static rd_kafka_t		*mock_rk;
static rd_kafka_mock_cluster_t	*mock;
static rd_kafka_t		*consumer;	/* of consume() */

static void
setup(void)
{
	rd_kafka_conf_t	*c = rd_kafka_conf_new();
	char		 err[256];

	rd_kafka_conf_set(c, "log_level", "0", err, sizeof err);
	mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
	cr_assert_not_null(mock_rk, "%s", err);
	mock = rd_kafka_mock_cluster_new(mock_rk, 3);
	cr_assert_not_null(mock);
	cr_assert_eq(rd_kafka_mock_topic_create(mock, "t", 4, 3), 0);
	base = event_base_new();
	memset(&env, 0, sizeof env);
	env.base = base;
}

static void
teardown(void)
{
	suite_conf_free();
	event_base_free(base);
	rd_kafka_mock_cluster_destroy(mock);
	rd_kafka_destroy(mock_rk);
}

TestSuite(kafka, .init = setup, .fini = teardown, .timeout = 60);

static struct sink *
make_sink(const char *extra)
{
	struct sink		*s;
	char			*text;

	xasprintf(&text, "sinks:\n  - identifier: q\n    type: Kafka\n"
	    "    spec: { brokers: \"%s\", topic: t%s }\n",
	    rd_kafka_mock_cluster_bootstraps(mock), extra);
	s = suite_sink(&env, text);
	free(text);
	return (s);
}

/*
 * Every message of topic t, with a consumer on the mock cluster; the
 * messages keep the consumer alive until consumed_free().
 */
static rd_kafka_message_t **
consume(int want, int *got)
{
	rd_kafka_conf_t				*c = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t		*parts;
	rd_kafka_message_t			**out, *m;
	rd_kafka_t				*rk;
	char					 err[256];
	int					 p, tries = 0;

	rd_kafka_conf_set(c, "bootstrap.servers",
	    rd_kafka_mock_cluster_bootstraps(mock), err, sizeof err);
	rd_kafka_conf_set(c, "group.id", "test", err, sizeof err);
	rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
	rd_kafka_conf_set(c, "log_level", "0", err, sizeof err);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
	cr_assert_not_null(rk);
	parts = rd_kafka_topic_partition_list_new(4);
	for (p = 0; p < 4; p++)
		rd_kafka_topic_partition_list_add(parts, "t", p)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	out = xcalloc(want + 1, sizeof *out);
	*got = 0;
	while (*got < want && tries++ < 100) {
		if ((m = rd_kafka_consumer_poll(rk, 100)) == NULL)
			continue;
		if (m->err == 0)
			out[(*got)++] = m;
		else
			rd_kafka_message_destroy(m);
	}
	consumer = rk;
	return (out);
}

static void
consumed_free(rd_kafka_message_t **msgs, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		rd_kafka_message_destroy(msgs[i]);
	free(msgs);
	/* Assigned, not subscribed: no group to leave. */
	rd_kafka_destroy_flags(consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	consumer = NULL;
}

static const char *
header(const rd_kafka_message_t *m, const char *name, char *buf, size_t len)
{
	rd_kafka_headers_t	*h;
	const void		*v;
	size_t			 n;

	if (rd_kafka_message_headers(m, &h) != 0 ||
	    rd_kafka_header_get_last(h, name, &v, &n) != 0)
		return (NULL);
	snprintf(buf, len, "%.*s", (int)n, (const char *)v);
	return (buf);
}

Test(kafka, a_window_acked_once_each_one_partition_in_order)
{
	struct outbox_entry	 e[12];
	struct outcome		 o[12] = { 0 };
	rd_kafka_message_t	**msgs;
	struct sink		*s;
	char			 buf[256], want[64];
	int			 i, got, part = -1, next = 0;

	s = make_sink("");
	cr_assert_geq(s->entry->max_inflight, 16);
	for (i = 0; i < 12; i++) {
		entry_for(&e[i], i, "src");
		s->entry->deliver(s, &e[i], outcome_cb, &o[i]);
		cr_assert_eq(o[i].called, 0, "done never runs inside deliver");
	}
	wait_all(base, o, 12);
	for (i = 0; i < 12; i++) {
		cr_assert_eq(o[i].called, 1);
		cr_assert_eq(o[i].d, DELIVERY_OK, "%d: %s", i, o[i].cause);
	}
	msgs = consume(12, &got);
	cr_assert_eq(got, 12);
	for (i = 0; i < got; i++) {
		if (part == -1)
			part = msgs[i]->partition;
		cr_assert_eq(msgs[i]->partition, part, "one partition");
		snprintf(want, sizeof want, "src@1.0.%d", next);
		cr_assert_eq(msgs[i]->key_len, strlen(want));
		cr_assert_eq(memcmp(msgs[i]->key, want, strlen(want)), 0);
		snprintf(want, sizeof want, "id-src-%d", next);
		cr_assert_str_eq(header(msgs[i], "Idempotency-Key", buf,
		    sizeof buf), want);
		cr_assert_str_eq(header(msgs[i], "content-type", buf,
		    sizeof buf), "application/cloudevents+json");
		cr_assert_not_null(memmem(msgs[i]->payload, msgs[i]->len,
		    want, strlen(want)));
		next++;
	}
	consumed_free(msgs, got);
	sink_free(s);
	for (i = 0; i < 12; i++) {
		entry_free(&e[i]);
		free(o[i].cause);
	}
}

Test(kafka, binary_mode_headers)
{
	struct outbox_entry	 e;
	struct outcome		 o = { 0 };
	rd_kafka_message_t	**msgs;
	struct sink		*s;
	char			 buf[256];
	int			 got;

	s = make_sink(", contentMode: binary");
	entry_for(&e, 3, "bin");
	s->entry->deliver(s, &e, outcome_cb, &o);
	wait_all(base, &o, 1);
	cr_assert_eq(o.d, DELIVERY_OK, "%s", o.cause);
	msgs = consume(1, &got);
	cr_assert_eq(got, 1);
	cr_assert_str_eq(header(msgs[0], "ce_id", buf, sizeof buf), "id-bin-3");
	cr_assert_str_eq(header(msgs[0], "ce_specversion", buf, sizeof buf),
	    "1.0");
	cr_assert_str_eq(header(msgs[0], "ce_type", buf, sizeof buf),
	    "artifact.created");
	cr_assert_str_eq(header(msgs[0], "ce_source", buf, sizeof buf),
	    "/artifact-watcher/sources/bin");
	cr_assert_str_eq(header(msgs[0], "content-type", buf, sizeof buf),
	    "application/json");
	cr_assert_null(header(msgs[0], "ce_datacontenttype", buf,
	    sizeof buf));
	cr_assert_eq(msgs[0]->len, strlen("{\"sourceId\":\"bin\","
	    "\"version\":\"1.0.3\"}"));
	consumed_free(msgs, got);
	sink_free(s);
	entry_free(&e);
	free(o.cause);
}

Test(kafka, brokers_down_is_a_retry)
{
	struct outbox_entry	 e;
	struct outcome		 o = { 0 };
	struct sink		*s;
	int			 i;

	s = make_sink(", timeout: 3s");
	entry_for(&e, 0, "down");
	s->entry->deliver(s, &e, outcome_cb, &o);
	wait_all(base, &o, 1);
	cr_assert_eq(o.d, DELIVERY_OK, "%s", o.cause);
	for (i = 1; i <= 3; i++)
		rd_kafka_mock_broker_set_down(mock, i);
	o.called = 0;
	s->entry->deliver(s, &e, outcome_cb, &o);
	wait_all(base, &o, 1);
	cr_assert_eq(o.d, DELIVERY_RETRY);
	cr_assert_not_null(strstr(o.cause, "timed out"), "%s", o.cause);
	for (i = 1; i <= 3; i++)
		rd_kafka_mock_broker_set_up(mock, i);
	/* Retried as the dispatcher would, while librdkafka reconnects. */
	for (i = 0; i < 10; i++) {
		o.called = 0;
		s->entry->deliver(s, &e, outcome_cb, &o);
		wait_all(base, &o, 1);
		if (o.d == DELIVERY_OK)
			break;
	}
	cr_assert_eq(o.d, DELIVERY_OK, "%s", o.cause);
	sink_free(s);
	entry_free(&e);
	free(o.cause);
}

Test(kafka, cancel_drops_every_done)
{
	struct outbox_entry	 e[3];
	struct outcome		 o[3] = { 0 }, after = { 0 };
	struct sink		*s;
	int			 i;

	s = make_sink("");
	for (i = 0; i < 3; i++) {
		entry_for(&e[i], i, "c");
		s->entry->deliver(s, &e[i], outcome_cb, &o[i]);
	}
	s->entry->cancel(s);
	s->entry->deliver(s, &e[0], outcome_cb, &after);
	wait_all(base, &after, 1);
	cr_assert_eq(after.d, DELIVERY_OK);
	for (i = 0; i < 3; i++)
		cr_assert_eq(o[i].called, 0);
	/* Freed with deliveries outstanding: no done either. */
	s->entry->deliver(s, &e[1], outcome_cb, &o[1]);
	sink_free(s);
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_assert_eq(o[1].called, 0);
	for (i = 0; i < 3; i++)
		entry_free(&e[i]);
}

static char *
errors_of(const char *spec)
{
	char	*text, *m;

	xasprintf(&text, "secrets:\n  pw: env:AW_TEST_KAFKA_PW\n"
	    "sinks:\n  - identifier: q\n    type: Kafka\n    spec: %s\n", spec);
	m = suite_errors(text);
	free(text);
	return (m);
}

Test(kafka, config_errors)
{
	char	*m;

	m = errors_of("{ brokers: \"kafka://u:p@h:9092\", topic: t }");
	cr_assert_not_null(strstr(m, ":6:22: spec.brokers of sink \"q\" is a "
	    "list of host:port"), "%s", m);
	cr_assert_null(strstr(m, "u:p"), "%s", m);
	free(m);
	m = errors_of("{ brokers: \"h:9092\", topic: \"bad topic\" }");
	cr_assert_not_null(strstr(m, "spec.topic of sink \"q\" is not a "
	    "Kafka topic name"), "%s", m);
	free(m);
	m = errors_of("{ brokers: \"h:9092\", topic: t, user: me }");
	cr_assert_not_null(strstr(m, "go together"), "%s", m);
	free(m);
	m = errors_of("{ brokers: \"h:9092\", topic: t, properties: "
	    "{ linger.ms: \"5\", no.such.thing: \"1\", sasl.password: x, "
	    "acks: \"1\" } }");
	cr_assert_not_null(strstr(m, "No such configuration property: "
	    "\"no.such.thing\""), "%s", m);
	cr_assert_not_null(strstr(m, "\"sasl.password\" is set by the sink "
	    "itself or holds a secret"), "%s", m);
	cr_assert_not_null(strstr(m, "\"acks\" is set by the sink"), "%s", m);
	cr_assert_null(strstr(m, "linger"), "%s", m);
	free(m);
	m = errors_of("{ brokers: \"h:9092\", topic: t, user: me, "
	    "passwordRef: nope }");
	cr_assert_not_null(strstr(m, "nope"), "%s", m);
	free(m);
}
