/*
 * sink-stdout.c: the Stdout sink, one CloudEvent per line on standard output,
 * for demos and for piping into jq or another program.  The line is written
 * with write(2), so nothing waits in a stdio buffer; when stdout is a full
 * non-blocking pipe the rest goes out when it becomes writable, and the loop
 * never blocks.  A write that fails outright (the reader went away) is logged
 * and the event counts as delivered: retrying would not bring the reader back.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "sink.h"

struct stdout_conf {
	int	 pretty;
};

static const struct cfg_key stdout_keys[] = {
	{ .name = "pretty", .type = CFG_BOOL,
	  .off = offsetof(struct stdout_conf, pretty), .def = "false" },
	{ .name = NULL }
};

/* A delivery waiting for its line to be out. */
struct stdout_call {
	size_t		 end;		/* its line ends here in `out` */
	sink_done_cb	 done;
	void		*arg;
};

/*
 * One instance: the lines being written (several with maxInFlight above 1,
 * one after the other) and who to tell when each is out.
 */
struct stdout_sink {
	const struct stdout_conf *sc;
	int			 fd;
	struct event		*finish;	/* runs a `done` from the loop */
	struct event		*writable;	/* fd is writable again */
	struct buf		 out;
	size_t			 off;		/* written of out */
	int			 failed;	/* gave up on the rest */
	struct stdout_call	*calls;
	size_t			 ncalls;
};

/* Drop what is written, so that a steady flow does not grow the buffer. */
static void
stdout_compact(struct stdout_sink *ss)
{
	size_t	 i;

	if (ss->off < 64 * 1024)
		return;
	memmove(ss->out.data, ss->out.data + ss->off, ss->out.len - ss->off);
	ss->out.len -= ss->off;
	for (i = 0; i < ss->ncalls; i++)
		ss->calls[i].end -= ss->off;
	ss->off = 0;
}

/* Tell the first delivery whose line is out; one per run of the loop, as
 * its callback may deliver again or free the sink. */
static void
stdout_finish(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct stdout_sink	*ss = arg;
	struct stdout_call	 c;

	if (ss->ncalls == 0 || (!ss->failed && ss->calls[0].end > ss->off))
		return;
	c = ss->calls[0];
	memmove(ss->calls, ss->calls + 1, --ss->ncalls * sizeof *ss->calls);
	if (ss->ncalls == 0) {
		buf_free(&ss->out);
		ss->off = 0;
		ss->failed = 0;
	} else if (ss->failed || ss->calls[0].end <= ss->off)
		event_active(ss->finish, 0, 0);
	else
		stdout_compact(ss);
	c.done(DELIVERY_OK, -1, NULL, c.arg);
}

/* Write what is left; 1 when it is out (or cannot be), 0 to wait. */
static int
stdout_write(struct stdout_sink *ss)
{
	ssize_t	 n;

	while (!ss->failed && ss->off < ss->out.len) {
		n = write(ss->fd, ss->out.data + ss->off,
		    ss->out.len - ss->off);
		if (n >= 0) {
			ss->off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (0);
		log_warn("stdout write failed", "error=%s",
		    log_q(strerror(errno)));
		ss->failed = 1;
	}
	return (1);
}

static void
stdout_writable(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct stdout_sink	*ss = arg;

	if (!stdout_write(ss))
		event_add(ss->writable, NULL);
	event_active(ss->finish, 0, 0);
}

static int
stdout_init(struct sink *s, char **cause __unused)
{
	struct stdout_sink	*ss;

	ss = xcalloc(1, sizeof *ss);
	ss->sc = s->conf->data;
	ss->fd = STDOUT_FILENO;
	ss->finish = event_new(s->env->base, -1, 0, stdout_finish, ss);
	ss->writable = event_new(s->env->base, ss->fd, EV_WRITE,
	    stdout_writable, ss);
	if (ss->finish == NULL || ss->writable == NULL)
		fatalx("event_new failed");
	s->data = ss;
	return (0);
}

static void
stdout_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct stdout_sink	*ss = s->data;
	struct stdout_call	*c;
	cJSON			*json;
	char			*text;

	json = ss->sc != NULL && ss->sc->pretty ? cJSON_Parse(e->json) : NULL;
	text = json != NULL ? cJSON_Print(json) : NULL;
	if (text != NULL) {
		buf_adds(&ss->out, text);
		cJSON_free(text);
	} else
		buf_adds(&ss->out, e->json);
	cJSON_Delete(json);
	buf_add(&ss->out, "\n", 1);
	ss->calls = xreallocarray(ss->calls, ss->ncalls + 1, sizeof *ss->calls);
	c = &ss->calls[ss->ncalls++];
	c->end = ss->out.len;
	c->done = done;
	c->arg = arg;

	/* Either way `done` runs later, from the loop, never from here. */
	if (event_pending(ss->writable, EV_WRITE, NULL))
		return;
	if (!stdout_write(ss) && event_add(ss->writable, NULL) != 0)
		ss->failed = 1;
	event_active(ss->finish, 0, 0);
}

static void
stdout_cancel(struct sink *s)
{
	struct stdout_sink	*ss = s->data;

	if (ss == NULL)
		return;
	event_del(ss->finish);
	event_del(ss->writable);
	buf_free(&ss->out);
	ss->off = 0;
	ss->failed = 0;
	free(ss->calls);
	ss->calls = NULL;
	ss->ncalls = 0;
}

static void
stdout_free(struct sink *s)
{
	struct stdout_sink	*ss = s->data;

	if (ss == NULL)
		return;
	event_free(ss->finish);
	event_free(ss->writable);
	buf_free(&ss->out);
	free(ss->calls);
	free(ss);
	s->data = NULL;
}

const struct sink_entry sink_stdout_entry = {
	.name = "Stdout",
	.keys = stdout_keys,
	.size = sizeof (struct stdout_conf),
	.init = stdout_init,
	.deliver = stdout_deliver,
	.cancel = stdout_cancel,
	.free = stdout_free,
	.max_inflight = 1,	/* one at a time unless maxInFlight says */
};
