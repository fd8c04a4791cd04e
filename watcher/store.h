/*
 * store.h: the store contract of DESIGN §5, one interface with two
 * implementations (store-redis.c, store-lmdb.c); the core above it does not
 * know which one it talks to.
 *
 * Every operation is asynchronous: its callback runs exactly once, always
 * later from the event loop (never before the call returns), and everything
 * handed to a callback is valid only during it.  status is STORE_OK, or
 * STORE_ERROR with a cause, or (commit only) STORE_STATE_LOST when the
 * source's state marker has vanished since it was loaded, or STORE_LEASE_LOST
 * when the commit's lease is no longer held under its fencing token.
 *
 * The outbox holds each committed event once, with the sinks it is routed
 * to; every sink has its own cursor over it.  An entry read and not yet acked
 * is returned again by the next read (after a restart too): at-least-once.
 */
#ifndef STORE_H
#define STORE_H

#include "watcher.h"

struct store_conf;

enum store_status { STORE_OK = 0, STORE_ERROR = -1, STORE_STATE_LOST = -2,
	STORE_LEASE_LOST = -3 };

/* What load() returns for a source. */
struct store_state {
	int		 present;	/* the state marker exists */
	char		*epoch;		/* marker: random id of the baseline */
	int64_t		 baseline_at;	/* marker: unix ms of the baseline */
	struct versions	 versions;	/* known names and digests */
};
void	store_state_clear(struct store_state *);

/* One event to append: routed to `sinks`. */
struct store_event {
	const char		*id;	/* stable event id */
	const char		*json;	/* the CloudEvent, serialised */
	const char *const	*sinks;
	size_t			 nsinks;
};
/* One version to record (digest may be NULL). */
struct store_change {
	const char	*name;
	const char	*digest;
};
struct store_commit {
	const char		*source;
	/*
	 * baseline: (re)create the marker with `epoch` and replace the known
	 * set by `changes`.  Otherwise the marker must still be `epoch`, or the
	 * commit fails with STORE_STATE_LOST and writes nothing.
	 */
	int			 baseline;
	const char		*epoch;
	const struct store_change *changes;
	size_t			 nchanges;
	const struct store_event *events;
	size_t			 nevents;
	/*
	 * Fencing: when lease is not NULL, the commit is refused with
	 * STORE_LEASE_LOST, writing nothing, unless the lease of that name is
	 * still held under `token` (what lease() granted).
	 */
	const char		*lease;
	uint64_t		 token;
};

/* One outbox entry, as a sink's cursor sees it. */
struct outbox_entry {
	char		*key;		/* the store's position, opaque */
	char		*id;		/* event id */
	char		*source;	/* source id */
	char		*json;		/* the CloudEvent */
	int64_t		 committed_at;	/* unix ms */
};

/* history(): what arrived and where it went. */
enum delivery_state { DELIVERY_PENDING, DELIVERY_DELIVERED, DELIVERY_DEAD };
struct history_sink {
	char			*sink;
	enum delivery_state	 state;
	char			*reason;	/* dead: why */
};
struct history_entry {
	struct outbox_entry	 e;
	struct history_sink	*sinks;
	size_t			 nsinks;
};
struct history_query {
	const char	*source;	/* NULL: all */
	int64_t		 since_ms;	/* committed at or after; 0: all */
	const char	*event_id;	/* NULL: all */
};

typedef void (*store_done_cb)(int status, const char *cause, void *arg);
typedef void (*store_load_cb)(int status, struct store_state *,
		    const char *cause, void *arg);
typedef void (*store_read_cb)(int status, struct outbox_entry *, size_t n,
		    const char *cause, void *arg);
typedef void (*store_history_cb)(int status, struct history_entry *, size_t n,
		    const char *cause, void *arg);
/* One lease to take or renew (lease()). */
struct store_lease_req {
	const char	*name;
	int64_t		 ttl_ms;
	const char	*dead;	/* NULL, or an owner the caller knows is gone */
};
/* Its answer: granted with its token, or not: holder holds it. */
struct store_lease_answer {
	int		 granted;
	uint64_t	 token;
	const char	*holder;
};
/* lease(): one answer per request, in the same order. */
typedef void (*store_lease_cb)(int status, const struct store_lease_answer *,
		    size_t n, const char *cause, void *arg);

struct store;
struct store_entry {
	const char	*name;
	int	(*open)(struct store *, char **cause);
	void	(*load)(struct store *, const char *source, store_load_cb,
		    void *);
	void	(*commit)(struct store *, const struct store_commit *,
		    store_done_cb, void *);
	/* Up to n unacked entries routed to sink, oldest first. */
	void	(*read)(struct store *, const char *sink, size_t n,
		    store_read_cb, void *);
	/* The sink is done with the entry at key (delivered). */
	void	(*ack)(struct store *, const char *sink, const char *key,
		    store_done_cb, void *);
	/*
	 * Optional: the same as n acks, in one write (one sync), answered
	 * once: all of them done, or (an error) none need be.  The
	 * dispatcher acks a run of delivered entries with it.
	 */
	void	(*ack_many)(struct store *, const char *sink,
		    const char *const *keys, size_t n, store_done_cb, void *);
	/* The entry goes to the sink's dead-letter list, and is acked. */
	void	(*dead)(struct store *, const char *sink, const char *key,
		    const char *reason, store_done_cb, void *);
	void	(*history)(struct store *, const struct history_query *,
		    store_history_cb, void *);
	/* Append the matching events again for one sink (same ids). */
	void	(*replay)(struct store *, const char *sink,
		    const struct history_query *, store_done_cb, void *);
	/* Drop delivered events committed before `before_ms`. */
	void	(*trim)(struct store *, int64_t before_ms, store_done_cb,
		    void *);
	void	(*close)(struct store *);
	/*
	 * Leases (DESIGN §5, docs/store.md "Replicas"): take or renew, for
	 * `owner`, each requested lease for its ttl_ms, in one request to the
	 * store.  A lease is granted when nobody else holds it, or when its
	 * holder is the request's `dead`; the fencing token stays the same
	 * while one owner renews in time and is greater for every new holder
	 * (and after an expiry).
	 */
	void	(*lease)(struct store *, const char *owner,
		    const struct store_lease_req *, size_t n, store_lease_cb,
		    void *);
	/* Give the lease up if owner holds it; nothing otherwise. */
	void	(*release)(struct store *, const char *name, const char *owner,
		    store_done_cb, void *);
	/* Several watchers may share it (Redis): they need the leases. */
	int	 shared;
};

struct store {
	const struct store_entry	*entry;
	const struct store_conf		*conf;
	struct event_base		*base;
	void				*data;	/* the implementation's */
	/* The resolved store.password secret (Redis AUTH), or NULL; only
	 * during open(). */
	const char			*password;
};

/* store.c: pick the implementation from conf->type and open it. */
struct store	*store_open(struct event_base *, const struct store_conf *,
		    char **cause);
/* The same, with the value of the secret store.password names (Redis). */
struct store	*store_open_with_password(struct event_base *,
		    const struct store_conf *, const char *password,
		    char **cause);
/* Open the store block of a config, resolving its password secret. */
struct store	*store_open_config(struct event_base *, const struct config *,
		    char **cause);
void		 store_close(struct store *);	/* accepts NULL */
void		 outbox_entries_free(struct outbox_entry *, size_t);
void		 history_entries_free(struct history_entry *, size_t);

/* history.c: an entry as JSON (the caller deletes it); state names. */
cJSON		*history_json(const struct history_entry *);
const char	*delivery_state_name(enum delivery_state);

#endif
