/*
 * sink-redisstream.c: the RedisStream sink.  Each event is one XADD to a
 * stream, trimmed with MAXLEN ~ maxLen, on the store's Redis (when the
 * store is Redis and no url is given) or on another server, through the
 * project's hiredis async connection (redis.h), which reconnects by itself.
 * The event is acknowledged when Redis answers the XADD with the entry's
 * id; no answer (connection down or lost, timeout) is retried, and an
 * error answer is retried too unless it can never work (WRONGTYPE, ERR).
 *
 * Fields: structured mode (default) `id` and `event` (the CloudEvent JSON);
 * binary mode one field per CloudEvents attribute, bare names (id among
 * them), then `data`.  Either way a consumer finds the event id in the
 * `id` field, to drop repeats after a redelivery.
 *
 * Redis answers the commands of one connection in order, so deliveries are
 * pipelined: several XADDs may be in flight (max_inflight), each with its
 * own small `redisstream_op`; cancel() orphans them and their answers then
 * only free them.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "queue.h"
#include "redis.h"
#include "sink.h"
#include "store.h"

#define REDISSTREAM_INFLIGHT	64

struct redisstream_conf {
	char		*url;
	char		*password_ref;
	char		*stream;
	long long	 max_len;
	int		 mode;		/* enum queue_mode */
	int64_t		 timeout_ms;
};

static const struct cfg_key redisstream_keys[] = {
	{ .name = "url", .type = CFG_STRING,
	  .off = offsetof(struct redisstream_conf, url) },
	{ .name = "passwordRef", .type = CFG_SECRET,
	  .off = offsetof(struct redisstream_conf, password_ref) },
	{ .name = "stream", .type = CFG_STRING, .flags = CFG_REQUIRED,
	  .off = offsetof(struct redisstream_conf, stream) },
	{ .name = "maxLen", .type = CFG_INT, .def = "100000",
	  .off = offsetof(struct redisstream_conf, max_len), .min = 0,
	  .max = 1000000000000LL },
	{ .name = "timeout", .type = CFG_DURATION, .def = "10s",
	  .off = offsetof(struct redisstream_conf, timeout_ms), .min = 100,
	  .max = 10 * 60 * 1000 },
	QUEUE_MODE_KEY(struct redisstream_conf, mode),
	{ .name = NULL }
};

struct redisstream;

/* One XADD in flight; rs is NULL once cancelled. */
struct redisstream_op {
	TAILQ_ENTRY(redisstream_op) entry;
	struct redisstream	*rs;
	sink_done_cb		 done;
	void			*arg;
	int			 empty;		/* the stream rendered "" */
};
TAILQ_HEAD(redisstream_ops, redisstream_op);

struct redisstream {
	const struct redisstream_conf *rc;
	const char		*id;		/* the sink's identifier */
	struct redis		*r;
	struct queue_dest	*stream;
	char			 max_len[24];
	struct redisstream_ops	 ops;
};

static const char *const redisstream_schemes[] = { "redis://", NULL };

static int
redisstream_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct redisstream_conf	*rc = sc->data;
	const struct config		*conf = errs->conf;
	int				 n = 0;

	n += queue_url_check(sc, "url", rc->url, redisstream_schemes, errs);
	if (rc->url == NULL && conf != NULL &&
	    conf->store.type != STORE_REDIS) {
		cfg_error(errs, sc->spec, "spec.url of sink \"%s\" is "
		    "required: the store is not Redis", sc->id);
		n++;
	}
	if (rc->url == NULL && rc->password_ref != NULL) {
		cfg_error(errs, cfg_node_get(sc->spec, "passwordRef"),
		    "spec.passwordRef of sink \"%s\" goes with url: on the "
		    "store's Redis the store's password is used", sc->id);
		n++;
	}
	n += queue_dest_check(sc, "stream", errs);
	return (n);
}

static int
redisstream_init(struct sink *s, char **cause)
{
	const struct config	*conf = s->env->conf;
	struct redisstream	*rs;
	const char		*url, *ref;
	char			*password = NULL, *why;

	rs = xcalloc(1, sizeof *rs);
	rs->rc = s->conf->data;
	rs->id = s->conf->id;
	TAILQ_INIT(&rs->ops);
	s->data = rs;
	snprintf(rs->max_len, sizeof rs->max_len, "%lld", rs->rc->max_len);
	if ((rs->stream = queue_dest_compile(rs->rc->stream, &why)) == NULL)
		goto fail;
	url = rs->rc->url;
	ref = rs->rc->password_ref;
	if (url == NULL) {
		if (conf == NULL || conf->store.type != STORE_REDIS ||
		    conf->store.url == NULL)
			return (fail(cause, "redisstream %s: no url and the "
			    "store is not Redis", rs->id));
		url = conf->store.url;
		ref = conf->store.password;
	}
	if (ref != NULL && secret_resolve(conf, ref, &password, &why) != 0) {
		fail(cause, "redisstream %s: password %s: %s", rs->id, ref,
		    why);
		free(why);
		return (-1);
	}
	rs->r = redis_open(s->env->base, url, password, &why);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (rs->r == NULL)
		goto fail;
	redis_set_timeout(rs->r, rs->rc->timeout_ms);
	return (0);
fail:
	fail(cause, "redisstream %s: %s", rs->id, why);
	free(why);
	return (-1);
}

/* An error answer that no retry can mend. */
static int
redisstream_permanent(const char *err)
{
	return (strncmp(err, "WRONGTYPE", 9) == 0 ||
	    strncmp(err, "ERR", 3) == 0);
}

static void
redisstream_reply(redisReply *reply, const char *why, void *arg)
{
	struct redisstream_op	*op = arg;
	struct redisstream	*rs = op->rs;
	enum delivery		 d = DELIVERY_OK;
	char			*cause = NULL;

	if (rs == NULL) {		/* cancelled */
		free(op);
		return;
	}
	TAILQ_REMOVE(&rs->ops, op, entry);
	if (reply == NULL) {
		d = op->empty ? DELIVERY_PERMANENT : DELIVERY_RETRY;
		xasprintf(&cause, "redisstream %s: %s", rs->id, why);
	} else if (reply->type == REDIS_REPLY_ERROR) {
		d = redisstream_permanent(reply->str) ? DELIVERY_PERMANENT :
		    DELIVERY_RETRY;
		xasprintf(&cause, "redisstream %s: XADD: %s", rs->id,
		    reply->str);
	}
	/* The callback may deliver again or free the sink. */
	op->done(d, -1, cause, op->arg);
	free(cause);
	free(op);
}

struct redisstream_args {
	const char	**argv;
	size_t		 *lens;
	char		**owned;
	int		  argc, nowned, size;
};

static void
redisstream_push(struct redisstream_args *a, const char *s, size_t len)
{
	if (a->argc == a->size) {
		a->size = a->size == 0 ? 32 : a->size * 2;
		a->argv = xreallocarray(a->argv, a->size, sizeof *a->argv);
		a->lens = xreallocarray(a->lens, a->size, sizeof *a->lens);
		a->owned = xreallocarray(a->owned, a->size, sizeof *a->owned);
	}
	a->argv[a->argc] = s;
	a->lens[a->argc] = len;
	a->argc++;
}

/* Push a string the args own. */
static void
redisstream_own(struct redisstream_args *a, char *s, size_t len)
{
	redisstream_push(a, s, len);
	a->owned[a->nowned++] = s;	/* never more than argc */
}

static void
redisstream_attr(const char *name, const char *value, void *arg)
{
	struct redisstream_args	*a = arg;

	redisstream_own(a, xstrdup(name), strlen(name));
	redisstream_own(a, xstrdup(value), strlen(value));
}

static void
redisstream_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct redisstream	*rs = s->data;
	struct redisstream_args	 a = { 0 };
	struct redisstream_op	*op;
	struct queue_event	 ev;
	char			*stream, *data;
	size_t			 len;
	int			 i;

	if (rs->rc->mode == QUEUE_BINARY || !queue_dest_fixed(rs->stream))
		queue_event_parse(e, &ev);
	else
		queue_event_wrap(e, &ev);	/* the JSON as it is */
	stream = queue_dest_render(rs->stream, &ev);
	op = xcalloc(1, sizeof *op);
	op->rs = rs;
	op->done = done;
	op->arg = arg;
	TAILQ_INSERT_TAIL(&rs->ops, op, entry);
	if (*stream == '\0') {
		free(stream);
		queue_event_free(&ev);
		op->empty = 1;
		redis_defer_error(rs->r, "the stream name renders empty",
		    redisstream_reply, op);
		return;
	}
	redisstream_push(&a, "XADD", 4);
	redisstream_own(&a, stream, strlen(stream));
	if (rs->rc->max_len > 0) {
		redisstream_push(&a, "MAXLEN", 6);
		redisstream_push(&a, "~", 1);
		redisstream_push(&a, rs->max_len, strlen(rs->max_len));
	}
	redisstream_push(&a, "*", 1);
	if (rs->rc->mode == QUEUE_BINARY) {
		queue_attrs(&ev, redisstream_attr, &a);
		data = queue_data(&ev, &len);
		redisstream_push(&a, "data", 4);
		redisstream_own(&a, data, len);
	} else {
		redisstream_push(&a, "id", 2);
		redisstream_push(&a, e->id, strlen(e->id));
		redisstream_push(&a, "event", 5);
		redisstream_push(&a, ev.json, ev.json_len);
	}
	redis_command(rs->r, a.argc, a.argv, a.lens, redisstream_reply, op);
	for (i = 0; i < a.nowned; i++)
		free(a.owned[i]);
	free(a.owned);
	free(a.argv);
	free(a.lens);
	queue_event_free(&ev);
}

static void
redisstream_cancel(struct sink *s)
{
	struct redisstream	*rs = s->data;
	struct redisstream_op	*op;

	if (rs == NULL)
		return;
	while ((op = TAILQ_FIRST(&rs->ops)) != NULL) {
		TAILQ_REMOVE(&rs->ops, op, entry);
		op->rs = NULL;		/* its answer frees it */
	}
}

static void
redisstream_free(struct sink *s)
{
	struct redisstream	*rs = s->data;

	if (rs == NULL)
		return;
	redisstream_cancel(s);
	redis_close(rs->r);
	queue_dest_free(rs->stream);
	free(rs);
	s->data = NULL;
}

const struct sink_entry sink_redisstream_entry = {
	.name = "RedisStream",
	.keys = redisstream_keys,
	.size = sizeof (struct redisstream_conf),
	.check = redisstream_check,
	.init = redisstream_init,
	.deliver = redisstream_deliver,
	.cancel = redisstream_cancel,
	.free = redisstream_free,
	.max_inflight = REDISSTREAM_INFLIGHT,
};
