/*
 * fuzz-nexus.c: libFuzzer over the nexus family's pure parts: every input
 * is a Nexus 3 search page (for each format) and a Nexus 2 search answer,
 * and a repositoryUrl for nexus_docker_base.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "nexus.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nexus_query	 q = { NEXUS_MAVEN, "releases", "jar", "src" };
	struct versions		 vs;
	cJSON			*doc;
	char			*cause = NULL, *s;
	size_t			 items;
	int			 format;

	if (json_parse((const char *)data, size, &doc, &cause) == 0) {
		for (format = NEXUS_MAVEN; format <= NEXUS_RAW; format++) {
			q.format = format;
			memset(&vs, 0, sizeof vs);
			cause = NULL;
			if (nexus3_parse_search(doc, &q, format == NEXUS_RAW ?
			    2 : 1000, &vs, &cause) < 0 && cause == NULL)
				abort();
			free(cause);
			versions_free(&vs);
		}
		memset(&vs, 0, sizeof vs);
		cause = NULL;
		if (nexus2_parse_search(doc, "https://n/", &q, 5, &vs, &items,
		    &cause) < 0 && cause == NULL)
			abort();
		free(cause);
		versions_free(&vs);
		cJSON_Delete(doc);
	} else
		free(cause);
	s = strndup((const char *)data, size);
	cause = NULL;
	free(nexus_docker_base("https://nexus/", s, NULL, &cause));
	free(cause);
	cause = NULL;
	free(nexus_docker_base("https://nexus/", NULL, s, &cause));
	free(cause);
	free(s);
	return (0);
}
