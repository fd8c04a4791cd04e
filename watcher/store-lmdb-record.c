/*
 * store-lmdb-record.c: the byte layout of the LMDB store's keys and values
 * (listed in store-lmdb.h), written and read here only, so that a change of
 * layout is one file.  Numbers are big-endian so that keys sort in order.
 * Decoding checks every length: a damaged record is an error, never a crash.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "store-lmdb.h"

#define LMDB_ENTRY_FORMAT	1
#define LMDB_ENTRY_HEAD		(1 + 8 + 4)

void
lmdb_put64(unsigned char *p, uint64_t v)
{
	int	 i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

uint64_t
lmdb_get64(const unsigned char *p)
{
	uint64_t v = 0;
	int	 i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (v);
}

void
lmdb_seq_key(unsigned char key[8], uint64_t seq)
{
	lmdb_put64(key, seq);
}

/* The sequence at the end of an outbox, pending or dead key. */
int
lmdb_seq_val(const MDB_val *v, uint64_t *seq)
{
	if (v->mv_size < 8)
		return (-1);
	*seq = lmdb_get64((const unsigned char *)v->mv_data + v->mv_size - 8);
	return (0);
}

/* The opaque key handed to sinks: the sequence in decimal. */
char *
lmdb_seq_format(uint64_t seq)
{
	char	*s;

	xasprintf(&s, "%" PRIu64, seq);
	return (s);
}

int
lmdb_seq_parse(const char *s, uint64_t *seq)
{
	char			*end;
	unsigned long long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return (-1);
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return (-1);
	*seq = v;
	return (0);
}

int
lmdb_prefix_key(struct buf *b, const char *prefix, size_t max, char **cause)
{
	size_t	 len = strlen(prefix);

	/* Leave room for what follows the prefix in full keys. */
	if (len + 1 + 32 > max)
		return (fail(cause, "name too long for the store (%zu bytes, "
		    "at most %zu): %.40s...", len, max - 33, prefix));
	b->len = 0;
	buf_add(b, prefix, len + 1);
	return (0);
}

int
lmdb_sink_key(struct buf *b, const char *sink, uint64_t seq, size_t max,
    char **cause)
{
	unsigned char	 k[8];

	if (lmdb_prefix_key(b, sink, max, cause) != 0)
		return (-1);
	lmdb_seq_key(k, seq);
	buf_add(b, k, sizeof k);
	return (0);
}

/*
 * source \0 name; a name too long for an LMDB key is replaced by 0xff and its
 * SHA-256 (the value keeps the full name).
 */
int
lmdb_version_key(struct buf *b, const char *source, const char *name,
    size_t max, char **cause)
{
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	size_t		 len = strlen(name);

	if (lmdb_prefix_key(b, source, max, cause) != 0)
		return (-1);
	if (b->len + len <= max) {
		buf_add(b, name, len);
		return (0);
	}
	SHA256((const unsigned char *)name, len, md);
	buf_add(b, "\xff", 1);
	buf_add(b, md, sizeof md);
	return (0);
}

void
lmdb_version_encode(struct buf *b, const char *name, const char *digest)
{
	b->len = 0;
	buf_add(b, name, strlen(name) + 1);
	if (digest != NULL)
		buf_add(b, digest, strlen(digest) + 1);
}

/* name \0 [digest \0]; points into v: valid as long as the transaction. */
int
lmdb_version_decode(const MDB_val *v, const char **name, const char **digest)
{
	const char	*p = v->mv_data, *nul;
	size_t		 used;

	if ((nul = memchr(p, '\0', v->mv_size)) == NULL)
		return (-1);
	*name = p;
	used = nul + 1 - p;
	*digest = NULL;
	if (used == v->mv_size)
		return (0);
	/* The digest ends the value, with its own NUL. */
	if (p[v->mv_size - 1] != '\0' ||
	    memchr(nul + 1, '\0', v->mv_size - used) != p + v->mv_size - 1)
		return (-1);
	*digest = nul + 1;
	return (0);
}

void
lmdb_marker_encode(struct buf *b, int64_t at, const char *epoch)
{
	unsigned char	 t[8];

	b->len = 0;
	lmdb_put64(t, (uint64_t)at);
	buf_add(b, t, sizeof t);
	buf_adds(b, epoch);
}

int
lmdb_marker_decode(const MDB_val *v, int64_t *at, char **epoch)
{
	const char	*p = v->mv_data;

	if (v->mv_size < 8 || memchr(p + 8, '\0', v->mv_size - 8) != NULL)
		return (-1);
	*at = (int64_t)lmdb_get64(v->mv_data);
	*epoch = xstrndup(p + 8, v->mv_size - 8);
	return (0);
}

void
lmdb_entry_encode(struct buf *b, int64_t at, const char *id,
    const char *source, const char *json, const char *const *sinks,
    size_t nsinks)
{
	unsigned char	 head[LMDB_ENTRY_HEAD];
	size_t		 i;

	head[0] = LMDB_ENTRY_FORMAT;
	lmdb_put64(head + 1, (uint64_t)at);
	head[9] = (nsinks >> 24) & 0xff;
	head[10] = (nsinks >> 16) & 0xff;
	head[11] = (nsinks >> 8) & 0xff;
	head[12] = nsinks & 0xff;
	b->len = 0;
	buf_add(b, head, sizeof head);
	buf_add(b, id, strlen(id) + 1);
	buf_add(b, source, strlen(source) + 1);
	buf_add(b, json, strlen(json) + 1);
	for (i = 0; i < nsinks; i++)
		buf_add(b, sinks[i], strlen(sinks[i]) + 1);
}

/* The next NUL-terminated string at *p before end, or NULL. */
static const char *
lmdb_entry_string(const char **p, const char *end)
{
	const char	*s = *p, *nul;

	if (s >= end || (nul = memchr(s, '\0', end - s)) == NULL)
		return (NULL);
	*p = nul + 1;
	return (s);
}

/* Strings point into v; clear with lmdb_entry_clear. */
int
lmdb_entry_decode(const MDB_val *v, struct lmdb_entry *e)
{
	const unsigned char	*u = v->mv_data;
	const char		*p, *end;
	size_t			 i, n;

	memset(e, 0, sizeof *e);
	if (v->mv_size < LMDB_ENTRY_HEAD || u[0] != LMDB_ENTRY_FORMAT)
		return (-1);
	e->committed_at = (int64_t)lmdb_get64(u + 1);
	n = ((size_t)u[9] << 24) | ((size_t)u[10] << 16) |
	    ((size_t)u[11] << 8) | u[12];
	p = (const char *)u + LMDB_ENTRY_HEAD;
	end = (const char *)u + v->mv_size;
	if (n > (size_t)(end - p))
		return (-1);
	if ((e->id = lmdb_entry_string(&p, end)) == NULL ||
	    (e->source = lmdb_entry_string(&p, end)) == NULL ||
	    (e->json = lmdb_entry_string(&p, end)) == NULL)
		return (-1);
	e->sinks = xcalloc(n, sizeof *e->sinks);
	for (i = 0; i < n; i++) {
		if ((e->sinks[i] = lmdb_entry_string(&p, end)) == NULL) {
			lmdb_entry_clear(e);
			return (-1);
		}
	}
	e->nsinks = n;
	return (0);
}

void
lmdb_entry_clear(struct lmdb_entry *e)
{
	free(e->sinks);
	memset(e, 0, sizeof *e);
}

int
lmdb_entry_routes(const struct lmdb_entry *e, const char *sink)
{
	size_t	 i;

	for (i = 0; i < e->nsinks; i++) {
		if (strcmp(e->sinks[i], sink) == 0)
			return (1);
	}
	return (0);
}
