/*
 * config-list.c: what the list blocks of the config (connectors, sources,
 * sinks, triggers) have in common: the block must be a list, each entry is
 * named in messages by its identifier (or its index when it has none), and
 * identifiers have one form and are unique within their list.  `first`
 * is the entry that had the identifier before, or NULL.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ */
int
config_id_valid(const char *id)
{
	const char	*p;

	if (!isalnum((unsigned char)id[0]) && id[0] != '_')
		return (0);
	for (p = id + 1; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("_.-", *p) == NULL)
			return (0);
	}
	return (1);
}

/* The list under `name` in root; NULL (and maybe an error) if none. */
const struct cfg_node *
config_list(const struct cfg_node *root, const char *name,
    struct cfg_errors *errs)
{
	const struct cfg_node	*list = cfg_node_get(root, name);

	if (list == NULL || cfg_node_is_null(list))
		return (NULL);
	if (list->kind != CFG_SEQ) {
		cfg_error(errs, list, "%s must be a list, not %s", name,
		    cfg_node_kind_name(list));
		return (NULL);
	}
	return (list);
}

/* `source "nginx"`, or `sources[2]` while the entry has no usable name. */
char *
config_entry_where(const char *kind, const char *list, size_t i,
    const struct cfg_node *entry)
{
	const struct cfg_node	*id = cfg_node_get(entry, "identifier");
	char			*s;

	if (id != NULL && id->kind == CFG_SCALAR && !cfg_node_is_null(id))
		xasprintf(&s, "%s \"%s\"", kind, id->value);
	else
		xasprintf(&s, "%s[%zu]", list, i);
	return (s);
}

void
config_check_id(const char *kind, const void *entries, size_t size,
    size_t i, size_t id_off, size_t node_off, struct cfg_errors *errs)
{
#define ENTRY_ID(k)	(*(char *const *)((const char *)entries + \
			    (k) * size + id_off))
#define ENTRY_NODE(k)	(*(const struct cfg_node *const *)( \
			    (const char *)entries + (k) * size + node_off))
	const struct cfg_node	*at, *first = NULL;
	const char		*id = ENTRY_ID(i);
	size_t			 j;

	if (id == NULL)
		return;
	at = cfg_node_get(ENTRY_NODE(i), "identifier");
	for (j = 0; j < i && first == NULL; j++) {
		if (ENTRY_ID(j) != NULL && strcmp(ENTRY_ID(j), id) == 0)
			first = ENTRY_NODE(j);
	}
#undef ENTRY_ID
#undef ENTRY_NODE

	if (!config_id_valid(id)) {
		cfg_error(errs, at, "%s identifier \"%s\" may only hold "
		    "letters, digits, \"_\", \".\" and \"-\", and must not "
		    "start with \".\" or \"-\"", kind, id);
	}
	if (first != NULL) {
		first = cfg_node_get(first, "identifier");
		cfg_error(errs, at, "duplicate %s identifier \"%s\" (first at "
		    "line %u)", kind, id, first->line);
	}
}
