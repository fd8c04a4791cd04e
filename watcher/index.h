/*
 * index.h: the known versions of one source, in memory (index.c): name ->
 * digest and when that digest was last checked.  The core keeps one per
 * source; anyone may use one as a set of names (a poll's "seen" set).
 */
#ifndef INDEX_H
#define INDEX_H

#include "watcher.h"

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

#endif
