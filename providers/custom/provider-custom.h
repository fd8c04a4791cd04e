/*
 * provider-custom.h: private to the custom family (providers/custom/): the
 * CustomArtifact source (provider-custom.c), which runs the user's script
 * in a child process (child.h), and the pure parser of what the script
 * printed (custom-parse.c).
 */
#ifndef PROVIDER_CUSTOM_H
#define PROVIDER_CUSTOM_H

#include "watcher.h"
#include "config.h"

/* One entry of fetchAllArtifacts.attributes: metadata NAME from PATH. */
struct custom_attr {
	char		*name;
	char		*path;		/* in each element of the array */
};

/* source spec: */
struct custom_source {
	char			*version;	/* accepted: Harness pins one */
	char			*version_regex;	/* versionRegex: a filter */
	int64_t			 timeout_ms;
	const struct cfg_node	*inputs;	/* [{name, type, value}] */
	char			*array_path;	/* artifactsArrayPath */
	char			*version_path;	/* versionPath */
	char			*digest_path;	/* digestPath (ours) */
	const struct cfg_node	*attributes;	/* [{name, type, value}] */
	char			*shell;		/* spec.shell: Bash */
	char			*source_type;	/* spec.source.type: Inline */
	char			*script;	/* spec.source.spec.script */
};

/* custom-parse.c: pure. */

/*
 * The member at a JSON path: "$" or "" is the root; "$.a.b", "a.b",
 * "a[0].b", "$['a'].b" (quoted members) walk it.  NULL when absent.
 */
const cJSON *custom_path(const cJSON *root, const char *path);
/*
 * The script's output: a JSON document, the array at array_path, each
 * element a version named by the value at version_path (a string or a
 * number), its digest at digest_path (may be NULL), attrs as metadata.
 * At most max versions (truncated set when more); duplicates are skipped.
 */
int	 custom_parse(const char *body, size_t len, const char *array_path,
	    const char *version_path, const char *digest_path,
	    const struct custom_attr *attrs, size_t nattrs, long long max,
	    struct versions *out, char **cause);

#endif
