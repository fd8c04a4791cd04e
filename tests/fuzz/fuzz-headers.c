/*
 * fuzz-headers.c: libFuzzer over the HTTP parsers every provider trusts
 * with what a server sends: Link headers (up to three values, split on
 * newlines), WWW-Authenticate challenges, Retry-After, and URL resolution
 * of a Link target against a request URL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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
	if ((resolved = url_resolve("http://127.0.0.1:5000/v2/a/b/tags/list?n=1",
	    text)) != NULL)
		free(resolved);
	free(text);
	return (0);
}
