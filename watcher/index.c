/*
 * index.c: the known versions of one source, in memory: name -> digest and
 * when that digest was last fetched.  Filled from the store at start, updated
 * after every successful commit, read by providers to decide what is worth a
 * request.  Also the "seen" sets of a poll (names only).
 *
 * Built to be small per tag, since a watcher may know millions of them
 * (bench/RESULTS.md has the figures):
 * - names and digests live in one arena, a record per entry:
 *   name \0 kind [digest]; kind DIGEST_SHA256 is followed by the 32 raw
 *   bytes of a "sha256:<64 hex>" digest, DIGEST_TEXT by any other digest
 *   as text \0, DIGEST_NONE by nothing.  Replaced and removed records stay
 *   as garbage until it outweighs the live ones; then the arena is rebuilt.
 * - entries are a dense array of 12 bytes (hash, record offset, checked);
 *   removal moves the last entry into the hole.
 * - the hash table holds 4-byte entry numbers (+1; 0 is empty), open
 *   addressing with linear probing, at most 3/4 full.
 * A raw digest is written back as text into a buffer of the index, so the
 * digest index_get() hands out is valid until the next call on the index.
 */
#include <stdlib.h>
#include <string.h>

#include "provider.h"

enum digest_kind {
	DIGEST_NONE,
	DIGEST_SHA256,
	DIGEST_TEXT,
};

#define SHA256_PREFIX		"sha256:"
#define SHA256_PREFIX_LEN	7
#define SHA256_RAW		32
#define SHA256_TEXT_LEN		(SHA256_PREFIX_LEN + 2 * SHA256_RAW)
#define ARENA_MIN_GARBAGE	4096	/* bytes before a rebuild is worth it */
#define ARENA_FIRST		32	/* small first sizes: most sources */
#define ENTRIES_FIRST		4	/* know a handful of tags */
#define SLOTS_FIRST		8

struct index_entry {
	uint32_t	 hash;
	uint32_t	 record;	/* offset of the record in the arena */
	uint32_t	 checked;	/* unix seconds, 0: never */
};

struct index {
	uint32_t		*slots;		/* entry number + 1, 0: empty */
	size_t			 size;		/* slots, a power of two */
	struct index_entry	*entries;
	size_t			 count;
	size_t			 capacity;	/* of entries */
	unsigned char		*arena;
	size_t			 used;		/* arena bytes in use */
	size_t			 space;		/* arena bytes allocated */
	size_t			 garbage;	/* of used, dead records */
	char			*text;		/* index_get's digest text, */
						/* then index_foreach's */
};

static uint32_t
index_hash(const char *s)
{
	uint32_t	 h = 2166136261u;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return (h);
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* 1 and raw filled when digest is "sha256:" and 64 lowercase hex digits. */
static int
sha256_pack(const char *digest, unsigned char *raw)
{
	size_t	 i;
	int	 hi, lo;

	if (strncmp(digest, SHA256_PREFIX, SHA256_PREFIX_LEN) != 0 ||
	    strlen(digest) != SHA256_TEXT_LEN)
		return (0);
	digest += SHA256_PREFIX_LEN;
	for (i = 0; i < SHA256_RAW; i++) {
		hi = hex_value((unsigned char)digest[2 * i]);
		lo = hex_value((unsigned char)digest[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return (0);
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	return (1);
}

static void
sha256_unpack(const unsigned char *raw, char *text)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	memcpy(text, SHA256_PREFIX, SHA256_PREFIX_LEN);
	text += SHA256_PREFIX_LEN;
	for (i = 0; i < SHA256_RAW; i++) {
		*text++ = hex[raw[i] >> 4];
		*text++ = hex[raw[i] & 0xf];
	}
	*text = '\0';
}

static const char *
record_name(const struct index *idx, const struct index_entry *e)
{
	return ((const char *)idx->arena + e->record);
}

/* The record's digest as text (in buf when packed), NULL when none. */
static const char *
record_digest(const struct index *idx, const struct index_entry *e,
    char *buf)
{
	const unsigned char	*p = idx->arena + e->record;

	p += strlen((const char *)p) + 1;
	switch (*p) {
	case DIGEST_SHA256:
		sha256_unpack(p + 1, buf);
		return (buf);
	case DIGEST_TEXT:
		return ((const char *)p + 1);
	default:
		return (NULL);
	}
}

/* Bytes of the record at p. */
static size_t
record_size(const unsigned char *p)
{
	size_t	 n;

	n = strlen((const char *)p) + 1;
	switch (p[n]) {
	case DIGEST_SHA256:
		return (n + 1 + SHA256_RAW);
	case DIGEST_TEXT:
		return (n + 1 + strlen((const char *)p + n + 1) + 1);
	default:
		return (n + 1);
	}
}

static void
arena_reserve(struct index *idx, size_t n)
{
	if (idx->space - idx->used >= n)
		return;
	if (idx->used + n > UINT32_MAX)
		fatalx("index: more than 4 GiB of names and digests");
	while (idx->space - idx->used < n)
		idx->space = idx->space < ARENA_FIRST ? ARENA_FIRST :
		    idx->space + idx->space / 2;
	if (idx->space > UINT32_MAX)
		idx->space = UINT32_MAX;
	idx->arena = xrealloc(idx->arena, idx->space);
}

/* Appends a record; returns its offset. */
static uint32_t
arena_add(struct index *idx, const char *name, const char *digest)
{
	unsigned char		 raw[SHA256_RAW], *p;
	size_t			 nlen = strlen(name) + 1, dlen = 0;
	enum digest_kind	 kind = DIGEST_NONE;
	uint32_t		 at;

	if (digest != NULL && sha256_pack(digest, raw)) {
		kind = DIGEST_SHA256;
		dlen = SHA256_RAW;
		/* Only packed digests need text written back. */
		if (idx->text == NULL)
			idx->text = xmalloc(2 * (SHA256_TEXT_LEN + 1));
	} else if (digest != NULL) {
		kind = DIGEST_TEXT;
		dlen = strlen(digest) + 1;
	}
	arena_reserve(idx, nlen + 1 + dlen);
	at = (uint32_t)idx->used;
	p = idx->arena + at;
	memcpy(p, name, nlen);
	p[nlen] = (unsigned char)kind;
	if (kind == DIGEST_SHA256)
		memcpy(p + nlen + 1, raw, SHA256_RAW);
	else if (kind == DIGEST_TEXT)
		memcpy(p + nlen + 1, digest, dlen);
	idx->used += nlen + 1 + dlen;
	return (at);
}

/* Copies the live records into a new arena, leaving the garbage behind. */
static void
arena_rebuild(struct index *idx)
{
	unsigned char	*old = idx->arena;
	size_t		 i, n, live = idx->used - idx->garbage;

	idx->space = live < ARENA_FIRST ? ARENA_FIRST : live + live / 4;
	idx->arena = xmalloc(idx->space);
	idx->used = 0;
	for (i = 0; i < idx->count; i++) {
		n = record_size(old + idx->entries[i].record);
		memcpy(idx->arena + idx->used, old + idx->entries[i].record, n);
		idx->entries[i].record = (uint32_t)idx->used;
		idx->used += n;
	}
	idx->garbage = 0;
	free(old);
}

/* A record died: count it, rebuild when garbage outweighs the rest. */
static void
arena_drop(struct index *idx, uint32_t record)
{
	idx->garbage += record_size(idx->arena + record);
	if (idx->garbage >= ARENA_MIN_GARBAGE &&
	    idx->garbage * 2 > idx->used)
		arena_rebuild(idx);
}

struct index *
index_create(void)
{
	struct index	*idx;

	idx = xcalloc(1, sizeof *idx);
	idx->size = SLOTS_FIRST;
	idx->slots = xcalloc(idx->size, sizeof *idx->slots);
	return (idx);
}

void
index_free(struct index *idx)
{
	if (idx == NULL)
		return;
	free(idx->slots);
	free(idx->entries);
	free(idx->arena);
	free(idx->text);
	free(idx);
}

/* The slot of name: holding its entry, or the empty one ending its run. */
static uint32_t *
index_slot(const struct index *idx, const char *name, uint32_t hash)
{
	const struct index_entry	*e;
	size_t				 i, mask = idx->size - 1;
	uint32_t			*slot;

	for (i = hash & mask;; i = (i + 1) & mask) {
		slot = &idx->slots[i];
		if (*slot == 0)
			return (slot);
		e = &idx->entries[*slot - 1];
		if (e->hash == hash && strcmp(record_name(idx, e), name) == 0)
			return (slot);
	}
}

/* The slot holding entry number n (which is in the table). */
static uint32_t *
index_slot_of(const struct index *idx, size_t n)
{
	size_t	 i, mask = idx->size - 1;

	for (i = idx->entries[n].hash & mask;; i = (i + 1) & mask) {
		if (idx->slots[i] == n + 1)
			return (&idx->slots[i]);
	}
}

static void
index_grow(struct index *idx)
{
	size_t	 i, j, mask;

	free(idx->slots);
	idx->size *= 2;
	idx->slots = xcalloc(idx->size, sizeof *idx->slots);
	mask = idx->size - 1;
	for (i = 0; i < idx->count; i++) {
		for (j = idx->entries[i].hash & mask; idx->slots[j] != 0;
		    j = (j + 1) & mask)
			continue;
		idx->slots[j] = (uint32_t)(i + 1);
	}
}

void
index_put(struct index *idx, const char *name, const char *digest,
    int64_t checked_s)
{
	struct index_entry	*e;
	uint32_t		 hash = index_hash(name), *slot;

	if ((idx->count + 1) * 4 > idx->size * 3)
		index_grow(idx);
	slot = index_slot(idx, name, hash);
	if (*slot == 0) {
		if (idx->count == UINT32_MAX - 1)
			fatalx("index: too many entries");
		if (idx->count == idx->capacity) {
			idx->capacity = idx->capacity < ENTRIES_FIRST ?
			    ENTRIES_FIRST :
			    idx->capacity + idx->capacity / 2;
			idx->entries = xreallocarray(idx->entries,
			    idx->capacity, sizeof *idx->entries);
		}
		e = &idx->entries[idx->count++];
		*slot = (uint32_t)idx->count;
		e->hash = hash;
	} else {
		e = &idx->entries[*slot - 1];
		arena_drop(idx, e->record);
	}
	e->record = arena_add(idx, name, digest);
	e->checked = checked_s < 0 ? 0 : (uint32_t)checked_s;
}

int
index_remove(struct index *idx, const char *name)
{
	uint32_t	*slot, *moved;
	size_t		 i, j, k, n, mask = idx->size - 1;

	slot = index_slot(idx, name, index_hash(name));
	if (*slot == 0)
		return (0);
	n = *slot - 1;
	*slot = 0;
	/* Shift later members of the probe run back into the hole. */
	i = (size_t)(slot - idx->slots);
	for (j = (i + 1) & mask; idx->slots[j] != 0; j = (j + 1) & mask) {
		k = idx->entries[idx->slots[j] - 1].hash & mask;
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			idx->slots[i] = idx->slots[j];
			idx->slots[j] = 0;
			i = j;
		}
	}
	/* Keep the entries dense: the last one fills the hole. */
	arena_drop(idx, idx->entries[n].record);
	idx->count--;
	if (n != idx->count) {
		moved = index_slot_of(idx, idx->count);
		idx->entries[n] = idx->entries[idx->count];
		*moved = (uint32_t)(n + 1);
	}
	return (1);
}

int
index_get(const struct index *idx, const char *name, const char **digest)
{
	uint32_t	*slot;

	slot = index_slot(idx, name, index_hash(name));
	if (*slot == 0)
		return (0);
	if (digest != NULL)
		*digest = record_digest(idx, &idx->entries[*slot - 1],
		    idx->text);
	return (1);
}

int64_t
index_checked(const struct index *idx, const char *name)
{
	uint32_t	*slot;

	slot = index_slot(idx, name, index_hash(name));
	return (*slot == 0 ? 0 : (int64_t)idx->entries[*slot - 1].checked);
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
	size_t				 i;
	int				 r;

	for (i = 0; i < idx->count; i++) {
		e = &idx->entries[i];
		r = fn(record_name(idx, e), record_digest(idx, e,
		    idx->text + SHA256_TEXT_LEN + 1), e->checked, arg);
		if (r != 0)
			return (r);
	}
	return (0);
}
