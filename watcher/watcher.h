/*
 * watcher.h: what every file of artifact-watcher shares: allocation that
 * cannot fail, logfmt logging, growable buffers, versions as providers find
 * them, time and duration helpers, and the environment (event base, HTTP
 * engine, store, config) that is passed explicitly instead of kept in globals.
 *
 * Each module has its own header beside this one (http.h, store.h, ...), as
 * pgbouncer does: several people work on the tree at once and one header per
 * module keeps their edits apart.  A module's private structs stay in its .c.
 */
#ifndef WATCHER_H
#define WATCHER_H

#include <sys/types.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define AW_NAME		"artifact-watcher"
#define AW_VERSION	"0.1.0"

#define nitems(a)	(sizeof (a) / sizeof ((a)[0]))
#ifndef __unused
#define __unused	__attribute__((unused))
#endif
#define printflike(a, b) __attribute__((format(printf, a, b)))

struct event_base;
struct http;
struct store;
struct config;
struct limits;
struct leases;
typedef struct cJSON cJSON;

/* xmalloc.c: allocation that calls fatal() instead of returning NULL. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) printflike(2, 3);
int	 xvasprintf(char **, const char *, va_list);
/* Sets *cause (if cause is not NULL) to a formatted string; returns -1. */
int	 fail(char **cause, const char *, ...) printflike(2, 3);

/* log.c: logfmt lines on stderr: ts=… level=… msg="…" key=value … */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
void	 log_set_level(enum log_level);
/* Would a line of this level be written?  (Skip costly arguments.) */
int	 log_enabled(enum log_level);
int	 log_parse_level(const char *, enum log_level *);
/* fmt holds the key=value pairs; wrap free text values with log_q(). */
void	 log_write(enum log_level, const char *msg, const char *fmt, ...)
	    printflike(3, 4);
#define log_debug(m, ...) log_write(LOG_DEBUG, m, __VA_ARGS__)
#define log_info(m, ...)  log_write(LOG_INFO, m, __VA_ARGS__)
#define log_warn(m, ...)  log_write(LOG_WARN, m, __VA_ARGS__)
#define log_error(m, ...) log_write(LOG_ERROR, m, __VA_ARGS__)
/* Quote a value for logfmt when it needs it; valid until 8 more calls. */
const char *log_q(const char *);
__attribute__((noreturn)) void fatal(const char *, ...) printflike(1, 2);
__attribute__((noreturn)) void fatalx(const char *, ...) printflike(1, 2);

/* buf.c: a growable byte buffer, always NUL-terminated. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 size;
};
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...) printflike(2, 3);
char	*buf_take(struct buf *);	/* hands the string over, resets */
void	 buf_free(struct buf *);

/*
 * excerpt.c: the first bytes of untrusted text (a receiver's answer) fit
 * for a log line or a stored reason: control characters and whitespace
 * runs become one space, invalid UTF-8 becomes '?', the ends are trimmed,
 * and at most `max` bytes are kept ("..." marks a cut, at a character
 * boundary).  NULL when nothing printable is left.
 */
char	*excerpt(const void *data, size_t len, size_t max);

/*
 * version.c: what a provider found: one entry per tag or version.
 *
 * The kind of artifact (DESIGN §4) is the provider's (provider_entry.kind);
 * `fields` holds the fields of that kind which differ per version (a file's
 * path and size, a build's result, a chart's appVersion), set by list() or
 * resolve() with version_set*(); the fields every version of a source
 * shares (registry, repository, bucket, server, chart) are the provider
 * instance's (provider.fields).  The core reads both when it builds an
 * event and never calls the provider back.
 */
enum artifact_kind {
	KIND_CONTAINER,		/* registry, repository, image */
	KIND_FILE,		/* bucket (or host, share), path, size */
	KIND_MACHINE_IMAGE,	/* region, imageId, name, tags */
	KIND_BUILD,		/* server, job, buildNumber, result, artifacts */
	KIND_PACKAGE,		/* repository, package, group, format, downloadUrl */
	KIND_CHART,		/* repository, chart, appVersion */
	KIND_CUSTOM,		/* what the script gives, under metadata */
};
/* What the core asks resolve() for, per version (version.want). */
#define RESOLVE_DIGEST	0x1	/* the digest (a HEAD, a checksum) */
#define RESOLVE_DETAILS	0x2	/* labels, push time, the kind's fields */
struct version {
	char		*name;		/* tag, version or build number */
	char		*digest;	/* "sha256:…", NULL when unknown */
	int64_t		 pushed_at;	/* unix seconds, 0 when unknown */
	int64_t		 size;		/* bytes, -1 when unknown */
	cJSON		*labels;	/* object or NULL, owned */
	cJSON		*metadata;	/* object or NULL, owned (SHA, url…) */
	cJSON		*fields;	/* the kind's own fields, or NULL */
	unsigned	 want;		/* RESOLVE_*: set by the core */
	int		 gone;		/* resolve(): vanished since the list */
};
struct versions {
	struct version	*v;
	size_t		 n;
	size_t		 size;
	int		 truncated;	/* the cap (maxTags) stopped the listing */
};
struct version	*versions_add(struct versions *, const char *name);
void		 versions_free(struct versions *);
void		 version_clear(struct version *);	/* frees its parts */
/* A field of the version's kind (fields), replaced if present. */
void		 version_set(struct version *, const char *field,
		    const char *value);		/* value NULL: null */
void		 version_set_number(struct version *, const char *field,
		    double);
/* The same under metadata (what <+artifacts.primary.metadata.KEY> reads). */
void		 version_set_meta(struct version *, const char *key,
		    const char *value);

/* timeutil.c: durations ("90s", "5m", "1h", "1h30m") and timestamps. */
int	 duration_parse(const char *, int64_t *ms, char **cause);
int64_t	 now_ms(void);			/* CLOCK_REALTIME in ms */
int64_t	 now_us(void);			/* CLOCK_REALTIME in µs */
int64_t	 mono_ms(void);			/* CLOCK_MONOTONIC in ms */
/* RFC 3339 with or without fraction and offset; returns -1 if not one. */
int	 time_parse_rfc3339(const char *, int64_t *unix_s);
/* HTTP-date (IMF-fixdate, RFC 850, asctime). */
int	 time_parse_http(const char *, int64_t *unix_s);
/* "2026-11-22T10:00:00Z" into a buffer of at least 21 bytes. */
void	 time_format_rfc3339(int64_t unix_s, char *out, size_t len);

/* backoff.c: exponential backoff with full or equal jitter. */
struct backoff {
	int64_t	 base_ms;		/* first delay */
	int64_t	 cap_ms;		/* largest delay */
	int	 full_jitter;		/* [0, d] instead of [d/2, d] */
};
/* Delay before attempt number `attempt` (1 = first retry), jittered. */
int64_t	 backoff_delay(const struct backoff *, unsigned attempt,
	    uint32_t random);
/* Delay with ±pct% jitter around `ms`. */
int64_t	 jitter(int64_t ms, unsigned pct, uint32_t random);
uint32_t random32(void);
/*
 * A draw fixed by (seed, key, n) alone: splitmix64 over the seed, the
 * FNV-1a hash of key and n.  Used instead of random32() when the
 * environment variable AW_RANDOM_SEED is set (env_seed), so that tests can
 * predict every jittered delay whatever order the sources draw in.
 */
uint32_t random_keyed(uint64_t seed, const char *key, uint64_t n);

/* Everything a module may need, passed explicitly. */
struct env {
	struct event_base	*base;
	struct http		*http;
	struct store		*store;
	struct config		*conf;
	struct limits		*limits;	/* limit.h: per connector */
	struct connectors	*connectors;	/* connector.h: NULL: unshared */
	struct leases		*leases;	/* lease.h: NULL: none taken */
	int			 seeded;	/* AW_RANDOM_SEED was set */
	uint64_t		 seed;		/* its value */
};
/* backoff.c: fills seeded and seed from AW_RANDOM_SEED. */
void	 env_seed(struct env *);
/* random_keyed() when the env is seeded, else random32(). */
uint32_t env_random(const struct env *, const char *key, uint64_t n);

#endif
