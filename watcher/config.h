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
/* A plain empty, "~" or "null" scalar: the key is there without a value. */
int	 cfg_node_is_null(const struct cfg_node *);
/* "a string", "a map" or "a list", for messages. */
const char *cfg_node_kind_name(const struct cfg_node *);
void	 cfg_node_free(struct cfg_node *);	/* accepts NULL */

/* Errors, each "FILE:LINE:COL: message", in file order. */
struct cfg_error_pos {
	unsigned	 line, col;
};
struct cfg_errors {
	const char	*file;
	char		**msg;
	size_t		 n;
	struct cfg_error_pos *pos;	/* of msg[i], for cfg_errors_sort() */
	/*
	 * Context for the messages cfg_apply() writes: what is being read,
	 * e.g. `source "nginx"`, or NULL; and the config whose secrets a
	 * CFG_SECRET must name (NULL: not checked).
	 */
	const char	*where;
	const struct config *conf;
};
void	 cfg_error(struct cfg_errors *, const struct cfg_node *,
	    const char *, ...) printflike(3, 4);
/* The same at a position (line 0: the file as a whole). */
void	 cfg_error_at(struct cfg_errors *, unsigned line, unsigned col,
	    const char *, ...) printflike(4, 5);
/* Orders the messages by position, keeping the order of equal ones. */
void	 cfg_errors_sort(struct cfg_errors *);
void	 cfg_errors_free(struct cfg_errors *);

/*
 * cfg-yaml.c: YAML text to a node tree.  *root is NULL for an empty
 * document.  Returns -1 when the text is not YAML (no tree); errors that
 * leave a usable tree (duplicate keys, anchors) are added to errs and the
 * tree is returned with them left out.
 */
int	 cfg_parse_file(const char *path, struct cfg_node **root,
	    struct cfg_errors *);
int	 cfg_parse_text(const char *text, size_t len, struct cfg_node **root,
	    struct cfg_errors *);

/* cfg-suggest.c: "did you mean": the closest candidate, if close enough. */
struct cfg_suggest {
	const char	*word;
	const char	*best;
	unsigned	 dist;
};
void	 cfg_suggest_init(struct cfg_suggest *, const char *word);
void	 cfg_suggest_try(struct cfg_suggest *, const char *candidate);
const char *cfg_suggest_best(const struct cfg_suggest *);

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
	CFG_NUMBER,	/* double, >= 0 (e.g. requests per second) */
};
#define CFG_REQUIRED	0x1
#define CFG_NORELOAD	0x2
/* CFG_STRMAP: a value may be {secretRef: NAME} (secret_refs[i] set). */
#define CFG_SECRET_VALUES 0x4

struct cfg_key {
	const char		 *name;
	enum cfg_type		  type;
	size_t			  off;
	int			  flags;
	const char		 *def;		/* default, as YAML text */
	const char *const	 *choices;	/* CFG_ENUM, NULL-terminated */
	const struct cfg_key	 *sub;		/* CFG_OBJECT */
	/*
	 * CFG_INT: within [min, max] when max > 0, else at least min when
	 * min != 0 (0, 0: any number).
	 * CFG_DURATION (ms): at least min, and at most max when max > 0.
	 */
	long long		  min, max;
};
struct cfg_strlist {
	char	**v;
	size_t	  n;
};
struct cfg_strmap {
	char	**keys;
	char	**values;
	/*
	 * With CFG_SECRET_VALUES: per entry, the secret named by a
	 * {secretRef: NAME} value (its values[i] is then ""), else NULL.
	 * The array itself is NULL without the flag.
	 */
	char	**secret_refs;
	size_t	  n;
};

/*
 * Fill `base` from `map` with `keys`: defaults first, then values; unknown
 * keys, wrong types, bad durations and missing required keys are errors.
 * Returns the number of errors added.
 */
int	 cfg_apply(const struct cfg_key *, void *base, const struct cfg_node *map,
	    struct cfg_errors *);
/*
 * The same for a map found at `path` (e.g. "spec", used in messages) under
 * `parent`, where errors about a missing map point.  map may be NULL.
 */
int	 cfg_apply_at(const struct cfg_key *, void *base,
	    const struct cfg_node *map, const struct cfg_node *parent,
	    const char *path, struct cfg_errors *);
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
	/*
	 * Not from the file: open beside a running watcher, for short
	 * read-mostly commands (history, replay); LMDB skips its writer lock.
	 */
	int		 shared;
};

struct secret {
	char		*name;
	char		*ref;		/* "env:NAME" or "file:PATH" */
};

/* Politeness knobs, on a connector or a source (issue: polite at scale). */
struct rate_conf {
	double		 rps;		/* requestsPerSecond, 0 = unlimited */
	long long	 burst;
};

/*
 * TLS and proxy keys, the same on every connector (its top level) and on
 * the Webhook sink (its spec).  A *Ref names a secret, or is a path when it
 * holds a "/" (secret names never do), relative to the config file's
 * directory.  Read by http_tls_load() (http.h) when the source or sink
 * starts; checked at load by config_tls_check() (config-tls.c).
 */
struct tls_conf {
	char		*ca_cert_ref;	/* caCertRef: PEM CA bundle */
	char		*client_cert_ref; /* clientCertRef: PEM cert (mTLS) */
	char		*client_key_ref; /* clientKeyRef: PEM private key */
	int		 insecure;	/* insecureSkipVerify */
	char		*proxy_url;	/* proxyUrl */
};
/* The entries of a key table for struct tls_conf member M of struct T. */
#define CFG_TLS_KEYS(T, M)					\
	{ .name = "caCertRef", .type = CFG_STRING,			\
	  .off = offsetof(T, M.ca_cert_ref) },			\
	{ .name = "clientCertRef", .type = CFG_STRING,			\
	  .off = offsetof(T, M.client_cert_ref) },		\
	{ .name = "clientKeyRef", .type = CFG_STRING,			\
	  .off = offsetof(T, M.client_key_ref) },		\
	{ .name = "insecureSkipVerify", .type = CFG_BOOL,		\
	  .off = offsetof(T, M.insecure), .def = "false" },	\
	{ .name = "proxyUrl", .type = CFG_STRING,			\
	  .off = offsetof(T, M.proxy_url) }
/*
 * Checks across the keys, `map` being the block that holds them (for the
 * positions) and `what` its name in messages (`connector "reg"`); warns
 * about insecureSkipVerify at every load.  Returns the errors added.
 */
int	 config_tls_check(const struct tls_conf *, const struct cfg_node *map,
	    const char *what, struct cfg_errors *);

struct connector_conf {
	char			*id;
	char			*type;
	const struct cfg_node	*node;		/* the connector: block */
	const struct cfg_node	*spec;
	void			*data;		/* filled by the entry's keys */
	const struct connector_entry *entry;
	/* Politeness (limit.h): top level of the connector block. */
	struct rate_conf	 rate;		/* rateLimit: */
	long long		 max_concurrency; /* 0: the global cap only */
	int64_t			 max_retry_wait_ms; /* default 60 s */
	/* TLS and proxy of every request (top level of the block). */
	struct tls_conf		 tls;
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
	/*
	 * Digest checks of sources whose versions are re-pointable tags
	 * (PROVIDER_TAGS): keys of their spec (also read at the top level,
	 * where older files have them; the spec wins).
	 */
	int			 fetch_labels;
	int64_t			 digest_check_ms; /* re-HEAD known tags, 0 off */
	long long		 digest_checks;	/* digestChecksPerPoll */
	char			*mutable_tag_regex; /* NULL: not a full version */
	/* What gets emitted (order.h): filters, order, burst policy. */
	char			*tag_regex;	/* spec.tagRegex */
	char			*tag_regex_exclude; /* spec.tagRegexExclude */
	int			 order;		/* enum order_kind */
	int			 prereleases;	/* 0 exclude, 1 include */
	int			 include_signatures;
	long long		 burst_limit;	/* default 100 */
	int			 burst_action;	/* enum burst_action */
};

/* What a poll that finds more than burstLimit new versions does. */
enum burst_action { BURST_EMIT_NEWEST, BURST_FAST_FORWARD, BURST_HOLD };

struct sink_conf {
	char			*id;
	char			*type;
	const struct cfg_node	*node;
	const struct cfg_node	*spec;
	const struct sink_entry	*entry;
	void			*data;		/* the sink's spec struct */
	long long		 max_attempts;	/* default 20 */
	int64_t			 max_age_ms;	/* 0: none */
	long long		 max_inflight;	/* 0: the entry's default */
	/* The sink's own filter, beside triggers; empty: any. */
	struct cfg_strlist	 types;		/* event types */
	struct cfg_strlist	 sources;	/* source identifiers */
};

/* api: block (config-api.c, watcher/api.c).  No block: no HTTP API. */
#define API_DEFAULT_LISTEN	"127.0.0.1:9090"
struct api_conf {
	int		 enabled;	/* the block is there */
	char		*listen;	/* HOST:PORT or [IPV6]:PORT */
	char		*token_ref;	/* secret: Bearer token, NULL none */
};
/* api.listen taken apart; host is an IP literal, owned by the caller. */
struct api_addr {
	char		*host;
	unsigned	 port;		/* 0: any free port */
	int		 loopback;
};
int	 api_listen_parse(const char *, struct api_addr *, char **cause);

struct cond_list;
struct trigger_conf {
	char			*id;
	const struct cfg_node	*node;
	struct cfg_strlist	 sources;
	struct cfg_strlist	 sinks;
	/* config-trigger.c */
	int			 enabled;	/* false: routes nothing */
	struct cond_list	*conds;		/* all must hold (cond.h) */
	struct cfg_node		*made;		/* a Harness trigger's source */
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
	long long		 max_inflight;	/* maxInFlight: all connectors */
	struct api_conf		 api;
};

/*
 * Load and validate a file.  On success returns the config; on failure NULL
 * with every error in `errs` (the caller prints and frees them).
 */
struct config	*config_load(const char *path, struct cfg_errors *errs);
void		 config_free(struct config *);
struct source_conf *config_source(struct config *, const char *id);
struct sink_conf   *config_sink(struct config *, const char *id);
/*
 * Does source feed sink (triggers, or all-to-all when there are none, and
 * the sink's `sources`)?
 */
int		 config_routes(const struct config *, const struct source_conf *,
		    const struct sink_conf *);

/* secret.c: resolve a secret name to its value (env: or file:). */
int	 secret_resolve(const struct config *, const char *name, char **value,
	    char **cause);
/* The same for the config key `key` naming it: the cause is "KEY REF: why". */
int	 secret_resolve_key(const struct config *, const char *key,
	    const char *ref, char **value, char **cause);
/*
 * A reference that is a secret name, or a path when it holds a "/"
 * (relative to the config file's directory): its contents.
 */
int	 secret_or_path_resolve(const struct config *, const char *ref,
	    char **value, char **cause);

/*
 * The loader's parts (the files of config/), declared here for each other
 * only: each reads one top-level block of the file into `conf`, adding to
 * `errs`.
 */
void	 secrets_load(struct config *, const struct cfg_node *,
	    struct cfg_errors *);
void	 config_load_store(struct config *, const struct cfg_node *,
	    struct cfg_errors *);
void	 config_load_connectors(struct config *, const struct cfg_node *,
	    struct cfg_errors *);
void	 config_load_sources(struct config *, const struct cfg_node *,
	    struct cfg_errors *);
void	 config_load_sinks(struct config *, const struct cfg_node *,
	    struct cfg_errors *);
void	 config_load_triggers(struct config *, const struct cfg_node *,
	    struct cfg_errors *);
void	 config_load_api(struct config *, const struct cfg_node *,
	    struct cfg_errors *);
/* config-trigger.c: the sinks' `sources:` name sources (after triggers). */
void	 config_check_sink_sources(struct config *, struct cfg_errors *);
void	 config_free_sources(struct config *);	/* and connectors */
void	 config_free_sinks(struct config *);
void	 config_free_triggers(struct config *);
void	 config_free_api(struct config *);
/* config-sources.c: one source block (also a Harness trigger's). */
void	 config_load_source(struct config *, struct source_conf *,
	    const struct cfg_node *, size_t index, struct cfg_errors *);
/* config-list.c: what the list blocks share. */
int	 config_id_valid(const char *);
const struct cfg_node *config_list(const struct cfg_node *, const char *name,
	    struct cfg_errors *);
char	*config_entry_where(const char *kind, const char *list, size_t,
	    const struct cfg_node *entry);
/*
 * Entry i of an array of blocks (each `size` bytes, with its identifier, a
 * char *, at id_off and its node at node_off): the identifier's characters,
 * and that no entry before it has the same.  CONFIG_CHECK_ID fills in the
 * sizes and offsets for any block struct with `id` and `node` members.
 */
void	 config_check_id(const char *kind, const void *entries, size_t size,
	    size_t i, size_t id_off, size_t node_off, struct cfg_errors *);
#define CONFIG_CHECK_ID(kind, arr, i, errs)				\
	config_check_id((kind), (arr), sizeof *(arr), (i),		\
	    offsetof(__typeof__(*(arr)), id),				\
	    offsetof(__typeof__(*(arr)), node), (errs))
/* config-types.c: an unknown `type:`, with the types that exist. */
enum config_type_kind { TYPE_SOURCE, TYPE_CONNECTOR, TYPE_SINK };
void	 config_unknown_type(enum config_type_kind, const struct cfg_node *,
	    const char *where, struct cfg_errors *);

#endif
