/*
 * bare-nats.c: the bare client of the Nats sink benchmark
 * (bench/sinks/nats.py).  It publishes the same messages (one CloudEvent
 * JSON line each, read from a file) with libnats and the same confirmation
 * level as the sink with `jetStream: true`: asynchronous JetStream
 * publishes with Nats-Msg-Id = the event id and the content-type header,
 * each counted on its PubAck, at most `window` without one.  Prints
 * "MESSAGES SECONDS", from the first publish to the last PubAck.
 *
 *	bare-nats MESSAGES URL SUBJECT WINDOW
 */
#include <pthread.h>

#include <nats/nats.h>

#include "bare.h"

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cond = PTHREAD_COND_INITIALIZER;
static size_t		 acked;

static void
on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *arg)
{
	(void)js, (void)arg;
	if (pa == NULL) {
		fprintf(stderr, "bare-nats: %s\n", pae != NULL &&
		    pae->ErrText != NULL ? pae->ErrText : "no PubAck");
		exit(1);
	}
	pthread_mutex_lock(&mu);
	acked++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&mu);
	natsMsg_Destroy(msg);
}

/* Wait until fewer than n are without a PubAck. */
static void
wait_below(size_t sent, size_t n)
{
	pthread_mutex_lock(&mu);
	while (sent - acked >= n)
		pthread_cond_wait(&cond, &mu);
	pthread_mutex_unlock(&mu);
}

int
main(int argc, char **argv)
{
	natsConnection	*nc = NULL;
	jsCtx		*js = NULL;
	jsOptions	 jo;
	jsPubOptions	 po;
	natsMsg		*m;
	char		*data, *p, *line, id[128];
	size_t		 sent = 0, window;
	double		 t0;

	if (argc != 5 || (window = strtoul(argv[4], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bare-nats MESSAGES URL SUBJECT "
		    "WINDOW\n");
		return (2);
	}
	data = p = bare_slurp("bare-nats", argv[1]);
	if (natsConnection_ConnectTo(&nc, argv[2]) != NATS_OK) {
		fprintf(stderr, "bare-nats: cannot connect\n");
		return (1);
	}
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 65536;
	jo.PublishAsync.AckHandler = on_ack;
	if (natsConnection_JetStream(&js, nc, &jo) != NATS_OK) {
		fprintf(stderr, "bare-nats: no JetStream\n");
		return (1);
	}
	t0 = bare_now();
	while ((line = bare_line(&p)) != NULL) {
		wait_below(sent, window);
		natsMsg_Create(&m, argv[3], NULL, line, (int)strlen(line));
		natsMsgHeader_Set(m, "content-type",
		    "application/cloudevents+json");
		jsPubOptions_Init(&po);
		po.MsgId = bare_member(line, "id", id, sizeof id);
		if (js_PublishMsgAsync(js, &m, &po) != NATS_OK) {
			fprintf(stderr, "bare-nats: publish failed\n");
			return (1);
		}
		sent++;
	}
	wait_below(sent, 1);
	bare_report(sent, t0);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	free(data);
	return (0);
}
