/*
 * excerpt.c: a bounded, printable excerpt of untrusted bytes, such as the
 * body a webhook receiver answered with, for a dead-letter reason or a log
 * line (watcher.h).  The input may be anything: binary, invalid UTF-8,
 * terminal escapes, megabytes; the output is at most `max` bytes of valid
 * UTF-8 without control characters, plus "..." when cut.
 */
#include <stdlib.h>
#include <string.h>

#include "watcher.h"

/*
 * Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0.
 */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	size_t	 n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (left < n || p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	}
	return (n);
}

/* C0, DEL and C1 controls (U+0080-U+009F, as UTF-8 C2 80-9F). */
static int
is_control(const unsigned char *p, size_t n)
{
	if (n == 1)
		return (p[0] < 0x20 || p[0] == 0x7f);
	return (n == 2 && p[0] == 0xc2 && p[1] < 0xa0);
}

char *
excerpt(const void *data, size_t len, size_t max)
{
	const unsigned char	*p = data, *end = p + len, *piece;
	struct buf		 b = { 0 };
	size_t			 n, plen, gap;
	int			 space = 0, cut = 0;

	while (p < end) {
		n = utf8_len(p, (size_t)(end - p));
		if (n == 0) {
			piece = (const unsigned char *)"?";
			plen = 1;
			n = 1;		/* an invalid byte stands alone */
		} else if (is_control(p, n) || (n == 1 && *p == ' ')) {
			space = 1;
			p += n;
			continue;
		} else {
			piece = p;
			plen = n;
		}
		gap = space && b.len > 0;
		if (b.len + gap + plen > max) {
			cut = 1;
			break;
		}
		if (gap)
			buf_add(&b, " ", 1);
		buf_add(&b, piece, plen);
		space = 0;
		p += n;
	}
	if (b.len == 0) {
		buf_free(&b);
		return (NULL);
	}
	if (cut)
		buf_add(&b, "...", 3);
	return (buf_take(&b));
}
