/*
 * test-sink-nats.c: the Nats sink against a real nats-server -js started
 * here on a free loopback port (its store in a temporary directory): a
 * window of JetStream publishes acked once each by their PubAcks, in
 * order with Nats-Msg-Id, and a repeated id dropped by JetStream; core
 * publishes confirmed by the flush; a subject that renders badly is
 * permanent; no stream for the subject is a retry; cancel() and free()
 * with deliveries outstanding call no `done`; and the config errors.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>
#include <nats/nats.h>

#include "config.h"
#include "sink-suite.h"
#include "sink.h"
#include "store.h"

static struct event_base	*base;
static struct env		 env;
static char			 dir[64];
static pid_t			 server;
static int			 port;

static int
free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 fd, p = -1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		p = ntohs(sin.sin_port);
	close(fd);
	return (p);
}

/* A client of our own, for streams and for reading them back. */
static natsConnection *
client(void)
{
	natsConnection	*nc = NULL;
	char		 url[64];
	int		 i;

	snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
	for (i = 0; i < 200; i++) {
		if (natsConnection_ConnectTo(&nc, url) == NATS_OK)
			return (nc);
		usleep(25000);
	}
	cr_assert_fail("nats-server did not come up");
	return (NULL);
}

static void
stream_add(const char *name, const char *subject)
{
	natsConnection	*nc = client();
	jsCtx		*js = NULL;
	jsStreamConfig	 cfg;
	jsStreamInfo	*si = NULL;
	const char	*subjects[1] = { subject };
	natsStatus	 s = NATS_ERR;
	int		 i;

	cr_assert_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
	jsStreamConfig_Init(&cfg);
	cfg.Name = name;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	/* JetStream may still be starting. */
	for (i = 0; i < 100 && s != NATS_OK; i++) {
		if ((s = js_AddStream(&si, js, &cfg, NULL, NULL)) != NATS_OK)
			usleep(50000);
	}
	cr_assert_eq(s, NATS_OK, "add stream: %s", natsStatus_GetText(s));
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
}

/* The stored message seq of the stream, or NULL. */
static natsMsg *
stream_get(const char *name, uint64_t seq)
{
	natsConnection	*nc = client();
	jsCtx		*js = NULL;
	natsMsg		*m = NULL;

	cr_assert_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
	if (js_GetMsg(&m, js, name, seq, NULL, NULL) != NATS_OK)
		m = NULL;
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return (m);
}

static void
setup(void)
{
	char	 p[16];

	snprintf(dir, sizeof dir, "/tmp/test-nats-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	port = free_port();
	snprintf(p, sizeof p, "%d", port);
	if ((server = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execl("/usr/sbin/nats-server", "nats-server", "-a",
		    "127.0.0.1", "-p", p, "-js", "-sd", dir, (char *)NULL);
		_exit(127);
	}
	cr_assert_gt(server, 0);
	natsConnection_Destroy(client());
	base = event_base_new();
	memset(&env, 0, sizeof env);
	env.base = base;
}

static void
teardown(void)
{
	char	 cmd[96];

	suite_conf_free();
	event_base_free(base);
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		cr_log_warn("cannot remove %s", dir);
}

TestSuite(nats, .init = setup, .fini = teardown, .timeout = 60);

static struct sink *
make_sink(const char *extra)
{
	struct sink		*s;
	char			*text;

	xasprintf(&text, "sinks:\n  - identifier: q\n    type: Nats\n"
	    "    spec: { url: \"nats://127.0.0.1:%d\"%s }\n", port, extra);
	s = suite_sink(&env, text);
	free(text);
	return (s);
}

Test(nats, jetstream_window_acked_once_each_in_order)
{
	struct outbox_entry	 e[20];
	struct outcome		 o[20] = { 0 }, again = { 0 };
	struct sink		*s;
	natsMsg			*m;
	const char		*v;
	char			 want[32];
	int			 i;

	stream_add("W", "w.>");
	s = make_sink(", subject: \"w.<+event.data.sourceId>\", "
	    "jetStream: true");
	cr_assert_geq(s->entry->max_inflight, 16);
	for (i = 0; i < 20; i++) {
		entry_for(&e[i], i, "a");
		s->entry->deliver(s, &e[i], outcome_cb, &o[i]);
		cr_assert_eq(o[i].called, 0, "done never runs inside deliver");
	}
	wait_all(base, o, 20);
	for (i = 0; i < 20; i++) {
		cr_assert_eq(o[i].called, 1);
		cr_assert_eq(o[i].d, DELIVERY_OK, "%d: %s", i, o[i].cause);
	}
	for (i = 0; i < 20; i++) {
		m = stream_get("W", (uint64_t)i + 1);
		cr_assert_not_null(m, "seq %d", i + 1);
		cr_assert_str_eq(natsMsg_GetSubject(m), "w.a");
		snprintf(want, sizeof want, "id-a-%d", i);
		cr_assert_eq(natsMsgHeader_Get(m, "Nats-Msg-Id", &v), NATS_OK);
		cr_assert_str_eq(v, want);
		cr_assert_not_null(strstr(natsMsg_GetData(m), want));
		natsMsg_Destroy(m);
	}
	/* The same id again: acked, and JetStream keeps one copy. */
	s->entry->deliver(s, &e[0], outcome_cb, &again);
	wait_all(base, &again, 1);
	cr_assert_eq(again.d, DELIVERY_OK, "%s", again.cause);
	cr_assert_null(stream_get("W", 21));
	sink_free(s);
	for (i = 0; i < 20; i++) {
		entry_free(&e[i]);
		free(o[i].cause);
	}
	free(again.cause);
}

Test(nats, core_publish_confirmed_by_flush)
{
	natsConnection		*nc = client();
	natsSubscription	*sub = NULL;
	struct outbox_entry	 e;
	struct outcome		 o = { 0 };
	struct sink		*s;
	natsMsg			*m = NULL;
	const char		*v;

	cr_assert_eq(natsConnection_SubscribeSync(&sub, nc, "core.>"),
	    NATS_OK);
	cr_assert_eq(natsConnection_Flush(nc), NATS_OK);
	s = make_sink(", subject: core.x, contentMode: binary");
	entry_for(&e, 1, "c");
	s->entry->deliver(s, &e, outcome_cb, &o);
	wait_all(base, &o, 1);
	cr_assert_eq(o.d, DELIVERY_OK, "%s", o.cause);
	cr_assert_eq(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK);
	cr_assert_eq(natsMsgHeader_Get(m, "ce-id", &v), NATS_OK);
	cr_assert_str_eq(v, "id-c-1");
	cr_assert_eq(natsMsgHeader_Get(m, "ce-type", &v), NATS_OK);
	cr_assert_str_eq(v, "artifact.created");
	cr_assert_eq(natsMsgHeader_Get(m, "content-type", &v), NATS_OK);
	cr_assert_str_eq(v, "application/json");
	cr_assert_str_eq(natsMsg_GetData(m),
	    "{\"sourceId\":\"c\",\"version\":\"1.0.1\"}");
	natsMsg_Destroy(m);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	sink_free(s);
	entry_free(&e);
	free(o.cause);
}

Test(nats, bad_subject_is_permanent_no_stream_is_a_retry)
{
	struct outbox_entry	 e;
	struct outcome		 o = { 0 }, o2 = { 0 };
	struct sink		*s, *s2;

	s = make_sink(", subject: \"x.<+event.data.labels.team>\"");
	entry_for(&e, 1, "b");
	s->entry->deliver(s, &e, outcome_cb, &o);
	wait_all(base, &o, 1);
	cr_assert_eq(o.d, DELIVERY_PERMANENT);
	cr_assert_not_null(strstr(o.cause, "\"x.\""), "%s", o.cause);
	sink_free(s);
	suite_conf_free();

	s2 = make_sink(", subject: nostream.x, jetStream: true, timeout: 2s");
	s2->entry->deliver(s2, &e, outcome_cb, &o2);
	wait_all(base, &o2, 1);
	cr_assert_eq(o2.d, DELIVERY_RETRY);
	cr_assert_not_null(strstr(o2.cause, "nats q: JetStream publish"),
	    "%s", o2.cause);
	sink_free(s2);
	entry_free(&e);
	free(o.cause);
	free(o2.cause);
}

Test(nats, cancel_and_free_call_no_done)
{
	struct outbox_entry	 e[3];
	struct outcome		 o[3] = { 0 }, after = { 0 };
	struct sink		*s;
	int			 i;

	stream_add("C", "c.>");
	s = make_sink(", subject: c.x, jetStream: true");
	for (i = 0; i < 3; i++) {
		entry_for(&e[i], i, "c");
		s->entry->deliver(s, &e[i], outcome_cb, &o[i]);
	}
	s->entry->cancel(s);
	s->entry->deliver(s, &e[0], outcome_cb, &after);
	wait_all(base, &after, 1);
	cr_assert_eq(after.d, DELIVERY_OK, "%s", after.cause);
	for (i = 0; i < 3; i++)
		cr_assert_eq(o[i].called, 0);
	s->entry->deliver(s, &e[1], outcome_cb, &o[1]);
	sink_free(s);
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_assert_eq(o[1].called, 0);
	for (i = 0; i < 3; i++)
		entry_free(&e[i]);
	free(after.cause);
}

Test(nats, unreachable_server_is_a_retry)
{
	struct outbox_entry	 e;
	struct outcome		 o = { 0 };
	struct sink		*s;
	char			 extra[128];

	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	snprintf(extra, sizeof extra, ", subject: u.x, timeout: 500ms");
	s = make_sink(extra);
	entry_for(&e, 1, "u");
	s->entry->deliver(s, &e, outcome_cb, &o);
	wait_all(base, &o, 1);
	cr_assert_eq(o.d, DELIVERY_RETRY);
	cr_assert_not_null(o.cause);
	sink_free(s);
	entry_free(&e);
	free(o.cause);
	server = fork();	/* for teardown: a child that is gone */
	if (server == 0)
		_exit(0);
}

static char *
errors_of(const char *spec)
{
	char	*text, *m;

	xasprintf(&text, "secrets:\n  pw: env:AW_TEST_NATS_PW\n"
	    "sinks:\n  - identifier: q\n    type: Nats\n    spec: %s\n", spec);
	m = suite_errors(text);
	free(text);
	return (m);
}

Test(nats, config_errors)
{
	char	*m;

	m = errors_of("{ url: \"nats://me:secret@h:4222\", subject: s }");
	cr_assert_not_null(strstr(m, ":6:18: spec.url of sink \"q\" holds a "
	    "password"), "%s", m);
	cr_assert_null(strstr(m, "secret@"), "%s", m);
	free(m);
	m = errors_of("{ url: \"http://h\", subject: s }");
	cr_assert_not_null(strstr(m, "must start with nats:// or tls://"),
	    "%s", m);
	free(m);
	m = errors_of("{ url: \"nats://h\", subject: \"a.*\" }");
	cr_assert_not_null(strstr(m, ":6:39: spec.subject of sink \"q\" is "
	    "not a subject"), "%s", m);
	free(m);
	m = errors_of("{ url: \"nats://h\", subject: \"a.<+event.nope>\" }");
	cr_assert_not_null(strstr(m, ":6:42: spec.subject of sink \"q\""),
	    "%s", m);
	free(m);
	m = errors_of("{ url: \"nats://h\", subject: s, passwordRef: pw }");
	cr_assert_not_null(strstr(m, "needs spec.user"), "%s", m);
	free(m);
	m = errors_of("{ url: \"nats://h\", subject: s, jetStream: maybe }");
	cr_assert_not_null(strstr(m, "jetStream"), "%s", m);
	free(m);
}
