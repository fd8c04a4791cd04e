/*
 * bare-kafka.c: the bare client of the Kafka sink benchmark
 * (bench/sinks/kafka.py).  It produces the same messages (one CloudEvent
 * JSON line each, read from a file) with librdkafka and the same
 * confirmation level as the sink: an idempotent producer with acks=all,
 * key "<sourceId>@<version>", headers Idempotency-Key (the event id) and
 * content-type, every message of the run in one partition (the sink keeps
 * one source in one), each counted in its delivery report, at most
 * `window` without one.  Prints "MESSAGES SECONDS", from the first produce
 * to the last report.
 *
 *	bare-kafka MESSAGES BROKERS TOPIC WINDOW
 */
#include <librdkafka/rdkafka.h>

#include "bare.h"

static size_t	 acked;

static void
on_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *arg)
{
	(void)rk, (void)arg;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "bare-kafka: %s\n", rd_kafka_err2str(m->err));
		exit(1);
	}
	acked++;
}

static void
set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char	 err[256];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof err) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "bare-kafka: %s\n", err);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	rd_kafka_conf_t		*conf;
	rd_kafka_t		*rk;
	rd_kafka_headers_t	*h;
	rd_kafka_resp_err_t	 err;
	char			*data, *p, *line, id[128], source[128];
	char			 version[128], key[260], errstr[256];
	size_t			 sent = 0, window;
	double			 t0;

	if (argc != 5 || (window = strtoul(argv[4], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bare-kafka MESSAGES BROKERS TOPIC "
		    "WINDOW\n");
		return (2);
	}
	data = p = bare_slurp("bare-kafka", argv[1]);
	conf = rd_kafka_conf_new();
	set(conf, "bootstrap.servers", argv[2]);
	set(conf, "enable.idempotence", "true");
	set(conf, "acks", "all");
	rd_kafka_conf_set_dr_msg_cb(conf, on_report);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof errstr)) == NULL) {
		fprintf(stderr, "bare-kafka: %s\n", errstr);
		return (1);
	}
	t0 = bare_now();
	while ((line = bare_line(&p)) != NULL) {
		while (sent - acked >= window)
			rd_kafka_poll(rk, 1000);
		snprintf(key, sizeof key, "%s@%s",
		    bare_member(line, "sourceId", source, sizeof source),
		    bare_member(line, "version", version, sizeof version));
		h = rd_kafka_headers_new(2);
		rd_kafka_header_add(h, "Idempotency-Key", -1,
		    bare_member(line, "id", id, sizeof id), -1);
		rd_kafka_header_add(h, "content-type", -1,
		    "application/cloudevents+json", -1);
		err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[3]),
		    RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_KEY(key, strlen(key)),
		    RD_KAFKA_V_VALUE(line, strlen(line)),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			fprintf(stderr, "bare-kafka: produce: %s\n",
			    rd_kafka_err2str(err));
			return (1);
		}
		sent++;
		rd_kafka_poll(rk, 0);
	}
	while (acked < sent)
		rd_kafka_poll(rk, 1000);
	bare_report(sent, t0);
	rd_kafka_destroy(rk);
	free(data);
	return (0);
}
