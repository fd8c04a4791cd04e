/*
 * list-call.h: one list() in flight of an HTTP provider that keeps the
 * ETag of its last listing (GithubPackageRegistry, Npm).  The provider's
 * call struct begins with a struct list_call; the fetch batch ends in
 * list_call_done, which hands the versions over and keeps this answer's
 * ETag, or says unchanged after a 304, then calls the core's done once.
 */
#ifndef LIST_CALL_H
#define LIST_CALL_H

#include "provider.h"

struct fetch_page;
struct fetcher;

struct list_call {
	provider_done_cb	  done;
	void			 *arg;
	long long		  max;		/* the cap, 10000 when none */
	struct versions		 *vs;		/* being filled */
	char			 *etag;		/* of this answer */
	int			  unchanged;	/* a 304 */
	char			**keep;		/* its ETag's home, or NULL */
	struct list_call	**slot;		/* the provider's call */
};

/* Allocate a call of `size` bytes (a struct beginning with list_call). */
void	*list_call_new(size_t size, const struct list_request *,
	    provider_done_cb, void *arg, char **keep,
	    struct list_call **slot);
/* fetch_start's done: hand over, keep the ETag, free, done(). */
void	 list_call_done(struct provider_result *, void *arg);
/* In a page callback: 1 on a 304 (stop); else keeps the page's ETag. */
int	 list_call_page(struct list_call *, const struct fetch_page *);
/* cancel(): the call in flight in *slot (if any) is dropped. */
void	 list_call_cancel(struct list_call **slot, struct fetcher *);

#endif
