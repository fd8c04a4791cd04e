/*
 * strmap.c: a hash map from strings to pointers, open addressing with
 * linear probing.  The fakes look up repositories, tokens and digests on
 * every request at tens of thousands of requests a second, so a list will
 * not do; entries are never removed one by one, only all at once.
 */
#include <stdlib.h>
#include <string.h>

#include "fakes.h"

struct strmap_slot {
	char	*key;
	void	*value;
};

struct strmap {
	struct strmap_slot	*slots;
	size_t			 size;		/* a power of two */
	size_t			 count;
};

/* An empty map. */
struct strmap *
strmap_new(void)
{
	struct strmap	*m;

	m = xcalloc(1, sizeof *m);
	m->size = 64;
	m->slots = xcalloc(m->size, sizeof *m->slots);
	return (m);
}

/* The slot holding key, or the empty slot where it belongs. */
static struct strmap_slot *
strmap_find(const struct strmap *m, const char *key)
{
	size_t	i;

	i = fnv1a64(key, strlen(key)) & (m->size - 1);
	while (m->slots[i].key != NULL && strcmp(m->slots[i].key, key) != 0)
		i = (i + 1) & (m->size - 1);
	return (&m->slots[i]);
}

/* The value stored under key, or NULL. */
void *
strmap_get(const struct strmap *m, const char *key)
{
	return (strmap_find(m, key)->value);
}

/* Doubles the table when it is half full. */
static void
strmap_grow(struct strmap *m)
{
	struct strmap_slot	*old = m->slots, *s;
	size_t			 oldsize = m->size, i;

	m->size *= 2;
	m->slots = xcalloc(m->size, sizeof *m->slots);
	for (i = 0; i < oldsize; i++) {
		if (old[i].key == NULL)
			continue;
		s = strmap_find(m, old[i].key);
		*s = old[i];
	}
	free(old);
}

/* Stores value under a copy of key, replacing what was there. */
void
strmap_put(struct strmap *m, const char *key, void *value)
{
	struct strmap_slot	*s;

	s = strmap_find(m, key);
	if (s->key == NULL) {
		if ((m->count + 1) * 2 > m->size) {
			strmap_grow(m);
			s = strmap_find(m, key);
		}
		s->key = xstrdup(key);
		m->count++;
	}
	s->value = value;
}

/* Frees the map, its keys, and with free_value its values. */
void
strmap_free(struct strmap *m, void (*free_value)(void *))
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->size; i++) {
		if (m->slots[i].key == NULL)
			continue;
		free(m->slots[i].key);
		if (free_value != NULL)
			free_value(m->slots[i].value);
	}
	free(m->slots);
	free(m);
}
