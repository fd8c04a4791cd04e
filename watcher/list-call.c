/*
 * list-call.c: the list() call in flight of an HTTP provider (see
 * list-call.h): what Nexus, Artifactory, GitHub Packages and npm share.
 */
#include <stdlib.h>

#include "fetch.h"
#include "http.h"
#include "list-call.h"

void *
list_call_new(size_t size, const struct list_request *req,
    provider_done_cb done, void *arg, char **keep, struct list_call **slot)
{
	struct list_call	*l;

	l = xcalloc(1, size);
	l->done = done;
	l->arg = arg;
	l->max = req->max > 0 ? req->max : 10000;
	l->vs = xcalloc(1, sizeof *l->vs);
	l->keep = keep;
	l->slot = slot;
	*slot = l;
	return (l);
}

static void
list_call_free(struct list_call *l)
{
	if (l->vs != NULL) {
		versions_free(l->vs);
		free(l->vs);
	}
	free(l->etag);
	free(l);
}

void
list_call_done(struct provider_result *r, void *arg)
{
	struct list_call	*l = arg;
	provider_done_cb	 done = l->done;
	void			*done_arg = l->arg;

	*l->slot = NULL;
	if (r->status == 0 && l->unchanged)
		r->unchanged = 1;
	else if (r->status == 0) {
		if (l->keep != NULL) {
			free(*l->keep);
			*l->keep = l->etag;
			l->etag = NULL;
		}
		r->versions = l->vs;
		l->vs = NULL;
	}
	list_call_free(l);
	done(r, done_arg);
}

int
list_call_page(struct list_call *l, const struct fetch_page *pg)
{
	const char	*etag;

	if (pg->resp->status == 304) {
		l->unchanged = 1;
		return (1);
	}
	/* The first page's (of the last request: npm may ask twice). */
	if (pg->number == 1 && (etag = http_header(pg->resp, "ETag")) != NULL) {
		free(l->etag);
		l->etag = xstrdup(etag);
	}
	return (0);
}

void
list_call_cancel(struct list_call **slot, struct fetcher *fetcher)
{
	if (*slot == NULL)
		return;
	fetch_cancel(fetcher);
	list_call_free(*slot);
	*slot = NULL;
}
