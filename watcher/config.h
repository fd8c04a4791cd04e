/*
 * config.h: the configuration (DESIGN §3) as the rest of the watcher sees it,
 * and the declarative key tables (struct cfg_key) that providers and sinks use
 * to describe their own `spec:` blocks.
 *
 * Loading keeps every node's position, so each error reads FILE:LINE:COL and
 * all errors of a file are reported in one run (struct cfg_errors).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include "watcher.h"

/* A YAML node with its position; the tree config_load() builds. */
enum cfg_node_kind { CFG_SCALAR, CFG_MAP, CFG_SEQ };
struct cfg_node {
	enum cfg_node_kind	 kind;
	char			*value;		/* scalars */
	int			 quoted;	/* scalar was quoted */
	unsigned		 line, col;	/* 1-based */
	/* maps: keys[i] -> items[i]; sequences: items[i] */
	struct cfg_node		**keys;
	struct cfg_node		**items;
	size_t			 n;
};
const struct cfg_node *cfg_node_get(const struct cfg_node *, const char *key);

/* Errors, each "FILE:LINE:COL: message", in file order. */
struct cfg_errors {
	const char	*file;
	char		**msg;
	size_t		 n;
};
void	 cfg_error(struct cfg_errors *, const struct cfg_node *,
	    const char *, ...) printflike(3, 4);
void	 cfg_errors_free(struct cfg_errors *);

/*
 * Key tables: each entry maps a YAML key to a field at `off` in a struct.
 * CFG_OBJECT descends into `sub`, whose offsets are into the same struct.
 * Strings are owned by the struct and freed by cfg_free().
 */
enum cfg_type {
	CFG_STRING,	/* char * */
	CFG_BOOL,	/* int */
	CFG_INT,	/* long long */
	CFG_DURATION,	/* int64_t, milliseconds */
	CFG_ENUM,	/* int: index into `choices` */
	CFG_SECRET,	/* char *: the name of an entry of `secrets:` */
	CFG_STRLIST,	/* struct cfg_strlist */
	CFG_STRMAP,	/* struct cfg_strmap (e.g. headers) */
	CFG_OBJECT,	/* nested keys: `sub` */
	CFG_IGNORE,	/* accepted for compatibility, has no effect here */
	CFG_NODE,	/* const struct cfg_node *, checked by the module */
};
#define CFG_REQUIRED	0x1
#define CFG_NORELOAD	0x2

struct cfg_key {
	const char		 *name;
	enum cfg_type		  type;
	size_t			  off;
	int			  flags;
	const char		 *def;		/* default, as YAML text */
	const char *const	 *choices;	/* CFG_ENUM, NULL-terminated */
	const struct cfg_key	 *sub;		/* CFG_OBJECT */
	long long		  min, max;	/* CFG_INT, CFG_DURATION if max>0 */
};
struct cfg_strlist {
	char	**v;
	size_t	  n;
};
struct cfg_strmap {
	char	**keys;
	char	**values;
	size_t	  n;
};

/*
 * Fill `base` from `map` with `keys`: defaults first, then values; unknown
 * keys, wrong types, bad durations and missing required keys are errors.
 * Returns the number of errors added.
 */
int	 cfg_apply(const struct cfg_key *, void *base, const struct cfg_node *map,
	    struct cfg_errors *);
void	 cfg_free(const struct cfg_key *, void *base);

/* store: block.  Empty: the embedded default (lmdb in the default path). */
enum store_type { STORE_LMDB, STORE_REDIS };
struct store_conf {
	int		 type;		/* enum store_type */
	char		*path;		/* lmdb */
	char		*url;		/* redis://host:port/db */
	char		*prefix;	/* redis key prefix, default "aw" */
	char		*password;	/* secret name, redis AUTH */
	int64_t		 retention_ms;	/* history kept after delivery */
};

struct secret {
	char		*name;
	char		*ref;		/* "env:NAME" or "file:PATH" */
};

struct connector_conf {
	char			*id;
	char			*type;
	const struct cfg_node	*node;		/* the connector: block */
	const struct cfg_node	*spec;
	void			*data;		/* filled by the provider's keys */
	const struct provider_entry *entry;
};

/* Politeness knobs, on a connector or a source (issue: polite at scale). */
struct rate_conf {
	double		 rps;		/* requestsPerSecond, 0 = unlimited */
	long long	 burst;
};

struct source_conf {
	char			*id;
	char			*type;
	const struct cfg_node	*node;
	const struct cfg_node	*spec;
	char			*connector_ref;
	struct connector_conf	*connector;	/* resolved */
	const struct provider_entry *entry;
	void			*data;		/* the provider's spec struct */
	/* Watch fields (top level of the source block). */
	int64_t			 interval_ms;	/* default 1m */
	long long		 max_tags;	/* default 10000 */
	int			 emit_existing;
	int			 fetch_labels;
	int64_t			 digest_check_ms; /* re-HEAD known tags, 0 off */
	long long		 digest_checks;	/* HEADs per poll for that */
};

struct sink_conf {
	char			*id;
	char			*type;
	const struct cfg_node	*node;
	const struct cfg_node	*spec;
	const struct sink_entry	*entry;
	void			*data;		/* the sink's spec struct */
	long long		 max_attempts;	/* default 20 */
	int64_t			 max_age_ms;	/* 0: none */
};

struct trigger_conf {
	char			*id;
	const struct cfg_node	*node;
	struct cfg_strlist	 sources;
	struct cfg_strlist	 sinks;
};

struct config {
	char			*path;
	struct cfg_node		*root;
	struct store_conf	 store;
	struct secret		*secrets;
	size_t			 nsecrets;
	struct connector_conf	*connectors;
	size_t			 nconnectors;
	struct source_conf	*sources;
	size_t			 nsources;
	struct sink_conf	*sinks;
	size_t			 nsinks;
	struct trigger_conf	*triggers;
	size_t			 ntriggers;
};

/*
 * Load and validate a file.  On success returns the config; on failure NULL
 * with every error in `errs` (the caller prints and frees them).
 */
struct config	*config_load(const char *path, struct cfg_errors *errs);
void		 config_free(struct config *);
struct source_conf *config_source(struct config *, const char *id);
struct sink_conf   *config_sink(struct config *, const char *id);
/* Does source feed sink (triggers, or all-to-all when there are none)? */
int		 config_routes(const struct config *, const struct source_conf *,
		    const struct sink_conf *);

/* secret.c: resolve a secret name to its value (env: or file:). */
int	 secret_resolve(const struct config *, const char *name, char **value,
	    char **cause);

#endif
