/*
 * store-lmdb-lease.c: leases (store.h) for the LMDB store.  Only one process
 * can write a state directory (its writer lock refuses a second watcher), so
 * a lease never has to be shared between processes: it is a small table in
 * memory, kept with the same rules as the Redis store's leases so that both
 * pass the same conformance tests.  A lone watcher is its only owner and is
 * always granted.  Tokens come from one counter per open store: a restart
 * starts again at 1, which is safe because no earlier holder can be alive.
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

static struct lmdb_lease *
lmdb_lease_find(struct lmdb_store *s, const char *name)
{
	struct lmdb_lease	*l;

	LIST_FOREACH(l, &s->leases, link) {
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
		l = xcalloc(1, sizeof *l);
		l->name = xstrdup(name);
		LIST_INSERT_HEAD(&s->leases, l, link);
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

	while ((l = LIST_FIRST(&s->leases)) != NULL) {
		LIST_REMOVE(l, link);
		free(l->name);
		free(l->owner);
		free(l);
	}
}
