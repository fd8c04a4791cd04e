/*
 * fuzz-npm.c: libFuzzer over the npm family's pure parts: every input is
 * a package document for npm_parse (scoped and plain names, a cap and
 * none), an error body for npm_error_message, and a package name for
 * npm_name_valid and npm_doc_url.  Each must answer or fail with a cause,
 * never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "@acme/app", "left-pad" };
	static const long long caps[] = { 2, 10000 };
	struct versions	 vs;
	const char	*body = (const char *)data;
	char		*cause, *s;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		memset(&vs, 0, sizeof vs);
		cause = NULL;
		if (npm_parse(body, size, "https://r", names[i], caps[i], &vs,
		    &cause) != 0 && cause == NULL)
			abort();
		free(cause);
		versions_free(&vs);
	}
	free(npm_error_message(body, size));
	s = strndup(body, size);
	if (npm_name_valid(s))
		free(npm_doc_url("https://r/", s));
	free(s);
	return (0);
}
