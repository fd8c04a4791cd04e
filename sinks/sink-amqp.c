/*
 * sink-amqp.c: the Amqp sink (RabbitMQ, AMQP 0-9-1, librabbitmq).  Each
 * event is published to `exchange` with `routingKey` (a template allowed)
 * as a persistent message (delivery_mode 2) whose message_id is the event
 * id, with `mandatory` set and the channel in confirm mode: basic.ack
 * delivers it, basic.nack retries it, and a basic.return (no queue took it)
 * makes it a failure instead of a silent drop.  Structured mode sends the
 * CloudEvent JSON; binary mode the data, with the attributes in the headers
 * table as `cloudEvents_<name>` (or `cloudEvents:<name>`, the binding's
 * older prefix) and datacontenttype as the content_type property.
 *
 * librabbitmq's calls are synchronous, so this file drives the protocol
 * itself on the event loop: the name is resolved with evdns, the TCP
 * connect is non-blocking, the socket is handed to librabbitmq
 * (amqp_tcp_socket_set_sockfd), the handshake (start, tune, open, channel,
 * confirm.select) is a small state machine fed by
 * amqp_simple_wait_frame_noblock() with a zero timeout whenever the socket
 * is readable, and a publish is only written when the socket's send buffer
 * has room for it, so no write can wait.  Heartbeats are off; a confirm
 * that does not come within `timeout` drops the connection instead.
 *
 * amqps:// (TLS, port 5671 by default) goes through amqp-tls.c: the TCP
 * connect is the same, then librabbitmq gets one end of a socket pair and
 * a TLS relay on the loop carries it to the broker.  librabbitmq's own SSL
 * socket is not used: amqp_socket_open() on it resolves the name with
 * getaddrinfo(), connects and completes the TLS handshake itself, polling
 * until its deadline, and there is no call to give it a connected socket
 * or to resume its handshake; on the loop that would stall every source
 * and sink for up to `timeout` at each reconnection to a broker that does
 * not answer.  The TLS keys are those of the Webhook sink: caCertRef (else
 * the system's CAs), clientCertRef and clientKeyRef, insecureSkipVerify;
 * the certificate must match the URL's host (name or address).
 *
 * The connection is opened on the first delivery and kept.  When it fails
 * or closes, every outstanding delivery is retried (the dispatcher's
 * backoff paces the reconnections) and the next delivery connects again.
 * Up to max_inflight publishes wait for their confirms at once.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "amqp-tls.h"
#include "broker.h"
#include "http.h"
#include "sink.h"
#include "queue.h"

#define AMQP_WINDOW		64
#define AMQP_FRAME_MAX		131072
#define AMQP_CHANNEL		1

enum amqp_prefix { AMQP_PREFIX_UNDERSCORE, AMQP_PREFIX_COLON };
static const char *const amqp_prefix_choices[] = {
	"cloudEvents_", "cloudEvents:", NULL
};

struct amqp_conf {
	char		*url;
	char		*url_ref;
	char		*password_ref;
	char		*exchange;
	char		*routing_key;
	int		 mode;		/* enum queue_mode */
	int		 prefix;	/* enum amqp_prefix */
	int64_t		 timeout_ms;
	struct tls_conf	 tls;		/* amqps:// only */
};

static const struct cfg_key amqp_keys[] = {
	{ .name = "url", .type = CFG_STRING,
	  .off = offsetof(struct amqp_conf, url) },
	{ .name = "urlRef", .type = CFG_SECRET,
	  .off = offsetof(struct amqp_conf, url_ref) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = offsetof(struct amqp_conf, password_ref) },
	{ .name = "exchange", .type = CFG_STRING,
	  .off = offsetof(struct amqp_conf, exchange) },
	{ .name = "routingKey", .type = CFG_STRING,
	  .off = offsetof(struct amqp_conf, routing_key) },
	/* QUEUE_MODE_KEY's parameter `type` clashes with .type: spelt out. */
	{ .name = "contentMode", .type = CFG_ENUM,
	  .off = offsetof(struct amqp_conf, mode), .def = "structured",
	  .choices = queue_mode_choices },
	{ .name = "headerPrefix", .type = CFG_ENUM,
	  .off = offsetof(struct amqp_conf, prefix), .def = "cloudEvents_",
	  .choices = amqp_prefix_choices },
	{ .name = "timeout", .type = CFG_DURATION,
	  .off = offsetof(struct amqp_conf, timeout_ms), .def = "30s",
	  .min = 1, .max = 60 * 60 * 1000 },
	CFG_TLS_KEYS(struct amqp_conf, tls),
	{ .name = NULL }
};

enum amqp_state {
	AMQP_DOWN,		/* no connection */
	AMQP_RESOLVING,
	AMQP_CONNECTING,	/* TCP connect in progress */
	AMQP_HANDSHAKE,		/* waiting for `expect` */
	AMQP_READY,
};

/* One delivery: queued, then published under `tag`, then answered. */
struct amqp_msg {
	struct broker_msg	 b;		/* first: held by `br` */
	char			*id;
	char			*routing_key;
	amqp_basic_properties_t	 props;
	amqp_table_entry_t	*headers;
	size_t			 nheaders;
	char			*content_type;
	char			*body;
	size_t			 body_len;
	uint64_t		 tag;		/* 0: not published yet */
	char			*returned;	/* basic.return's reason */
};
#define AMQP_MSG(bm)	((struct amqp_msg *)(bm))
#define AMQP_NEXT(m)	AMQP_MSG((m)->b.next)

struct amqp_sink {
	const struct amqp_conf	*ac;
	const char		*id;
	struct event_base	*base;
	struct evdns_base	*dns;
	const char		*exchange;
	struct queue_dest	*rk;

	/* From the URL and the secrets. */
	int			 tls;		/* amqps:// */
	void			*tls_ctx;	/* SSL_CTX */
	struct amqp_tls		*relay;		/* TLS, when connected */
	char			*host;
	int			 port;
	char			*vhost;
	char			*user;
	char			*password;

	enum amqp_state		 state;
	amqp_connection_state_t	 conn;
	int			 fd;
	struct evdns_getaddrinfo_request *dns_req;
	struct event		*ev_io;		/* readable (persist) */
	struct event		*ev_write;	/* connect done, or room */
	struct event		*timer;		/* handshake or confirm */
	int			 expect;	/* handshake: method id */
	int			 blocked;	/* connection.blocked */
	int			 closing;	/* the broker closed it */
	char			*returned;	/* basic.return awaiting header */
	uint64_t		 next_tag;

	struct broker		 br;		/* the deliveries held */
};

static void	amqp_pump(struct amqp_sink *);
static void	amqp_drop(struct amqp_sink *, const char *cause);
static void	amqp_timeout(evutil_socket_t, short, void *);
static void	amqp_connect_later(void *);
static void	amqp_msg_free(struct broker_msg *);
static int	amqp_room(struct amqp_sink *, size_t);

static int
amqp_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct amqp_conf	*ac = sc->data;
	static const char *const schemes[] = { "amqp://", "amqps://", NULL };
	const struct tls_conf	*t = &ac->tls;
	char			*what;
	int			 n = 0;

	if ((ac->url == NULL) == (ac->url_ref == NULL)) {
		cfg_error(errs, sc->spec != NULL ? sc->spec : sc->node,
		    "sink \"%s\" needs spec.url or spec.urlRef (one of them)",
		    sc->id);
		n++;
	}
	if (ac->url_ref != NULL && ac->password_ref != NULL) {
		cfg_error(errs, cfg_node_get(sc->spec, "passwordRef"),
		    "spec.passwordRef of sink \"%s\": the password goes in "
		    "the urlRef secret's URL", sc->id);
		n++;
	}
	n += queue_url_check(sc, "url", ac->url, schemes, errs);
	n += queue_dest_check(sc, "routingKey", errs);
	xasprintf(&what, "sink \"%s\"", sc->id);
	n += config_tls_check(t, sc->spec, what, errs);
	free(what);
	if (t->proxy_url != NULL) {
		cfg_error(errs, cfg_node_get(sc->spec, "proxyUrl"),
		    "spec.proxyUrl of sink \"%s\": the Amqp sink connects "
		    "directly (no proxy)", sc->id);
		n++;
	}
	if ((t->ca_cert_ref != NULL || t->client_cert_ref != NULL ||
	    t->insecure) && ac->url != NULL &&
	    strncmp(ac->url, "amqps://", 8) != 0) {
		cfg_error(errs, cfg_node_get(sc->spec, t->ca_cert_ref != NULL ?
		    "caCertRef" : t->client_cert_ref != NULL ? "clientCertRef" :
		    "insecureSkipVerify"), "the TLS keys of sink \"%s\" need "
		    "an amqps:// url", sc->id);
		n++;
	}
	return (n);
}

/* Host, port, vhost and user from the URL; the password from its ref. */
static int
amqp_parse(struct amqp_sink *as, const char *url, int from_secret,
    char **cause)
{
	struct amqp_connection_info	 ci;
	char				*copy = xstrdup(url);

	if ((strncmp(url, "amqp://", 7) != 0 &&
	    strncmp(url, "amqps://", 8) != 0) || amqp_parse_url(copy, &ci) !=
	    AMQP_STATUS_OK) {
		free(copy);
		return (fail(cause, "amqp %s: %s is not an amqp:// or amqps:// "
		    "URL", as->id, from_secret ? "the urlRef secret" : "url"));
	}
	as->tls = ci.ssl;
	as->host = xstrdup(ci.host);
	as->port = ci.port;
	as->vhost = xstrdup(ci.vhost);
	as->user = xstrdup(ci.user);
	as->password = xstrdup(ci.password);
	explicit_bzero(copy, strlen(copy));
	free(copy);
	return (0);
}

/* The TLS context of an amqps:// sink, from its keys. */
static int
amqp_tls_setup(struct sink *s, struct amqp_sink *as, char **cause)
{
	struct http_tls	 pems;
	char		*why;

	if (http_tls_load(s->env->conf, &as->ac->tls, &pems, &why) == 0) {
		as->tls_ctx = amqp_tls_ctx(&pems, &why);
		http_tls_clear(&pems);
		if (as->tls_ctx != NULL)
			return (0);
	}
	fail(cause, "amqp %s: %s", as->id, why);
	free(why);
	return (-1);
}

static int
amqp_init(struct sink *s, char **cause)
{
	struct amqp_sink	*as;
	const struct amqp_conf	*ac = s->conf->data;
	char			*url = NULL, *why, *pw;
	int			 rc;

	as = xcalloc(1, sizeof *as);
	as->ac = ac;
	as->id = s->conf->id;
	as->base = s->env->base;
	as->fd = -1;
	s->data = as;
	/* No exchange: the default one; no routing key: "" (fanout). */
	as->exchange = ac->exchange != NULL ? ac->exchange : "";
	if ((as->rk = queue_dest_compile(ac->routing_key != NULL ?
	    ac->routing_key : "", &why)) == NULL)
		goto why;
	if (ac->url_ref != NULL) {
		if (secret_resolve(s->env->conf, ac->url_ref, &url, &why) != 0)
			goto why;
		rc = amqp_parse(as, url, 1, cause);
		explicit_bzero(url, strlen(url));
		free(url);
	} else
		rc = amqp_parse(as, ac->url, 0, cause);
	if (rc != 0 || (as->tls && amqp_tls_setup(s, as, cause) != 0))
		return (-1);
	if (ac->password_ref != NULL) {
		if (secret_resolve(s->env->conf, ac->password_ref, &pw,
		    &why) != 0)
			goto why;
		explicit_bzero(as->password, strlen(as->password));
		free(as->password);
		as->password = pw;
	}
	as->dns = evdns_base_new(as->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	as->timer = evtimer_new(as->base, amqp_timeout, as);
	broker_init(&as->br, as->base, amqp_msg_free, amqp_connect_later, as);
	if (as->dns == NULL || as->timer == NULL)
		return (fail(cause, "amqp %s: cannot set up the resolver",
		    as->id));
	return (0);
why:
	fail(cause, "amqp %s: %s", as->id, why);
	free(why);
	return (-1);
}

static void
amqp_msg_free(struct broker_msg *bm)
{
	struct amqp_msg	*m = AMQP_MSG(bm);
	size_t		 i;

	for (i = 0; i < m->nheaders; i++) {
		free(m->headers[i].key.bytes);
		free(m->headers[i].value.value.bytes.bytes);
	}
	free(m->headers);
	free(m->id);
	free(m->routing_key);
	free(m->content_type);
	free(m->body);
	free(m->returned);
	broker_msg_clear(bm);
	free(m);
}

static void
amqp_finish(struct amqp_sink *as, struct amqp_msg *m, enum delivery result,
    const char *cause)
{
	broker_finish(&as->br, &m->b, result, cause);
}

/* Close the socket and forget the connection; deliveries stay queued. */
static void
amqp_close(struct amqp_sink *as)
{
	amqp_connection_close_t	 close_m;

	if (as->dns_req != NULL) {
		evdns_getaddrinfo_cancel(as->dns_req);
		as->dns_req = NULL;
	}
	if (as->ev_io != NULL)
		event_free(as->ev_io);
	if (as->ev_write != NULL)
		event_free(as->ev_write);
	as->ev_io = as->ev_write = NULL;
	evtimer_del(as->timer);
	if (as->state == AMQP_READY && !as->closing && amqp_room(as, 512)) {
		/* Say goodbye without waiting for close-ok: one small frame. */
		close_m.reply_code = AMQP_REPLY_SUCCESS;
		close_m.reply_text = amqp_cstring_bytes("bye");
		close_m.class_id = close_m.method_id = 0;
		(void)amqp_send_method(as->conn, 0,
		    AMQP_CONNECTION_CLOSE_METHOD, &close_m);
	}
	if (as->conn != NULL)
		amqp_destroy_connection(as->conn);	/* closes the fd */
	else if (as->fd != -1)
		close(as->fd);
	amqp_tls_free(as->relay);
	as->relay = NULL;
	as->conn = NULL;
	as->fd = -1;
	as->state = AMQP_DOWN;
	as->blocked = 0;
	as->closing = 0;
	free(as->returned);
	as->returned = NULL;
}

/* The connection is gone: every delivery not yet answered is retried. */
static void
amqp_drop(struct amqp_sink *as, const char *cause)
{
	char	*full;

	xasprintf(&full, "amqp %s: %s", as->id, cause);
	if (broker_lost(&as->br, as->state == AMQP_READY, full))
		log_warn("amqp: connection lost", "sink=%s host=%s error=%s",
		    log_q(as->id), log_q(as->host), log_q(cause));
	free(full);
	amqp_close(as);
}

static void
amqp_arm(struct amqp_sink *as)
{
	struct timeval	 tv;

	tv.tv_sec = as->ac->timeout_ms / 1000;
	tv.tv_usec = (as->ac->timeout_ms % 1000) * 1000;
	evtimer_add(as->timer, &tv);
}

static void
amqp_timeout(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct amqp_sink	*as = arg;

	amqp_drop(as, as->state == AMQP_READY ? "no confirm within the "
	    "timeout" : "connecting timed out");
}

static int
amqp_send(struct amqp_sink *as, amqp_method_number_t id, void *method,
    amqp_channel_t channel)
{
	int	 rc;

	if ((rc = amqp_send_method(as->conn, channel, id, method)) !=
	    AMQP_STATUS_OK) {
		amqp_drop(as, amqp_error_string2(rc));
		return (-1);
	}
	return (0);
}

static void
amqp_table_bool(amqp_table_entry_t *e, const char *key, int v)
{
	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_BOOLEAN;
	e->value.value.boolean = v;
}

static void
amqp_table_str(amqp_table_entry_t *e, const char *key, const char *v)
{
	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(v);
}

/* connection.start: answer with PLAIN credentials. */
static int
amqp_start_ok(struct amqp_sink *as)
{
	amqp_connection_start_ok_t	 ok;
	amqp_table_entry_t		 caps[3], props[3];
	struct buf			 resp = { 0 };
	int				 rc;

	amqp_table_bool(&caps[0], "authentication_failure_close", 1);
	amqp_table_bool(&caps[1], "connection.blocked", 1);
	amqp_table_bool(&caps[2], "publisher_confirms", 1);
	amqp_table_str(&props[0], "product", AW_NAME);
	amqp_table_str(&props[1], "version", AW_VERSION);
	props[2].key = amqp_cstring_bytes("capabilities");
	props[2].value.kind = AMQP_FIELD_KIND_TABLE;
	props[2].value.value.table.num_entries = 3;
	props[2].value.value.table.entries = caps;
	ok.client_properties.num_entries = 3;
	ok.client_properties.entries = props;
	ok.mechanism = amqp_cstring_bytes("PLAIN");
	buf_add(&resp, "", 1);
	buf_adds(&resp, as->user);
	buf_add(&resp, "", 1);
	buf_adds(&resp, as->password);
	ok.response.bytes = resp.data;
	ok.response.len = resp.len;
	ok.locale = amqp_cstring_bytes("en_US");
	rc = amqp_send(as, AMQP_CONNECTION_START_OK_METHOD, &ok, 0);
	explicit_bzero(resp.data, resp.len);
	buf_free(&resp);
	return (rc);
}

/* connection.tune: no heartbeats, frames up to AMQP_FRAME_MAX. */
static int
amqp_tune_ok(struct amqp_sink *as, const amqp_connection_tune_t *t)
{
	amqp_connection_tune_ok_t	 ok;
	amqp_connection_open_t		 open;
	uint32_t			 frame_max = AMQP_FRAME_MAX;

	if (t->frame_max != 0 && t->frame_max < frame_max)
		frame_max = t->frame_max;
	ok.channel_max = t->channel_max;
	ok.frame_max = frame_max;
	ok.heartbeat = 0;
	if (amqp_tune_connection(as->conn, t->channel_max, (int)frame_max,
	    0) != AMQP_STATUS_OK) {
		amqp_drop(as, "cannot tune the connection");
		return (-1);
	}
	if (amqp_send(as, AMQP_CONNECTION_TUNE_OK_METHOD, &ok, 0) != 0)
		return (-1);
	open.virtual_host = amqp_cstring_bytes(as->vhost);
	open.capabilities = amqp_empty_bytes;
	open.insist = 0;
	return (amqp_send(as, AMQP_CONNECTION_OPEN_METHOD, &open, 0));
}

/* The server closed the connection or the channel: say why. */
static void
amqp_closed(struct amqp_sink *as, const amqp_method_t *m)
{
	const amqp_connection_close_t	*cc = m->decoded;
	const amqp_channel_close_t	*ch = m->decoded;
	amqp_connection_close_ok_t	 cok;
	amqp_channel_close_ok_t		 chok;
	char				*cause;
	int				 code;
	amqp_bytes_t			 text;

	if (m->id == AMQP_CONNECTION_CLOSE_METHOD) {
		code = cc->reply_code;
		text = cc->reply_text;
		if (amqp_room(as, 512))
			(void)amqp_send_method(as->conn, 0,
			    AMQP_CONNECTION_CLOSE_OK_METHOD, &cok);
	} else {
		code = ch->reply_code;
		text = ch->reply_text;
		if (amqp_room(as, 512))
			(void)amqp_send_method(as->conn, AMQP_CHANNEL,
			    AMQP_CHANNEL_CLOSE_OK_METHOD, &chok);
	}
	as->closing = 1;	/* no goodbye of our own after this */
	if (code == AMQP_ACCESS_REFUSED && as->state == AMQP_HANDSHAKE &&
	    as->expect != AMQP_CHANNEL_OPEN_OK_METHOD &&
	    as->expect != AMQP_CONFIRM_SELECT_OK_METHOD)
		xasprintf(&cause, "credentials refused by the broker "
		    "(%d %.*s)", code, (int)text.len, (char *)text.bytes);
	else
		xasprintf(&cause, "%s closed by the broker: %d %.*s",
		    m->id == AMQP_CONNECTION_CLOSE_METHOD ? "connection" :
		    "channel", code, (int)text.len, (char *)text.bytes);
	amqp_drop(as, cause);
	free(cause);
}

/* A handshake method arrived; send the next step. */
static void
amqp_handshake(struct amqp_sink *as, const amqp_method_t *m)
{
	amqp_channel_open_t	 chopen = { .out_of_band = amqp_empty_bytes };
	amqp_confirm_select_t	 sel = { .nowait = 0 };
	char			*cause;

	if ((int)m->id != as->expect) {
		xasprintf(&cause, "unexpected method %s during the handshake",
		    amqp_method_name(m->id));
		amqp_drop(as, cause);
		free(cause);
		return;
	}
	switch (m->id) {
	case AMQP_CONNECTION_START_METHOD:
		if (amqp_start_ok(as) == 0)
			as->expect = AMQP_CONNECTION_TUNE_METHOD;
		break;
	case AMQP_CONNECTION_TUNE_METHOD:
		if (amqp_tune_ok(as, m->decoded) == 0)
			as->expect = AMQP_CONNECTION_OPEN_OK_METHOD;
		break;
	case AMQP_CONNECTION_OPEN_OK_METHOD:
		if (amqp_send(as, AMQP_CHANNEL_OPEN_METHOD, &chopen,
		    AMQP_CHANNEL) == 0)
			as->expect = AMQP_CHANNEL_OPEN_OK_METHOD;
		break;
	case AMQP_CHANNEL_OPEN_OK_METHOD:
		if (amqp_send(as, AMQP_CONFIRM_SELECT_METHOD, &sel,
		    AMQP_CHANNEL) == 0)
			as->expect = AMQP_CONFIRM_SELECT_OK_METHOD;
		break;
	case AMQP_CONFIRM_SELECT_OK_METHOD:
		as->state = AMQP_READY;
		broker_ready(&as->br);
		as->next_tag = 1;
		evtimer_del(as->timer);
		log_info("amqp: connected", "sink=%s host=%s port=%d",
		    log_q(as->id), log_q(as->host), as->port);
		amqp_pump(as);
		break;
	}
}

/* basic.ack or basic.nack for `tag` (and all before it if multiple). */
static void
amqp_confirm(struct amqp_sink *as, uint64_t tag, int multiple, int ack)
{
	struct amqp_msg	*m;
	char		*cause;

	for (m = AMQP_MSG(as->br.msgs); m != NULL; m = AMQP_NEXT(m)) {
		if (m->b.finished || m->tag == 0)
			continue;
		if (!(m->tag == tag || (multiple && m->tag < tag)))
			continue;
		if (!ack) {
			xasprintf(&cause, "amqp %s: the broker refused the "
			    "message (basic.nack)", as->id);
			amqp_finish(as, m, DELIVERY_RETRY, cause);
			free(cause);
		} else if (m->returned != NULL) {
			xasprintf(&cause, "amqp %s: unroutable: %s", as->id,
			    m->returned);
			amqp_finish(as, m, DELIVERY_RETRY, cause);
			free(cause);
		} else
			amqp_finish(as, m, DELIVERY_OK, NULL);
	}
	/* The timer is for the oldest confirm still to come. */
	for (m = AMQP_MSG(as->br.msgs); m != NULL; m = AMQP_NEXT(m)) {
		if (!m->b.finished && m->tag != 0)
			break;
	}
	if (m == NULL)
		evtimer_del(as->timer);
	else
		amqp_arm(as);
}

/*
 * basic.return comes before the message's ack, followed by its content
 * header frame, whose message_id names the message, then body frames.
 * The reason waits here for the header (amqp_return_header).
 */
static void
amqp_returned(struct amqp_sink *as, const amqp_basic_return_t *r)
{
	free(as->returned);
	xasprintf(&as->returned, "%d %.*s (exchange \"%.*s\", routing key "
	    "\"%.*s\")", r->reply_code, (int)r->reply_text.len,
	    (char *)r->reply_text.bytes, (int)r->exchange.len,
	    (char *)r->exchange.bytes, (int)r->routing_key.len,
	    (char *)r->routing_key.bytes);
}

static void
amqp_return_header(struct amqp_sink *as, const amqp_frame_t *f)
{
	const amqp_basic_properties_t	*p = f->payload.properties.decoded;
	struct amqp_msg			*m = NULL;
	char				*id = NULL;

	if (as->returned == NULL)
		return;
	if (p != NULL && (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG))
		id = xstrndup(p->message_id.bytes, p->message_id.len);
	for (m = AMQP_MSG(as->br.msgs); m != NULL && id != NULL;
	    m = AMQP_NEXT(m)) {
		if (!m->b.finished && m->tag != 0 && m->returned == NULL &&
		    strcmp(m->id, id) == 0)
			break;
	}
	log_warn("amqp: message returned unroutable", "sink=%s id=%s "
	    "reason=%s", log_q(as->id), log_q(id != NULL ? id : "?"),
	    log_q(as->returned));
	if (m != NULL) {
		m->returned = as->returned;
		as->returned = NULL;
	}
	free(as->returned);
	as->returned = NULL;
	free(id);
}

static void
amqp_method(struct amqp_sink *as, const amqp_method_t *m)
{
	const amqp_basic_ack_t	*ack;
	const amqp_basic_nack_t	*nack;

	switch (m->id) {
	case AMQP_CONNECTION_CLOSE_METHOD:
	case AMQP_CHANNEL_CLOSE_METHOD:
		amqp_closed(as, m);
		return;
	case AMQP_CONNECTION_BLOCKED_METHOD:
		log_warn("amqp: broker blocked publishing", "sink=%s",
		    log_q(as->id));
		as->blocked = 1;
		return;
	case AMQP_CONNECTION_UNBLOCKED_METHOD:
		as->blocked = 0;
		amqp_pump(as);
		return;
	}
	if (as->state == AMQP_HANDSHAKE) {
		amqp_handshake(as, m);
		return;
	}
	switch (m->id) {
	case AMQP_BASIC_ACK_METHOD:
		ack = m->decoded;
		amqp_confirm(as, ack->delivery_tag, ack->multiple, 1);
		amqp_pump(as);
		break;
	case AMQP_BASIC_NACK_METHOD:
		nack = m->decoded;
		amqp_confirm(as, nack->delivery_tag, nack->multiple, 0);
		amqp_pump(as);
		break;
	case AMQP_BASIC_RETURN_METHOD:
		amqp_returned(as, m->decoded);
		break;
	default:
		log_debug("amqp: method ignored", "sink=%s method=%s",
		    log_q(as->id), amqp_method_name(m->id));
	}
}

/* The socket is readable: take every frame there is, never waiting. */
static void
amqp_readable(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct amqp_sink	*as = arg;
	amqp_frame_t		 f;
	struct timeval		 zero = { 0, 0 };
	int			 rc;

	while (as->conn != NULL) {
		rc = amqp_simple_wait_frame_noblock(as->conn, &f, &zero);
		if (rc == AMQP_STATUS_TIMEOUT)
			break;
		if (rc != AMQP_STATUS_OK) {
			amqp_drop(as, rc == AMQP_STATUS_CONNECTION_CLOSED ?
			    "the broker closed the connection" :
			    amqp_error_string2(rc));
			return;
		}
		if (f.frame_type == AMQP_FRAME_METHOD)
			amqp_method(as, &f.payload.method);
		else if (f.frame_type == AMQP_FRAME_HEADER)
			amqp_return_header(as, &f);
		/* Body frames (of a returned message) are skipped. */
	}
	if (as->conn != NULL && !amqp_frames_enqueued(as->conn) &&
	    !amqp_data_in_buffer(as->conn))
		amqp_maybe_release_buffers(as->conn);
}

/* Is there room in the socket's send buffer for `need` bytes? */
static int
amqp_room(struct amqp_sink *as, size_t need)
{
	int		 outq = 0, sndbuf = 0;
	socklen_t	 len = sizeof sndbuf;

	if (ioctl(as->fd, SIOCOUTQ, &outq) == -1 ||
	    getsockopt(as->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) == -1)
		return (1);
	return (sndbuf - outq > 0 && (size_t)(sndbuf - outq) >= need);
}

static void
amqp_writable(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	amqp_pump(arg);
}

/* Publish what is queued, in order, while the socket has room. */
static void
amqp_pump(struct amqp_sink *as)
{
	struct amqp_msg	*m;
	amqp_bytes_t	 body;
	int		 rc, armed = 0;

	if (as->state != AMQP_READY || as->blocked)
		return;
	for (m = AMQP_MSG(as->br.msgs); m != NULL; m = AMQP_NEXT(m)) {
		if (m->b.finished || m->tag != 0) {
			armed |= !m->b.finished && m->tag != 0;
			continue;
		}
		if (!amqp_room(as, m->body_len + 4096)) {
			event_add(as->ev_write, NULL);
			break;
		}
		body.bytes = m->body;
		body.len = m->body_len;
		rc = amqp_basic_publish(as->conn, AMQP_CHANNEL,
		    amqp_cstring_bytes(as->exchange),
		    amqp_cstring_bytes(m->routing_key), 1, 0, &m->props, body);
		if (rc != AMQP_STATUS_OK) {
			amqp_drop(as, amqp_error_string2(rc));
			return;
		}
		m->tag = as->next_tag++;
		if (!armed)
			amqp_arm(as);
		armed = 1;
	}
}

/* The TLS relay failed (handshake, certificate, the broker closed). */
static void
amqp_tls_failed(const char *why, void *arg)
{
	amqp_drop(arg, why);
}

static void
amqp_connected(evutil_socket_t fd, short what __unused, void *arg)
{
	struct amqp_sink	*as = arg;
	amqp_socket_t		*sock;
	int			 err = 0, rc;
	socklen_t		 len = sizeof err;
	char			*cause;

	event_free(as->ev_write);
	as->ev_write = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		xasprintf(&cause, "cannot connect to %s:%d: %s", as->host,
		    as->port, strerror(err));
		amqp_drop(as, cause);
		free(cause);
		return;
	}
	if (as->tls_ctx != NULL) {
		/* The relay takes the TCP socket; librabbitmq the pair's end. */
		as->fd = -1;
		if ((as->relay = amqp_tls_start(as->base, as->tls_ctx, fd,
		    as->host, &as->fd, amqp_tls_failed, as, &cause)) == NULL) {
			amqp_drop(as, cause);
			free(cause);
			return;
		}
		fd = as->fd;
	}
	as->conn = amqp_new_connection();
	if ((sock = amqp_tcp_socket_new(as->conn)) == NULL)
		fatalx("amqp_tcp_socket_new failed");
	amqp_tcp_socket_set_sockfd(sock, fd);
	as->ev_io = event_new(as->base, fd, EV_READ | EV_PERSIST,
	    amqp_readable, as);
	as->ev_write = event_new(as->base, fd, EV_WRITE, amqp_writable, as);
	if (as->ev_io == NULL || as->ev_write == NULL)
		fatalx("event_new failed");
	event_add(as->ev_io, NULL);
	as->state = AMQP_HANDSHAKE;
	as->expect = AMQP_CONNECTION_START_METHOD;
	if ((rc = amqp_send_header(as->conn)) != AMQP_STATUS_OK)
		amqp_drop(as, amqp_error_string2(rc));
}

static void
amqp_resolved(int err, struct evutil_addrinfo *ai, void *arg)
{
	struct amqp_sink	*as = arg;
	char			*cause;
	int			 fd, one = 1, idle = 60, intvl = 10, cnt = 3;

	as->dns_req = NULL;
	if (err != 0) {
		if (err == EVUTIL_EAI_CANCEL)
			return;
		xasprintf(&cause, "cannot resolve %s: %s", as->host,
		    evutil_gai_strerror(err));
		amqp_drop(as, cause);
		free(cause);
		return;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1 || (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS)) {
		xasprintf(&cause, "cannot connect to %s:%d: %s", as->host,
		    as->port, strerror(errno));
		if (fd != -1)
			close(fd);
		evutil_freeaddrinfo(ai);
		amqp_drop(as, cause);
		free(cause);
		return;
	}
	evutil_freeaddrinfo(ai);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* No AMQP heartbeats: let TCP notice a dead peer within minutes. */
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
	as->fd = fd;
	as->state = AMQP_CONNECTING;
	as->ev_write = event_new(as->base, fd, EV_WRITE, amqp_connected, as);
	if (as->ev_write == NULL)
		fatalx("event_new failed");
	event_add(as->ev_write, NULL);
}

static void
amqp_connect(struct amqp_sink *as)
{
	struct evutil_addrinfo	 hints = { 0 };
	struct evdns_getaddrinfo_request *req;
	char			 port[16];

	snprintf(port, sizeof port, "%d", as->port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	as->state = AMQP_RESOLVING;
	amqp_arm(as);
	/* The callback may run before this returns (a numeric address). */
	req = evdns_getaddrinfo(as->dns, as->host, port, &hints,
	    amqp_resolved, as);
	if (as->state == AMQP_RESOLVING)
		as->dns_req = req;
}

/* Connect when down, at once or after the backoff of the last failure. */
static void
amqp_wake(struct amqp_sink *as)
{
	if (as->state != AMQP_DOWN) {
		amqp_pump(as);
		return;
	}
	broker_wake(&as->br);
}

/* The backoff after a lost connection is over (broker_wake()). */
static void
amqp_connect_later(void *arg)
{
	struct amqp_sink	*as = arg;

	if (as->state == AMQP_DOWN)
		amqp_connect(as);
}

/* Build the message now: the entry does not outlive deliver(). */
struct amqp_attr_ctx {
	struct amqp_msg		*m;
	const char		*prefix;
};

static void
amqp_attr(const char *name, const char *value, void *arg)
{
	struct amqp_attr_ctx	*c = arg;
	struct amqp_msg		*m = c->m;
	amqp_table_entry_t	*e;
	char			*key;

	if (strcmp(name, "datacontenttype") == 0)
		return;		/* the content_type property */
	m->headers = xreallocarray(m->headers, m->nheaders + 1,
	    sizeof *m->headers);
	e = &m->headers[m->nheaders++];
	xasprintf(&key, "%s%s", c->prefix, name);
	e->key.bytes = key;
	e->key.len = strlen(key);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes.bytes = xstrdup(value);
	e->value.value.bytes.len = strlen(value);
}

static void
amqp_build(struct amqp_sink *as, struct amqp_msg *m,
    const struct outbox_entry *e)
{
	struct queue_event	 ev;
	struct amqp_attr_ctx	 ctx = { m, amqp_prefix_choices[as->ac->prefix] };
	amqp_basic_properties_t	*p = &m->props;

	queue_event_parse(e, &ev);
	m->id = xstrdup(ev.id != NULL ? ev.id : "");
	m->routing_key = queue_dest_render(as->rk, &ev);
	/* The properties point into m, which keeps the strings. */
	p->_flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_APP_ID_FLAG |
	    AMQP_BASIC_TIMESTAMP_FLAG;
	p->delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p->message_id = amqp_cstring_bytes(m->id);
	p->app_id = amqp_cstring_bytes(AW_NAME);
	p->timestamp = (uint64_t)(now_ms() / 1000);
	if (as->ac->mode == QUEUE_BINARY) {
		m->body = queue_data(&ev, &m->body_len);
		queue_attrs(&ev, amqp_attr, &ctx);
		if ((m->content_type = queue_attr(&ev, "datacontenttype")) ==
		    NULL)
			m->content_type = xstrdup("application/json");
		p->_flags |= AMQP_BASIC_HEADERS_FLAG;
		p->headers.num_entries = (int)m->nheaders;
		p->headers.entries = m->headers;
	} else {
		m->body_len = ev.json_len;
		m->body = xmalloc(ev.json_len + 1);
		memcpy(m->body, ev.json, ev.json_len);
		m->body[ev.json_len] = '\0';
		m->content_type = xstrdup(QUEUE_STRUCTURED_TYPE);
	}
	p->content_type = amqp_cstring_bytes(m->content_type);
	queue_event_free(&ev);
}

static void
amqp_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct amqp_sink	*as = s->data;
	struct amqp_msg		*m;

	m = xcalloc(1, sizeof *m);
	amqp_build(as, m, e);
	broker_hold(&as->br, &m->b, done, arg);
	amqp_wake(as);
}

/* Forget every delivery; the connection stays for the next ones. */
static void
amqp_cancel(struct sink *s)
{
	struct amqp_sink	*as = s->data;
	struct amqp_msg		*m;
	int			 published = 0;

	if (as == NULL)
		return;
	for (m = AMQP_MSG(as->br.msgs); m != NULL; m = AMQP_NEXT(m))
		published |= m->tag != 0 && !m->b.finished;
	broker_cancel(&as->br);
	/* Confirms still due would name tags we no longer know. */
	if (published)
		amqp_close(as);
}

static void
amqp_free(struct sink *s)
{
	struct amqp_sink	*as = s->data;

	if (as == NULL)
		return;
	amqp_cancel(s);
	amqp_close(as);
	if (as->dns != NULL)
		evdns_base_free(as->dns, 0);
	if (as->tls_ctx != NULL)
		amqp_tls_ctx_free(as->tls_ctx);
	broker_free(&as->br);
	if (as->timer != NULL)
		event_free(as->timer);
	queue_dest_free(as->rk);
	free(as->host);
	free(as->vhost);
	free(as->user);
	if (as->password != NULL) {
		explicit_bzero(as->password, strlen(as->password));
		free(as->password);
	}
	free(as);
	s->data = NULL;
}

const struct sink_entry sink_amqp_entry = {
	.name = "Amqp",
	.keys = amqp_keys,
	.size = sizeof (struct amqp_conf),
	.check = amqp_check,
	.init = amqp_init,
	.deliver = amqp_deliver,
	.cancel = amqp_cancel,
	.free = amqp_free,
	.max_inflight = AMQP_WINDOW,
};
