/*
 * sink-stdout.c: the Stdout sink, one CloudEvent per line on standard output,
 * for demos and for piping into jq or another program.  It cannot fail in a
 * way worth retrying, so every delivery is acknowledged.
 */
#include <stddef.h>

#include "sink.h"

struct stdout_conf {
	int	 pretty;
};

static const struct cfg_key stdout_keys[] = {
	{ .name = "pretty", .type = CFG_BOOL,
	  .off = offsetof(struct stdout_conf, pretty), .def = "false" },
	{ .name = NULL }
};

const struct sink_entry sink_stdout_entry = {
	.name = "Stdout",
	.keys = stdout_keys,
	.size = sizeof (struct stdout_conf),
};
