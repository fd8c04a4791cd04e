/*
 * bench-queue.c: issue 14's queue benchmark.  For one queue sink it times,
 * in the same run and against the same server:
 *
 *   watcher  N events committed to an LMDB outbox beforehand (not timed),
 *            then delivered by the watcher's own dispatcher and sink, each
 *            acknowledged in the store: from the dispatcher's start until
 *            the last ack;
 *   bare     the same N messages (the same CloudEvent JSON, the same
 *            destination and id header) published by a bare client of the
 *            same library with the same confirmation, up to the sink's
 *            default window in flight: RedisStream XADD answers (hiredis
 *            async on libevent), JetStream PubAcks (libnats async
 *            publish), Kafka delivery reports (librdkafka, idempotent,
 *            acks=all).
 *
 * and prints events per second for both and their ratio.  Not part of
 * make check.
 *
 * usage: bench-queue redis URL | nats URL | kafka [-n events] [-r rounds]
 * (kafka runs librdkafka's mock cluster in this process; the others need a
 * server: bench/queues/run.sh starts them.)
 */
#include <sys/stat.h>

#include <ftw.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <nats/nats.h>

#include "config.h"
#include "dispatch.h"
#include "event.h"
#include "redis.h"
#include "sink.h"
#include "store.h"

static int		 nevents = 20000;
static int		 rounds = 3;
static const char	*kind, *url;
static char		**ids, **jsons;

static double
clock_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
rm_one(const char *p, const struct stat *sb __unused, int f __unused,
    struct FTW *ftw __unused)
{
	return (remove(p));
}

/* N realistic events of one source, as the watcher makes them. */
static void
make_events(void)
{
	struct event_info	 info = { 0 };
	struct version		 v = { 0 };
	char			 id[33], name[32];
	int			 i;

	ids = xcalloc(nevents, sizeof *ids);
	jsons = xcalloc(nevents, sizeof *jsons);
	info.type = EVENT_CREATED;
	info.source_id = "bench";
	info.source_type = "DockerRegistry";
	info.connector_ref = "hub";
	info.registry = "index.docker.io";
	info.repository = "library/nginx";
	info.version = &v;
	info.detected_s = 1796000000;
	v.name = name;
	v.digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcd"
	    "ef0123456789abcdef";
	for (i = 0; i < nevents; i++) {
		snprintf(name, sizeof name, "1.%d.%d", i / 1000, i % 1000);
		jsons[i] = event_json(&info, id);
		ids[i] = xstrdup(id);
	}
}

/* ---- the watcher: outbox, dispatcher, sink ---- */

struct run {
	struct event_base	*base;
	int			 done;
};

static void
on_commit(int status, const char *cause, void *arg)
{
	struct run	*r = arg;

	if (status != STORE_OK)
		fatalx("commit: %s", cause);
	r->done = 1;
}

static void
commit_wait(struct store *st, struct run *r, const struct store_commit *c)
{
	r->done = 0;
	st->entry->commit(st, c, on_commit, r);
	while (!r->done)
		event_base_loop(r->base, EVLOOP_ONCE);
}

static void
fill_outbox(struct store *st, struct run *r)
{
	static const char *const sinks[] = { "q" };
	struct store_commit	 c = { .source = "bench", .epoch = "ep1" };
	struct store_change	*ch;
	struct store_event	*ev;
	int			 i, j, n;

	c.baseline = 1;
	commit_wait(st, r, &c);
	c.baseline = 0;
	ch = xcalloc(1000, sizeof *ch);
	ev = xcalloc(1000, sizeof *ev);
	for (i = 0; i < nevents; i += n) {
		n = nevents - i < 1000 ? nevents - i : 1000;
		for (j = 0; j < n; j++) {
			ch[j].name = ids[i + j];
			ev[j].id = ids[i + j];
			ev[j].json = jsons[i + j];
			ev[j].sinks = sinks;
			ev[j].nsinks = 1;
		}
		c.changes = ch;
		c.nchanges = n;
		c.events = ev;
		c.nevents = n;
		commit_wait(st, r, &c);
	}
	free(ch);
	free(ev);
}

static void
on_notify(struct dispatch *d, enum dispatch_state state, void *arg)
{
	struct run	*r = arg;

	if (state == DISPATCH_RETRY_WAIT)
		fatalx("bench: a delivery failed");
	if (state == DISPATCH_IDLE &&
	    dispatch_counters(d)->delivered >= (uint64_t)nevents)
		r->done = 1;
}

static const char *
sink_spec(void)
{
	static char	 spec[512];

	if (strcmp(kind, "redis") == 0)
		snprintf(spec, sizeof spec, "type: RedisStream\n    spec: "
		    "{ url: \"%s\", stream: bench.w, maxLen: 0 }", url);
	else if (strcmp(kind, "nats") == 0)
		snprintf(spec, sizeof spec, "type: Nats\n    spec: "
		    "{ url: \"%s\", subject: bench.w, jetStream: true }", url);
	else
		snprintf(spec, sizeof spec, "type: Kafka\n    spec: "
		    "{ brokers: \"%s\", topic: benchw }", url);
	return (spec);
}

static double
run_watcher(void)
{
	struct run		 r = { 0 };
	struct cfg_errors	 errs = { 0 };
	struct env		 env = { 0 };
	struct config		*conf;
	struct store		*st;
	struct sink		*s;
	struct dispatch		*d;
	char			 dir[] = "/tmp/bench-queue-XXXXXX", path[96];
	char			*cause;
	double			 t;
	FILE			*f;
	size_t			 i;

	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	snprintf(path, sizeof path, "%s/w.yaml", dir);
	if ((f = fopen(path, "w")) == NULL)
		fatal("fopen");
	fprintf(f, "store: { type: lmdb, path: \"%s/state\" }\nsinks:\n"
	    "  - identifier: q\n    %s\n", dir, sink_spec());
	fclose(f);
	if ((conf = config_load(path, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		fatalx("config");
	}
	r.base = event_base_new();
	if ((st = store_open_config(r.base, conf, &cause)) == NULL)
		fatalx("store: %s", cause);
	fill_outbox(st, &r);
	env.base = r.base;
	env.store = st;
	env.conf = conf;
	if ((s = sink_create(&env, config_sink(conf, "q"), &cause)) == NULL)
		fatalx("sink: %s", cause);
	r.done = 0;
	t = clock_s();
	d = dispatch_create(&env, s, NULL);
	dispatch_set_notify(d, on_notify, &r);
	while (!r.done)
		event_base_loop(r.base, EVLOOP_ONCE);
	t = clock_s() - t;
	dispatch_free(d);
	sink_free(s);
	store_close(st);
	event_base_free(r.base);
	config_free(conf);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return (nevents / t);
}

/* ---- the sink alone: no outbox, its default window ---- */

struct direct {
	struct sink		*s;
	struct outbox_entry	*e;
	int			 sent, acked, window;
};

static void	direct_send(struct direct *);

static void
direct_done(enum delivery d, int64_t retry_after_ms __unused,
    const char *cause, void *arg)
{
	struct direct	*dr = arg;

	if (d != DELIVERY_OK)
		fatalx("sink: %s", cause != NULL ? cause : "failed");
	dr->acked++;
	direct_send(dr);
}

static void
direct_send(struct direct *dr)
{
	while (dr->sent < nevents && dr->sent - dr->acked < dr->window) {
		dr->s->entry->deliver(dr->s, &dr->e[dr->sent], direct_done,
		    dr);
		dr->sent++;
	}
}

static double
run_sink(int window)
{
	struct cfg_errors	 errs = { 0 };
	struct env		 env = { 0 };
	struct direct		 dr = { .window = window };
	struct config		*conf;
	struct event_base	*base;
	char			 path[] = "/tmp/bench-queue-XXXXXX", *cause;
	double			 t;
	FILE			*f;
	int			 fd, i;

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		fatal("mkstemp");
	fprintf(f, "sinks:\n  - identifier: q\n    %s\n", sink_spec());
	fclose(f);
	if ((conf = config_load(path, &errs)) == NULL)
		fatalx("config");
	unlink(path);
	base = event_base_new();
	env.base = base;
	env.conf = conf;
	if ((dr.s = sink_create(&env, config_sink(conf, "q"), &cause)) == NULL)
		fatalx("sink: %s", cause);
	dr.e = xcalloc(nevents, sizeof *dr.e);
	for (i = 0; i < nevents; i++) {
		dr.e[i].id = ids[i];
		dr.e[i].source = "bench";
		dr.e[i].json = jsons[i];
		dr.e[i].key = ids[i];
	}
	t = clock_s();
	direct_send(&dr);
	while (dr.acked < nevents)
		event_base_loop(base, EVLOOP_ONCE);
	t = clock_s() - t;
	sink_free(dr.s);
	free(dr.e);
	event_base_free(base);
	config_free(conf);
	return (nevents / t);
}

/* ---- bare clients, the same messages, the same window ---- */

struct bare {
	struct event_base	*base;
	int			 sent, acked, window;
	void			*client;
};

static void	redis_send(struct bare *);

static void
redis_reply(redisAsyncContext *ac __unused, void *reply, void *arg)
{
	struct bare	*b = arg;
	redisReply	*rr = reply;

	if (rr == NULL || rr->type == REDIS_REPLY_ERROR)
		fatalx("bare redis: %s", rr != NULL ? rr->str : "no reply");
	b->acked++;
	redis_send(b);
}

static void
redis_send(struct bare *b)
{
	const char	*argv[7];
	size_t		 lens[7];
	int		 i;

	while (b->sent < nevents && b->sent - b->acked < b->window) {
		i = b->sent++;
		argv[0] = "XADD"; argv[1] = "bench.b"; argv[2] = "*";
		argv[3] = "id"; argv[4] = ids[i];
		argv[5] = "event"; argv[6] = jsons[i];
		for (i = 0; i < 7; i++)
			lens[i] = strlen(argv[i]);
		redisAsyncCommandArgv(b->client, redis_reply, b, 7, argv, lens);
	}
}

static double
bare_redis(int window)
{
	struct bare		 b = { .window = window };
	struct redis_url	 u;
	redisAsyncContext	*ac;
	char			*cause;
	double			 t;

	if (redis_url_parse(url, &u, &cause) != 0)
		fatalx("url: %s", cause);
	b.base = event_base_new();
	ac = redisAsyncConnect(u.host, u.port);
	if (ac == NULL || ac->err)
		fatalx("bare redis: connect");
	redisLibeventAttach(ac, b.base);
	b.client = ac;
	t = clock_s();
	redis_send(&b);
	while (b.acked < nevents)
		event_base_loop(b.base, EVLOOP_ONCE);
	t = clock_s() - t;
	redisAsyncFree(ac);
	event_base_free(b.base);
	redis_url_free(&u);
	return (nevents / t);
}

struct nats_bare {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cond;
	int		 acked;
};

static void
nats_ack(jsCtx *js __unused, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae,
    void *closure)
{
	struct nats_bare	*nb = closure;

	if (pa == NULL)
		fatalx("bare nats: %s", pae != NULL && pae->ErrText != NULL ?
		    pae->ErrText : "no PubAck");
	pthread_mutex_lock(&nb->mu);
	nb->acked++;
	pthread_cond_signal(&nb->cond);
	pthread_mutex_unlock(&nb->mu);
	natsMsg_Destroy(msg);
}

static double
bare_nats(int window)
{
	struct nats_bare	 nb = { .mu = PTHREAD_MUTEX_INITIALIZER,
				    .cond = PTHREAD_COND_INITIALIZER };
	natsConnection		*nc = NULL;
	jsCtx			*js = NULL;
	jsOptions		 jo;
	jsPubOptions		 po;
	natsMsg			*m;
	double			 t;
	int			 i;

	if (natsConnection_ConnectTo(&nc, url) != NATS_OK)
		fatalx("bare nats: connect");
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 65536;
	jo.PublishAsync.AckHandler = nats_ack;
	jo.PublishAsync.AckHandlerClosure = &nb;
	if (natsConnection_JetStream(&js, nc, &jo) != NATS_OK)
		fatalx("bare nats: jetstream");
	t = clock_s();
	for (i = 0; i < nevents; i++) {
		pthread_mutex_lock(&nb.mu);
		while (i - nb.acked >= window)
			pthread_cond_wait(&nb.cond, &nb.mu);
		pthread_mutex_unlock(&nb.mu);
		natsMsg_Create(&m, "bench.b", NULL, jsons[i],
		    (int)strlen(jsons[i]));
		natsMsgHeader_Set(m, "content-type",
		    "application/cloudevents+json");
		jsPubOptions_Init(&po);
		po.MsgId = ids[i];
		if (js_PublishMsgAsync(js, &m, &po) != NATS_OK)
			fatalx("bare nats: publish");
	}
	pthread_mutex_lock(&nb.mu);
	while (nb.acked < nevents)
		pthread_cond_wait(&nb.cond, &nb.mu);
	pthread_mutex_unlock(&nb.mu);
	t = clock_s() - t;
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return (nevents / t);
}

static int	kafka_acked;

static void
kafka_dr(rd_kafka_t *rk __unused, const rd_kafka_message_t *m,
    void *opaque __unused)
{
	if (m->err != 0)
		fatalx("bare kafka: %s", rd_kafka_err2str(m->err));
	kafka_acked++;
}

static double
bare_kafka(int window)
{
	rd_kafka_conf_t		*c = rd_kafka_conf_new();
	rd_kafka_headers_t	*h;
	rd_kafka_t		*rk;
	char			 err[256], key[64];
	double			 t;
	int			 i;

	rd_kafka_conf_set(c, "bootstrap.servers", url, err, sizeof err);
	rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof err);
	rd_kafka_conf_set(c, "acks", "all", err, sizeof err);
	rd_kafka_conf_set_dr_msg_cb(c, kafka_dr);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err)) ==
	    NULL)
		fatalx("bare kafka: %s", err);
	kafka_acked = 0;
	t = clock_s();
	for (i = 0; i < nevents; i++) {
		while (i - kafka_acked >= window)
			rd_kafka_poll(rk, 10);
		h = rd_kafka_headers_new(2);
		rd_kafka_header_add(h, "Idempotency-Key", -1, ids[i], -1);
		rd_kafka_header_add(h, "content-type", -1,
		    "application/cloudevents+json", -1);
		snprintf(key, sizeof key, "bench@1.%d.%d", i / 1000, i % 1000);
		if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("benchb"),
		    RD_KAFKA_V_KEY(key, strlen(key)),
		    RD_KAFKA_V_VALUE(jsons[i], strlen(jsons[i])),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END) != 0)
			fatalx("bare kafka: produce");
		rd_kafka_poll(rk, 0);
	}
	while (kafka_acked < nevents)
		rd_kafka_poll(rk, 10);
	t = clock_s() - t;
	rd_kafka_destroy(rk);
	return (nevents / t);
}

/* A fresh JetStream stream for bench.>, so that no id is a repeat. */
static void
nats_stream_reset(void)
{
	static const char *subjects[] = { "bench.>" };
	natsConnection	*nc = NULL;
	jsCtx		*js = NULL;
	jsStreamConfig	 cfg;
	natsStatus	 s;

	if (natsConnection_ConnectTo(&nc, url) != NATS_OK ||
	    natsConnection_JetStream(&js, nc, NULL) != NATS_OK)
		fatalx("nats: connect");
	js_DeleteStream(js, "BENCH", NULL, NULL);
	jsStreamConfig_Init(&cfg);
	cfg.Name = "BENCH";
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	if ((s = js_AddStream(NULL, js, &cfg, NULL, NULL)) != NATS_OK)
		fatalx("nats: add stream: %s", natsStatus_GetText(s));
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

int
main(int argc, char **argv)
{
	rd_kafka_t		*mock_rk = NULL;
	rd_kafka_mock_cluster_t	*mc = NULL;
	const struct sink_entry	*se;
	double			*w, *b1, *bw, *s1, *sw;
	char			 err[256];
	int			 ch, i, window;

	while ((ch = getopt(argc, argv, "n:r:")) != -1) {
		switch (ch) {
		case 'n':
			nevents = atoi(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || nevents < 1 || rounds < 1)
		goto usage;
	kind = argv[0];
	if (strcmp(kind, "kafka") == 0) {
		rd_kafka_conf_t	*c = rd_kafka_conf_new();

		rd_kafka_conf_set(c, "log_level", "0", err, sizeof err);
		mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
		if (mock_rk == NULL || (mc = rd_kafka_mock_cluster_new(mock_rk,
		    3)) == NULL)
			fatalx("mock cluster");
		rd_kafka_mock_topic_create(mc, "benchw", 1, 3);
		rd_kafka_mock_topic_create(mc, "benchb", 1, 3);
		url = rd_kafka_mock_cluster_bootstraps(mc);
		se = sink_find("Kafka");
	} else if (argc == 2 && (strcmp(kind, "redis") == 0 ||
	    strcmp(kind, "nats") == 0)) {
		url = argv[1];
		se = sink_find(strcmp(kind, "redis") == 0 ? "RedisStream" :
		    "Nats");
	} else
		goto usage;
	log_set_level(LOG_WARN);
	window = se->max_inflight > 0 ? (int)se->max_inflight : 1;
	make_events();
	w = xcalloc(rounds, sizeof *w);
	b1 = xcalloc(rounds, sizeof *b1);
	bw = xcalloc(rounds, sizeof *bw);
	s1 = xcalloc(rounds, sizeof *s1);
	sw = xcalloc(rounds, sizeof *sw);
	for (i = 0; i < rounds; i++) {
		if (strcmp(kind, "nats") == 0)
			nats_stream_reset();
		w[i] = run_watcher();
		if (strcmp(kind, "nats") == 0)
			nats_stream_reset();
		s1[i] = run_sink(1);
		if (strcmp(kind, "nats") == 0)
			nats_stream_reset();
		sw[i] = run_sink(window);
		if (strcmp(kind, "redis") == 0) {
			b1[i] = bare_redis(1);
			bw[i] = bare_redis(window);
		} else if (strcmp(kind, "nats") == 0) {
			nats_stream_reset();
			b1[i] = bare_nats(1);
			nats_stream_reset();
			bw[i] = bare_nats(window);
		} else {
			b1[i] = bare_kafka(1);
			bw[i] = bare_kafka(window);
		}
	}
	qsort(w, rounds, sizeof *w, cmp_double);
	qsort(b1, rounds, sizeof *b1, cmp_double);
	qsort(bw, rounds, sizeof *bw, cmp_double);
	qsort(s1, rounds, sizeof *s1, cmp_double);
	qsort(sw, rounds, sizeof *sw, cmp_double);
	i = rounds / 2;
	printf("%s: %d events, median of %d rounds, events/s\n", kind,
	    nevents, rounds);
	printf("  window %3d: sink alone %8.0f  bare %8.0f  ratio %.2f\n",
	    window, sw[i], bw[i], sw[i] / bw[i]);
	printf("  window   1: sink alone %8.0f  bare %8.0f  ratio %.2f\n",
	    s1[i], b1[i], s1[i] / b1[i]);
	printf("  watcher (outbox, dispatcher, sink, ack per event): %.0f; "
	    "ratio to bare window %d: %.2f, to bare window 1: %.2f\n", w[i],
	    window, w[i] / bw[i], w[i] / b1[i]);
	if (mc != NULL) {
		rd_kafka_mock_cluster_destroy(mc);
		rd_kafka_destroy(mock_rk);
	}
	return (0);
usage:
	fprintf(stderr, "usage: bench-queue [-n events] [-r rounds] "
	    "redis URL | nats URL | kafka\n");
	return (2);
}
