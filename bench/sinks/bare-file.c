/*
 * bare-file.c: the bare client of the File sink benchmark
 * (bench/sink_throughput.py).  It appends the same messages (one JSON line
 * each, read from a file) to a file with the same confirmation level as the
 * sink: up to `window` lines written at once, each made durable with
 * fdatasync before the next batch, as the sink does before it confirms.
 * Prints "MESSAGES SECONDS", the time from the first write to the last
 * fdatasync (reading the input not included).
 *
 *	bare-file MESSAGES OUT WINDOW
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "r");
	char	*data = NULL;
	size_t	 size = 0, n;

	if (f == NULL)
		return (NULL);
	*len = 0;
	for (;;) {
		if (*len == size) {
			size = size != 0 ? size * 2 : 1 << 20;
			if ((data = realloc(data, size)) == NULL)
				return (NULL);
		}
		if ((n = fread(data + *len, 1, size - *len, f)) == 0)
			break;
		*len += n;
	}
	fclose(f);
	return (data);
}

int
main(int argc, char **argv)
{
	char	*data, *p, *end;
	size_t	 len, lines = 0, in_batch, window;
	ssize_t	 n;
	double	 t0, t1;
	int	 fd;

	if (argc != 4 || (window = strtoul(argv[3], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bare-file MESSAGES OUT WINDOW\n");
		return (2);
	}
	if ((data = slurp(argv[1], &len)) == NULL) {
		fprintf(stderr, "bare-file: %s: %s\n", argv[1],
		    strerror(errno));
		return (1);
	}
	fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		fprintf(stderr, "bare-file: %s: %s\n", argv[2],
		    strerror(errno));
		return (1);
	}
	t0 = now();
	for (p = data; p < data + len; p = end) {
		/* The next `window` lines, as one write. */
		for (end = p, in_batch = 0; end < data + len &&
		    in_batch < window; in_batch++) {
			end = memchr(end, '\n', data + len - end);
			end = end != NULL ? end + 1 : data + len;
		}
		lines += in_batch;
		while (p < end) {
			if ((n = write(fd, p, end - p)) == -1) {
				if (errno == EINTR)
					continue;
				perror("bare-file: write");
				return (1);
			}
			p += n;
		}
		if (fdatasync(fd) == -1) {
			perror("bare-file: fdatasync");
			return (1);
		}
	}
	t1 = now();
	printf("%zu %.6f\n", lines, t1 - t0);
	close(fd);
	free(data);
	return (0);
}
