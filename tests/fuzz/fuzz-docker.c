/*
 * fuzz-docker.c: libFuzzer over the DockerRegistry provider's pure parsers
 * (tag lists, Hub API pages, token answers, manifests, config blobs).  The
 * first byte picks the parser; the rest is the body a registry could send.
 * Every parser must answer 0 or -1 with a cause, never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "fetch.h"
#include "provider-docker.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docker_manifest	 m;
	struct docker_hub_tag	*hub;
	const char		*body = (const char *)data + 1;
	size_t			 len = size - 1, n;
	char			**tags, *cause = NULL, *token, *next;
	cJSON			*labels;
	int64_t			 t;

	if (size == 0)
		return (0);
	switch (data[0] % 5) {
	case 0:
		if (docker_parse_tags(body, len, &tags, &n, &cause) == 0)
			docker_tags_free(tags, n);
		break;
	case 1:
		if (docker_parse_hub_tags(body, len, &hub, &n, &next,
		    &cause) == 0) {
			docker_hub_tags_free(hub, n);
			free(next);
		}
		break;
	case 2:
		if (fetch_parse_token(body, len, 1767261600, &token, &t,
		    &cause) == 0)
			free(token);
		break;
	case 3:
		if (docker_parse_manifest(body, len, NULL, &m, &cause) == 0)
			docker_manifest_clear(&m);
		break;
	default:
		if (docker_parse_config(body, len, &labels, &t, &cause) == 0)
			cJSON_Delete(labels);
		break;
	}
	free(cause);
	return (0);
}
