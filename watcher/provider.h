/*
 * provider.h: artifact sources (DESIGN §2, §8).  A provider is a type: a
 * static `const struct provider_entry` (providers/FAMILY/ files) with the
 * keys of its source `spec:` block, the connector type it uses, the kind
 * of artifact it finds and its callbacks.  A `struct provider` is one
 * instance, made per configured source.  provider.c holds the table.
 *
 * A poll is two calls, both asynchronous:
 *
 *   list()     every version the source has now (at most req->max), with
 *              the cheap metadata the listing carries: the digest when the
 *              API gives it, push time, size, the kind's fields.
 *   resolve()  for the versions the core picked (new, or due a digest
 *              check), what costs a request each: v->want says what
 *              (RESOLVE_DIGEST, RESOLVE_DETAILS).
 *
 * Between the two the core filters (tagRegex, signature noise), diffs
 * against what it knows and picks, so an excluded version costs nothing and
 * a provider never sees the core's state.  An HTTP provider does its
 * requests through the fetch engine (fetch.h); a provider that is not HTTP
 * (SFTP, SMB, a script) answers from its own event-loop callbacks the same
 * way.
 */
#ifndef PROVIDER_H
#define PROVIDER_H

#include "watcher.h"
#include "config.h"
#include "index.h"

/* What list() is asked for. */
struct list_request {
	long long	 max;		/* maxTags: list at most this many */
	/*
	 * The previous listing was recorded by the core: a conditional
	 * request (ETag) may stand for it, and answer `unchanged`.
	 */
	int		 may_be_unchanged;
};

/* What list() and resolve() hand back: status 0, or -1 with a cause. */
struct provider_result {
	int		 status;	/* 0 ok, -1 failed */
	const char	*cause;		/* when failed: one line, no secret */
	int64_t		 retry_after_s;	/* server asked to wait, else 0 */
	unsigned	 requests;	/* requests this call made */
	/*
	 * list() only.  versions: on success, taken by the callback (free
	 * with versions_free() and free()).  unchanged: the listing is the
	 * one recorded (a 304), versions is NULL.
	 */
	struct versions	*versions;
	int		 unchanged;
};
typedef void (*provider_done_cb)(const struct provider_result *, void *arg);

struct provider;
struct provider_entry {
	const char		*name;		/* source `type:` */
	const char		*connector;	/* connector `type:` it uses */
	enum artifact_kind	 kind;		/* its events' data.kind */
	const struct cfg_key	*source_keys;	/* source spec: */
	size_t			 source_size;
	unsigned		 flags;		/* PROVIDER_* */
	/* Checks across keys after cfg_apply (may be NULL). */
	int	(*check)(struct source_conf *, struct cfg_errors *);
	/*
	 * What the source watches, canonical (imagePath, bucket and prefix,
	 * chart, plan key): with the connector's identity, the fingerprint
	 * the store remembers.  A change re-baselines the source silently.
	 * Allocated; NULL: the source's spec has nothing that identifies it.
	 */
	char	*(*identity)(const struct source_conf *);
	/*
	 * Make p->data and p->fields (the kind's fields every version of the
	 * source shares, e.g. registry and repository).  May be NULL.
	 */
	int	(*init)(struct provider *, char **cause);
	/*
	 * Start a listing.  `done` runs exactly once, from the event loop
	 * (never inside list()), unless cancel() comes first.  The core never
	 * has two calls of one instance in flight.
	 */
	void	(*list)(struct provider *, const struct list_request *,
		    provider_done_cb done, void *arg);
	/*
	 * Fill in v[0..n) what v[i]->want asks (digest, labels, fields);
	 * set v[i]->gone when it vanished since the listing (a 404).  May be
	 * NULL: the listing says everything.  Same rules for `done` (its
	 * versions is NULL).
	 */
	void	(*resolve)(struct provider *, struct version **v, size_t n,
		    provider_done_cb done, void *arg);
	void	(*cancel)(struct provider *);	/* the call in flight */
	void	(*free)(struct provider *);	/* frees what init made */
};
/*
 * PROVIDER_TAGS: versions are tags that can be re-pointed (containers,
 * OCI charts): the source takes the digest-check keys (mutableTagRegex,
 * digestChecksPerPoll, digestCheckInterval, fetchLabels,
 * includeSignatures) in its spec, and the core asks resolve() for the
 * digests of mutable tags every poll.
 */
#define PROVIDER_TAGS		0x1

struct provider {
	const struct provider_entry	*entry;
	const struct source_conf	*conf;
	struct env			*env;
	struct connector		*connector;	/* shared; NULL: none */
	/*
	 * The connector's TLS and proxy settings (connector->tls, loaded
	 * once per connector): every request of the instance carries them
	 * (struct http_request's tls; the fetch engine does).  NULL for a
	 * source without a connector.
	 */
	struct http_tls			*tls;
	void				*data;	/* the instance's own state */
	cJSON				*fields; /* the source's kind fields */
	/*
	 * Its events' data.kind: entry->kind, unless init says otherwise
	 * (a repository manager's docker format is a container, its maven
	 * format a package).
	 */
	enum artifact_kind		 kind;
};

/* provider.c */
const struct provider_entry *provider_find(const char *source_type);
/*
 * The entry of a source type on a connector type: one source type may be
 * served through several connector types (HelmChart on an HttpHelmRepo or
 * an OciHelmRepo).  NULL when no entry has both.
 */
const struct provider_entry *provider_find_for(const char *source_type,
		    const char *connector_type);
/* Make an instance for a source; NULL and *cause on failure. */
struct provider	*provider_create(struct env *, const struct source_conf *,
		    char **cause);
void		 provider_free(struct provider *);	/* accepts NULL */
/*
 * The source's fingerprint: a hash of its type, its connector's identity
 * and its own.  Allocated, 16 hex characters.
 */
char		*provider_fingerprint(const struct source_conf *);
/* "container", "file", …: data.kind of an event. */
const char	*artifact_kind_name(enum artifact_kind);
/*
 * check() of a source type with `version` (one version) and `versionRegex`
 * keys: one of them at most, not versionRegex and tagRegex both; a
 * versionRegex that compiles becomes the core's name filter
 * (conf->tag_regex).  The number of errors reported (bad: already found).
 */
int		 provider_check_versions(struct source_conf *,
		    struct cfg_errors *, const char *version,
		    const char *version_regex, int bad);

#endif
