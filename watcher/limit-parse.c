/*
 * limit-parse.c: the answers' words about pace, read without side effects:
 * Retry-After (seconds or HTTP-date) and the rate-limit budget headers of
 * Docker Hub ("ratelimit-remaining: 76;w=21600") and GitHub
 * (x-ratelimit-remaining, x-ratelimit-limit, x-ratelimit-reset).  The
 * limiter (limit.c) decides what to do with them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "limit.h"

#define LIMIT_RETRY_AFTER_MAX_S	(24 * 3600)	/* a day: beyond is a lie */

int64_t
limit_retry_after_ms(const char *value, int64_t now_unix_s, int64_t default_ms)
{
	int64_t	 secs;

	if (value == NULL || retry_after_parse(value, now_unix_s, &secs) != 0 ||
	    secs < 0)
		return (default_ms);
	/* Docker Hub's older X-Retry-After is a unix time, not a delay. */
	if (secs > now_unix_s / 2 && now_unix_s > 0)
		secs = secs > now_unix_s ? secs - now_unix_s : 0;
	if (secs > LIMIT_RETRY_AFTER_MAX_S)
		secs = LIMIT_RETRY_AFTER_MAX_S;
	return (secs * 1000);
}

/* A count, then optionally ";w=SECONDS" (and other ;params, ignored). */
static int
budget_number(const char *value, long long *n, int64_t *window_s)
{
	const char	*p = value;
	char		*end;
	long long	 w;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return (-1);
	errno = 0;
	*n = strtoll(p, &end, 10);
	if (errno != 0)
		return (-1);
	p = end;
	while (*p == ' ' || *p == '\t')
		p++;
	while (*p == ';') {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "w=", 2) == 0 && window_s != NULL) {
			errno = 0;
			w = strtoll(p + 2, &end, 10);
			if (errno != 0 || end == p + 2 || w < 0)
				return (-1);
			*window_s = w;
			p = end;
		} else {
			while (*p != '\0' && *p != ';' && *p != ',')
				p++;
		}
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (*p != '\0' && *p != ',')
		return (-1);
	return (0);
}

int
limit_budget_parse(const char *remaining, const char *limit, const char *reset,
    int64_t now_unix_s, struct limit_budget *b)
{
	int64_t	 window_s = -1, limit_window_s = -1, reset_s = 0;
	char	*end;

	memset(b, 0, sizeof *b);
	if (remaining == NULL ||
	    budget_number(remaining, &b->remaining, &window_s) != 0)
		return (-1);
	if (limit != NULL &&
	    budget_number(limit, &b->limit, &limit_window_s) != 0)
		b->limit = 0;
	if (window_s < 0)
		window_s = limit_window_s;
	if (reset != NULL) {
		errno = 0;
		reset_s = strtoll(reset, &end, 10);
		if (errno != 0 || end == reset || *end != '\0' || reset_s < 0)
			return (-1);
		/* GitHub: a unix time; a small number is seconds from now. */
		if (reset_s > now_unix_s / 2)
			window_s = reset_s > now_unix_s ? reset_s - now_unix_s :
			    0;
		else
			window_s = reset_s;
	}
	if (window_s < 0)
		return (-1);
	b->window_ms = window_s * 1000;
	return (0);
}
