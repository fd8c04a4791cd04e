/*
 * lease.h: the leases one replica holds in the store (DESIGN §5), so that
 * several watchers sharing a Redis store poll each source and dispatch each
 * sink from one replica at a time (docs/store.md, "Replicas").
 *
 * A replica has one owner id (hostname:pid:random:scope).  Its leases are
 * asked for every ttl/3, all that are due in one store request a second,
 * which takes a lease when free and renews it when held; the hot paths
 * (polls, deliveries) only look at a flag and never talk to the store for
 * it.  A lease counts as held until ttl after the last granted request was
 * sent, not longer, even when the store cannot be reached: by then another
 * replica may have it.
 */
#ifndef LEASE_H
#define LEASE_H

#include "watcher.h"

struct leases;
struct lease;

/* Called when the lease becomes held (taken or taken back). */
typedef void (*lease_gained_cb)(struct lease *, uint64_t token, void *arg);

/* A replica's leases in `store`; logs the owner id. */
struct leases	*leases_create(struct event_base *, struct store *);
/* After the store is closed (its callbacks have run).  Accepts NULL. */
void		 leases_free(struct leases *);
const char	*leases_owner(const struct leases *);
/* Store requests in flight (a shutdown waits for its releases). */
int		 leases_busy(const struct leases *);

/* The TTL of a source's lease: 3 polling intervals, 30 s to 10 min. */
int64_t		 lease_ttl_for_interval(int64_t interval_ms);
#define LEASE_SINK_TTL_MS	15000

/* A lease named `name`; the first attempt is made from the loop, soon. */
struct lease	*lease_create(struct leases *, const char *name,
		    int64_t ttl_ms, lease_gained_cb, void *arg);
/* Held now; *token (may be NULL) is its fencing token. */
int		 lease_held(const struct lease *, uint64_t *token);
const char	*lease_name(const struct lease *);
/* Why the store could not be asked, until it answers again; or NULL. */
const char	*lease_error(const struct lease *);
/*
 * The store refused a commit under this lease's token: ask it again now
 * (lost, or taken again under a new token).  Accepts NULL.
 */
void		 lease_recheck(struct lease *);
/* Stop renewing and give the lease up in the store.  Accepts NULL. */
void		 lease_free(struct lease *);

#endif
