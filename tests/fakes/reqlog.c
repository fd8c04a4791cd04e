/*
 * reqlog.c: the last requests the fake saw, kept in a ring so a benchmark
 * hitting it millions of times uses bounded memory.  Tests read it through
 * GET /_fake/requests to assert what the watcher asked and when: method,
 * path, query, wall-clock ms, the status answered, whether credentials
 * came along, and the conditional and content headers that matter.
 */
#include <event2/http.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"

struct reqlog_entry {
	uint64_t	 seq;		/* 0 = empty slot */
	int64_t		 ms;
	int		 status;	/* 0 until answered */
	char		*method;
	char		*path;
	char		*query;
	char		*auth;		/* scheme only: "Bearer", "Basic" */
	char		*if_none_match;
	char		*accept;
};

struct reqlog {
	struct reqlog_entry	*ring;
	size_t			 capacity;
	uint64_t		 last;		/* seq of the newest entry */
};

/* A log keeping the last capacity requests. */
struct reqlog *
reqlog_new(size_t capacity)
{
	struct reqlog	*l;

	l = xcalloc(1, sizeof *l);
	l->capacity = capacity;
	if (capacity > 0)
		l->ring = xcalloc(capacity, sizeof *l->ring);
	return (l);
}

/* Frees what one slot holds and empties it. */
static void
reqlog_entry_clear(struct reqlog_entry *e)
{
	free(e->method);
	free(e->path);
	free(e->query);
	free(e->auth);
	free(e->if_none_match);
	free(e->accept);
	memset(e, 0, sizeof *e);
}

/* A copy of a header value, or NULL when absent. */
static char *
reqlog_header(struct evhttp_request *req, const char *name)
{
	const char	*v;

	v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
	return (v == NULL ? NULL : xstrdup(v));
}

/* Records a request; its status comes later from reqlog_set_status. */
uint64_t
reqlog_add(struct reqlog *l, struct evhttp_request *req, const char *method,
    const char *path, const char *query)
{
	struct reqlog_entry	*e;
	const char		*auth, *sp;

	l->last++;
	if (l->capacity == 0)
		return (l->last);
	e = &l->ring[l->last % l->capacity];
	reqlog_entry_clear(e);
	e->seq = l->last;
	e->ms = clock_ms();
	e->method = xstrdup(method);
	e->path = xstrdup(path);
	e->query = xstrdup(query);
	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (auth != NULL) {
		sp = strchr(auth, ' ');
		e->auth = sp == NULL ? xstrdup(auth) :
		    xstrndup(auth, sp - auth);
	}
	e->if_none_match = reqlog_header(req, "If-None-Match");
	e->accept = reqlog_header(req, "Accept");
	return (l->last);
}

/* Notes the status a request was answered with, if still in the ring. */
void
reqlog_set_status(struct reqlog *l, uint64_t seq, int status)
{
	struct reqlog_entry	*e;

	if (l->capacity == 0)
		return;
	e = &l->ring[seq % l->capacity];
	if (e->seq == seq)
		e->status = status;
}

/* Adds a string member, or null when the value is absent. */
static void
reqlog_add_string(cJSON *o, const char *name, const char *value)
{
	if (value == NULL)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, value);
}

/*
 * {"requests": [...oldest first...], "last": seq}: the entries after
 * since whose path starts with prefix (NULL for all).
 */
cJSON *
reqlog_json(const struct reqlog *l, uint64_t since, const char *prefix)
{
	const struct reqlog_entry	*e;
	cJSON				*root, *list, *o;
	uint64_t			 seq, first;

	root = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(root, "requests");
	first = l->last > l->capacity ? l->last - l->capacity + 1 : 1;
	if (since + 1 > first)
		first = since + 1;
	for (seq = first; l->capacity > 0 && seq <= l->last; seq++) {
		e = &l->ring[seq % l->capacity];
		if (e->seq != seq)
			continue;
		if (prefix != NULL &&
		    strncmp(e->path, prefix, strlen(prefix)) != 0)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "seq", (double)e->seq);
		cJSON_AddNumberToObject(o, "ms", (double)e->ms);
		cJSON_AddStringToObject(o, "method", e->method);
		cJSON_AddStringToObject(o, "path", e->path);
		cJSON_AddStringToObject(o, "query", e->query);
		cJSON_AddNumberToObject(o, "status", e->status);
		reqlog_add_string(o, "auth", e->auth);
		reqlog_add_string(o, "if_none_match", e->if_none_match);
		reqlog_add_string(o, "accept", e->accept);
		cJSON_AddItemToArray(list, o);
	}
	cJSON_AddNumberToObject(root, "last", (double)l->last);
	return (root);
}

/* Forgets every entry; sequence numbers keep growing. */
void
reqlog_clear(struct reqlog *l)
{
	size_t	i;

	for (i = 0; i < l->capacity; i++)
		reqlog_entry_clear(&l->ring[i]);
}

/* Frees the log. */
void
reqlog_free(struct reqlog *l)
{
	if (l == NULL)
		return;
	reqlog_clear(l);
	free(l->ring);
	free(l);
}
