/*
 * sink-file.c: the File sink, each event as one line of compact JSON
 * appended to `path`, made durable (fsync) before it counts as delivered.
 * With `maxBytes`, a file that would grow past it is first rotated:
 * path.(keep-1) becomes path.keep (the oldest is dropped), ..., path becomes
 * path.1, and a new path is started.
 *
 * The writes are plain blocking file I/O on the event loop, kept small and
 * bounded: the deliveries of one run of the loop (at most the window,
 * maxInFlight, default 64) go out as one write and one fdatasync per file
 * they land in, then each is confirmed; a rotation adds at most `keep`
 * renames and a directory fsync.
 * A failed open, write or fsync is retried by the dispatcher with its cause;
 * the part of a batch that did reach the file is cut off again, so a retry
 * never leaves half a line behind.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "sink.h"

#define FILE_MIN_BYTES	1024

struct file_conf {
	char		*path;
	long long	 max_bytes;	/* 0: never rotate */
	long long	 keep;		/* rotated files kept */
};

static const struct cfg_key file_keys[] = {
	{ .name = "path", .type = CFG_STRING,
	  .off = offsetof(struct file_conf, path), .flags = CFG_REQUIRED },
	{ .name = "maxBytes", .type = CFG_INT,
	  .off = offsetof(struct file_conf, max_bytes), .def = "0",
	  .min = 0, .max = 1LL << 50 },
	{ .name = "keep", .type = CFG_INT,
	  .off = offsetof(struct file_conf, keep), .def = "5",
	  .min = 1, .max = 1000 },
	{ .name = NULL }
};

/* A delivery waiting for the next flush. */
struct file_call {
	size_t		 end;		/* its line ends here in `out` */
	sink_done_cb	 done;
	void		*arg;
};

/* One instance: the open file and the lines waiting to be written. */
struct file_sink {
	const struct file_conf	*fc;
	const char		*id;
	int			 fd;		/* -1: not open */
	off_t			 size;		/* of the open file */
	int			 regular;	/* a regular file: can be cut */
	struct event		*flush;		/* writes the batch, from the loop */
	struct buf		 out;
	struct file_call	*calls;
	size_t			 ncalls;
	unsigned		 gen;		/* bumped by cancel */
};

static int
file_check(struct sink_conf *sc, struct cfg_errors *errs)
{
	const struct file_conf	*fc = sc->data;

	if (fc->path != NULL && *fc->path == '\0')
		cfg_error(errs, cfg_node_get(sc->spec, "path"),
		    "path of %s is empty", errs->where);
	if (fc->max_bytes != 0 && fc->max_bytes < FILE_MIN_BYTES)
		cfg_error(errs, cfg_node_get(sc->spec, "maxBytes"),
		    "maxBytes of %s must be 0 (no rotation) or at least %d",
		    errs->where, FILE_MIN_BYTES);
	return (0);
}

static void
file_close(struct file_sink *fs)
{
	if (fs->fd != -1)
		close(fs->fd);
	fs->fd = -1;
}

/* Make the directory entries of path durable (a new or renamed file). */
static int
file_sync_dir(const char *path, char **cause)
{
	char	*copy = xstrdup(path), *dir = dirname(copy);
	int	 fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		xasprintf(cause, "fsync directory %s: %s", dir,
		    strerror(errno));
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	free(copy);
	return (rc);
}

static int
file_open(struct file_sink *fs, char **cause)
{
	struct stat	 st;

	if (fs->fd != -1)
		return (0);
	fs->fd = open(fs->fc->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644);
	if (fs->fd == -1) {
		xasprintf(cause, "open %s: %s", fs->fc->path, strerror(errno));
		return (-1);
	}
	if (fstat(fs->fd, &st) == -1) {
		xasprintf(cause, "stat %s: %s", fs->fc->path, strerror(errno));
		file_close(fs);
		return (-1);
	}
	fs->size = st.st_size;
	fs->regular = S_ISREG(st.st_mode);
	return (file_sync_dir(fs->fc->path, cause));
}

/* path.(keep-1) -> path.keep, ..., path -> path.1. */
static int
file_rotate(struct file_sink *fs, char **cause)
{
	char		*from, *to;
	long long	 i;
	int		 rc = 0;

	file_close(fs);
	for (i = fs->fc->keep; i >= 1 && rc == 0; i--) {
		if (i == 1)
			from = xstrdup(fs->fc->path);
		else
			xasprintf(&from, "%s.%lld", fs->fc->path, i - 1);
		xasprintf(&to, "%s.%lld", fs->fc->path, i);
		if (rename(from, to) == -1 && errno != ENOENT) {
			xasprintf(cause, "rotate %s to %s: %s", from, to,
			    strerror(errno));
			rc = -1;
		}
		free(from);
		free(to);
	}
	if (rc == 0)
		log_info("file sink rotated", "sink=%s path=%s keep=%lld",
		    log_q(fs->id), log_q(fs->fc->path), fs->fc->keep);
	return (rc);
}

/* Append out[from, to) durably; -1 with a cause when it did not. */
static int
file_write_span(struct file_sink *fs, size_t from, size_t to, char **cause)
{
	off_t	 before = fs->size;
	ssize_t	 n;

	while (from < to) {
		n = write(fs->fd, fs->out.data + from, to - from);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		from += (size_t)n;
		fs->size += n;
	}
	if (fdatasync(fs->fd) == -1)
		goto fail;
	return (0);

fail:
	xasprintf(cause, "write %s: %s", fs->fc->path, strerror(errno));
	/* No half line for the retry to follow: cut back, reopen later. */
	if (fs->regular && ftruncate(fs->fd, before) == -1)
		log_warn("file sink: cannot cut back a failed write", "sink=%s "
		    "path=%s error=%s", log_q(fs->id), log_q(fs->fc->path),
		    log_q(strerror(errno)));
	file_close(fs);
	return (-1);
}

/*
 * Write everything waiting, durably, rotating before a line that would
 * take the file past maxBytes (a line larger than that gets a file of its
 * own); -1 with a cause when it did not.
 */
static int
file_write(struct file_sink *fs, char **cause)
{
	long long	 max = fs->fc->max_bytes;
	size_t		 from = 0, to, i = 0;

	if (file_open(fs, cause) != 0)
		return (-1);
	while (from < fs->out.len) {
		to = from;
		while (i < fs->ncalls && (max == 0 || (to == from &&
		    fs->size == 0) || fs->size + (off_t)(fs->calls[i].end -
		    from) <= max))
			to = fs->calls[i++].end;
		if (to == from) {
			if (file_rotate(fs, cause) != 0 ||
			    file_open(fs, cause) != 0)
				return (-1);
			continue;
		}
		if (file_write_span(fs, from, to, cause) != 0)
			return (-1);
		from = to;
	}
	return (0);
}

static void
file_flush(evutil_socket_t fd __unused, short what __unused, void *arg)
{
	struct file_sink	*fs = arg;
	struct file_call	*calls = fs->calls;
	size_t			 i, n = fs->ncalls;
	unsigned		 gen = fs->gen;
	char			*cause = NULL, *why = NULL;
	enum delivery		 result = DELIVERY_OK;

	if (n == 0)
		return;
	if (file_write(fs, &cause) != 0) {
		result = DELIVERY_RETRY;
		xasprintf(&why, "file %s: %s", fs->id, cause);
	}
	free(cause);
	fs->calls = NULL;
	fs->ncalls = 0;
	buf_free(&fs->out);
	/* A callback may deliver again (the next batch) or cancel. */
	for (i = 0; i < n && fs->gen == gen; i++)
		calls[i].done(result, -1, why, calls[i].arg);
	free(calls);
	free(why);
}

static int
file_init(struct sink *s, char **cause __unused)
{
	struct file_sink	*fs;

	fs = xcalloc(1, sizeof *fs);
	fs->fc = s->conf->data;
	fs->id = s->conf->id;
	fs->fd = -1;
	fs->flush = event_new(s->env->base, -1, 0, file_flush, fs);
	if (fs->flush == NULL)
		fatalx("event_new failed");
	s->data = fs;
	return (0);
}

/* The line for an event: its JSON, on one line whatever it was stored as. */
static void
file_line(struct buf *out, const char *json)
{
	cJSON	*parsed;
	char	*flat;

	if (strchr(json, '\n') == NULL) {
		buf_adds(out, json);
	} else if ((parsed = cJSON_Parse(json)) != NULL &&
	    (flat = cJSON_PrintUnformatted(parsed)) != NULL) {
		buf_adds(out, flat);
		cJSON_free(flat);
		cJSON_Delete(parsed);
	} else {
		cJSON_Delete(parsed);
		for (; *json != '\0'; json++)
			buf_add(out, *json == '\n' ? " " : json, 1);
	}
	buf_add(out, "\n", 1);
}

static void
file_deliver(struct sink *s, const struct outbox_entry *e,
    sink_done_cb done, void *arg)
{
	struct file_sink	*fs = s->data;
	struct file_call	*c;

	file_line(&fs->out, e->json);
	fs->calls = xreallocarray(fs->calls, fs->ncalls + 1, sizeof *fs->calls);
	c = &fs->calls[fs->ncalls++];
	c->end = fs->out.len;
	c->done = done;
	c->arg = arg;
	/* Whatever arrives before the loop turns goes out with it. */
	event_active(fs->flush, 0, 0);
}

static void
file_cancel(struct sink *s)
{
	struct file_sink	*fs = s->data;

	if (fs == NULL)
		return;
	event_del(fs->flush);
	fs->gen++;
	buf_free(&fs->out);
	free(fs->calls);
	fs->calls = NULL;
	fs->ncalls = 0;
}

static void
file_free(struct sink *s)
{
	struct file_sink	*fs = s->data;

	if (fs == NULL)
		return;
	file_close(fs);
	event_free(fs->flush);
	buf_free(&fs->out);
	free(fs->calls);
	free(fs);
	s->data = NULL;
}

const struct sink_entry sink_file_entry = {
	.name = "File",
	.keys = file_keys,
	.size = sizeof (struct file_conf),
	.check = file_check,
	.init = file_init,
	.deliver = file_deliver,
	.cancel = file_cancel,
	.free = file_free,
	.max_inflight = 64,
};
