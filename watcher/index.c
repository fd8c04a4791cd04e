/*
 * index.c: the known versions of one source, in memory: name -> digest and
 * when that digest was last fetched.  Filled from the store at start, updated
 * after every successful commit, read by providers to decide what is worth a
 * request.  Open addressing with linear probing; names and digests are
 * stored in one allocation per entry to keep the per-tag cost small.
 */
#include <stdlib.h>
#include <string.h>

#include "provider.h"

struct index_entry {
	char		*key;		/* name \0 digest \0 (digest may be "") */
	uint32_t	 hash;		/* 0: empty slot */
	uint32_t	 checked;	/* unix seconds, 0: never */
};

struct index {
	struct index_entry	*slots;
	size_t			 size;	/* power of two */
	size_t			 count;
};

static uint32_t
index_hash(const char *s)
{
	uint32_t	 h = 2166136261u;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return (h == 0 ? 1 : h);
}

struct index *
index_create(void)
{
	struct index	*idx;

	idx = xcalloc(1, sizeof *idx);
	idx->size = 16;
	idx->slots = xcalloc(idx->size, sizeof *idx->slots);
	return (idx);
}

void
index_free(struct index *idx)
{
	size_t	 i;

	if (idx == NULL)
		return;
	for (i = 0; i < idx->size; i++)
		free(idx->slots[i].key);
	free(idx->slots);
	free(idx);
}

static struct index_entry *
index_find(const struct index *idx, const char *name, uint32_t hash)
{
	size_t			 i, mask = idx->size - 1;
	struct index_entry	*e;

	for (i = hash & mask;; i = (i + 1) & mask) {
		e = &idx->slots[i];
		if (e->hash == 0)
			return (e);
		if (e->hash == hash && strcmp(e->key, name) == 0)
			return (e);
	}
}

static void
index_grow(struct index *idx)
{
	struct index_entry	*old = idx->slots, *e;
	size_t			 oldsize = idx->size, i;

	idx->size *= 2;
	idx->slots = xcalloc(idx->size, sizeof *idx->slots);
	for (i = 0; i < oldsize; i++) {
		if (old[i].hash == 0)
			continue;
		e = index_find(idx, old[i].key, old[i].hash);
		*e = old[i];
	}
	free(old);
}

void
index_put(struct index *idx, const char *name, const char *digest,
    int64_t checked_s)
{
	struct index_entry	*e;
	uint32_t		 hash = index_hash(name);
	size_t			 nlen = strlen(name), dlen;

	if ((idx->count + 1) * 4 > idx->size * 3)
		index_grow(idx);
	e = index_find(idx, name, hash);
	if (e->hash == 0)
		idx->count++;
	free(e->key);
	if (digest == NULL)
		digest = "";
	dlen = strlen(digest);
	e->key = xmalloc(nlen + dlen + 2);
	memcpy(e->key, name, nlen + 1);
	memcpy(e->key + nlen + 1, digest, dlen + 1);
	e->hash = hash;
	e->checked = checked_s < 0 ? 0 : (uint32_t)checked_s;
}

int
index_remove(struct index *idx, const char *name)
{
	struct index_entry	*e, *f;
	size_t			 i, j, k, mask = idx->size - 1;

	e = index_find(idx, name, index_hash(name));
	if (e->hash == 0)
		return (0);
	free(e->key);
	i = (size_t)(e - idx->slots);
	idx->slots[i].hash = 0;
	idx->slots[i].key = NULL;
	idx->count--;
	/* Shift later members of the probe run back into the hole. */
	for (j = (i + 1) & mask; idx->slots[j].hash != 0; j = (j + 1) & mask) {
		f = &idx->slots[j];
		k = f->hash & mask;
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			idx->slots[i] = *f;
			f->hash = 0;
			f->key = NULL;
			i = j;
		}
	}
	return (1);
}

int
index_get(const struct index *idx, const char *name, const char **digest)
{
	const struct index_entry	*e;
	const char			*d;

	e = index_find(idx, name, index_hash(name));
	if (e->hash == 0)
		return (0);
	if (digest != NULL) {
		d = e->key + strlen(e->key) + 1;
		*digest = *d == '\0' ? NULL : d;
	}
	return (1);
}

int64_t
index_checked(const struct index *idx, const char *name)
{
	const struct index_entry	*e;

	e = index_find(idx, name, index_hash(name));
	return (e->hash == 0 ? 0 : (int64_t)e->checked);
}

size_t
index_count(const struct index *idx)
{
	return (idx->count);
}

int
index_foreach(const struct index *idx, int (*fn)(const char *, const char *,
    int64_t, void *), void *arg)
{
	const struct index_entry	*e;
	const char			*d;
	size_t				 i;
	int				 r;

	for (i = 0; i < idx->size; i++) {
		e = &idx->slots[i];
		if (e->hash == 0)
			continue;
		d = e->key + strlen(e->key) + 1;
		if ((r = fn(e->key, *d == '\0' ? NULL : d, e->checked, arg)) != 0)
			return (r);
	}
	return (0);
}
