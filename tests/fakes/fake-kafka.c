/*
 * fake-kafka.c: a Kafka cluster for tests and benchmarks, since no Kafka
 * broker is packaged: librdkafka's built-in mock cluster, on loopback.
 *
 *	build/fakes/fake-kafka [--brokers N]
 *
 * Prints "listening on HOST:PORT,..." (the bootstrap list) as its first
 * line, then reads commands on standard input, one a line, and answers
 * each with lines ending in "ok" (or "error: why"):
 *
 *	topic NAME PARTITIONS	create a topic (produce also creates one
 *				with the mock's default of 4 partitions)
 *	down / up		every broker refuses connections / is back
 *	dump NAME		every message of the topic as one JSON line
 *				{"partition", "offset", "key", "value",
 *				"headers": [[name, value], ...]}, partitions
 *				in order, then "ok"
 *	count NAME		the number of messages appended to the
 *				topic (its high watermarks: the mock drops
 *				the oldest of a partition past about 5 MB,
 *				which a benchmark's rounds reach)
 *
 * End of input ends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static rd_kafka_mock_cluster_t	*mc;
static const char		*bootstraps;
static int			 nbrokers = 3;

static rd_kafka_t *
fk_consumer(void)
{
	rd_kafka_conf_t	*conf = rd_kafka_conf_new();
	rd_kafka_t	*rk;
	char		 err[256];

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err,
	    sizeof err) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", "fake-kafka-dump", err,
	    sizeof err) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err,
	    sizeof err) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "fake-kafka: %s\n", err);
		exit(1);
	}
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err,
	    sizeof err)) == NULL) {
		fprintf(stderr, "fake-kafka: %s\n", err);
		exit(1);
	}
	return (rk);
}

/* The partition count of topic, or -1. */
static int
fk_partitions(rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata	*md;
	rd_kafka_topic_t		*rkt;
	int				 n = -1;

	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (md->topic_cnt == 1 && md->topics[0].err == 0)
			n = md->topics[0].partition_cnt;
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	return (n);
}

static void
fk_print(const rd_kafka_message_t *m)
{
	rd_kafka_headers_t	*h = NULL;
	cJSON			*o, *hs, *pair;
	const char		*name;
	const void		*value;
	size_t			 len, i;
	char			*text;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "partition", m->partition);
	cJSON_AddNumberToObject(o, "offset", (double)m->offset);
	text = strndup(m->key != NULL ? m->key : "", m->key_len);
	cJSON_AddStringToObject(o, "key", text);
	free(text);
	text = strndup(m->payload != NULL ? m->payload : "", m->len);
	cJSON_AddStringToObject(o, "value", text);
	free(text);
	hs = cJSON_AddArrayToObject(o, "headers");
	if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		for (i = 0; rd_kafka_header_get_all(h, i, &name, &value,
		    &len) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
			pair = cJSON_CreateArray();
			cJSON_AddItemToArray(pair, cJSON_CreateString(name));
			text = strndup(value != NULL ? value : "", len);
			cJSON_AddItemToArray(pair, cJSON_CreateString(text));
			free(text);
			cJSON_AddItemToArray(hs, pair);
		}
	}
	text = cJSON_PrintUnformatted(o);
	printf("%s\n", text);
	cJSON_free(text);
	cJSON_Delete(o);
}

/* Print (or only count) every message of the topic. */
static int
fk_dump(const char *topic, int print, long *count)
{
	rd_kafka_t				*rk = fk_consumer();
	rd_kafka_topic_partition_list_t		*parts;
	rd_kafka_message_t			*m;
	int64_t					 lo, hi;
	int					 n, i, left = 0;

	*count = 0;
	if ((n = fk_partitions(rk, topic)) < 0) {
		rd_kafka_destroy(rk);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi,
		    5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
			rd_kafka_destroy(rk);
			return (-1);
		}
		if (!print) {
			*count += hi;
			continue;
		}
		if (hi == lo)
			continue;
		/* One partition at a time, so the output is in order. */
		parts = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(parts, topic, i)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
		rd_kafka_assign(rk, parts);
		rd_kafka_topic_partition_list_destroy(parts);
		left = (int)(hi - lo);
		while (left > 0) {
			if ((m = rd_kafka_consumer_poll(rk, 5000)) == NULL)
				break;
			if (m->err == 0) {
				fk_print(m);
				(*count)++;
				left--;
			} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				rd_kafka_message_destroy(m);
				break;
			}
			rd_kafka_message_destroy(m);
		}
		rd_kafka_assign(rk, NULL);
		if (left > 0)
			break;
	}
	rd_kafka_destroy(rk);
	return (left > 0 ? -1 : 0);
}

static void
fk_brokers(int up)
{
	int	 i;

	for (i = 1; i <= nbrokers; i++) {
		if (up)
			rd_kafka_mock_broker_set_up(mc, i);
		else
			rd_kafka_mock_broker_set_down(mc, i);
	}
}

int
main(int argc, char **argv)
{
	rd_kafka_conf_t	*conf;
	rd_kafka_t	*rk;
	char		 err[256], line[512], name[256];
	long		 count;
	int		 parts;

	if (argc == 3 && strcmp(argv[1], "--brokers") == 0)
		nbrokers = atoi(argv[2]);
	if (nbrokers < 1 || nbrokers > 9) {
		fprintf(stderr, "usage: fake-kafka [--brokers 1..9]\n");
		return (2);
	}
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err,
	    sizeof err)) == NULL) {
		fprintf(stderr, "fake-kafka: %s\n", err);
		return (1);
	}
	if ((mc = rd_kafka_mock_cluster_new(rk, nbrokers)) == NULL) {
		fprintf(stderr, "fake-kafka: no mock cluster\n");
		return (1);
	}
	bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
	printf("listening on %s\n", bootstraps);
	fflush(stdout);
	while (fgets(line, sizeof line, stdin) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (sscanf(line, "topic %255s %d", name, &parts) == 2) {
			if (rd_kafka_mock_topic_create(mc, name, parts,
			    nbrokers < 3 ? nbrokers : 3) != 0)
				printf("error: cannot create %s\n", name);
			else
				printf("ok\n");
		} else if (strcmp(line, "down") == 0) {
			fk_brokers(0);
			printf("ok\n");
		} else if (strcmp(line, "up") == 0) {
			fk_brokers(1);
			printf("ok\n");
		} else if (sscanf(line, "dump %255s", name) == 1) {
			if (fk_dump(name, 1, &count) != 0)
				printf("error: cannot read %s\n", name);
			else
				printf("ok\n");
		} else if (sscanf(line, "count %255s", name) == 1) {
			if (fk_dump(name, 0, &count) != 0)
				printf("error: cannot read %s\n", name);
			else
				printf("%ld\nok\n", count);
		} else
			printf("error: unknown command\n");
		fflush(stdout);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return (0);
}
