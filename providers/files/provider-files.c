/*
 * provider-files.c: what the Sftp and Smb sources share: their spec keys
 * (directory, artifactPathRegex, depth), checks and identity, and how a
 * listing runs: in a forked child (child.h) that does the blocking
 * protocol calls (files-sftp.c, files-smb.c) and prints the listing,
 * bounded by a kill.  The secrets are resolved for each listing, handed to
 * the child by the fork, and wiped from the daemon once it started.
 * Version = the path below `directory`, digest = "size:mtime", pushedAt =
 * mtime: a file rewritten in place is artifact.updated.  Kind `file`.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "child.h"
#include "order.h"
#include "provider.h"
#include "provider-files.h"

#define FILES_MAX_OUT	(64 * 1024 * 1024)

#define SRC_OFF(f)	offsetof(struct files_source, f)

const struct cfg_key files_source_keys[] = {
	{ .name = "connectorRef", .type = CFG_STRING,
	  .off = SRC_OFF(connector_ref) },
	{ .name = "directory", .type = CFG_STRING, .off = SRC_OFF(directory),
	  .flags = CFG_REQUIRED },
	{ .name = "artifactPathRegex", .type = CFG_STRING,
	  .off = SRC_OFF(path_regex) },
	{ .name = "depth", .type = CFG_INT, .off = SRC_OFF(depth),
	  .def = "0", .min = 0, .max = FILES_DEPTH_MAX },
	{ .name = NULL }
};

struct files_call {
	struct provider		*p;
	provider_done_cb	 done;
	void			*arg;
	long long		 max;
	struct child		*child;
	struct event		*later;
	char			*cause;
};

static struct filter *
path_filter(const char *re, char **cause)
{
	struct filter_conf	 fc;

	memset(&fc, 0, sizeof fc);
	fc.include = re;
	fc.keep_noise = 1;
	return (filter_create(&fc, cause));
}

int
files_check(struct source_conf *conf, struct cfg_errors *errs)
{
	const struct files_source	*src = conf->data;
	struct filter			*f;
	char				*cause, *dir;
	int				 bad = 0;

	if (src->directory != NULL) {
		if (files_directory_clean(src->directory, &dir, &cause) != 0) {
			cfg_error(errs, cfg_node_get(conf->spec, "directory"),
			    "%s", cause);
			free(cause);
			bad++;
		} else
			free(dir);
	}
	if (src->path_regex != NULL) {
		if ((f = path_filter(src->path_regex, &cause)) == NULL) {
			cfg_error(errs, cfg_node_get(conf->spec,
			    "artifactPathRegex"), "artifactPathRegex: %s",
			    cause);
			free(cause);
			bad++;
		}
		filter_free(f);
	}
	return (bad);
}

char *
files_identity(const struct source_conf *conf)
{
	const struct files_source	*src = conf->data;
	char				*dir, *cause, *id;

	if (src == NULL || src->directory == NULL)
		return (NULL);
	if (files_directory_clean(src->directory, &dir, &cause) != 0) {
		free(cause);
		return (xstrdup(src->directory));
	}
	xasprintf(&id, "/%s depth=%lld", dir, src->depth);
	free(dir);
	return (id);
}

int
files_init(struct provider *p, struct files *f, char **cause)
{
	const struct files_source	*src = p->conf->data;

	if (files_directory_clean(src->directory, &f->directory, cause) != 0)
		return (-1);
	if (src->path_regex != NULL &&
	    (f->filter = path_filter(src->path_regex, cause)) == NULL) {
		free(f->directory);
		f->directory = NULL;
		return (-1);
	}
	p->fields = cJSON_CreateObject();
	cJSON_AddStringToObject(p->fields, "host", f->host);
	if (f->share != NULL)
		cJSON_AddStringToObject(p->fields, "share", f->share);
	p->data = f;
	return (0);
}

static void
call_free(struct files_call *l)
{
	child_cancel(l->child);
	if (l->later != NULL)
		event_free(l->later);
	free(l->cause);
	free(l);
}

static void
call_end(struct files_call *l, struct versions *vs, const char *cause)
{
	struct files		*f = l->p->data;
	struct provider_result	 r;
	provider_done_cb	 done = l->done;
	void			*arg = l->arg;

	memset(&r, 0, sizeof r);
	r.status = vs != NULL ? 0 : -1;
	r.cause = cause;
	r.versions = vs;
	r.requests = 1;
	f->call = NULL;
	l->child = NULL;
	done(&r, arg);
	call_free(l);
}

static void
call_failed_later(__unused evutil_socket_t fd, __unused short what,
    void *arg)
{
	struct files_call	*l = arg;
	char			*cause = l->cause;

	l->cause = NULL;
	call_end(l, NULL, cause);
	free(cause);
}

static void
files_listed(struct child_result *cr, void *arg)
{
	struct files_call	*l = arg;
	struct files		*f = l->p->data;
	struct versions		*vs;
	char			*cause, *why, *what;

	l->child = NULL;
	xasprintf(&what, "%s listing", f->scheme);
	if (cr->status != 0 || cr->timed_out || cr->overflow) {
		/* The child says why on its last line; else how it died. */
		if (cr->status > 0 && cr->err_line != NULL)
			xasprintf(&cause, "%s://%s: %s", f->scheme, f->host,
			    cr->err_line);
		else
			cause = child_cause(cr, what);
		free(what);
		call_end(l, NULL, cause);
		free(cause);
		return;
	}
	free(what);
	vs = xcalloc(1, sizeof *vs);
	if (files_parse_listing(cr->out.data != NULL ? cr->out.data : "",
	    cr->out.len, f->directory, l->max, vs, &why) != 0) {
		versions_free(vs);
		free(vs);
		xasprintf(&cause, "%s listing: %s", f->scheme, why);
		free(why);
		call_end(l, NULL, cause);
		free(cause);
		return;
	}
	call_end(l, vs, NULL);
}

void
files_list(struct provider *p, const struct list_request *req,
    provider_done_cb done, void *arg)
{
	struct files		*f = p->data;
	struct files_call	*l;
	struct child_conf	 cc;
	struct timeval		 tv = { 0, 0 };
	char			*cause = NULL;

	l = xcalloc(1, sizeof *l);
	l->p = p;
	l->done = done;
	l->arg = arg;
	l->max = req->max > 0 ? req->max : 10000;
	f->call = l;
	memset(&cc, 0, sizeof cc);
	cc.clear_env = 1;
	cc.max_out = FILES_MAX_OUT;
	if (f->prepare(p, &cc, l->max, &cause) == 0) {
		l->child = child_start(p->env->base, &cc, files_listed, l,
		    &cause);
		f->scrub(p);
		if (l->child != NULL)
			return;
	}
	l->cause = cause;
	l->later = evtimer_new(p->env->base, call_failed_later, l);
	evtimer_add(l->later, &tv);
}

void
files_cancel(struct provider *p)
{
	struct files	*f = p->data;

	if (f == NULL || f->call == NULL)
		return;
	call_free(f->call);
	f->call = NULL;
}

void
files_free(struct provider *p)
{
	struct files	*f = p->data;

	if (f == NULL)
		return;
	files_cancel(p);
	f->scrub(p);
	filter_free(f->filter);
	free(f->job);
	free(f->host);
	free(f->share);
	free(f->directory);
	free(f);
	p->data = NULL;
}
