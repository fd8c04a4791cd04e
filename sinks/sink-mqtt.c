/*
 * sink-mqtt.c: the Mqtt sink (libmosquitto).  Each event is published to
 * `topic` (a template allowed) at QoS 1, delivered on the PUBACK, or QoS 2,
 * delivered on the PUBCOMP; a PUBACK or PUBREC with an error reason code
 * (MQTT 5) is a failure.  Structured mode sends the CloudEvent JSON; binary
 * mode, MQTT 5 only, sends the data with the CloudEvents attributes as user
 * properties (bare names) and datacontenttype as the Content Type property,
 * as the CloudEvents MQTT binding says.  MQTT 3.1.1 has no properties, so
 * there it is structured only (a config error otherwise).
 *
 * libmosquitto is driven from the event loop without its thread: its
 * socket is watched for reading, for writing while it has something to
 * send (mosquitto_want_write), and a timer calls mosquitto_loop_misc for
 * keepalives.  The client is created per connection and destroyed when the
 * connection ends, so that it never resends old messages by itself; every
 * delivery not yet acknowledged is then retried by the dispatcher, and the
 * next delivery connects again after a backoff.  Callbacks only record
 * what happened; the client is torn down outside them.
 *
 * Note: libmosquitto resolves the broker's name itself with getaddrinfo();
 * a numeric address or one in /etc/hosts never waits on DNS.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "broker.h"
#include "sink.h"
#include "queue.h"

#define MQTT_WINDOW		64
#define MQTT_KEEPALIVE		30
#define MQTT_MISC_MS		1000

enum mqtt_proto { MQTT_PROTO_5, MQTT_PROTO_311 };
static const char *const mqtt_proto_choices[] = { "5", "3.1.1", NULL };

struct mqtt_conf {
	char		*url;
	char		*topic;
	long long	 qos;
	char		*username_ref;
	char		*password_ref;
	char		*ca_cert_ref;
	char		*client_id;
	int		 mode;		/* enum queue_mode */
	int		 protocol;	/* enum mqtt_proto */
	int64_t		 timeout_ms;
};

static const struct cfg_key mqtt_keys[] = {
	{ .name = "url", .type = CFG_STRING,
	  .off = offsetof(struct mqtt_conf, url), .flags = CFG_REQUIRED },
	{ .name = "topic", .type = CFG_STRING,
	  .off = offsetof(struct mqtt_conf, topic), .flags = CFG_REQUIRED },
	{ .name = "qos", .type = CFG_INT,
	  .off = offsetof(struct mqtt_conf, qos), .def = "1",
	  .min = 1, .max = 2 },
	{ .name = "usernameRef", .type = CFG_SECRET,
	  .off = offsetof(struct mqtt_conf, username_ref) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = offsetof(struct mqtt_conf, password_ref) },
	{ .name = "caCertRef", .type = CFG_SECRET,
	  .off = offsetof(struct mqtt_conf, ca_cert_ref) },
	{ .name = "clientId", .type = CFG_STRING,
	  .off = offsetof(struct mqtt_conf, client_id) },
	{ .name = "contentMode", .type = CFG_ENUM,
	  .off = offsetof(struct mqtt_conf, mode), .def = "structured",
	  .choices = queue_mode_choices },
	{ .name = "protocol", .type = CFG_ENUM,
	  .off = offsetof(struct mqtt_conf, protocol), .def = "\"5\"",
	  .choices = mqtt_proto_choices },
	{ .name = "timeout", .type = CFG_DURATION,
	  .off = offsetof(struct mqtt_conf, timeout_ms), .def = "30s",
	  .min = 1, .max = 60 * 60 * 1000 },
	{ .name = NULL }
};

enum mqtt_state { MQTT_DOWN, MQTT_CONNECTING, MQTT_READY };

struct mqtt_msg {
	struct broker_msg	 b;		/* first: held by `br` */
	char			*id;
	char			*topic;
	char			*body;
	size_t			 body_len;
	mosquitto_property	*props;
	int			 mid;
	int			 sent;
};
#define MQTT_MSG(bm)	((struct mqtt_msg *)(bm))
#define MQTT_NEXT(m)	MQTT_MSG((m)->b.next)

struct mqtt_sink {
	const struct mqtt_conf	*mc;
	const char		*id;
	struct event_base	*base;
	struct queue_dest	*topic;
	char			*host;
	int			 port;
	int			 tls;
	char			*username;
	char			*password;
	char			*ca_file;	/* NULL: the system's CAs */
	int			 ca_temp;	/* ca_file is ours to unlink */
	char			*client_id;

	enum mqtt_state		 state;
	struct mosquitto	*mosq;
	struct event		*ev_read, *ev_write, *misc;
	struct event		*timer;		/* connect or ack timeout */
	char			*lost;		/* set by a callback: tear down */

	struct broker		 br;		/* the deliveries held */
};

static void	mqtt_pump(struct mqtt_sink *);

/* mqtt://host[:port] or mqtts://; [v6] hosts; no user, path or query. */
static int
mqtt_url_parse(const char *url, char **host, int *port, int *tls)
{
	const char	*p, *end;
	char		*ep;
	long		 n;

	if (strncmp(url, "mqtt://", 7) == 0) {
		*tls = 0;
		*port = 1883;
		p = url + 7;
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		*tls = 1;
		*port = 8883;
		p = url + 8;
	} else
		return (-1);
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			return (-1);
		*host = xstrndup(p + 1, (size_t)(end - p - 1));
		end++;
	} else {
		end = p + strcspn(p, ":/?#@");
		*host = xstrndup(p, (size_t)(end - p));
	}
	if (**host == '\0' || strchr(p, '@') != NULL)
		goto bad;
	if (*end == ':') {
		errno = 0;
		n = strtol(end + 1, &ep, 10);
		if (errno != 0 || ep == end + 1 || n < 1 || n > 65535)
			goto bad;
		*port = (int)n;
		end = ep;
	}
	if (*end == '/')
		end++;
	if (*end != '\0')
		goto bad;
	return (0);
bad:
	free(*host);
	*host = NULL;
	return (-1);
}

static int
mqtt_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct mqtt_conf	*mc = sc->data;
	char			*host = NULL;
	int			 port, tls, n = 0;

	if (mc->url != NULL && mqtt_url_parse(mc->url, &host, &port,
	    &tls) != 0) {
		cfg_error(errs, cfg_node_get(sc->spec, "url"), "spec.url of "
		    "sink \"%s\" must be mqtt://HOST[:PORT] or "
		    "mqtts://HOST[:PORT] (credentials go in usernameRef and "
		    "passwordRef)", sc->id);
		n++;
	}
	free(host);
	if (mc->mode == QUEUE_BINARY && mc->protocol == MQTT_PROTO_311) {
		cfg_error(errs, cfg_node_get(sc->spec, "contentMode"),
		    "spec.contentMode of sink \"%s\": binary needs MQTT 5 "
		    "(user properties); MQTT 3.1.1 is structured only",
		    sc->id);
		n++;
	}
	if (mc->password_ref != NULL && mc->username_ref == NULL) {
		cfg_error(errs, cfg_node_get(sc->spec, "passwordRef"),
		    "spec.passwordRef of sink \"%s\" needs usernameRef too",
		    sc->id);
		n++;
	}
	if (mc->ca_cert_ref != NULL && mc->url != NULL &&
	    strncmp(mc->url, "mqtts://", 8) != 0) {
		cfg_error(errs, cfg_node_get(sc->spec, "caCertRef"),
		    "spec.caCertRef of sink \"%s\" needs an mqtts:// url",
		    sc->id);
		n++;
	}
	n += queue_dest_check(sc, "topic", errs);
	return (n);
}

static int
mqtt_secret(struct sink *s, const char *ref, const char *key, char **value,
    char **cause)
{
	char	*why;

	if (ref == NULL)
		return (0);
	if (secret_resolve(s->env->conf, ref, value, &why) != 0) {
		fail(cause, "mqtt %s: %s %s: %s", s->conf->id, key, ref, why);
		free(why);
		return (-1);
	}
	return (0);
}

/*
 * libmosquitto reads the CA from a file: a file: secret is used where it
 * is, another is written to a private temporary file.
 */
static int
mqtt_ca(struct sink *s, struct mqtt_sink *ms, char **cause)
{
	const struct config	*conf = s->env->conf;
	const char		*ref = ms->mc->ca_cert_ref, *dir;
	char			*pem = NULL;
	size_t			 i, len;
	int			 fd;

	if (ref == NULL)
		return (0);
	for (i = 0; i < conf->nsecrets; i++) {
		if (strcmp(conf->secrets[i].name, ref) == 0 &&
		    strncmp(conf->secrets[i].ref, "file:", 5) == 0) {
			ms->ca_file = xstrdup(conf->secrets[i].ref + 5);
			return (0);
		}
	}
	if (mqtt_secret(s, ref, "caCertRef", &pem, cause) != 0)
		return (-1);
	if ((dir = getenv("TMPDIR")) == NULL)
		dir = "/tmp";
	xasprintf(&ms->ca_file, "%s/aw-mqtt-ca-XXXXXX", dir);
	len = strlen(pem);
	if ((fd = mkstemp(ms->ca_file)) == -1 ||
	    write(fd, pem, len) != (ssize_t)len) {
		if (fd != -1) {
			close(fd);
			unlink(ms->ca_file);
		}
		free(pem);
		return (fail(cause, "mqtt %s: cannot write the CA to a "
		    "temporary file: %s", ms->id, strerror(errno)));
	}
	close(fd);
	ms->ca_temp = 1;
	free(pem);
	return (0);
}

static void	mqtt_timeout(evutil_socket_t, short, void *);
static void	mqtt_connect_later(void *);
static void	mqtt_msg_free(struct broker_msg *);
static void	mqtt_misc(evutil_socket_t, short, void *);

static int
mqtt_init(struct sink *s, char **cause)
{
	struct mqtt_sink	*ms;
	char			*why;

	mosquitto_lib_init();
	ms = xcalloc(1, sizeof *ms);
	ms->mc = s->conf->data;
	ms->id = s->conf->id;
	ms->base = s->env->base;
	s->data = ms;
	if ((ms->topic = queue_dest_compile(ms->mc->topic, &why)) == NULL) {
		fail(cause, "mqtt %s: %s", ms->id, why);
		free(why);
		return (-1);
	}
	if (mqtt_url_parse(ms->mc->url, &ms->host, &ms->port, &ms->tls) != 0)
		return (fail(cause, "mqtt %s: bad url", ms->id));
	if (mqtt_secret(s, ms->mc->username_ref, "usernameRef",
	    &ms->username, cause) != 0 ||
	    mqtt_secret(s, ms->mc->password_ref, "passwordRef",
	    &ms->password, cause) != 0 || mqtt_ca(s, ms, cause) != 0)
		return (-1);
	if (ms->mc->client_id != NULL)
		ms->client_id = xstrdup(ms->mc->client_id);
	else
		xasprintf(&ms->client_id, "aw-%s-%08x", ms->id, random32());
	ms->timer = evtimer_new(ms->base, mqtt_timeout, ms);
	ms->misc = event_new(ms->base, -1, EV_PERSIST, mqtt_misc, ms);
	broker_init(&ms->br, ms->base, mqtt_msg_free, mqtt_connect_later, ms);
	if (ms->timer == NULL || ms->misc == NULL)
		fatalx("event_new failed");
	return (0);
}

static void
mqtt_msg_free(struct broker_msg *bm)
{
	struct mqtt_msg	*m = MQTT_MSG(bm);

	free(m->id);
	free(m->topic);
	free(m->body);
	mosquitto_property_free_all(&m->props);
	broker_msg_clear(bm);
	free(m);
}

static void
mqtt_finish(struct mqtt_sink *ms, struct mqtt_msg *m, enum delivery result,
    const char *cause)
{
	broker_finish(&ms->br, &m->b, result, cause);
}

static void
mqtt_arm(struct mqtt_sink *ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms->mc->timeout_ms / 1000;
	tv.tv_usec = (ms->mc->timeout_ms % 1000) * 1000;
	evtimer_add(ms->timer, &tv);
}

static void
mqtt_close(struct mqtt_sink *ms)
{
	if (ms->ev_read != NULL)
		event_free(ms->ev_read);
	if (ms->ev_write != NULL)
		event_free(ms->ev_write);
	ms->ev_read = ms->ev_write = NULL;
	event_del(ms->misc);
	evtimer_del(ms->timer);
	if (ms->state == MQTT_READY)
		(void)mosquitto_disconnect(ms->mosq);	/* best effort */
	if (ms->mosq != NULL)
		mosquitto_destroy(ms->mosq);	/* closes the socket */
	ms->mosq = NULL;
	ms->state = MQTT_DOWN;
	free(ms->lost);
	ms->lost = NULL;
}

/* The connection is over: retry everything not yet acknowledged. */
static void
mqtt_drop(struct mqtt_sink *ms, const char *cause)
{
	char	*full;

	xasprintf(&full, "mqtt %s: %s", ms->id, cause);
	if (broker_lost(&ms->br, ms->state == MQTT_READY, full))
		log_warn("mqtt: connection lost", "sink=%s host=%s error=%s",
		    log_q(ms->id), log_q(ms->host), log_q(cause));
	free(full);
	mqtt_close(ms);
}

/* After a libmosquitto call: tear down if a callback said so, else write. */
static void
mqtt_after(struct mqtt_sink *ms, int rc)
{
	char	*cause;

	if (ms->mosq == NULL)
		return;
	if (ms->lost != NULL) {
		cause = ms->lost;
		ms->lost = NULL;
		mqtt_drop(ms, cause);
		free(cause);
		return;
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		mqtt_drop(ms, rc == MOSQ_ERR_CONN_LOST ? "the broker closed "
		    "the connection" : rc == MOSQ_ERR_ERRNO ? strerror(errno) :
		    mosquitto_strerror(rc));
		return;
	}
	if (mosquitto_want_write(ms->mosq))
		event_add(ms->ev_write, NULL);
}

static void
mqtt_readable(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct mqtt_sink	*ms = arg;

	mqtt_after(ms, mosquitto_loop_read(ms->mosq, 1));
	if (ms->mosq != NULL)
		mqtt_pump(ms);
}

static void
mqtt_writable(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct mqtt_sink	*ms = arg;

	mqtt_after(ms, mosquitto_loop_write(ms->mosq, 1));
}

static void
mqtt_misc(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct mqtt_sink	*ms = arg;

	mqtt_after(ms, mosquitto_loop_misc(ms->mosq));
}

static void
mqtt_timeout(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct mqtt_sink	*ms = arg;

	mqtt_drop(ms, ms->state == MQTT_READY ? "no acknowledgement within "
	    "the timeout" : "connecting timed out");
}

static void
mqtt_on_connect(struct mosquitto *mosq __unused, void *arg, int rc,
    int flags __unused, const mosquitto_property *props __unused)
{
	struct mqtt_sink	*ms = arg;

	if (rc != 0) {
		free(ms->lost);
		if (rc == MQTT_RC_BAD_USERNAME_OR_PASSWORD ||
		    rc == MQTT_RC_NOT_AUTHORIZED || rc == 4 || rc == 5)
			xasprintf(&ms->lost, "credentials refused by the "
			    "broker (%s)", ms->mc->protocol == MQTT_PROTO_5 ?
			    mosquitto_reason_string(rc) :
			    mosquitto_connack_string(rc));
		else
			xasprintf(&ms->lost, "connection refused by the "
			    "broker (%s)", ms->mc->protocol == MQTT_PROTO_5 ?
			    mosquitto_reason_string(rc) :
			    mosquitto_connack_string(rc));
		return;
	}
	ms->state = MQTT_READY;
	broker_ready(&ms->br);
	evtimer_del(ms->timer);
	log_info("mqtt: connected", "sink=%s host=%s port=%d",
	    log_q(ms->id), log_q(ms->host), ms->port);
}

static void
mqtt_on_disconnect(struct mosquitto *mosq __unused, void *arg, int rc,
    const mosquitto_property *props __unused)
{
	struct mqtt_sink	*ms = arg;

	if (ms->lost == NULL)
		xasprintf(&ms->lost, "disconnected (%s)",
		    ms->mc->protocol == MQTT_PROTO_5 && rc > 0 && rc < 256 ?
		    mosquitto_reason_string(rc) : mosquitto_strerror(rc));
}

/* The last outstanding publish is acknowledged: disarm or re-arm. */
static void
mqtt_rearm(struct mqtt_sink *ms)
{
	struct mqtt_msg	*m;

	for (m = MQTT_MSG(ms->br.msgs); m != NULL; m = MQTT_NEXT(m)) {
		if (!m->b.finished && m->sent)
			break;
	}
	if (m == NULL)
		evtimer_del(ms->timer);
	else
		mqtt_arm(ms);
}

/* PUBACK (QoS 1) or PUBCOMP (QoS 2), or a PUBACK/PUBREC with an error. */
static void
mqtt_on_publish(struct mosquitto *mosq __unused, void *arg, int mid,
    int reason, const mosquitto_property *props __unused)
{
	struct mqtt_sink	*ms = arg;
	struct mqtt_msg		*m;
	char			*cause;

	for (m = MQTT_MSG(ms->br.msgs); m != NULL; m = MQTT_NEXT(m)) {
		if (m->sent && !m->b.finished && m->mid == mid)
			break;
	}
	if (m == NULL)
		return;
	if (reason >= 0x80) {
		xasprintf(&cause, "mqtt %s: the broker refused the message "
		    "(%s)", ms->id, mosquitto_reason_string(reason));
		/* Quota, rate or server trouble may pass; the rest won't. */
		mqtt_finish(ms, m, reason == MQTT_RC_QUOTA_EXCEEDED ||
		    reason == MQTT_RC_UNSPECIFIED ||
		    reason == MQTT_RC_IMPLEMENTATION_SPECIFIC ||
		    reason == MQTT_RC_SERVER_BUSY ?
		    DELIVERY_RETRY : DELIVERY_PERMANENT, cause);
		free(cause);
	} else
		mqtt_finish(ms, m, DELIVERY_OK, NULL);
	mqtt_rearm(ms);
}

/* Publish what is queued, in order. */
static void
mqtt_pump(struct mqtt_sink *ms)
{
	struct mqtt_msg	*m;
	char		*cause;
	int		 rc, armed = 0;

	if (ms->state != MQTT_READY)
		return;
	for (m = MQTT_MSG(ms->br.msgs); m != NULL; m = MQTT_NEXT(m)) {
		armed |= m->sent && !m->b.finished;
		if (m->sent || m->b.finished)
			continue;
		if (*m->topic == '\0') {
			xasprintf(&cause, "mqtt %s: the topic template gave an "
			    "empty topic", ms->id);
			mqtt_finish(ms, m, DELIVERY_PERMANENT, cause);
			free(cause);
			continue;
		}
		rc = mosquitto_publish_v5(ms->mosq, &m->mid, m->topic,
		    (int)m->body_len, m->body, (int)ms->mc->qos, false,
		    m->props);
		if (rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_PAYLOAD_SIZE ||
		    rc == MOSQ_ERR_MALFORMED_UTF8 ||
		    rc == MOSQ_ERR_OVERSIZE_PACKET) {
			xasprintf(&cause, "mqtt %s: cannot publish to \"%s\": "
			    "%s", ms->id, m->topic, mosquitto_strerror(rc));
			mqtt_finish(ms, m, DELIVERY_PERMANENT, cause);
			free(cause);
			continue;
		}
		if (rc != MOSQ_ERR_SUCCESS) {
			mqtt_after(ms, rc);
			return;
		}
		m->sent = 1;
		if (!armed)
			mqtt_arm(ms);
		armed = 1;
	}
	mqtt_after(ms, MOSQ_ERR_SUCCESS);
}

static void
mqtt_connect(struct mqtt_sink *ms)
{
	struct timeval	 tv = { MQTT_MISC_MS / 1000, 0 };
	char		*cause;
	int		 rc, fd;

	ms->mosq = mosquitto_new(ms->client_id, true, ms);
	if (ms->mosq == NULL)
		fatal("mosquitto_new");
	mosquitto_int_option(ms->mosq, MOSQ_OPT_PROTOCOL_VERSION,
	    ms->mc->protocol == MQTT_PROTO_5 ? MQTT_PROTOCOL_V5 :
	    MQTT_PROTOCOL_V311);
	mosquitto_connect_v5_callback_set(ms->mosq, mqtt_on_connect);
	mosquitto_disconnect_v5_callback_set(ms->mosq, mqtt_on_disconnect);
	mosquitto_publish_v5_callback_set(ms->mosq, mqtt_on_publish);
	if (ms->username != NULL)
		mosquitto_username_pw_set(ms->mosq, ms->username,
		    ms->password);
	if (ms->tls) {
		if (ms->ca_file != NULL)
			rc = mosquitto_tls_set(ms->mosq, ms->ca_file, NULL,
			    NULL, NULL, NULL);
		else
			rc = mosquitto_int_option(ms->mosq,
			    MOSQ_OPT_TLS_USE_OS_CERTS, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			goto fail;
	}
	ms->state = MQTT_CONNECTING;
	mqtt_arm(ms);
	rc = mosquitto_connect_async(ms->mosq, ms->host, ms->port,
	    MQTT_KEEPALIVE);
	if (rc != MOSQ_ERR_SUCCESS)
		goto fail;
	fd = mosquitto_socket(ms->mosq);
	ms->ev_read = event_new(ms->base, fd, EV_READ | EV_PERSIST,
	    mqtt_readable, ms);
	ms->ev_write = event_new(ms->base, fd, EV_WRITE, mqtt_writable, ms);
	if (ms->ev_read == NULL || ms->ev_write == NULL)
		fatalx("event_new failed");
	event_add(ms->ev_read, NULL);
	event_add(ms->misc, &tv);
	mqtt_after(ms, MOSQ_ERR_SUCCESS);
	return;
fail:
	xasprintf(&cause, "cannot connect to %s:%d: %s", ms->host, ms->port,
	    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	mqtt_drop(ms, cause);
	free(cause);
}

static void
mqtt_wake(struct mqtt_sink *ms)
{
	if (ms->state != MQTT_DOWN) {
		mqtt_pump(ms);
		return;
	}
	broker_wake(&ms->br);
}

/* The backoff after a lost connection is over (broker_wake()). */
static void
mqtt_connect_later(void *arg)
{
	struct mqtt_sink	*ms = arg;

	if (ms->state == MQTT_DOWN)
		mqtt_connect(ms);
}

static void
mqtt_attr(const char *name, const char *value, void *arg)
{
	struct mqtt_msg	*m = arg;

	if (strcmp(name, "datacontenttype") != 0)
		mosquitto_property_add_string_pair(&m->props,
		    MQTT_PROP_USER_PROPERTY, name, value);
}

static void
mqtt_build(struct mqtt_sink *ms, struct mqtt_msg *m,
    const struct outbox_entry *e)
{
	struct queue_event	 ev;
	char			*ct;

	queue_event_parse(e, &ev);
	m->id = xstrdup(ev.id != NULL ? ev.id : "");
	m->topic = queue_dest_render(ms->topic, &ev);
	if (ms->mc->mode == QUEUE_BINARY) {
		m->body = queue_data(&ev, &m->body_len);
		queue_attrs(&ev, mqtt_attr, m);
		if ((ct = queue_attr(&ev, "datacontenttype")) == NULL)
			ct = xstrdup("application/json");
		mosquitto_property_add_string(&m->props,
		    MQTT_PROP_CONTENT_TYPE, ct);
		free(ct);
	} else {
		m->body_len = ev.json_len;
		m->body = xmalloc(ev.json_len + 1);
		memcpy(m->body, ev.json, ev.json_len);
		m->body[ev.json_len] = '\0';
		if (ms->mc->protocol == MQTT_PROTO_5)
			mosquitto_property_add_string(&m->props,
			    MQTT_PROP_CONTENT_TYPE, QUEUE_STRUCTURED_TYPE);
	}
	queue_event_free(&ev);
}

static void
mqtt_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct mqtt_sink	*ms = s->data;
	struct mqtt_msg		*m;

	m = xcalloc(1, sizeof *m);
	mqtt_build(ms, m, e);
	broker_hold(&ms->br, &m->b, done, arg);
	mqtt_wake(ms);
}

static void
mqtt_cancel(struct sink *s)
{
	struct mqtt_sink	*ms = s->data;
	struct mqtt_msg		*m;
	int			 sent = 0;

	if (ms == NULL)
		return;
	for (m = MQTT_MSG(ms->br.msgs); m != NULL; m = MQTT_NEXT(m))
		sent |= m->sent && !m->b.finished;
	broker_cancel(&ms->br);
	/* The client would still resend them: start afresh. */
	if (sent)
		mqtt_close(ms);
}

static void
mqtt_free(struct sink *s)
{
	struct mqtt_sink	*ms = s->data;

	if (ms == NULL)
		return;
	mqtt_cancel(s);
	mqtt_close(ms);
	if (ms->timer != NULL)
		event_free(ms->timer);
	broker_free(&ms->br);
	if (ms->misc != NULL)
		event_free(ms->misc);
	queue_dest_free(ms->topic);
	if (ms->ca_temp)
		unlink(ms->ca_file);
	free(ms->ca_file);
	free(ms->host);
	free(ms->client_id);
	free(ms->username);
	if (ms->password != NULL) {
		explicit_bzero(ms->password, strlen(ms->password));
		free(ms->password);
	}
	free(ms);
	s->data = NULL;
}

const struct sink_entry sink_mqtt_entry = {
	.name = "Mqtt",
	.keys = mqtt_keys,
	.size = sizeof (struct mqtt_conf),
	.check = mqtt_check,
	.init = mqtt_init,
	.deliver = mqtt_deliver,
	.cancel = mqtt_cancel,
	.free = mqtt_free,
	.max_inflight = MQTT_WINDOW,
};
