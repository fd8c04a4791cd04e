/*
 * fuzz-custom.c: libFuzzer over custom-parse.c: what a CustomArtifact
 * script could print, read with paths that are themselves fuzzed (the
 * first bytes, up to a NUL, are the array path; then the version path).
 * Every input answers 0 or -1 with a cause, never crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "provider-custom.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct custom_attr	 attr = { "a", "meta.url" };
	struct versions		 vs = { 0 };
	const char		*p = (const char *)data, *end = p + size;
	const char		*nul, *nul2;
	char			*array, *version, *cause = NULL;

	/* "ARRAYPATH\0VERSIONPATH\0BODY", else the defaults and all body. */
	if ((nul = memchr(p, '\0', size)) != NULL &&
	    (nul2 = memchr(nul + 1, '\0', end - nul - 1)) != NULL) {
		array = xstrndup(p, nul - p);
		version = xstrndup(nul + 1, nul2 - nul - 1);
		p = nul2 + 1;
	} else {
		array = xstrdup("$.items");
		version = xstrdup("version");
	}
	if (custom_parse(p, end - p, array, version, "digest", &attr, 1, 50,
	    &vs, &cause) == 0)
		versions_free(&vs);
	free(cause);
	free(array);
	free(version);
	return (0);
}
