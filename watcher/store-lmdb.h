/*
 * store-lmdb.h: what the files of the LMDB store (store-lmdb*.c) share and
 * nobody else needs: the store's private state, the environment (directory,
 * writer lock, map growth, error wording) and the byte layout of records.
 *
 * The environment is one directory holding data.mdb, lock.mdb and
 * writer.lock, with these named databases:
 *	versions  source \0 name-or-hash -> name \0 [digest \0]
 *	markers   source                 -> baseline ms (8, big-endian) epoch
 *	outbox    sequence (8, BE)       -> entry record (lmdb_entry_encode)
 *	pending   sink \0 sequence       -> (empty): routed, not yet acked
 *	dead      sink \0 sequence       -> time ms (8, BE) reason
 *	meta      "next"                 -> next sequence (8, BE)
 */
#ifndef STORE_LMDB_H
#define STORE_LMDB_H

#include <sys/queue.h>

#include <lmdb.h>

#include "store.h"

/* A finished operation whose callback waits for the event loop. */
struct lmdb_reply;
TAILQ_HEAD(lmdb_replies, lmdb_reply);
struct lmdb_lease;
LIST_HEAD(lmdb_leases, lmdb_lease);

struct lmdb_store {
	char			*path;
	int			 lock_fd;
	MDB_env			*env;
	size_t			 map_size;
	MDB_dbi			 versions;
	MDB_dbi			 markers;
	MDB_dbi			 outbox;
	MDB_dbi			 pending;
	MDB_dbi			 dead;
	MDB_dbi			 meta;
	struct event		*drain;
	struct lmdb_replies	 replies;
	int			 draining;	/* inside lmdb_drain */
	int			 closed;	/* closed from a callback */
	struct lmdb_leases	*leases;	/* store-lmdb-lease.c: */
	size_t			 lease_buckets;	/* a power of two, or 0 */
	size_t			 nleases;
	uint64_t		 lease_tokens;	/* the last token given */
};

/*
 * What a write body returns besides 0 (commit) and LMDB codes: nothing to
 * write (drop the transaction, no error), or refused with its own *cause.
 */
#define LMDB_UNCHANGED	(-1)
#define LMDB_REFUSED	(-2)
typedef int (*lmdb_write_fn)(struct lmdb_store *, MDB_txn *, void *,
	    char **cause);

/* store-lmdb-env.c */
int	 lmdb_default_path(char **path, char **cause);
int	 lmdb_env_open(struct lmdb_store *, const char *path, int shared,
	    char **cause);
void	 lmdb_env_close(struct lmdb_store *);
int	 lmdb_write(struct lmdb_store *, lmdb_write_fn, void *, char **cause);
int	 lmdb_read_begin(struct lmdb_store *, MDB_txn **, char **cause);
int	 lmdb_fail(struct lmdb_store *, int rc, const char *doing,
	    char **cause);

/* store-lmdb-lease.c: leases live in memory (one writer per directory). */
int	 lmdb_lease_take(struct lmdb_store *, const char *name,
	    const char *owner, const char *dead, int64_t ttl_ms,
	    uint64_t *token, char **holder);
void	 lmdb_lease_release(struct lmdb_store *, const char *name,
	    const char *owner);
int	 lmdb_lease_valid(struct lmdb_store *, const char *name,
	    uint64_t token);
void	 lmdb_leases_free(struct lmdb_store *);

/* store-lmdb-record.c */
struct buf;
struct lmdb_entry {
	int64_t		 committed_at;
	const char	*id;
	const char	*source;
	const char	*json;
	const char	**sinks;	/* allocated; strings point into data */
	size_t		 nsinks;
};
void	 lmdb_put64(unsigned char *, uint64_t);
uint64_t lmdb_get64(const unsigned char *);
void	 lmdb_seq_key(unsigned char [8], uint64_t);
int	 lmdb_seq_val(const MDB_val *, uint64_t *);
char	*lmdb_seq_format(uint64_t);
int	 lmdb_seq_parse(const char *, uint64_t *);
int	 lmdb_sink_key(struct buf *, const char *sink, uint64_t seq,
	    size_t max, char **cause);
int	 lmdb_prefix_key(struct buf *, const char *prefix, size_t max,
	    char **cause);
int	 lmdb_version_key(struct buf *, const char *source, const char *name,
	    size_t max, char **cause);
void	 lmdb_version_encode(struct buf *, const char *name,
	    const char *digest);
int	 lmdb_version_decode(const MDB_val *, const char **name,
	    const char **digest);
void	 lmdb_marker_encode(struct buf *, int64_t at, const char *epoch);
int	 lmdb_marker_decode(const MDB_val *, int64_t *at, char **epoch);
void	 lmdb_entry_encode(struct buf *, int64_t at, const char *id,
	    const char *source, const char *json, const char *const *sinks,
	    size_t nsinks);
int	 lmdb_entry_decode(const MDB_val *, struct lmdb_entry *);
void	 lmdb_entry_clear(struct lmdb_entry *);
int	 lmdb_entry_routes(const struct lmdb_entry *, const char *sink);

#endif
