/*
 * buf.c: a growable byte buffer, always NUL-terminated so that text bodies
 * can be handed to parsers as C strings.  Zero-initialised is empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watcher.h"

static void
buf_grow(struct buf *b, size_t more)
{
	size_t	 want;

	if (more > SIZE_MAX - b->len - 1)
		fatalx("buffer overflow");
	want = b->len + more + 1;
	if (want <= b->size)
		return;
	if (b->size == 0)
		b->size = 256;
	while (b->size < want)
		b->size = b->size > SIZE_MAX / 2 ? want : b->size * 2;
	b->data = xrealloc(b->data, b->size);
}

void
buf_add(struct buf *b, const void *p, size_t len)
{
	buf_grow(b, len);
	if (len != 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("buf_printf");
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *
buf_take(struct buf *b)
{
	char	*s;

	if (b->data == NULL)
		return (xstrdup(""));
	s = b->data;
	b->data = NULL;
	b->len = b->size = 0;
	return (s);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}
