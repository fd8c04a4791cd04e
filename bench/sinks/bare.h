/*
 * bare.h: what the bare clients of bench/sink_throughput.py share (each is
 * one C file built alone, so these are static inline functions): the clock, the
 * messages file (one CloudEvent JSON line each) read whole, walked line by
 * line, and string members picked out of a line for ids and keys.
 */
#ifndef BARE_H
#define BARE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Monotonic seconds. */
static inline double
bare_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* The whole file, NUL-terminated; exits when it cannot be read. */
static inline char *
bare_slurp(const char *prog, const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*data = NULL;
	size_t	 size = 0, len = 0, n;

	if (f == NULL)
		goto fail;
	for (;;) {
		if (len + 1 >= size) {
			size = size != 0 ? size * 2 : 1 << 20;
			if ((data = realloc(data, size)) == NULL)
				goto fail;
		}
		if ((n = fread(data + len, 1, size - len - 1, f)) == 0)
			break;
		len += n;
	}
	data[len] = '\0';
	fclose(f);
	return (data);
fail:
	fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
	exit(1);
}

/* The line at *p, NUL-terminated in place, *p moved past it; NULL at the
 * end. */
static inline char *
bare_line(char **p)
{
	char	*line = *p, *nl;

	if (*line == '\0')
		return (NULL);
	if ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else
		*p = line + strlen(line);
	return (line);
}

/* The first string member `name` of a JSON line, in buf ("" if none). */
static inline const char *
bare_member(const char *line, const char *name, char *buf, size_t size)
{
	char		 pat[64];
	const char	*p, *end;
	size_t		 n = 0;

	snprintf(pat, sizeof pat, "\"%s\":\"", name);
	if ((p = strstr(line, pat)) != NULL &&
	    (end = strchr(p + strlen(pat), '"')) != NULL) {
		p += strlen(pat);
		n = (size_t)(end - p);
		if (n >= size)
			n = size - 1;
		memcpy(buf, p, n);
	}
	buf[n] = '\0';
	return (buf);
}

/* What sink_throughput.py reads: "MESSAGES SECONDS". */
static inline void
bare_report(size_t sent, double t0)
{
	printf("%zu %.6f\n", sent, bare_now() - t0);
}

#endif
