/*
 * files-probe.c: `check --connect` of the Sftp and Smb connectors, which
 * no source names: the connector's job (connector-sftp.c, connector-smb.c)
 * run in a child as a listing is (child.h), with its secrets resolved just
 * before the fork and wiped from the daemon right after; the job logs in
 * and opens what it would list (the SFTP channel, the share), then ends.
 * The child's last line of stderr is the cause.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "child.h"
#include "connector.h"
#include "provider-files.h"

#define FILES_PROBE_MAX_OUT	4096

struct files_probe {
	struct files_probe_conf	 conf;
	char			*what;
	struct child		*child;
	struct event		*later;		/* a failure before the run */
	char			*cause;
	void			(*done)(int, const char *, void *);
	void			*arg;
};

static void
probe_end(struct files_probe *fp, int ok, const char *cause)
{
	fp->done(ok, cause, fp->arg);
	if (fp->later != NULL)
		event_free(fp->later);
	if (fp->conf.job != NULL)
		fp->conf.release(fp->conf.job);
	free(fp->what);
	free(fp->cause);
	free(fp);
}

static void
probe_ran(struct child_result *cr, void *arg)
{
	struct files_probe	*fp = arg;
	char			*cause = NULL;

	fp->child = NULL;
	if (cr->status == 0 && !cr->timed_out && !cr->overflow) {
		probe_end(fp, 1, NULL);
		return;
	}
	/* The job says why on its last line; else how it died. */
	if (cr->status > 0 && cr->err_line != NULL)
		xasprintf(&cause, "%s: %s", fp->what, cr->err_line);
	else
		cause = child_cause(cr, fp->what);
	probe_end(fp, 0, cause);
	free(cause);
}

static void
probe_failed_later(__unused evutil_socket_t fd, __unused short what,
    void *arg)
{
	struct files_probe	*fp = arg;

	probe_end(fp, 0, fp->cause);
}

void
files_probe(struct connector *conn, const struct files_probe_conf *pc,
    void (*done)(int, const char *, void *), void *arg)
{
	struct files_probe	*fp;
	struct child_conf	 cc;
	struct timeval		 tv = { 0, 0 };
	char			*cause = NULL;

	fp = xcalloc(1, sizeof *fp);
	fp->conf = *pc;
	fp->what = xstrdup(pc->what != NULL ? pc->what : "probe");
	fp->done = done;
	fp->arg = arg;
	if (pc->job == NULL)
		cause = xstrdup(pc->error != NULL ? pc->error : "no job");
	else if (pc->secrets(conn, pc->job, &cause) == 0) {
		memset(&cc, 0, sizeof cc);
		cc.fn = pc->fn;
		cc.fn_arg = pc->job;
		cc.clear_env = 1;
		cc.timeout_ms = pc->timeout_ms;
		cc.max_out = FILES_PROBE_MAX_OUT;
		fp->child = child_start(conn->env->base, &cc, probe_ran, fp,
		    &cause);
		pc->scrub(pc->job);
		if (fp->child != NULL)
			return;
	}
	fp->cause = cause;
	fp->later = evtimer_new(conn->env->base, probe_failed_later, fp);
	evtimer_add(fp->later, &tv);
}
