/*
 * fuzz-github.c: libFuzzer over the github family's pure parts: every
 * input is a page of versions for github_parse_versions (as containers
 * and as packages, capped and not), and a URL for github_api_root.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "github.h"
#include "json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct versions	 vs;
	cJSON		*doc;
	char		*cause = NULL, *s;
	int		 container;

	if (json_parse((const char *)data, size, &doc, &cause) == 0) {
		for (container = 0; container < 2; container++) {
			memset(&vs, 0, sizeof vs);
			cause = NULL;
			if (github_parse_versions(doc, container,
			    container ? 3 : 10000, &vs, &cause) < 0 &&
			    cause == NULL)
				abort();
			free(cause);
			versions_free(&vs);
		}
		cJSON_Delete(doc);
	} else
		free(cause);
	s = strndup((const char *)data, size);
	free(github_api_root(s));
	free(s);
	return (0);
}
