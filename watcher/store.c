/*
 * store.c: the one place that knows which store implementations exist.  It
 * picks one from the store: block's type, opens it, closes it, and frees what
 * the contract's result types own (store.h).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "store.h"

extern const struct store_entry store_lmdb_entry;
extern const struct store_entry store_redis_entry;

/* Indexed by enum store_type. */
static const struct store_entry *const store_table[] = {
	[STORE_LMDB] = &store_lmdb_entry,
	[STORE_REDIS] = &store_redis_entry,
};

struct store *
store_open_with_password(struct event_base *base,
    const struct store_conf *conf, const char *password, char **cause)
{
	struct store	*st;

	if (conf->type < 0 || (size_t)conf->type >= nitems(store_table)) {
		fail(cause, "store type %d is not available", conf->type);
		return (NULL);
	}
	st = xcalloc(1, sizeof *st);
	st->entry = store_table[conf->type];
	st->conf = conf;
	st->base = base;
	st->password = password;
	if (st->entry->open(st, cause) != 0) {
		free(st);
		return (NULL);
	}
	st->password = NULL;
	return (st);
}

struct store *
store_open(struct event_base *base, const struct store_conf *conf,
    char **cause)
{
	return (store_open_with_password(base, conf, NULL, cause));
}

struct store *
store_open_config(struct event_base *base, const struct config *conf,
    char **cause)
{
	struct store	*st;
	char		*password = NULL, *why;

	if (conf->store.password != NULL &&
	    secret_resolve(conf, conf->store.password, &password, &why) != 0) {
		fail(cause, "store.password: %s", why);
		free(why);
		return (NULL);
	}
	st = store_open_with_password(base, &conf->store, password, cause);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return (st);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->entry->close(st);
	free(st);
}

void
store_state_clear(struct store_state *s)
{
	if (s == NULL)
		return;
	free(s->epoch);
	versions_free(&s->versions);
	memset(s, 0, sizeof *s);
}

void
outbox_entries_free(struct outbox_entry *e, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].id);
		free(e[i].source);
		free(e[i].json);
	}
	free(e);
}

void
history_entries_free(struct history_entry *h, size_t n)
{
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		free(h[i].e.key);
		free(h[i].e.id);
		free(h[i].e.source);
		free(h[i].e.json);
		for (j = 0; j < h[i].nsinks; j++) {
			free(h[i].sinks[j].sink);
			free(h[i].sinks[j].reason);
		}
		free(h[i].sinks);
	}
	free(h);
}
