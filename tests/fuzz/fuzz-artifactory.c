/*
 * fuzz-artifactory.c: libFuzzer over the artifactory family's pure parts:
 * every input is an AQL answer for art_aql_parse (files and packages), and
 * a directory and a name filter for art_aql_query, whose text must never
 * carry an unescaped quote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "artifactory.h"
#include "json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct art_query q = { "generic-local", "builds/app", "*", 0, 11 };
	struct versions	 vs;
	cJSON		*doc;
	char		*cause = NULL, *s, *text;
	int		 trimmed, package;

	if (json_parse((const char *)data, size, &doc, &cause) == 0) {
		for (package = 0; package < 2; package++) {
			q.package = package;
			memset(&vs, 0, sizeof vs);
			cause = NULL;
			if (art_aql_parse(doc, &q, "https://a/artifactory/", 3,
			    &vs, &trimmed, &cause) != 0 && cause == NULL)
				abort();
			free(cause);
			versions_free(&vs);
		}
		cJSON_Delete(doc);
	} else
		free(cause);
	s = strndup((const char *)data, size);
	q.directory = s;
	q.name_glob = s;
	cause = NULL;
	if ((text = art_aql_query(&q, &cause)) != NULL &&
	    strchr(s, '"') != NULL)
		abort();
	free(text);
	free(cause);
	free(s);
	return (0);
}
