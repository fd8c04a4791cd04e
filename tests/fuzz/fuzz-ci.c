/*
 * fuzz-ci.c: libFuzzer over the CI family's pure parsers: Bamboo result
 * pages, Jenkins build listings, Jenkins job paths and plan keys.  The
 * first byte picks the parser; the rest is what a server (or a config)
 * could send.  Each answers 0 or -1 with a cause, never crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider-ci.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A "/job/." or "/job/.." part: what jenkins_job_path() must refuse. */
static int
dot_part(const char *p)
{
	const char	*q;

	for (q = p; (q = strstr(q, "/job/.")) != NULL; q++) {
		q += 6;
		if (*q == '\0' || *q == '/' ||
		    (*q == '.' && (q[1] == '\0' || q[1] == '/')))
			return (1);
	}
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ci_build	*b;
	const char	*body = (const char *)data + 1;
	size_t		 len = size - 1, n;
	long long	 total;
	char		*cause = NULL, *s, *p;

	if (size == 0)
		return (0);
	switch (data[0] % 3) {
	case 0:
		if (bamboo_parse_results_bytes(body, len, &b, &n, &total,
		    &cause) == 0)
			ci_builds_free(b, n);
		break;
	case 1:
		if (jenkins_parse_builds_bytes(body, len, &b, &n, &cause) == 0)
			ci_builds_free(b, n);
		break;
	default:
		s = xstrndup(body, len);
		if ((p = jenkins_job_path(s, &cause)) != NULL) {
			if (dot_part(p))
				abort();	/* a . or .. part got through */
			free(p);
		}
		(void)bamboo_plan_key_valid(s);
		free(s);
		break;
	}
	free(cause);
	return (0);
}
