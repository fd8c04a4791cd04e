/*
 * sink-kafka.c: the Kafka sink, through librdkafka.  One idempotent
 * producer per sink (enable.idempotence, acks=all): each event is produced
 * to `topic` with the key "<sourceId>@<version>", partitioned by the source
 * id alone (murmur2, as Java clients hash a key), so one source's events
 * stay in one partition, in order.  An event counts as delivered in its
 * delivery report, that is once every in-sync replica has it; librdkafka
 * retries on its own until `timeout` (message.timeout.ms), and a report
 * with an error is a retry for the dispatcher unless it can never work.
 *
 * Headers: Idempotency-Key = the event id in both modes; structured mode
 * (default) content-type application/cloudevents+json and the CloudEvent
 * as the value; binary mode, as the CloudEvents Kafka binding, ce_NAME
 * per attribute, content-type for datacontenttype, the data as the value.
 *
 * Threads: librdkafka runs its own, but its callbacks (delivery reports,
 * errors, logs) are served only by rd_kafka_poll(), which runs on the
 * event loop: librdkafka writes a byte to a pipe when its main queue gets
 * something (rd_kafka_queue_io_event_enable), and a one-second timer polls
 * as well.  The partitioner runs on librdkafka's threads and reads only the
 * op's source id, which does not change while the op lives.  Reports are
 * collected during the poll and their `done`s run after it returns, one at
 * a time, so that a `done` may deliver again or free the sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "queue.h"
#include "sink.h"
#include "store.h"

#define KAFKA_INFLIGHT		256

struct kafka_conf {
	char			*brokers;
	char			*topic;
	int			 mode;		/* enum queue_mode */
	char			*user;
	char			*password_ref;
	int			 mechanism;	/* kafka_mechanisms */
	int			 tls;
	int64_t			 timeout_ms;
	struct cfg_strmap	 properties;
};

static const char *const kafka_mechanisms[] = {
	"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", NULL
};

static const struct cfg_key kafka_keys[] = {
	{ .name = "brokers", .type = CFG_STRING, .flags = CFG_REQUIRED,
	  .off = offsetof(struct kafka_conf, brokers) },
	{ .name = "topic", .type = CFG_STRING, .flags = CFG_REQUIRED,
	  .off = offsetof(struct kafka_conf, topic) },
	QUEUE_MODE_KEY(struct kafka_conf, mode),
	{ .name = "user", .type = CFG_STRING,
	  .off = offsetof(struct kafka_conf, user) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = offsetof(struct kafka_conf, password_ref) },
	{ .name = "saslMechanism", .type = CFG_ENUM, .def = "PLAIN",
	  .off = offsetof(struct kafka_conf, mechanism),
	  .choices = kafka_mechanisms },
	{ .name = "tls", .type = CFG_BOOL, .def = "false",
	  .off = offsetof(struct kafka_conf, tls) },
	{ .name = "timeout", .type = CFG_DURATION, .def = "30s",
	  .off = offsetof(struct kafka_conf, timeout_ms), .min = 1000,
	  .max = 60 * 60 * 1000 },
	{ .name = "properties", .type = CFG_STRMAP,
	  .off = offsetof(struct kafka_conf, properties) },
	{ .name = NULL }
};

/* Properties the sink sets itself, or that would hold a secret. */
static const char *const kafka_own_properties[] = {
	"bootstrap.servers", "metadata.broker.list", "enable.idempotence",
	"acks", "request.required.acks", "message.timeout.ms",
	"delivery.timeout.ms", "security.protocol", "sasl.mechanism",
	"sasl.mechanisms", "sasl.username", "sasl.password",
};

struct kafka;

/* One produce in flight, until its delivery report. */
struct kafka_op {
	TAILQ_ENTRY(kafka_op)	 entry;
	struct kafka		*k;
	char			*source;	/* the partitioner's key */
	sink_done_cb		 done;		/* NULL once cancelled */
	void			*arg;
	enum delivery		 result;
	char			*cause;
};
TAILQ_HEAD(kafka_ops, kafka_op);

struct kafka {
	const struct kafka_conf	*kc;
	const char		*id;
	rd_kafka_t		*rk;
	rd_kafka_queue_t	*mainq;
	int			 wake[2];
	struct event		*wakeup;	/* the pipe is readable */
	struct event		*tick;		/* poll once a second anyway */
	struct event		*finish;	/* run the `done`s */
	struct queue_dest	*topic;
	rd_kafka_topic_t	*known;		/* a fixed topic, held */
	struct kafka_ops	 inflight;
	struct kafka_ops	 finished;
	int			*gone;		/* set by free() in a done */
	int			 fatal_logged;
	int			 last_error;	/* logged; 0 after a delivery */
};

static int
kafka_own_property(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(kafka_own_properties); i++) {
		if (strcmp(kafka_own_properties[i], name) == 0)
			return (1);
	}
	return (strstr(name, "password") != NULL ||
	    strstr(name, "secret") != NULL || strstr(name, ".key") != NULL);
}

/* The key node of `name` in a map, for the error's position. */
static const struct cfg_node *
kafka_key_node(const struct cfg_node *map, const char *name)
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

/* librdkafka knows every property and accepts its value?  Pure. */
static int
kafka_check_properties(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct kafka_conf	*kc = sc->data;
	const struct cfg_node	*props;
	rd_kafka_conf_t		*conf;
	char			 err[256];
	size_t			 i;
	int			 n = 0;

	props = cfg_node_get(sc->spec, "properties");
	conf = rd_kafka_conf_new();
	for (i = 0; i < kc->properties.n; i++) {
		if (kafka_own_property(kc->properties.keys[i])) {
			cfg_error(errs, kafka_key_node(props,
			    kc->properties.keys[i]), "spec.properties of sink "
			    "\"%s\": \"%s\" is set by the sink itself or holds "
			    "a secret", sc->id, kc->properties.keys[i]);
			n++;
			continue;
		}
		if (rd_kafka_conf_set(conf, kc->properties.keys[i],
		    kc->properties.values[i], err, sizeof err) !=
		    RD_KAFKA_CONF_OK) {
			cfg_error(errs, kafka_key_node(props,
			    kc->properties.keys[i]), "spec.properties of sink "
			    "\"%s\": %s", sc->id, err);
			n++;
		}
	}
	rd_kafka_conf_destroy(conf);
	return (n);
}

/* Kafka topic names: [a-zA-Z0-9._-], 1 to 249 characters. */
static int
kafka_topic_ok(const char *t)
{
	size_t	 n = strspn(t, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	return (n > 0 && n <= 249 && t[n] == '\0' && strcmp(t, ".") != 0 &&
	    strcmp(t, "..") != 0);
}

static int
kafka_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct kafka_conf	*kc = sc->data;
	int			 n = 0;

	if (kc->brokers != NULL && (strstr(kc->brokers, "://") != NULL ||
	    strchr(kc->brokers, '@') != NULL || *kc->brokers == '\0')) {
		cfg_error(errs, cfg_node_get(sc->spec, "brokers"), "spec.brokers "
		    "of sink \"%s\" is a list of host:port, comma-separated, "
		    "without a scheme or credentials", sc->id);
		n++;
	}
	n += queue_dest_check(sc, "topic", errs);
	if (n == 0 && strstr(kc->topic, "<+") == NULL &&
	    !kafka_topic_ok(kc->topic)) {
		cfg_error(errs, cfg_node_get(sc->spec, "topic"), "spec.topic of "
		    "sink \"%s\" is not a Kafka topic name ([a-zA-Z0-9._-], at "
		    "most 249)", sc->id);
		n++;
	}
	if ((kc->user == NULL) != (kc->password_ref == NULL)) {
		cfg_error(errs, sc->spec, "spec.user and spec.passwordRef of "
		    "sink \"%s\" go together", sc->id);
		n++;
	}
	n += kafka_check_properties(sc, errs);
	return (n);
}

/* ---- delivery reports, on the loop during rd_kafka_poll() ---- */

/* Errors no retry can mend. */
static int
kafka_permanent(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_MSG:
	case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
		return (1);
	default:
		return (0);
	}
}

static void
kafka_report(rd_kafka_t *rk __unused, const rd_kafka_message_t *m,
    void *opaque)
{
	struct kafka	*k = opaque;
	struct kafka_op	*op = m->_private;

	if (op == NULL)
		return;
	TAILQ_REMOVE(&k->inflight, op, entry);
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		op->result = DELIVERY_OK;
		if (k->last_error != 0)
			log_info("kafka delivers again", "sink=%s",
			    log_q(k->id));
		k->last_error = 0;
	} else {
		op->result = kafka_permanent(m->err) ? DELIVERY_PERMANENT :
		    DELIVERY_RETRY;
		xasprintf(&op->cause, "kafka %s: %s", k->id,
		    rd_kafka_err2str(m->err));
	}
	TAILQ_INSERT_TAIL(&k->finished, op, entry);
}

static void
kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka	*k = opaque;
	char		 buf[256];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, buf, sizeof buf);
		if (!k->fatal_logged++)
			log_error("kafka producer failed for good; restart "
			    "the watcher", "sink=%s cause=%s", log_q(k->id),
			    log_q(buf));
		return;
	}
	/*
	 * Broker down and the like: librdkafka goes on trying, and says so
	 * every second; a new kind of error is logged once until an event
	 * gets through again.
	 */
	if (err == k->last_error)
		return;
	k->last_error = err;
	log_warn("kafka unavailable", "sink=%s error=%s cause=%s",
	    log_q(k->id), log_q(rd_kafka_err2name(err)), log_q(reason));
}

/* librdkafka's own log, served on the loop (log.queue). */
static void
kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	const struct kafka	*k = rd_kafka_opaque(rk);
	enum log_level		 l;

	l = level <= 3 ? LOG_WARN : level <= 5 ? LOG_INFO : LOG_DEBUG;
	log_write(l, "librdkafka", "sink=%s facility=%s text=%s",
	    log_q(k != NULL ? k->id : "?"), log_q(fac), log_q(buf));
}

static void
kafka_op_free(struct kafka_op *op)
{
	free(op->source);
	free(op->cause);
	free(op);
}

/* Run the finished ops' `done`s, one at a time. */
static void
kafka_finish(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct kafka	*k = arg;
	struct kafka_op	*op;
	int		 gone = 0;

	while ((op = TAILQ_FIRST(&k->finished)) != NULL) {
		TAILQ_REMOVE(&k->finished, op, entry);
		if (op->done != NULL) {
			k->gone = &gone;
			op->done(op->result, -1, op->cause, op->arg);
		}
		kafka_op_free(op);
		if (gone)
			return;
		k->gone = NULL;
	}
}

static void
kafka_poll(struct kafka *k)
{
	while (rd_kafka_poll(k->rk, 0) > 0)
		;
	if (!TAILQ_EMPTY(&k->finished))
		kafka_finish(-1, 0, k);
}

static void
kafka_wakeup(evutil_socket_t fd, short what __unused, void *arg)
{
	char	 drain[64];

	while (read(fd, drain, sizeof drain) > 0)
		;
	kafka_poll(arg);
}

static void
kafka_tick(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	kafka_poll(arg);
}

/* ---- partitioner, on any librdkafka thread ---- */

static int32_t
kafka_partition(const rd_kafka_topic_t *rkt, const void *key, size_t keylen,
    int32_t count, void *rkt_opaque, void *msg_opaque)
{
	const struct kafka_op	*op = msg_opaque;

	if (op == NULL || op->source == NULL)
		return (rd_kafka_msg_partitioner_murmur2(rkt, key, keylen,
		    count, rkt_opaque, NULL));
	return (rd_kafka_msg_partitioner_murmur2(rkt, op->source,
	    strlen(op->source), count, rkt_opaque, NULL));
}

/* ---- setting up ---- */

static int
kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value,
    struct kafka *k, char **cause)
{
	char	 err[256];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof err) ==
	    RD_KAFKA_CONF_OK)
		return (0);
	/* Never the value: it may be a password. */
	return (fail(cause, "kafka %s: %s: %s", k->id, name, err));
}

static int
kafka_credentials(struct kafka *k, const struct config *conf,
    rd_kafka_conf_t *kconf, char **cause)
{
	const struct kafka_conf	*kc = k->kc;
	const char		*proto;
	char			*secret, *why;
	int			 rc;

	if (kc->user != NULL)
		proto = kc->tls ? "sasl_ssl" : "sasl_plaintext";
	else
		proto = kc->tls ? "ssl" : "plaintext";
	if (kafka_set(kconf, "security.protocol", proto, k, cause) != 0)
		return (-1);
	if (kc->user == NULL)
		return (0);
	if (secret_resolve(conf, kc->password_ref, &secret, &why) != 0) {
		fail(cause, "kafka %s: passwordRef %s: %s", k->id,
		    kc->password_ref, why);
		free(why);
		return (-1);
	}
	rc = kafka_set(kconf, "sasl.mechanism", kafka_mechanisms[kc->mechanism],
	    k, cause);
	if (rc == 0)
		rc = kafka_set(kconf, "sasl.username", kc->user, k, cause);
	if (rc == 0)
		rc = kafka_set(kconf, "sasl.password", secret, k, cause);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	return (rc);
}

static rd_kafka_conf_t *
kafka_conf(struct kafka *k, const struct config *conf, char **cause)
{
	const struct kafka_conf	*kc = k->kc;
	rd_kafka_conf_t		*kconf;
	rd_kafka_topic_conf_t	*tconf;
	char			 timeout[32];
	size_t			 i;

	kconf = rd_kafka_conf_new();
	snprintf(timeout, sizeof timeout, "%lld", (long long)kc->timeout_ms);
	for (i = 0; i < kc->properties.n; i++) {
		if (kafka_set(kconf, kc->properties.keys[i],
		    kc->properties.values[i], k, cause) != 0)
			goto fail;
	}
	if (kafka_set(kconf, "bootstrap.servers", kc->brokers, k, cause) ||
	    kafka_set(kconf, "enable.idempotence", "true", k, cause) ||
	    kafka_set(kconf, "acks", "all", k, cause) ||
	    kafka_set(kconf, "message.timeout.ms", timeout, k, cause) ||
	    kafka_set(kconf, "client.id", AW_NAME, k, cause) ||
	    kafka_set(kconf, "log.queue", "true", k, cause) ||
	    kafka_credentials(k, conf, kconf, cause) != 0)
		goto fail;
	rd_kafka_conf_set_opaque(kconf, k);
	rd_kafka_conf_set_dr_msg_cb(kconf, kafka_report);
	rd_kafka_conf_set_error_cb(kconf, kafka_error);
	rd_kafka_conf_set_log_cb(kconf, kafka_log);
	/* acks and message.timeout.ms live there: add to it, not anew. */
	if ((tconf = rd_kafka_conf_get_default_topic_conf(kconf)) == NULL) {
		tconf = rd_kafka_topic_conf_new();
		rd_kafka_conf_set_default_topic_conf(kconf, tconf);
	}
	rd_kafka_topic_conf_set_partitioner_cb(tconf, kafka_partition);
	return (kconf);
fail:
	rd_kafka_conf_destroy(kconf);
	return (NULL);
}

/*
 * A fixed topic is made known to the producer now, so that it fetches the
 * topic's metadata (partitions, leaders) while idle: otherwise the first
 * event waits for that lookup, which librdkafka only starts on its next
 * topic scan, up to a second later.
 */
static void
kafka_know_topic(struct kafka *k)
{
	struct queue_event	 none = { 0 };
	char			*name;

	if (!queue_dest_fixed(k->topic))
		return;
	name = queue_dest_render(k->topic, &none);
	if (kafka_topic_ok(name))
		k->known = rd_kafka_topic_new(k->rk, name, NULL);
	free(name);
}

static int
kafka_init(struct sink *s, char **cause)
{
	struct kafka		*k;
	rd_kafka_conf_t		*kconf;
	struct timeval		 second = { 1, 0 };
	char			 err[512], *why;

	k = xcalloc(1, sizeof *k);
	k->kc = s->conf->data;
	k->id = s->conf->id;
	k->wake[0] = k->wake[1] = -1;
	TAILQ_INIT(&k->inflight);
	TAILQ_INIT(&k->finished);
	s->data = k;
	if ((k->topic = queue_dest_compile(k->kc->topic, &why)) == NULL) {
		fail(cause, "kafka %s: topic %s", k->id, why);
		free(why);
		return (-1);
	}
	if (pipe2(k->wake, O_NONBLOCK | O_CLOEXEC) == -1)
		return (fail(cause, "kafka %s: pipe: %s", k->id,
		    strerror(errno)));
	if ((kconf = kafka_conf(k, s->env->conf, cause)) == NULL)
		return (-1);
	/* rd_kafka_new() starts threads and connects later: no waiting. */
	if ((k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, err,
	    sizeof err)) == NULL) {
		rd_kafka_conf_destroy(kconf);
		return (fail(cause, "kafka %s: %s", k->id, err));
	}
	k->mainq = rd_kafka_queue_get_main(k->rk);
	rd_kafka_set_log_queue(k->rk, NULL);	/* to the main queue */
	rd_kafka_queue_io_event_enable(k->mainq, k->wake[1], "w", 1);
	k->wakeup = event_new(s->env->base, k->wake[0], EV_READ | EV_PERSIST,
	    kafka_wakeup, k);
	k->tick = event_new(s->env->base, -1, EV_PERSIST, kafka_tick, k);
	k->finish = event_new(s->env->base, -1, 0, kafka_finish, k);
	if (k->wakeup == NULL || k->tick == NULL || k->finish == NULL ||
	    event_add(k->wakeup, NULL) != 0 || event_add(k->tick, &second))
		fatalx("event_new failed");
	kafka_know_topic(k);
	return (0);
}

/* ---- delivering ---- */

static void
kafka_attr(const char *name, const char *value, void *arg)
{
	rd_kafka_headers_t	*h = arg;
	char			 key[128];

	if (strcmp(name, "datacontenttype") == 0)
		rd_kafka_header_add(h, "content-type", -1, value, -1);
	else {
		snprintf(key, sizeof key, "ce_%s", name);
		rd_kafka_header_add(h, key, -1, value, -1);
	}
}

/* "<sourceId>@<version>" (allocated); the id stands in for no version. */
static char *
kafka_key(const struct queue_event *ev, const struct outbox_entry *e)
{
	const cJSON	*data, *v;
	char		*key;

	data = ev->event != NULL ?
	    cJSON_GetObjectItemCaseSensitive(ev->event, "data") : NULL;
	v = cJSON_GetObjectItemCaseSensitive(data, "version");
	xasprintf(&key, "%s@%s", e->source, cJSON_IsString(v) ?
	    v->valuestring : e->id);
	return (key);
}

/* Produce; RD_KAFKA_RESP_ERR_NO_ERROR when librdkafka took it. */
static rd_kafka_resp_err_t
kafka_produce(struct kafka *k, struct kafka_op *op, const char *topic,
    const struct outbox_entry *e, const struct queue_event *ev)
{
	rd_kafka_headers_t	*h;
	rd_kafka_resp_err_t	 err;
	char			*key, *data = NULL;
	const char		*value;
	size_t			 len;

	h = rd_kafka_headers_new(12);
	rd_kafka_header_add(h, "Idempotency-Key", -1, e->id, -1);
	if (k->kc->mode == QUEUE_BINARY) {
		queue_attrs(ev, kafka_attr, h);
		data = queue_data(ev, &len);
		value = data;
	} else {
		rd_kafka_header_add(h, "content-type", -1,
		    QUEUE_STRUCTURED_TYPE, -1);
		value = ev->json;
		len = ev->json_len;
	}
	key = kafka_key(ev, e);
	err = rd_kafka_producev(k->rk,
	    RD_KAFKA_V_TOPIC(topic),
	    RD_KAFKA_V_KEY(key, strlen(key)),
	    RD_KAFKA_V_VALUE((void *)value, len),
	    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	    RD_KAFKA_V_HEADERS(h),
	    RD_KAFKA_V_OPAQUE(op),
	    RD_KAFKA_V_END);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_headers_destroy(h);	/* not taken over */
	free(key);
	free(data);
	return (err);
}

static void
kafka_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct kafka		*k = s->data;
	struct kafka_op		*op;
	struct queue_event	 ev;
	rd_kafka_resp_err_t	 err;
	char			*topic;

	op = xcalloc(1, sizeof *op);
	op->k = k;
	op->source = xstrdup(e->source);
	op->done = done;
	op->arg = arg;
	queue_event_parse(e, &ev);
	topic = queue_dest_render(k->topic, &ev);
	if (!kafka_topic_ok(topic)) {
		op->result = DELIVERY_PERMANENT;
		xasprintf(&op->cause, "kafka %s: topic \"%s\" is not a Kafka "
		    "topic name", k->id, topic);
		goto later;
	}
	TAILQ_INSERT_TAIL(&k->inflight, op, entry);
	err = kafka_produce(k, op, topic, e, &ev);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		goto out;
	TAILQ_REMOVE(&k->inflight, op, entry);
	op->result = kafka_permanent(err) ? DELIVERY_PERMANENT :
	    DELIVERY_RETRY;
	xasprintf(&op->cause, "kafka %s: produce: %s", k->id,
	    rd_kafka_err2str(err));
later:
	/* Never the done inside deliver(). */
	TAILQ_INSERT_TAIL(&k->finished, op, entry);
	event_active(k->finish, 0, 0);
out:
	free(topic);
	queue_event_free(&ev);
}

static void
kafka_cancel(struct sink *s)
{
	struct kafka	*k = s->data;
	struct kafka_op	*op;

	if (k == NULL)
		return;
	/* Their reports still come, and only free them. */
	TAILQ_FOREACH(op, &k->inflight, entry)
		op->done = NULL;
	TAILQ_FOREACH(op, &k->finished, entry)
		op->done = NULL;
}

static void
kafka_free(struct sink *s)
{
	struct kafka	*k = s->data;
	struct kafka_op	*op;

	if (k == NULL)
		return;
	if (k->gone != NULL)
		*k->gone = 1;
	kafka_cancel(s);
	if (k->rk != NULL) {
		/* What is queued is dropped; the outbox still has it. */
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE |
		    RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
		rd_kafka_queue_io_event_enable(k->mainq, -1, NULL, 0);
		while (rd_kafka_poll(k->rk, 0) > 0)
			;
		if (k->known != NULL)
			rd_kafka_topic_destroy(k->known);
		rd_kafka_queue_destroy(k->mainq);
		rd_kafka_destroy(k->rk);
	}
	while ((op = TAILQ_FIRST(&k->finished)) != NULL) {
		TAILQ_REMOVE(&k->finished, op, entry);
		kafka_op_free(op);
	}
	while ((op = TAILQ_FIRST(&k->inflight)) != NULL) {
		TAILQ_REMOVE(&k->inflight, op, entry);
		kafka_op_free(op);
	}
	if (k->wakeup != NULL)
		event_free(k->wakeup);
	if (k->tick != NULL)
		event_free(k->tick);
	if (k->finish != NULL)
		event_free(k->finish);
	if (k->wake[0] != -1) {
		close(k->wake[0]);
		close(k->wake[1]);
	}
	queue_dest_free(k->topic);
	free(k);
	s->data = NULL;
}

const struct sink_entry sink_kafka_entry = {
	.name = "Kafka",
	.keys = kafka_keys,
	.size = sizeof (struct kafka_conf),
	.check = kafka_check,
	.init = kafka_init,
	.deliver = kafka_deliver,
	.cancel = kafka_cancel,
	.free = kafka_free,
	.max_inflight = KAFKA_INFLIGHT,
};
