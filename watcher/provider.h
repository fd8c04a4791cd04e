/*
 * provider.h: artifact sources.  A provider is a type: a static
 * `const struct provider_entry` (providers/provider-*.c) with the keys of its
 * connector and source `spec:` blocks and its callbacks.  A `struct provider`
 * is one instance, made per configured source.  provider.c holds the table.
 *
 * Also the known-version index the core keeps per source (index.c), which a
 * provider reads to decide what is worth a request (a HEAD for a new tag).
 */
#ifndef PROVIDER_H
#define PROVIDER_H

#include "watcher.h"
#include "config.h"

/* index.c: known versions of one source: name -> digest, last check. */
struct index;
struct index	*index_create(void);
void		 index_free(struct index *);		/* accepts NULL */
/* Insert or replace; digest may be NULL (unknown).  checked_s: unix s. */
void		 index_put(struct index *, const char *name, const char *digest,
		    int64_t checked_s);
int		 index_remove(struct index *, const char *name);
/*
 * 1 if known (and *digest set, possibly to NULL), 0 if not.  *digest stays
 * valid until the next call on this index.
 */
int		 index_get(const struct index *, const char *name,
		    const char **digest);
/* When the digest of name was last fetched (unix s), 0 if never/unknown. */
int64_t		 index_checked(const struct index *, const char *name);
size_t		 index_count(const struct index *);
/* Calls fn for every entry; stops early when fn returns non-zero. */
int		 index_foreach(const struct index *,
		    int (*fn)(const char *name, const char *digest,
		    int64_t checked_s, void *arg), void *arg);

/* What a poll hands back: status 0 and versions (the callee's to free). */
struct poll_result {
	int		 status;	/* 0 ok, -1 failed */
	const char	*cause;		/* when failed */
	int64_t		 retry_after_s;	/* server asked to wait, else 0 */
	struct versions	*versions;	/* on success: taken by the callback */
	unsigned	 requests;	/* HTTP requests this poll made */
	/*
	 * Nothing changed since the last poll (a 304 for the listing):
	 * versions is NULL and the core writes and emits nothing.
	 */
	int		 unchanged;
};
typedef void (*provider_done_cb)(const struct poll_result *, void *arg);

struct provider;
struct provider_entry {
	const char		*name;		/* source `type:` */
	const char		*connector;	/* connector `type:` it needs */
	const struct cfg_key	*connector_keys; /* connector spec: */
	size_t			 connector_size;
	const struct cfg_key	*source_keys;	/* source spec: */
	size_t			 source_size;
	/* Checks across keys after cfg_apply (may be NULL). */
	int	(*check)(struct source_conf *, struct cfg_errors *);
	int	(*init)(struct provider *, char **cause);
	/*
	 * Start one poll.  `done` runs exactly once, from the event loop,
	 * unless cancel() is called first.  A provider never has two polls
	 * of the same instance in flight.
	 */
	void	(*poll)(struct provider *, const struct index *known,
		    provider_done_cb done, void *arg);
	void	(*cancel)(struct provider *);
	void	(*free)(struct provider *);	/* frees what init made */
	/* Registry host and repository for events (may be NULL). */
	void	(*describe)(const struct provider *, const char **registry,
		    const char **repository);
};

struct provider {
	const struct provider_entry	*entry;
	const struct source_conf	*conf;
	struct env			*env;
	void				*data;	/* the instance's own state */
	/*
	 * The connector's TLS and proxy settings, loaded by provider_create()
	 * before init(): every request of the instance carries them (struct
	 * http_request's tls).  NULL for a source without a connector.
	 */
	struct http_tls			*tls;
	/*
	 * Set by the core before poll().  baseline: the source has no state
	 * yet, so every listed version is "new"; fetch no per-version digests
	 * (digest checks fill them in over later polls) unless emitExisting.
	 * list_only: the `versions` command; list, fetch nothing per version.
	 */
	int				 baseline;
	int				 list_only;
	/*
	 * Set by the core before poll(): the previous cycle ended well, so
	 * what it listed is in the index and a conditional request (ETag) may
	 * stand for it.
	 */
	int				 last_ok;
};

/* provider.c */
const struct provider_entry *provider_find(const char *source_type);
/* The first provider whose connector type is `type`, or NULL. */
const struct provider_entry *provider_find_connector(const char *type);
/* Make an instance for a source; NULL and *cause on failure. */
struct provider	*provider_create(struct env *, const struct source_conf *,
		    char **cause);
void		 provider_free(struct provider *);	/* accepts NULL */

#endif
