/*
 * timeutil.c: durations as users write them ("30s", "5m", "1h30m", "500ms",
 * "2d"), clocks, and the timestamp formats the sources send: RFC 3339 with
 * or without fraction and offset, and HTTP-dates for Retry-After.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watcher.h"

int
duration_parse(const char *s, int64_t *ms, char **cause)
{
	const char	*p = s;
	int64_t		 total = 0, n, unit;
	char		*end;

	if (*p == '\0')
		return (fail(cause, "empty duration"));
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return (0);
	}
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			goto bad;
		n = strtoll(p, &end, 10);
		if (n < 0 || n > 1000000000)
			goto bad;
		p = end;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else if (*p == 'd') {
			unit = 86400 * 1000;
			p++;
		} else
			goto bad;
		total += n * unit;
	}
	*ms = total;
	return (0);
bad:
	return (fail(cause, "bad duration \"%s\" (use a number with a unit: "
	    "ms, s, m, h or d, e.g. 30s, 5m, 1h30m)", s));
}

int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
digits(const char **p, int n, int *out)
{
	int	 v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return (-1);
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return (0);
}

int
time_parse_rfc3339(const char *s, int64_t *unix_s)
{
	struct tm	 tm;
	const char	*p = s;
	int		 y, mo, d, h, mi, se, oh, om, sign;

	memset(&tm, 0, sizeof tm);
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return (-1);
	if (*p != 'T' && *p != 't' && *p != ' ')
		return (-1);
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &se))
		return (-1);
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return (-1);
		while (isdigit((unsigned char)*p))
			p++;
	}
	oh = om = 0;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return (-1);
		oh *= sign;
		om *= sign;
	} else
		return (-1);
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60)
		return (-1);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*unix_s = (int64_t)timegm(&tm) - oh * 3600 - om * 60;
	return (0);
}

int
time_parse_http(const char *s, int64_t *unix_s)
{
	static const char *const fmts[] = {
		"%a, %d %b %Y %H:%M:%S GMT",	/* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT",	/* RFC 850 */
		"%a %b %e %H:%M:%S %Y",		/* asctime */
	};
	struct tm	 tm;
	const char	*end;
	size_t		 i;

	for (i = 0; i < nitems(fmts); i++) {
		memset(&tm, 0, sizeof tm);
		end = strptime(s, fmts[i], &tm);
		if (end != NULL && *end == '\0') {
			*unix_s = (int64_t)timegm(&tm);
			return (0);
		}
	}
	return (-1);
}

void
time_format_rfc3339(int64_t unix_s, char *out, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)unix_s;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
