/*
 * fuzz-headers.c: libFuzzer over the HTTP parsers every provider trusts
 * with what a server sends: Link headers (up to three values, split on
 * newlines), WWW-Authenticate challenges, Retry-After, URL resolution
 * of a Link target against a request URL, and the response header lines
 * themselves (header_list_line(), one line per newline, folds included).
 * Every input goes to every parser; seeds: tests/fixtures/headers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Feed each line (with its newline) as libcurl would, then check. */
static void
header_lines(const char *text, size_t size)
{
	struct header_list	 h = { 0 };
	const char		*p = text, *nl;
	size_t			 i;

	while (p < text + size) {
		nl = memchr(p, '\n', (size_t)(text + size - p));
		nl = nl != NULL ? nl + 1 : text + size;
		header_list_line(&h, p, (size_t)(nl - p));
		p = nl;
	}
	for (i = 0; i < h.n; i++) {
		if (h.v[i].name == NULL || h.v[i].value == NULL)
			abort();
	}
	if (h.copied > 3 * size + 16 * h.cap * sizeof *h.v)
		abort();	/* not linear */
	header_list_clear(&h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct challenge	 ch;
	const char		*values[3];
	char			*text, *copy, *line, *next = NULL, *cause = NULL;
	char			*resolved;
	size_t			 n = 0;
	int64_t			 secs;

	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	copy = strdup(text);
	for (line = strtok(copy, "\n"); line != NULL && n < 3;
	    line = strtok(NULL, "\n"))
		values[n++] = line;
	if (link_next_values(values, n, "https://r.example/v2/a/tags/list?n=2",
	    &next, &cause) == 1)
		free(next);
	free(cause);
	cause = NULL;
	free(copy);

	memset(&ch, 0, sizeof ch);
	if (challenge_parse(text, &ch, &cause) == 0)
		challenge_clear(&ch);
	free(cause);

	(void)retry_after_parse(text, 1767261600, &secs);
	header_lines(text, size);
	if ((resolved = url_resolve("http://127.0.0.1:5000/v2/a/b/tags/list?n=1",
	    text)) != NULL)
		free(resolved);
	free(text);
	return (0);
}
