/*
 * store-lmdb.c: the embedded store (DESIGN §5, issue 3), the default: one
 * directory, crash-safe, no server to run.  The operations of store.h on the
 * layout described in store-lmdb.h.
 *
 * LMDB is synchronous, so each operation does its work at once, in one
 * transaction, and queues its result; one event drains the queue from the
 * loop, so every callback runs later, exactly once and in call order.
 * A commit is one write transaction (marker check, versions, outbox and the
 * sinks' pending keys) and writes nothing when nothing changed.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "store-lmdb.h"

enum lmdb_reply_kind {
	LMDB_DONE, LMDB_LOAD, LMDB_READ, LMDB_HISTORY, LMDB_LEASE
};

struct lmdb_reply {
	enum lmdb_reply_kind	 kind;
	union {
		store_done_cb	 done;
		store_load_cb	 load;
		store_read_cb	 read;
		store_history_cb history;
		store_lease_cb	 lease;
	} cb;
	void			*arg;
	int			 status;
	char			*cause;
	struct store_state	 state;
	struct outbox_entry	*entries;
	struct history_entry	*history;
	size_t			 n;
	struct store_lease_answer *leases;	/* holders are ours */
	TAILQ_ENTRY(lmdb_reply)	 link;
};

static struct lmdb_reply *
lmdb_reply_new(enum lmdb_reply_kind kind, void *arg)
{
	struct lmdb_reply	*r;

	r = xcalloc(1, sizeof *r);
	r->kind = kind;
	r->arg = arg;
	return (r);
}

/* Run one reply's callback and free everything it was handed. */
static void
lmdb_reply_run(struct lmdb_reply *r)
{
	const char	*cause = r->status == STORE_OK ? NULL : r->cause;
	size_t		 i;

	switch (r->kind) {
	case LMDB_DONE:
		r->cb.done(r->status, cause, r->arg);
		break;
	case LMDB_LOAD:
		r->cb.load(r->status, r->status == STORE_OK ? &r->state : NULL,
		    cause, r->arg);
		store_state_clear(&r->state);
		break;
	case LMDB_READ:
		r->cb.read(r->status, r->entries, r->n, cause, r->arg);
		outbox_entries_free(r->entries, r->n);
		break;
	case LMDB_HISTORY:
		r->cb.history(r->status, r->history, r->n, cause, r->arg);
		history_entries_free(r->history, r->n);
		break;
	case LMDB_LEASE:
		r->cb.lease(r->status, r->leases, r->n, cause, r->arg);
		for (i = 0; i < r->n && r->leases != NULL; i++)
			free((char *)r->leases[i].holder);
		free(r->leases);
		break;
	}
	free(r->cause);
	free(r);
}

/* Queue a finished operation; the drain event runs it from the loop. */
static void
lmdb_reply_post(struct lmdb_store *s, struct lmdb_reply *r, int status)
{
	r->status = status;
	TAILQ_INSERT_TAIL(&s->replies, r, link);
	event_active(s->drain, EV_TIMEOUT, 1);
}

/*
 * Runs the replies queued before it started; those queued by their
 * callbacks wait for the next round of the loop.  A callback may close the
 * store: close runs the rest, and the state is freed here, once no longer
 * in use.
 */
static void
lmdb_drain(__unused evutil_socket_t fd, __unused short what, void *arg)
{
	struct lmdb_store	*s = arg;
	struct lmdb_reply	*r, *last;
	int			 final;

	s->draining = 1;
	last = TAILQ_LAST(&s->replies, lmdb_replies);
	while ((r = TAILQ_FIRST(&s->replies)) != NULL) {
		TAILQ_REMOVE(&s->replies, r, link);
		final = r == last;
		lmdb_reply_run(r);
		if (s->closed) {
			free(s);
			return;
		}
		if (final)
			break;
	}
	s->draining = 0;
	if (!TAILQ_EMPTY(&s->replies))
		event_active(s->drain, EV_TIMEOUT, 1);
}

static int
lmdb_open(struct store *st, char **cause)
{
	struct lmdb_store	*s;
	char			*path = NULL;
	const char		*want = st->conf != NULL ? st->conf->path : NULL;

	if (want == NULL && lmdb_default_path(&path, cause) != 0)
		return (-1);
	s = xcalloc(1, sizeof *s);
	TAILQ_INIT(&s->replies);
	if (lmdb_env_open(s, want != NULL ? want : path,
	    st->conf != NULL && st->conf->shared, cause) != 0) {
		free(path);
		lmdb_env_close(s);
		free(s);
		return (-1);
	}
	free(path);
	s->drain = event_new(st->base, -1, 0, lmdb_drain, s);
	st->data = s;
	log_info("state opened", "path=%s", log_q(s->path));
	return (0);
}

/*
 * Replies still queued are complete: their callbacks run now, before the
 * environment closes, so none is lost.  No operation may follow close.
 */
static void
lmdb_close(struct store *st)
{
	struct lmdb_store	*s = st->data;
	struct lmdb_reply	*r;

	if (s == NULL)
		return;
	st->data = NULL;
	while ((r = TAILQ_FIRST(&s->replies)) != NULL) {
		TAILQ_REMOVE(&s->replies, r, link);
		lmdb_reply_run(r);
	}
	event_free(s->drain);
	lmdb_env_close(s);
	lmdb_leases_free(s);
	if (s->draining)
		s->closed = 1;	/* lmdb_drain frees it */
	else
		free(s);
}

static size_t
lmdb_maxkey(struct lmdb_store *s)
{
	return ((size_t)mdb_env_get_maxkeysize(s->env));
}

static void
lmdb_val(MDB_val *v, const void *p, size_t len)
{
	v->mv_data = (void *)p;
	v->mv_size = len;
}

static int
lmdb_has_prefix(const MDB_val *k, const struct buf *prefix)
{
	return (k->mv_size >= prefix->len &&
	    memcmp(k->mv_data, prefix->data, prefix->len) == 0);
}

/* load: the marker and every recorded version of a source. */
static int
lmdb_load_in(struct lmdb_store *s, MDB_txn *txn, const char *source,
    struct store_state *st, char **cause)
{
	struct buf	 prefix = { 0 };
	MDB_cursor	*c;
	MDB_val		 k, v;
	const char	*name, *digest;
	struct version	*ver;
	int		 rc;

	if (lmdb_prefix_key(&prefix, source, lmdb_maxkey(s), cause) != 0)
		return (-1);
	lmdb_val(&k, source, strlen(source));
	rc = mdb_get(txn, s->markers, &k, &v);
	if (rc == 0) {
		if (lmdb_marker_decode(&v, &st->baseline_at, &st->epoch) != 0)
			rc = MDB_CORRUPTED;
		else
			st->present = 1;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	if ((rc = mdb_cursor_open(txn, s->versions, &c)) != 0)
		goto fail;
	lmdb_val(&k, prefix.data, prefix.len);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && lmdb_has_prefix(&k, &prefix)) {
		if (lmdb_version_decode(&v, &name, &digest) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		ver = versions_add(&st->versions, name);
		if (digest != NULL)
			ver->digest = xstrdup(digest);
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	buf_free(&prefix);
	return (0);

fail:
	buf_free(&prefix);
	return (lmdb_fail(s, rc, "read", cause));
}

static void
lmdb_load(struct store *st, const char *source, store_load_cb cb, void *arg)
{
	struct lmdb_store	*s = st->data;
	struct lmdb_reply	*r = lmdb_reply_new(LMDB_LOAD, arg);
	MDB_txn			*txn;
	int			 status = STORE_ERROR;

	r->cb.load = cb;
	if (lmdb_read_begin(s, &txn, &r->cause) == 0) {
		if (lmdb_load_in(s, txn, source, &r->state, &r->cause) == 0)
			status = STORE_OK;
		mdb_txn_abort(txn);
	}
	if (status != STORE_OK)
		store_state_clear(&r->state);
	lmdb_reply_post(s, r, status);
}

struct lmdb_commit {
	const struct store_commit	*c;
	int				 lost;
	struct buf			 k;
	struct buf			 v;
};

/* Delete every key of db that starts with prefix. */
static int
lmdb_delete_prefix(MDB_txn *txn, MDB_dbi db, const struct buf *prefix)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc;

	if ((rc = mdb_cursor_open(txn, db, &c)) != 0)
		return (rc);
	for (;;) {
		lmdb_val(&k, prefix->data, prefix->len);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc != 0 || !lmdb_has_prefix(&k, prefix))
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND || rc == 0 ? 0 : rc);
}

/* The marker: checked (LMDB_UNCHANGED and lost when gone), or replaced. */
static int
lmdb_commit_marker(struct lmdb_store *s, MDB_txn *txn, struct lmdb_commit *lc)
{
	const struct store_commit	*c = lc->c;
	MDB_val				 k, v;
	int64_t				 at;
	char				*epoch;
	int				 rc, same;

	lmdb_val(&k, c->source, strlen(c->source));
	if (c->baseline) {
		if (lmdb_prefix_key(&lc->k, c->source, lmdb_maxkey(s),
		    NULL) != 0)
			return (MDB_BAD_VALSIZE);
		if ((rc = lmdb_delete_prefix(txn, s->versions, &lc->k)) != 0)
			return (rc);
		lmdb_marker_encode(&lc->v, now_ms(), c->epoch);
		lmdb_val(&v, lc->v.data, lc->v.len);
		return (mdb_put(txn, s->markers, &k, &v, 0));
	}
	rc = mdb_get(txn, s->markers, &k, &v);
	if (rc == MDB_NOTFOUND) {
		lc->lost = 1;
		return (LMDB_UNCHANGED);
	}
	if (rc != 0)
		return (rc);
	if (lmdb_marker_decode(&v, &at, &epoch) != 0)
		return (MDB_CORRUPTED);
	same = strcmp(epoch, c->epoch) == 0;
	free(epoch);
	if (!same) {
		lc->lost = 1;
		return (LMDB_UNCHANGED);
	}
	return (0);
}

/* Record one version; *dirty is set when that changed anything. */
static int
lmdb_commit_version(struct lmdb_store *s, MDB_txn *txn,
    struct lmdb_commit *lc, const struct store_change *ch, int *dirty)
{
	MDB_val	 k, v;
	int	 rc;

	if (lmdb_version_key(&lc->k, lc->c->source, ch->name, lmdb_maxkey(s),
	    NULL) != 0)
		return (MDB_BAD_VALSIZE);
	lmdb_version_encode(&lc->v, ch->name, ch->digest);
	lmdb_val(&k, lc->k.data, lc->k.len);
	if (!lc->c->baseline) {
		rc = mdb_get(txn, s->versions, &k, &v);
		if (rc == 0 && v.mv_size == lc->v.len &&
		    memcmp(v.mv_data, lc->v.data, v.mv_size) == 0)
			return (0);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return (rc);
	}
	*dirty = 1;
	lmdb_val(&v, lc->v.data, lc->v.len);
	return (mdb_put(txn, s->versions, &k, &v, 0));
}

static int
lmdb_next_seq(struct lmdb_store *s, MDB_txn *txn, uint64_t *seq)
{
	MDB_val	 k, v;
	int	 rc;

	lmdb_val(&k, "next", 4);
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		*seq = 1;
		return (0);
	}
	if (rc != 0)
		return (rc);
	if (v.mv_size != 8)
		return (MDB_CORRUPTED);
	*seq = lmdb_get64(v.mv_data);
	return (0);
}

static int
lmdb_set_next_seq(struct lmdb_store *s, MDB_txn *txn, uint64_t seq)
{
	unsigned char	 b[8];
	MDB_val		 k, v;

	lmdb_put64(b, seq);
	lmdb_val(&k, "next", 4);
	lmdb_val(&v, b, sizeof b);
	return (mdb_put(txn, s->meta, &k, &v, 0));
}

/* Append one outbox entry at *seq, pending for each of its sinks. */
static int
lmdb_append(struct lmdb_store *s, MDB_txn *txn, struct lmdb_commit *lc,
    uint64_t seq, int64_t at, const char *id, const char *source,
    const char *json, const char *const *sinks, size_t nsinks)
{
	unsigned char	 sk[8];
	MDB_val		 k, v;
	size_t		 i;
	int		 rc;

	lmdb_seq_key(sk, seq);
	lmdb_entry_encode(&lc->v, at, id, source, json, sinks, nsinks);
	lmdb_val(&k, sk, sizeof sk);
	lmdb_val(&v, lc->v.data, lc->v.len);
	if ((rc = mdb_put(txn, s->outbox, &k, &v, MDB_APPEND)) != 0)
		return (rc);
	for (i = 0; i < nsinks; i++) {
		if (lmdb_sink_key(&lc->k, sinks[i], seq, lmdb_maxkey(s),
		    NULL) != 0)
			return (MDB_BAD_VALSIZE);
		lmdb_val(&k, lc->k.data, lc->k.len);
		lmdb_val(&v, "", 0);
		if ((rc = mdb_put(txn, s->pending, &k, &v, 0)) != 0)
			return (rc);
	}
	return (0);
}

static int
lmdb_commit_body(struct lmdb_store *s, MDB_txn *txn, void *arg,
    __unused char **cause)
{
	struct lmdb_commit		*lc = arg;
	const struct store_commit	*c = lc->c;
	const struct store_event	*e;
	uint64_t			 seq;
	int64_t				 now = now_ms();
	size_t				 i;
	int				 rc, dirty = c->baseline;

	lc->lost = 0;
	if ((rc = lmdb_commit_marker(s, txn, lc)) != 0)
		return (rc);
	for (i = 0; i < c->nchanges; i++) {
		rc = lmdb_commit_version(s, txn, lc, &c->changes[i], &dirty);
		if (rc != 0)
			return (rc);
	}
	if (c->nevents == 0)
		return (dirty ? 0 : LMDB_UNCHANGED);
	if ((rc = lmdb_next_seq(s, txn, &seq)) != 0)
		return (rc);
	for (i = 0; i < c->nevents; i++) {
		e = &c->events[i];
		rc = lmdb_append(s, txn, lc, seq++, now, e->id, c->source,
		    e->json, e->sinks, e->nsinks);
		if (rc != 0)
			return (rc);
	}
	return (lmdb_set_next_seq(s, txn, seq));
}

/* Names that make keys: checked before the transaction, with a cause. */
static int
lmdb_commit_check(struct lmdb_store *s, const struct store_commit *c,
    char **cause)
{
	struct buf	 b = { 0 };
	size_t		 i, j;
	int		 rc = -1;

	if (c->source == NULL || *c->source == '\0' || c->epoch == NULL) {
		fail(cause, "commit without a source or an epoch");
		goto out;
	}
	if (lmdb_prefix_key(&b, c->source, lmdb_maxkey(s), cause) != 0)
		goto out;
	for (i = 0; i < c->nchanges; i++) {
		if (c->changes[i].name == NULL) {
			fail(cause, "commit of %s: a version without a name",
			    c->source);
			goto out;
		}
	}
	for (i = 0; i < c->nevents; i++) {
		if (c->events[i].id == NULL || c->events[i].json == NULL) {
			fail(cause, "commit of %s: an event without an id or "
			    "a body", c->source);
			goto out;
		}
		for (j = 0; j < c->events[i].nsinks; j++) {
			if (lmdb_prefix_key(&b, c->events[i].sinks[j],
			    lmdb_maxkey(s), cause) != 0)
				goto out;
		}
	}
	rc = 0;
out:
	buf_free(&b);
	return (rc);
}

static void
lmdb_commit(struct store *st, const struct store_commit *c, store_done_cb cb,
    void *arg)
{
	struct lmdb_store	*s = st->data;
	struct lmdb_reply	*r = lmdb_reply_new(LMDB_DONE, arg);
	struct lmdb_commit	 lc = { .c = c };
	int			 status = STORE_ERROR;

	r->cb.done = cb;
	if (c->lease != NULL && !lmdb_lease_valid(s, c->lease, c->token)) {
		xasprintf(&r->cause, "lease %s lost: another owner holds it "
		    "now, or it expired; nothing written", c->lease);
		lmdb_reply_post(s, r, STORE_LEASE_LOST);
		return;
	}
	if (lmdb_commit_check(s, c, &r->cause) == 0 &&
	    lmdb_write(s, lmdb_commit_body, &lc, &r->cause) == 0) {
		if (lc.lost) {
			status = STORE_STATE_LOST;
			xasprintf(&r->cause, "the state marker of %s in %s is "
			    "gone or changed", c->source, s->path);
		} else
			status = STORE_OK;
	}
	buf_free(&lc.k);
	buf_free(&lc.v);
	lmdb_reply_post(s, r, status);
}

/* Fetch and decode the outbox entry at seq. */
static int
lmdb_entry_get(struct lmdb_store *s, MDB_txn *txn, uint64_t seq,
    MDB_val *raw, struct lmdb_entry *e)
{
	unsigned char	 sk[8];
	MDB_val		 k;
	int		 rc;

	lmdb_seq_key(sk, seq);
	lmdb_val(&k, sk, sizeof sk);
	if ((rc = mdb_get(txn, s->outbox, &k, raw)) != 0)
		return (rc);
	if (lmdb_entry_decode(raw, e) != 0)
		return (MDB_CORRUPTED);
	return (0);
}

static void
lmdb_entry_copy(struct outbox_entry *o, uint64_t seq,
    const struct lmdb_entry *e)
{
	o->key = lmdb_seq_format(seq);
	o->id = xstrdup(e->id);
	o->source = xstrdup(e->source);
	o->json = xstrdup(e->json);
	o->committed_at = e->committed_at;
}

/* read: the first n pending keys of the sink, with their entries. */
static int
lmdb_read_in(struct lmdb_store *s, MDB_txn *txn, const char *sink, size_t n,
    struct lmdb_reply *r)
{
	struct buf		 prefix = { 0 };
	struct lmdb_entry	 e;
	MDB_cursor		*c;
	MDB_val			 k, v, raw;
	uint64_t		 seq;
	int			 rc;

	if (lmdb_prefix_key(&prefix, sink, lmdb_maxkey(s), &r->cause) != 0)
		return (-1);
	if ((rc = mdb_cursor_open(txn, s->pending, &c)) != 0)
		goto fail;
	r->entries = xcalloc(n, sizeof *r->entries);
	lmdb_val(&k, prefix.data, prefix.len);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && r->n < n && lmdb_has_prefix(&k, &prefix)) {
		if (k.mv_size != prefix.len + 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		lmdb_seq_val(&k, &seq);
		if ((rc = lmdb_entry_get(s, txn, seq, &raw, &e)) != 0) {
			/* A pending key without its entry: damage. */
			if (rc == MDB_NOTFOUND)
				rc = MDB_CORRUPTED;
			break;
		}
		lmdb_entry_copy(&r->entries[r->n++], seq, &e);
		lmdb_entry_clear(&e);
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	buf_free(&prefix);
	return (0);

fail:
	buf_free(&prefix);
	return (lmdb_fail(s, rc, "read", &r->cause));
}

static void
lmdb_read(struct store *st, const char *sink, size_t n, store_read_cb cb,
    void *arg)
{
	struct lmdb_store	*s = st->data;
	struct lmdb_reply	*r = lmdb_reply_new(LMDB_READ, arg);
	MDB_txn			*txn;
	int			 status = STORE_ERROR;

	r->cb.read = cb;
	if (lmdb_read_begin(s, &txn, &r->cause) == 0) {
		if (lmdb_read_in(s, txn, sink, n, r) == 0)
			status = STORE_OK;
		mdb_txn_abort(txn);
	}
	if (status != STORE_OK) {
		outbox_entries_free(r->entries, r->n);
		r->entries = NULL;
		r->n = 0;
	}
	lmdb_reply_post(s, r, status);
}

/* ack and dead: done with one entry, delivered or dead-lettered. */
struct lmdb_done {
	const char	*sink;
	const char	*key;
	const char	*reason;	/* NULL: delivered */
	uint64_t	 seq;
	struct buf	 k;
	struct buf	 v;
};

static int
lmdb_done_body(struct lmdb_store *s, MDB_txn *txn, void *arg, char **cause)
{
	struct lmdb_done	*d = arg;
	struct lmdb_entry	 e;
	unsigned char		 t[8];
	MDB_val			 k, v, raw;
	int			 rc;

	if (lmdb_sink_key(&d->k, d->sink, d->seq, lmdb_maxkey(s), cause) != 0)
		return (LMDB_REFUSED);
	lmdb_val(&k, d->k.data, d->k.len);
	rc = mdb_del(txn, s->pending, &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (d->reason == NULL)
		return (rc == MDB_NOTFOUND ? LMDB_UNCHANGED : 0);
	rc = lmdb_entry_get(s, txn, d->seq, &raw, &e);
	if (rc == MDB_NOTFOUND) {
		fail(cause, "no outbox entry %s in %s", d->key, s->path);
		return (LMDB_REFUSED);
	}
	if (rc != 0)
		return (rc);
	rc = lmdb_entry_routes(&e, d->sink);
	lmdb_entry_clear(&e);
	if (!rc) {
		fail(cause, "outbox entry %s is not routed to sink %s",
		    d->key, d->sink);
		return (LMDB_REFUSED);
	}
	d->v.len = 0;
	lmdb_put64(t, (uint64_t)now_ms());
	buf_add(&d->v, t, sizeof t);
	buf_adds(&d->v, d->reason);
	lmdb_val(&v, d->v.data, d->v.len);
	return (mdb_put(txn, s->dead, &k, &v, 0));
}

static void
lmdb_finish(struct store *st, const char *sink, const char *key,
    const char *reason, store_done_cb cb, void *arg)
{
	struct lmdb_store	*s = st->data;
	struct lmdb_reply	*r = lmdb_reply_new(LMDB_DONE, arg);
	struct lmdb_done	 d = { .sink = sink, .key = key,
				    .reason = reason };
	int			 status = STORE_ERROR;

	r->cb.done = cb;
	if (lmdb_seq_parse(key, &d.seq) != 0)
		xasprintf(&r->cause, "not an outbox key: %s",
		    key != NULL ? key : "(null)");
	else if (lmdb_write(s, lmdb_done_body, &d, &r->cause) == 0)
		status = STORE_OK;
	buf_free(&d.k);
	buf_free(&d.v);
	lmdb_reply_post(s, r, status);
}

static void
lmdb_ack(struct store *st, const char *sink, const char *key,
    store_done_cb cb, void *arg)
{
	lmdb_finish(st, sink, key, NULL, cb, arg);
}

/* ack_many: every key in one write transaction. */
struct lmdb_done_many {
	const char		*sink;
	const char *const	*keys;
	size_t			 n;
};

static int
lmdb_done_many_body(struct lmdb_store *s, MDB_txn *txn, void *arg,
    char **cause)
{
	struct lmdb_done_many	*m = arg;
	struct lmdb_done	 d = { .sink = m->sink };
	size_t			 i;
	int			 rc = 0, dirty = 0;

	for (i = 0; i < m->n && (rc == 0 || rc == LMDB_UNCHANGED); i++) {
		d.key = m->keys[i];
		if (lmdb_seq_parse(d.key, &d.seq) != 0) {
			fail(cause, "not an outbox key: %s", d.key);
			rc = LMDB_REFUSED;
			break;
		}
		rc = lmdb_done_body(s, txn, &d, cause);
		dirty |= rc == 0;
	}
	buf_free(&d.k);
	buf_free(&d.v);
	if (rc != 0 && rc != LMDB_UNCHANGED)
		return (rc);
	return (dirty ? 0 : LMDB_UNCHANGED);
}

static void
lmdb_ack_many(struct store *st, const char *sink, const char *const *keys,
    size_t n, store_done_cb cb, void *arg)
{
	struct lmdb_store	*s = st->data;
	struct lmdb_reply	*r = lmdb_reply_new(LMDB_DONE, arg);
	struct lmdb_done_many	 m = { .sink = sink, .keys = keys, .n = n };
	int			 status = STORE_ERROR;

	r->cb.done = cb;
	if (lmdb_write(s, lmdb_done_many_body, &m, &r->cause) == 0)
		status = STORE_OK;
	lmdb_reply_post(s, r, status);
}

static void
lmdb_dead(struct store *st, const char *sink, const char *key,
    const char *reason, store_done_cb cb, void *arg)
{
	lmdb_finish(st, sink, key, reason != NULL ? reason : "", cb, arg);
}

static int
lmdb_query_match(const struct history_query *q, const struct lmdb_entry *e)
{
	if (q == NULL)
		return (1);
	if (q->source != NULL && strcmp(q->source, e->source) != 0)
		return (0);
	if (q->event_id != NULL && strcmp(q->event_id, e->id) != 0)
		return (0);
	return (e->committed_at >= q->since_ms);
}

/* Where one entry stands for one sink: pending, dead or delivered. */
static int
lmdb_sink_state(struct lmdb_store *s, MDB_txn *txn, struct buf *key,
    uint64_t seq, const char *sink, struct history_sink *hs)
{
	MDB_val	 k, v;
	int	 rc;

	hs->sink = xstrdup(sink);
	hs->state = DELIVERY_DELIVERED;
	if (lmdb_sink_key(key, sink, seq, lmdb_maxkey(s), NULL) != 0)
		return (MDB_CORRUPTED);
	lmdb_val(&k, key->data, key->len);
	if ((rc = mdb_get(txn, s->pending, &k, &v)) == 0) {
		hs->state = DELIVERY_PENDING;
		return (0);
	}
	if (rc != MDB_NOTFOUND)
		return (rc);
	if ((rc = mdb_get(txn, s->dead, &k, &v)) == MDB_NOTFOUND)
		return (0);
	if (rc != 0)
		return (rc);
	if (v.mv_size < 8)
		return (MDB_CORRUPTED);
	hs->state = DELIVERY_DEAD;
	hs->reason = xstrndup((const char *)v.mv_data + 8, v.mv_size - 8);
	return (0);
}

static int
lmdb_history_in(struct lmdb_store *s, MDB_txn *txn,
    const struct history_query *q, struct lmdb_reply *r)
{
	struct buf		 key = { 0 };
	struct lmdb_entry	 e;
	struct history_entry	*h;
	MDB_cursor		*c;
	MDB_val			 k, v;
	uint64_t		 seq;
	size_t			 size = 0, i;
	int			 rc;

	if ((rc = mdb_cursor_open(txn, s->outbox, &c)) != 0)
		return (lmdb_fail(s, rc, "read", &r->cause));
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (lmdb_seq_val(&k, &seq) != 0 ||
		    lmdb_entry_decode(&v, &e) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (lmdb_query_match(q, &e)) {
			if (r->n == size) {
				size = size == 0 ? 16 : size * 2;
				r->history = xreallocarray(r->history, size,
				    sizeof *r->history);
			}
			h = &r->history[r->n++];
			memset(h, 0, sizeof *h);
			lmdb_entry_copy(&h->e, seq, &e);
			h->sinks = xcalloc(e.nsinks, sizeof *h->sinks);
			h->nsinks = e.nsinks;
			for (i = 0; rc == 0 && i < e.nsinks; i++) {
				rc = lmdb_sink_state(s, txn, &key, seq,
				    e.sinks[i], &h->sinks[i]);
			}
		}
		lmdb_entry_clear(&e);
		if (rc == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	buf_free(&key);
	if (rc != MDB_NOTFOUND)
		return (lmdb_fail(s, rc, "read", &r->cause));
	return (0);
}

static void
lmdb_history(struct store *st, const struct history_query *q,
    store_history_cb cb, void *arg)
{
	struct lmdb_store	*s = st->data;
	struct lmdb_reply	*r = lmdb_reply_new(LMDB_HISTORY, arg);
	MDB_txn			*txn;
	int			 status = STORE_ERROR;

	r->cb.history = cb;
	if (lmdb_read_begin(s, &txn, &r->cause) == 0) {
		if (lmdb_history_in(s, txn, q, r) == 0)
			status = STORE_OK;
		mdb_txn_abort(txn);
	}
	if (status != STORE_OK) {
		history_entries_free(r->history, r->n);
		r->history = NULL;
		r->n = 0;
	}
	lmdb_reply_post(s, r, status);
}

/* replay: the sequences to copy, each event id once (its first entry). */
struct lmdb_pick {
	uint64_t	 seq;
	char		*id;
};

static int
lmdb_pick_by_id(const void *a, const void *b)
{
	const struct lmdb_pick	*x = a, *y = b;
	int			 d = strcmp(x->id, y->id);

	if (d != 0)
		return (d);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static int
lmdb_pick_by_seq(const void *a, const void *b)
{
	const struct lmdb_pick	*x = a, *y = b;

	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

struct lmdb_replay {
	const char			*sink;
	const struct history_query	*q;
	struct lmdb_commit		 lc;
};

/* Collect the entries routed to the sink that match, one per event id. */
static int
lmdb_replay_pick(struct lmdb_store *s, MDB_txn *txn, struct lmdb_replay *rp,
    struct lmdb_pick **picks, size_t *n)
{
	struct lmdb_entry	 e;
	MDB_cursor		*c;
	MDB_val			 k, v;
	size_t			 size = 0, i, kept;
	int			 rc;

	*picks = NULL;
	*n = 0;
	if ((rc = mdb_cursor_open(txn, s->outbox, &c)) != 0)
		return (rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size != 8 || lmdb_entry_decode(&v, &e) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (lmdb_query_match(rp->q, &e) &&
		    lmdb_entry_routes(&e, rp->sink)) {
			if (*n == size) {
				size = size == 0 ? 16 : size * 2;
				*picks = xreallocarray(*picks, size,
				    sizeof **picks);
			}
			lmdb_seq_val(&k, &(*picks)[*n].seq);
			(*picks)[(*n)++].id = xstrdup(e.id);
		}
		lmdb_entry_clear(&e);
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (*n > 0)
		qsort(*picks, *n, sizeof **picks, lmdb_pick_by_id);
	for (i = kept = 0; i < *n; i++) {
		if (kept > 0 && strcmp((*picks)[kept - 1].id,
		    (*picks)[i].id) == 0)
			free((*picks)[i].id);
		else
			(*picks)[kept++] = (*picks)[i];
	}
	*n = kept;
	if (*n > 0)
		qsort(*picks, *n, sizeof **picks, lmdb_pick_by_seq);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

static int
lmdb_replay_body(struct lmdb_store *s, MDB_txn *txn, void *arg,
    __unused char **cause)
{
	struct lmdb_replay	*rp = arg;
	struct lmdb_pick	*picks;
	struct lmdb_entry	 e;
	MDB_val			 raw;
	uint64_t		 seq;
	size_t			 n, i;
	int			 rc;

	if ((rc = lmdb_replay_pick(s, txn, rp, &picks, &n)) != 0 ||
	    (rc = lmdb_next_seq(s, txn, &seq)) != 0)
		goto out;
	for (i = 0; rc == 0 && i < n; i++) {
		if ((rc = lmdb_entry_get(s, txn, picks[i].seq, &raw, &e)) != 0)
			break;
		/*
		 * The copy keeps the time the event arrived (as in Redis), so
		 * history and a later replay --since see it when it came.
		 */
		rc = lmdb_append(s, txn, &rp->lc, seq++, e.committed_at, e.id,
		    e.source, e.json, &rp->sink, 1);
		lmdb_entry_clear(&e);
	}
	if (rc == 0)
		rc = n == 0 ? LMDB_UNCHANGED : lmdb_set_next_seq(s, txn, seq);
out:
	for (i = 0; i < n; i++)
		free(picks[i].id);
	free(picks);
	return (rc);
}

static void
lmdb_replay(struct store *st, const char *sink, const struct history_query *q,
    store_done_cb cb, void *arg)
{
	struct lmdb_store	*s = st->data;
	struct lmdb_reply	*r = lmdb_reply_new(LMDB_DONE, arg);
	struct lmdb_replay	 rp = { .sink = sink, .q = q };
	struct buf		 b = { 0 };
	int			 status = STORE_ERROR;

	r->cb.done = cb;
	if (lmdb_prefix_key(&b, sink, lmdb_maxkey(s), &r->cause) == 0 &&
	    lmdb_write(s, lmdb_replay_body, &rp, &r->cause) == 0)
		status = STORE_OK;
	buf_free(&b);
	buf_free(&rp.lc.k);
	buf_free(&rp.lc.v);
	lmdb_reply_post(s, r, status);
}

/*
 * trim: drop entries committed before the cutoff that no sink still has
 * pending, with their dead-letter records.  The outbox is in commit order,
 * so the scan stops at the first entry at or after the cutoff.
 */
static int
lmdb_trim_one(struct lmdb_store *s, MDB_txn *txn, struct buf *key,
    uint64_t seq, const struct lmdb_entry *e, int *dropped)
{
	unsigned char	 sk[8];
	MDB_val		 k, v;
	size_t		 i;
	int		 rc;

	*dropped = 0;
	for (i = 0; i < e->nsinks; i++) {
		if (lmdb_sink_key(key, e->sinks[i], seq, lmdb_maxkey(s),
		    NULL) != 0)
			return (MDB_CORRUPTED);
		lmdb_val(&k, key->data, key->len);
		if ((rc = mdb_get(txn, s->pending, &k, &v)) == 0)
			return (0);
		if (rc != MDB_NOTFOUND)
			return (rc);
	}
	for (i = 0; i < e->nsinks; i++) {
		lmdb_sink_key(key, e->sinks[i], seq, lmdb_maxkey(s), NULL);
		lmdb_val(&k, key->data, key->len);
		rc = mdb_del(txn, s->dead, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return (rc);
	}
	lmdb_seq_key(sk, seq);
	lmdb_val(&k, sk, sizeof sk);
	*dropped = 1;
	return (mdb_del(txn, s->outbox, &k, NULL));
}

/* The first outbox entry at or after *seq: its sequence and record. */
static int
lmdb_outbox_from(struct lmdb_store *s, MDB_txn *txn, uint64_t *seq,
    MDB_val *raw)
{
	unsigned char	 sk[8];
	MDB_cursor	*c;
	MDB_val		 k;
	int		 rc;

	if ((rc = mdb_cursor_open(txn, s->outbox, &c)) != 0)
		return (rc);
	lmdb_seq_key(sk, *seq);
	lmdb_val(&k, sk, sizeof sk);
	rc = mdb_cursor_get(c, &k, raw, MDB_SET_RANGE);
	if (rc == 0 && lmdb_seq_val(&k, seq) != 0)
		rc = MDB_CORRUPTED;
	mdb_cursor_close(c);
	return (rc);
}

struct lmdb_trim {
	int64_t		 before_ms;
	size_t		 dropped;
};

static int
lmdb_trim_body(struct lmdb_store *s, MDB_txn *txn, void *arg,
    __unused char **cause)
{
	struct lmdb_trim	*t = arg;
	struct buf		 key = { 0 };
	struct lmdb_entry	 e;
	MDB_val			 raw;
	uint64_t		 seq;
	int			 rc, dropped;

	t->dropped = 0;
	/* A fresh cursor per entry: entries are deleted as the walk goes. */
	for (seq = 1; (rc = lmdb_outbox_from(s, txn, &seq, &raw)) == 0;
	    seq++) {
		if (lmdb_entry_decode(&raw, &e) != 0) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (e.committed_at >= t->before_ms) {
			lmdb_entry_clear(&e);
			break;
		}
		rc = lmdb_trim_one(s, txn, &key, seq, &e, &dropped);
		lmdb_entry_clear(&e);
		if (rc != 0)
			break;
		t->dropped += dropped;
	}
	buf_free(&key);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	return (t->dropped == 0 ? LMDB_UNCHANGED : 0);
}

static void
lmdb_trim(struct store *st, int64_t before_ms, store_done_cb cb, void *arg)
{
	struct lmdb_store	*s = st->data;
	struct lmdb_reply	*r = lmdb_reply_new(LMDB_DONE, arg);
	struct lmdb_trim	 t = { .before_ms = before_ms };
	int			 status = STORE_ERROR;

	r->cb.done = cb;
	if (lmdb_write(s, lmdb_trim_body, &t, &r->cause) == 0) {
		status = STORE_OK;
		if (t.dropped > 0)
			log_info("history trimmed", "path=%s dropped=%zu",
			    log_q(s->path), t.dropped);
	}
	lmdb_reply_post(s, r, status);
}

static void
lmdb_lease(struct store *st, const char *owner,
    const struct store_lease_req *req, size_t n, store_lease_cb cb,
    void *arg)
{
	struct lmdb_store		*s = st->data;
	struct lmdb_reply		*r = lmdb_reply_new(LMDB_LEASE, arg);
	struct store_lease_answer	*a;
	char				*holder;
	size_t				 i;

	r->cb.lease = cb;
	for (i = 0; i < n; i++) {
		if (owner == NULL || req[i].name == NULL ||
		    req[i].ttl_ms <= 0) {
			r->cause = xstrdup("lease: no owner, no name or a bad "
			    "ttl");
			lmdb_reply_post(s, r, STORE_ERROR);
			return;
		}
	}
	r->leases = xcalloc(n + 1, sizeof *r->leases);
	r->n = n;
	for (i = 0; i < n; i++) {
		a = &r->leases[i];
		a->granted = lmdb_lease_take(s, req[i].name, owner,
		    req[i].dead, req[i].ttl_ms, &a->token, &holder);
		a->holder = holder;
	}
	lmdb_reply_post(s, r, STORE_OK);
}

static void
lmdb_release(struct store *st, const char *name, const char *owner,
    store_done_cb cb, void *arg)
{
	struct lmdb_store	*s = st->data;
	struct lmdb_reply	*r = lmdb_reply_new(LMDB_DONE, arg);

	r->cb.done = cb;
	if (name != NULL && owner != NULL)
		lmdb_lease_release(s, name, owner);
	lmdb_reply_post(s, r, STORE_OK);
}

const struct store_entry store_lmdb_entry = {
	.name = "lmdb",
	.open = lmdb_open,
	.load = lmdb_load,
	.commit = lmdb_commit,
	.read = lmdb_read,
	.ack = lmdb_ack,
	.ack_many = lmdb_ack_many,
	.dead = lmdb_dead,
	.history = lmdb_history,
	.replay = lmdb_replay,
	.trim = lmdb_trim,
	.close = lmdb_close,
	.lease = lmdb_lease,
	.release = lmdb_release,
};
