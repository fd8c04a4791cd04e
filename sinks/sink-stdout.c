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

/* One instance: the line being written and who to tell when it is out. */
struct stdout_sink {
	const struct stdout_conf *sc;
	int			 fd;
	struct event		*finish;	/* runs `done` from the loop */
	struct event		*writable;	/* fd is writable again */
	struct buf		 line;
	size_t			 off;
	sink_done_cb		 done;
	void			*arg;
};

static void
stdout_finish(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct stdout_sink	*ss = arg;
	sink_done_cb		 done = ss->done;
	void			*done_arg = ss->arg;

	ss->done = NULL;
	ss->arg = NULL;
	buf_free(&ss->line);
	ss->off = 0;
	done(DELIVERY_OK, -1, NULL, done_arg);
}

/* Write what is left; 1 when the line is out (or cannot be), 0 to wait. */
static int
stdout_write(struct stdout_sink *ss)
{
	ssize_t	 n;

	while (ss->off < ss->line.len) {
		n = write(ss->fd, ss->line.data + ss->off,
		    ss->line.len - ss->off);
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
		return (1);
	}
	return (1);
}

static void
stdout_writable(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct stdout_sink	*ss = arg;

	if (stdout_write(ss))
		stdout_finish(-1, 0, ss);
	else
		event_add(ss->writable, NULL);
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
	cJSON			*json;
	char			*text;

	json = ss->sc != NULL && ss->sc->pretty ? cJSON_Parse(e->json) : NULL;
	text = json != NULL ? cJSON_Print(json) : NULL;
	if (text != NULL) {
		buf_adds(&ss->line, text);
		cJSON_free(text);
	} else
		buf_adds(&ss->line, e->json);
	cJSON_Delete(json);
	buf_add(&ss->line, "\n", 1);
	ss->off = 0;
	ss->done = done;
	ss->arg = arg;

	/* Either way `done` runs later, from the loop, never from here. */
	if (stdout_write(ss) || event_add(ss->writable, NULL) != 0)
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
	buf_free(&ss->line);
	ss->off = 0;
	ss->done = NULL;
	ss->arg = NULL;
}

static void
stdout_free(struct sink *s)
{
	struct stdout_sink	*ss = s->data;

	if (ss == NULL)
		return;
	event_free(ss->finish);
	event_free(ss->writable);
	buf_free(&ss->line);
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
};
