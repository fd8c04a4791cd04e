/*
 * fuzz-docker.c: libFuzzer over the DockerRegistry provider's pure parsers
 * (tag lists, Hub API pages, token answers, manifests, config blobs).  The
 * first byte selects the parser (its value modulo the number of parsers)
 * and is not part of the body; the rest is the body a registry could send.
 * tests/fuzz/run.sh prepends every selector to every recorded body, so each
 * parser starts from real documents: the selector used to be the body's own
 * first byte, and every JSON seed ('{') went to the manifest parser.  Every
 * parser must answer 0 or -1 with a cause, never crash or leak.  At exit
 * the inputs each parser saw, and how many it accepted, go to stderr.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "fetch.h"
#include "provider-docker.h"

enum { P_TAGS, P_HUB, P_TOKEN, P_MANIFEST, P_CONFIG, P_COUNT };

static const char *const names[P_COUNT] = {
	"tags", "hub-tags", "token", "manifest", "config"
};
static unsigned long	 seen[P_COUNT], accepted[P_COUNT];

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
report(void)
{
	int	 i;

	fprintf(stderr, "fuzz-docker: inputs per parser:");
	for (i = 0; i < P_COUNT; i++)
		fprintf(stderr, " %s=%lu (accepted %lu)", names[i], seen[i],
		    accepted[i]);
	fprintf(stderr, "\n");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	atexit(report);
	return (0);
}

/* 0 when the parser accepted the body. */
static int
parse(int which, const char *body, size_t len)
{
	struct docker_manifest	 m;
	struct docker_hub_tag	*hub;
	char			**tags, *cause = NULL, *token, *next;
	cJSON			*labels;
	size_t			 n;
	int64_t			 t;
	int			 rc = -1;

	switch (which) {
	case P_TAGS:
		if ((rc = docker_parse_tags(body, len, &tags, &n,
		    &cause)) == 0)
			docker_tags_free(tags, n);
		break;
	case P_HUB:
		if ((rc = docker_parse_hub_tags(body, len, &hub, &n, &next,
		    &cause)) == 0) {
			docker_hub_tags_free(hub, n);
			free(next);
		}
		break;
	case P_TOKEN:
		if ((rc = fetch_parse_token(body, len, 1767261600, &token, &t,
		    &cause)) == 0)
			free(token);
		break;
	case P_MANIFEST:
		if ((rc = docker_parse_manifest(body, len, NULL, &m,
		    &cause)) == 0)
			docker_manifest_clear(&m);
		break;
	default:
		if ((rc = docker_parse_config(body, len, &labels, &t,
		    &cause)) == 0)
			cJSON_Delete(labels);
		break;
	}
	if (rc != 0 && (cause == NULL || *cause == '\0'))
		abort();	/* -1 must say why */
	free(cause);
	return (rc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	 which;

	if (size == 0)
		return (0);
	which = data[0] % P_COUNT;
	seen[which]++;
	if (parse(which, (const char *)data + 1, size - 1) == 0)
		accepted[which]++;
	return (0);
}
