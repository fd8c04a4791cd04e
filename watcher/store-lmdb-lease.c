/*
 * store-lmdb-lease.c: leases (store.h) for the LMDB store.  Only one process
 * can write a state directory (its writer lock refuses a second watcher), so
 * a lease never has to be shared between processes: it is a small table in
 * memory, kept with the same rules as the Redis store's leases so that both
 * pass the same conformance tests.  A lone watcher is its only owner and is
 * always granted; the daemon does not even ask (the store is not shared).
 * Tokens come from one counter per open store that starts at the time in
 * ms, so they grow across restarts too, as Redis' do.
 */
#include <stdlib.h>
#include <string.h>

#include "store-lmdb.h"

struct lmdb_lease {
	char			*name;
	char			*owner;		/* NULL: released */
	uint64_t		 token;
	int64_t			 expires;	/* mono ms */
	LIST_ENTRY(lmdb_lease)	 link;
};

/* A hash table of lists: one lease per source and sink. */
static struct lmdb_leases *
lmdb_lease_bucket(struct lmdb_store *s, const char *name)
{
	uint32_t	 h = 2166136261u;	/* FNV-1a */

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return (&s->leases[h & (s->lease_buckets - 1)]);
}

static void
lmdb_lease_grow(struct lmdb_store *s)
{
	struct lmdb_leases	*old = s->leases;
	struct lmdb_lease	*l;
	size_t			 i, n = s->lease_buckets;

	s->lease_buckets = n == 0 ? 64 : n * 2;
	s->leases = xcalloc(s->lease_buckets, sizeof *s->leases);
	for (i = 0; i < n; i++) {
		while ((l = LIST_FIRST(&old[i])) != NULL) {
			LIST_REMOVE(l, link);
			LIST_INSERT_HEAD(lmdb_lease_bucket(s, l->name), l,
			    link);
		}
	}
	free(old);
}

static struct lmdb_lease *
lmdb_lease_find(struct lmdb_store *s, const char *name)
{
	struct lmdb_lease	*l;

	if (s->lease_buckets == 0)
		return (NULL);
	LIST_FOREACH(l, lmdb_lease_bucket(s, name), link) {
		if (strcmp(l->name, name) == 0)
			return (l);
	}
	return (NULL);
}

static int
lmdb_lease_live(const struct lmdb_lease *l, int64_t now)
{
	return (l->owner != NULL && now < l->expires);
}

/* Granted, or not: then *holder is a copy of the holder's name. */
int
lmdb_lease_take(struct lmdb_store *s, const char *name, const char *owner,
    const char *dead, int64_t ttl_ms, uint64_t *token, char **holder)
{
	struct lmdb_lease	*l;
	int64_t			 now = mono_ms();

	*holder = NULL;

	if ((l = lmdb_lease_find(s, name)) == NULL) {
		if (s->nleases >= s->lease_buckets)
			lmdb_lease_grow(s);
		l = xcalloc(1, sizeof *l);
		l->name = xstrdup(name);
		LIST_INSERT_HEAD(lmdb_lease_bucket(s, name), l, link);
		s->nleases++;
	}
	if (lmdb_lease_live(l, now) && strcmp(l->owner, owner) != 0 &&
	    (dead == NULL || strcmp(l->owner, dead) != 0)) {
		*token = 0;
		*holder = xstrdup(l->owner);
		return (0);
	}
	if (!lmdb_lease_live(l, now) || strcmp(l->owner, owner) != 0) {
		free(l->owner);
		l->owner = xstrdup(owner);
		if (s->lease_tokens == 0)	/* µs: grows across reopens */
			s->lease_tokens = (uint64_t)now_us();
		l->token = ++s->lease_tokens;
	}
	l->expires = now + ttl_ms;
	*token = l->token;
	return (1);
}

void
lmdb_lease_release(struct lmdb_store *s, const char *name, const char *owner)
{
	struct lmdb_lease	*l;

	if ((l = lmdb_lease_find(s, name)) == NULL || l->owner == NULL ||
	    strcmp(l->owner, owner) != 0)
		return;
	free(l->owner);
	l->owner = NULL;
}

int
lmdb_lease_valid(struct lmdb_store *s, const char *name, uint64_t token)
{
	struct lmdb_lease	*l;

	l = lmdb_lease_find(s, name);
	return (l != NULL && lmdb_lease_live(l, mono_ms()) &&
	    l->token == token);
}

void
lmdb_leases_free(struct lmdb_store *s)
{
	struct lmdb_lease	*l;
	size_t			 i;

	for (i = 0; i < s->lease_buckets; i++) {
		while ((l = LIST_FIRST(&s->leases[i])) != NULL) {
			LIST_REMOVE(l, link);
			free(l->name);
			free(l->owner);
			free(l);
		}
	}
	free(s->leases);
	s->leases = NULL;
	s->lease_buckets = s->nleases = 0;
}
