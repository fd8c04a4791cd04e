/*
 * log.c: one logfmt line per event of note, on stderr:
 *   ts=2026-11-22T10:00:00.123Z level=info msg="poll done" source=nginx new=2
 * Values that need it are quoted by log_q().  Secrets are never passed here:
 * callers log identifiers and URLs without credentials, never headers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watcher.h"

static enum log_level	 log_level = LOG_INFO;

static const char *const log_names[] = { "debug", "info", "warn", "error" };

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_enabled(enum log_level level)
{
	return (level >= log_level);
}

int
log_parse_level(const char *s, enum log_level *level)
{
	size_t	 i;

	for (i = 0; i < nitems(log_names); i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return (0);
		}
	}
	if (strcmp(s, "warning") == 0) {
		*level = LOG_WARN;
		return (0);
	}
	return (-1);
}

static int
log_needs_quote(const char *s)
{
	if (*s == '\0')
		return (1);
	for (; *s != '\0'; s++) {
		if (*s <= ' ' || *s == '"' || *s == '=' || *s == '\\' ||
		    *s == 0x7f)
			return (1);
	}
	return (0);
}

const char *
log_q(const char *s)
{
	static char	*ring[8];
	static unsigned	 next;
	struct buf	 b = { 0 };
	char		**slot;

	if (s == NULL)
		s = "";
	slot = &ring[next++ % nitems(ring)];
	free(*slot);
	if (!log_needs_quote(s)) {
		*slot = xstrdup(s);
		return (*slot);
	}
	buf_add(&b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_printf(&b, "\\%c", *s);
		else if (*s == '\n')
			buf_adds(&b, "\\n");
		else if ((unsigned char)*s < ' ' || *s == 0x7f)
			buf_printf(&b, "\\x%02x", (unsigned char)*s);
		else
			buf_add(&b, s, 1);
	}
	buf_add(&b, "\"", 1);
	*slot = buf_take(&b);
	return (*slot);
}

static void
log_vwrite(enum log_level level, const char *msg, const char *fmt, va_list ap)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 when[32];
	struct buf	 b = { 0 };
	char		*kv;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(&b, "ts=%s.%03ldZ level=%s msg=%s", when,
	    ts.tv_nsec / 1000000, log_names[level], log_q(msg));
	if (fmt != NULL && *fmt != '\0') {
		xvasprintf(&kv, fmt, ap);
		buf_printf(&b, " %s", kv);
		free(kv);
	}
	buf_add(&b, "\n", 1);
	fwrite(b.data, 1, b.len, stderr);
	fflush(stderr);
	buf_free(&b);
}

void
log_write(enum log_level level, const char *msg, const char *fmt, ...)
{
	va_list	 ap;

	if (level < log_level)
		return;
	va_start(ap, fmt);
	log_vwrite(level, msg, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char	*s;
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	log_write(LOG_ERROR, "fatal", "error=%s",
	    log_q(strerror(saved)));
	fprintf(stderr, "%s: %s: %s\n", AW_NAME, s, strerror(saved));
	exit(70);
}

void
fatalx(const char *fmt, ...)
{
	char	*s;
	va_list	 ap;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", AW_NAME, s);
	exit(70);
}
