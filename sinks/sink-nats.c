/*
 * sink-nats.c: the Nats sink, through libnats (the NATS C client).
 *
 * Core NATS (default): each event is published to `subject`, and counted
 * delivered once a flush round trip (PING/PONG after the messages) shows
 * the server has it.  Core NATS keeps nothing for subscribers that are not
 * there: use JetStream for at-least-once to a stream.  JetStream
 * (`jetStream: true`): each event is published asynchronously and counted
 * delivered on the stream's PubAck; the header Nats-Msg-Id is the event
 * id, so JetStream drops a repeat within its duplicate window.  Every
 * message carries Nats-Msg-Id either way, for consumers.
 *
 * Threads.  libnats runs its own threads (reading, flushing, callbacks),
 * and some of its calls block (connect, flush).  None of it runs on the
 * event loop: each sink has one worker thread that connects, publishes
 * and, for core NATS, flushes; JetStream PubAcks arrive on libnats'
 * threads.  The loop and those threads share only `struct nats_shared`,
 * under its mutex: deliver() queues a prepared message (`outgoing`), the
 * worker takes it, the PubAck or the flush moves it to `finished`, and a
 * byte on a pipe wakes the loop, which runs the `done`s.  So every `done`
 * runs on the loop, never inside deliver(), and no libnats thread touches
 * anything else of ours.  Connection state changes travel the same way and
 * are logged on the loop (log.c is not thread-safe).
 *
 * Shutdown: free() stops and joins the worker, closes the connection and
 * frees every op.  The shared block itself lives until libnats' closed
 * callback has run as well (a reference each), because a PubAck handler
 * may still look at it while the connection closes; after `closing` it only
 * frees the message it was given.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>
#include <nats/nats.h>

#include "config.h"
#include "queue.h"
#include "sink.h"
#include "store.h"

#define NATS_INFLIGHT		256	/* default window */
#define NATS_MAX_PENDING	65536	/* libnats never stalls below it */
#define NATS_CONNECT_MS		2000	/* per connection attempt */

struct nats_conf {
	char		*url;
	char		*subject;
	int		 jet_stream;
	int		 mode;		/* enum queue_mode */
	char		*user;
	char		*password_ref;
	char		*token_ref;
	int64_t		 timeout_ms;
};

static const struct cfg_key nats_keys[] = {
	{ .name = "url", .type = CFG_STRING, .flags = CFG_REQUIRED,
	  .off = offsetof(struct nats_conf, url) },
	{ .name = "subject", .type = CFG_STRING, .flags = CFG_REQUIRED,
	  .off = offsetof(struct nats_conf, subject) },
	{ .name = "jetStream", .type = CFG_BOOL, .def = "false",
	  .off = offsetof(struct nats_conf, jet_stream) },
	QUEUE_MODE_KEY(struct nats_conf, mode),
	{ .name = "user", .type = CFG_STRING,
	  .off = offsetof(struct nats_conf, user) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = offsetof(struct nats_conf, password_ref) },
	{ .name = "tokenRef", .type = CFG_SECRET,
	  .off = offsetof(struct nats_conf, token_ref) },
	{ .name = "timeout", .type = CFG_DURATION, .def = "10s",
	  .off = offsetof(struct nats_conf, timeout_ms), .min = 100,
	  .max = 10 * 60 * 1000 },
	{ .name = NULL }
};

/*
 * One delivery, on one list at a time: one of nats_shared's, or the
 * worker's own while it publishes and flushes.
 */
struct nats_op {
	TAILQ_ENTRY(nats_op)	 entry;
	natsMsg			*msg;	/* outgoing: ours; then identity */
	sink_done_cb		 done;
	void			*arg;
	unsigned		 gen;	/* the sink's cancel generation */
	enum delivery		 result;
	char			*cause;
};
TAILQ_HEAD(nats_ops, nats_op);

/* Connection news for the loop's log. */
#define NATS_NEWS_DISCONNECTED	0x1
#define NATS_NEWS_RECONNECTED	0x2
#define NATS_NEWS_CONNECTED	0x4
#define NATS_NEWS_FAILED	0x8

/* What the loop and libnats' threads share; everything under mu. */
struct nats_shared {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cond;
	int			 refs;
	int			 wake[2];	/* pipe: [1] written, [0] read */
	int			 stop;		/* the worker must end */
	int			 closing;	/* ops are gone */
	unsigned		 news;
	char			*failure;	/* connect failed: why */
	natsConnection		*conn;		/* once the worker made it */
	struct nats_ops		 outgoing;	/* queued by deliver() */
	struct nats_ops		 inflight;	/* awaiting a PubAck */
	struct nats_ops		 finished;	/* for the loop */
};

struct nats_sink {
	const struct nats_conf	*nc_conf;
	const char		*id;
	struct nats_shared	*sh;
	struct event		*wakeup;
	pthread_t		 worker;
	int			 started;
	int			*gone;		/* set by free() in a done */
	unsigned		 gen;		/* cancel() counts up */
	struct queue_dest	*subject;
	/* The worker's alone once it runs. */
	natsOptions		*opts;
	natsConnection		*conn;
	jsCtx			*js;
};

static const char *const nats_schemes[] = { "nats://", "tls://", NULL };

/*
 * A subject one can publish to: not empty, no whitespace or control
 * characters, no empty token, no wildcard token.
 */
static int
nats_subject_ok(const char *s)
{
	const char	*p, *tok = s;

	if (*s == '\0')
		return (0);
	for (p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == tok)
				return (0);
			if (p - tok == 1 && (*tok == '*' || *tok == '>'))
				return (0);
			if (*p == '\0')
				return (1);
			tok = p + 1;
		} else if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return (0);
	}
}

static int
nats_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct nats_conf	*c = sc->data;
	int			 n = 0;

	n += queue_url_check(sc, "url", c->url, nats_schemes, errs);
	n += queue_dest_check(sc, "subject", errs);
	if (n == 0 && strstr(c->subject, "<+") == NULL &&
	    !nats_subject_ok(c->subject)) {
		cfg_error(errs, cfg_node_get(sc->spec, "subject"), "spec.subject "
		    "of sink \"%s\" is not a subject one can publish to (no "
		    "spaces, empty tokens or wildcards)", sc->id);
		n++;
	}
	if (c->password_ref != NULL && c->user == NULL) {
		cfg_error(errs, cfg_node_get(sc->spec, "passwordRef"),
		    "spec.passwordRef of sink \"%s\" needs spec.user", sc->id);
		n++;
	}
	if (c->token_ref != NULL && c->user != NULL) {
		cfg_error(errs, cfg_node_get(sc->spec, "tokenRef"),
		    "spec.tokenRef of sink \"%s\" goes without spec.user",
		    sc->id);
		n++;
	}
	return (n);
}

/* ---- the shared block, from any thread ---- */

static void
nats_shared_poke(struct nats_shared *sh)
{
	ssize_t	 n;

	/* Full pipe: the loop has a wake-up pending anyway. */
	do
		n = write(sh->wake[1], "", 1);
	while (n == -1 && errno == EINTR);
}

static void
nats_op_free(struct nats_op *op)
{
	natsMsg_Destroy(op->msg);
	free(op->cause);
	free(op);
}

static void
nats_shared_release(struct nats_shared *sh)
{
	int	 last;

	pthread_mutex_lock(&sh->mu);
	last = --sh->refs == 0;
	pthread_mutex_unlock(&sh->mu);
	if (!last)
		return;
	close(sh->wake[0]);
	close(sh->wake[1]);
	free(sh->failure);
	pthread_cond_destroy(&sh->cond);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

/* With mu held: op (on no list) is done with result and cause. */
static void
nats_post(struct nats_shared *sh, struct nats_op *op, enum delivery result,
    const char *fmt, const char *text)
{
	int	 first = TAILQ_EMPTY(&sh->finished);

	op->result = result;
	if (fmt != NULL)
		xasprintf(&op->cause, fmt, text);
	TAILQ_INSERT_TAIL(&sh->finished, op, entry);
	/*
	 * The loop drains the list until it is empty, so only the first op
	 * on an empty list needs to wake it.
	 */
	if (first)
		nats_shared_poke(sh);
}

/* The same for an op on the list `from`. */
static void
nats_finish(struct nats_shared *sh, struct nats_ops *from, struct nats_op *op,
    enum delivery result, const char *fmt, const char *text)
{
	TAILQ_REMOVE(from, op, entry);
	nats_post(sh, op, result, fmt, text);
}

/* ---- libnats' threads ---- */

static void
nats_pub_ack(jsCtx *js __unused, natsMsg *msg, jsPubAck *pa,
    jsPubAckErr *pae, void *closure)
{
	struct nats_shared	*sh = closure;
	struct nats_op		*op;
	const char		*text;

	pthread_mutex_lock(&sh->mu);
	TAILQ_FOREACH(op, &sh->inflight, entry) {
		if (op->msg == msg)
			break;
	}
	if (op != NULL && !sh->closing) {
		op->msg = NULL;		/* destroyed below */
		if (pa != NULL)
			nats_finish(sh, &sh->inflight, op, DELIVERY_OK, NULL,
			    NULL);
		else {
			text = pae != NULL && pae->ErrText != NULL ?
			    pae->ErrText : pae != NULL ?
			    natsStatus_GetText(pae->Err) : "no PubAck";
			if (pae != NULL && pae->Err == NATS_NO_RESPONDERS)
				text = "no JetStream stream takes this subject";
			nats_finish(sh, &sh->inflight, op, DELIVERY_RETRY,
			    "JetStream publish: %s", text);
		}
	}
	pthread_mutex_unlock(&sh->mu);
	natsMsg_Destroy(msg);
}

static void
nats_news(struct nats_shared *sh, unsigned what)
{
	pthread_mutex_lock(&sh->mu);
	sh->news |= what;
	if (!sh->closing)
		nats_shared_poke(sh);
	pthread_mutex_unlock(&sh->mu);
}

static void
nats_disconnected(natsConnection *nc __unused, void *closure)
{
	nats_news(closure, NATS_NEWS_DISCONNECTED);
}

static void
nats_reconnected(natsConnection *nc __unused, void *closure)
{
	nats_news(closure, NATS_NEWS_RECONNECTED);
}

static void
nats_connected(natsConnection *nc __unused, void *closure)
{
	nats_news(closure, NATS_NEWS_CONNECTED);
}

static void
nats_closed(natsConnection *nc __unused, void *closure)
{
	nats_shared_release(closure);
}

/* ---- the worker thread ---- */

/* Connect; 0, or -1 with the failure posted for the loop. */
static int
nats_worker_connect(struct nats_sink *ns)
{
	struct nats_shared	*sh = ns->sh;
	natsStatus		 s;
	jsOptions		 jo;

	pthread_mutex_lock(&sh->mu);
	sh->refs++;		/* the closed callback's */
	pthread_mutex_unlock(&sh->mu);
	s = natsConnection_Connect(&ns->conn, ns->opts);
	pthread_mutex_lock(&sh->mu);
	sh->conn = ns->conn;	/* for free() to close */
	pthread_mutex_unlock(&sh->mu);
	if (s == NATS_OK)
		nats_news(sh, NATS_NEWS_CONNECTED);
	else if (s != NATS_NOT_YET_CONNECTED)
		goto fail;
	if (!ns->nc_conf->jet_stream)
		return (0);
	jsOptions_Init(&jo);
	jo.Wait = ns->nc_conf->timeout_ms;
	jo.PublishAsync.MaxPending = NATS_MAX_PENDING;
	jo.PublishAsync.AckHandler = nats_pub_ack;
	jo.PublishAsync.AckHandlerClosure = sh;
	if ((s = natsConnection_JetStream(&ns->js, ns->conn, &jo)) == NATS_OK)
		return (0);
fail:
	pthread_mutex_lock(&sh->mu);
	if (ns->conn == NULL)
		sh->refs--;	/* no connection: no closed callback */
	free(sh->failure);
	xasprintf(&sh->failure, "connect: %s", natsStatus_GetText(s));
	sh->news |= NATS_NEWS_FAILED;
	nats_shared_poke(sh);
	pthread_mutex_unlock(&sh->mu);
	return (-1);
}

/* Publish one op taken off `outgoing`; with mu not held. */
static void
nats_worker_publish(struct nats_sink *ns, struct nats_op *op,
    struct nats_ops *sent)
{
	struct nats_shared	*sh = ns->sh;
	jsPubOptions		 po;
	natsMsg			*msg = op->msg;
	natsStatus		 s;
	enum delivery		 d;

	if (ns->js == NULL) {
		s = natsConnection_PublishMsg(ns->conn, msg);
		pthread_mutex_lock(&sh->mu);
		if (s == NATS_OK) {
			TAILQ_INSERT_TAIL(sent, op, entry);
			pthread_mutex_unlock(&sh->mu);
			return;
		}
		goto failed;
	}
	jsPubOptions_Init(&po);
	po.MaxWait = ns->nc_conf->timeout_ms;
	/* The PubAck may come before the call returns: list it first. */
	pthread_mutex_lock(&sh->mu);
	TAILQ_INSERT_TAIL(&sh->inflight, op, entry);
	pthread_mutex_unlock(&sh->mu);
	s = js_PublishMsgAsync(ns->js, &msg, &po);
	pthread_mutex_lock(&sh->mu);
	if (s == NATS_OK) {
		pthread_mutex_unlock(&sh->mu);
		return;
	}
	/* Not taken: msg is still ours, and no PubAck will come. */
	TAILQ_REMOVE(&sh->inflight, op, entry);
failed:
	d = s == NATS_MAX_PAYLOAD || s == NATS_INVALID_SUBJECT ?
	    DELIVERY_PERMANENT : DELIVERY_RETRY;
	nats_post(sh, op, d, "publish: %s", natsStatus_GetText(s));
	pthread_mutex_unlock(&sh->mu);
}

/* Core NATS: the server has everything published before a flush. */
static void
nats_worker_flush(struct nats_sink *ns, struct nats_ops *sent)
{
	struct nats_shared	*sh = ns->sh;
	struct nats_op		*op;
	natsStatus		 s;

	if (TAILQ_EMPTY(sent))
		return;
	s = natsConnection_FlushTimeout(ns->conn, ns->nc_conf->timeout_ms);
	pthread_mutex_lock(&sh->mu);
	while ((op = TAILQ_FIRST(sent)) != NULL) {
		if (s == NATS_OK)
			nats_finish(sh, sent, op, DELIVERY_OK, NULL, NULL);
		else
			nats_finish(sh, sent, op, DELIVERY_RETRY,
			    "flush: %s", natsStatus_GetText(s));
	}
	pthread_mutex_unlock(&sh->mu);
}

static void *
nats_worker(void *arg)
{
	struct nats_sink	*ns = arg;
	struct nats_shared	*sh = ns->sh;
	struct nats_ops		 batch, sent;
	struct nats_op		*op;
	int			 up;

	pthread_mutex_lock(&sh->mu);
	up = sh->stop;
	pthread_mutex_unlock(&sh->mu);
	if (up)
		return (NULL);	/* freed at once: no connection */
	up = nats_worker_connect(ns) == 0;
	TAILQ_INIT(&batch);
	TAILQ_INIT(&sent);
	pthread_mutex_lock(&sh->mu);
	for (;;) {
		while (!sh->stop && TAILQ_EMPTY(&sh->outgoing))
			pthread_cond_wait(&sh->cond, &sh->mu);
		if (sh->stop)
			break;
		TAILQ_CONCAT(&batch, &sh->outgoing, entry);
		if (!up) {
			while ((op = TAILQ_FIRST(&batch)) != NULL)
				nats_finish(sh, &batch, op, DELIVERY_RETRY,
				    "%s", sh->failure);
			continue;
		}
		pthread_mutex_unlock(&sh->mu);
		while ((op = TAILQ_FIRST(&batch)) != NULL) {
			TAILQ_REMOVE(&batch, op, entry);
			nats_worker_publish(ns, op, &sent);
		}
		nats_worker_flush(ns, &sent);
		pthread_mutex_lock(&sh->mu);
	}
	pthread_mutex_unlock(&sh->mu);
	return (NULL);
}

/* ---- the event loop ---- */

static void
nats_log_news(struct nats_sink *ns, unsigned news, const char *failure)
{
	if (news & NATS_NEWS_FAILED)
		log_warn("nats cannot connect", "sink=%s cause=%s",
		    log_q(ns->id), log_q(failure));
	if (news & NATS_NEWS_DISCONNECTED)
		log_warn("nats disconnected", "sink=%s", log_q(ns->id));
	if (news & NATS_NEWS_CONNECTED)
		log_info("nats connected", "sink=%s", log_q(ns->id));
	if (news & NATS_NEWS_RECONNECTED)
		log_info("nats reconnected", "sink=%s", log_q(ns->id));
}

static void
nats_wakeup(evutil_socket_t fd, short what __unused, void *arg)
{
	struct nats_sink	*ns = arg;
	struct nats_shared	*sh = ns->sh;
	struct nats_op		*op;
	char			 drain[256], *failure = NULL, *cause;
	unsigned		 news;
	int			 gone = 0;

	while (read(fd, drain, sizeof drain) > 0)
		;
	pthread_mutex_lock(&sh->mu);
	news = sh->news;
	sh->news = 0;
	if (news & NATS_NEWS_FAILED && sh->failure != NULL)
		failure = xstrdup(sh->failure);
	pthread_mutex_unlock(&sh->mu);
	nats_log_news(ns, news, failure);
	free(failure);
	/* One at a time: a done may cancel the rest or free the sink. */
	for (;;) {
		pthread_mutex_lock(&sh->mu);
		if ((op = TAILQ_FIRST(&sh->finished)) != NULL)
			TAILQ_REMOVE(&sh->finished, op, entry);
		pthread_mutex_unlock(&sh->mu);
		if (op == NULL)
			return;
		if (op->done != NULL && op->gen == ns->gen) {
			cause = NULL;
			if (op->cause != NULL)
				xasprintf(&cause, "nats %s: %s", ns->id,
				    op->cause);
			ns->gone = &gone;
			op->done(op->result, -1, cause, op->arg);
			free(cause);
		}
		nats_op_free(op);
		if (gone)
			return;
		ns->gone = NULL;
	}
}

static int
nats_options(struct nats_sink *ns, const struct config *conf, char **cause)
{
	const struct nats_conf	*c = ns->nc_conf;
	natsOptions		*o;
	char			*secret = NULL, *why;
	natsStatus		 s;

	if (natsOptions_Create(&ns->opts) != NATS_OK)
		return (fail(cause, "nats %s: cannot make options", ns->id));
	o = ns->opts;
	s = natsOptions_SetURL(o, c->url);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, AW_NAME);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, NATS_CONNECT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 500);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(o, true,
		    nats_connected, ns->sh);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, nats_disconnected, ns->sh);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, nats_reconnected, ns->sh);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(o, nats_closed, ns->sh);
	if (s != NATS_OK)
		return (fail(cause, "nats %s: options: %s", ns->id,
		    natsStatus_GetText(s)));
	if (c->password_ref != NULL || c->token_ref != NULL) {
		if (secret_resolve(conf, c->password_ref != NULL ?
		    c->password_ref : c->token_ref, &secret, &why) != 0) {
			fail(cause, "nats %s: %s: %s", ns->id,
			    c->password_ref != NULL ? "passwordRef" :
			    "tokenRef", why);
			free(why);
			return (-1);
		}
		s = c->token_ref != NULL ? natsOptions_SetToken(o, secret) :
		    natsOptions_SetUserInfo(o, c->user, secret);
		explicit_bzero(secret, strlen(secret));
		free(secret);
	} else if (c->user != NULL)
		s = natsOptions_SetUserInfo(o, c->user, NULL);
	if (s != NATS_OK)
		return (fail(cause, "nats %s: credentials: %s", ns->id,
		    natsStatus_GetText(s)));
	return (0);
}

static int
nats_init(struct sink *s, char **cause)
{
	struct nats_sink	*ns;
	struct nats_shared	*sh;
	char			*why;

	ns = xcalloc(1, sizeof *ns);
	ns->nc_conf = s->conf->data;
	ns->id = s->conf->id;
	s->data = ns;
	if ((ns->subject = queue_dest_compile(ns->nc_conf->subject,
	    &why)) == NULL) {
		fail(cause, "nats %s: subject %s", ns->id, why);
		free(why);
		return (-1);
	}
	sh = ns->sh = xcalloc(1, sizeof *sh);
	pthread_mutex_init(&sh->mu, NULL);
	pthread_cond_init(&sh->cond, NULL);
	sh->refs = 1;		/* the loop's */
	TAILQ_INIT(&sh->outgoing);
	TAILQ_INIT(&sh->inflight);
	TAILQ_INIT(&sh->finished);
	if (pipe2(sh->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
		sh->wake[0] = sh->wake[1] = -1;
		return (fail(cause, "nats %s: pipe: %s", ns->id,
		    strerror(errno)));
	}
	if (nats_options(ns, s->env->conf, cause) != 0)
		return (-1);
	ns->wakeup = event_new(s->env->base, sh->wake[0], EV_READ | EV_PERSIST,
	    nats_wakeup, ns);
	if (ns->wakeup == NULL || event_add(ns->wakeup, NULL) != 0)
		fatalx("event_new failed");
	if ((errno = pthread_create(&ns->worker, NULL, nats_worker, ns)) != 0)
		return (fail(cause, "nats %s: thread: %s", ns->id,
		    strerror(errno)));
	ns->started = 1;
	return (0);
}

/* A header for binary mode: ce-NAME, datacontenttype as content-type. */
static void
nats_attr(const char *name, const char *value, void *arg)
{
	natsMsg	*msg = arg;
	char	 key[128];

	if (strcmp(name, "datacontenttype") == 0)
		natsMsgHeader_Set(msg, "content-type", value);
	else {
		snprintf(key, sizeof key, "ce-%s", name);
		natsMsgHeader_Set(msg, key, value);
	}
}

/* The message for e, or NULL with *cause (a permanent failure). */
static natsMsg *
nats_message(struct nats_sink *ns, const struct outbox_entry *e,
    char **cause)
{
	struct queue_event	 ev;
	natsMsg			*msg = NULL;
	natsStatus		 s;
	char			*subject, *data = NULL;
	size_t			 len;

	if (ns->nc_conf->mode == QUEUE_BINARY || !queue_dest_fixed(ns->subject))
		queue_event_parse(e, &ev);
	else
		queue_event_wrap(e, &ev);	/* the JSON as it is */
	subject = queue_dest_render(ns->subject, &ev);
	if (!nats_subject_ok(subject)) {
		xasprintf(cause, "subject \"%s\" is not one to publish to",
		    subject);
		goto out;
	}
	if (ns->nc_conf->mode == QUEUE_BINARY) {
		data = queue_data(&ev, &len);
		s = natsMsg_Create(&msg, subject, NULL, data, (int)len);
	} else
		s = natsMsg_Create(&msg, subject, NULL, ev.json,
		    (int)ev.json_len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(msg, "Nats-Msg-Id", e->id);
	if (s == NATS_OK && ns->nc_conf->mode == QUEUE_BINARY)
		queue_attrs(&ev, nats_attr, msg);
	else if (s == NATS_OK)
		s = natsMsgHeader_Set(msg, "content-type",
		    QUEUE_STRUCTURED_TYPE);
	if (s != NATS_OK) {
		xasprintf(cause, "message: %s", natsStatus_GetText(s));
		natsMsg_Destroy(msg);
		msg = NULL;
	}
out:
	free(data);
	free(subject);
	queue_event_free(&ev);
	return (msg);
}

static void
nats_deliver(struct sink *s, const struct outbox_entry *e, sink_done_cb done,
    void *arg)
{
	struct nats_sink	*ns = s->data;
	struct nats_shared	*sh = ns->sh;
	struct nats_op		*op;
	char			*cause = NULL;

	op = xcalloc(1, sizeof *op);
	op->done = done;
	op->arg = arg;
	op->gen = ns->gen;
	op->msg = nats_message(ns, e, &cause);
	pthread_mutex_lock(&sh->mu);
	if (op->msg == NULL) {
		op->cause = cause;
		nats_post(sh, op, DELIVERY_PERMANENT, NULL, NULL);
	} else {
		TAILQ_INSERT_TAIL(&sh->outgoing, op, entry);
		pthread_cond_signal(&sh->cond);
	}
	pthread_mutex_unlock(&sh->mu);
}

static void
nats_cancel(struct sink *s)
{
	struct nats_sink	*ns = s->data;
	struct nats_shared	*sh;
	struct nats_op		*op;

	if (ns == NULL || (sh = ns->sh) == NULL)
		return;
	/*
	 * Every op made so far, wherever it is now (queued, with the worker,
	 * awaiting its PubAck, finished), is of an older generation: its
	 * result only frees it.
	 */
	ns->gen++;
	pthread_mutex_lock(&sh->mu);
	/* Not handed to libnats yet: gone at once. */
	while ((op = TAILQ_FIRST(&sh->outgoing)) != NULL) {
		TAILQ_REMOVE(&sh->outgoing, op, entry);
		nats_op_free(op);
	}
	pthread_mutex_unlock(&sh->mu);
}

static void
nats_free_ops(struct nats_ops *ops, int ours)
{
	struct nats_op	*op;

	while ((op = TAILQ_FIRST(ops)) != NULL) {
		TAILQ_REMOVE(ops, op, entry);
		if (!ours)
			op->msg = NULL;		/* libnats' */
		nats_op_free(op);
	}
}

static void
nats_free(struct sink *s)
{
	struct nats_sink	*ns = s->data;
	struct nats_shared	*sh;
	natsConnection		*conn = NULL;

	if (ns == NULL)
		return;
	if (ns->gone != NULL)
		*ns->gone = 1;
	if ((sh = ns->sh) != NULL) {
		pthread_mutex_lock(&sh->mu);
		sh->stop = 1;
		conn = sh->conn;
		pthread_cond_signal(&sh->cond);
		pthread_mutex_unlock(&sh->mu);
	}
	/* Closing ends a flush in progress; the worker then sees stop. */
	if (conn != NULL)
		natsConnection_Close(conn);
	if (ns->started)
		pthread_join(ns->worker, NULL);
	if (ns->conn != NULL)
		natsConnection_Close(ns->conn);
	if (sh != NULL) {
		pthread_mutex_lock(&sh->mu);
		sh->closing = 1;
		nats_free_ops(&sh->outgoing, 1);
		nats_free_ops(&sh->inflight, 0);
		nats_free_ops(&sh->finished, 1);
		pthread_mutex_unlock(&sh->mu);
	}
	if (ns->js != NULL)
		jsCtx_Destroy(ns->js);
	if (ns->conn != NULL)
		natsConnection_Destroy(ns->conn);
	if (ns->opts != NULL)
		natsOptions_Destroy(ns->opts);
	if (ns->wakeup != NULL)
		event_free(ns->wakeup);
	if (sh != NULL)
		nats_shared_release(sh);
	queue_dest_free(ns->subject);
	free(ns);
	s->data = NULL;
}

const struct sink_entry sink_nats_entry = {
	.name = "Nats",
	.keys = nats_keys,
	.size = sizeof (struct nats_conf),
	.check = nats_check,
	.init = nats_init,
	.deliver = nats_deliver,
	.cancel = nats_cancel,
	.free = nats_free,
	.max_inflight = NATS_INFLIGHT,
};
