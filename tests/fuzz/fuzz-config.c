/*
 * fuzz-config.c: libFuzzer over the YAML loader: any text becomes a node
 * tree with positions, or errors with positions, never a crash or a leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs = { .file = "fuzz.yaml" };
	struct cfg_node		*root = NULL;

	if (cfg_parse_text((const char *)data, size, &root, &errs) == 0)
		cfg_node_free(root);
	cfg_errors_free(&errs);
	return (0);
}
