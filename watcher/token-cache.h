/*
 * token-cache.h: what every connector with an expiring credential shares
 * (the Aws key of STS or IMDS, the Gcp access token, the Azure AD and ACR
 * tokens): the callers waiting for a refresh under way, and the timer that
 * renews the credential in the background ahead of its expiry.  The
 * credential itself, how it is fetched and what the waiters get stay with
 * the family; a waiter's callback is the family's own type, kept here as a
 * token_fn and cast back by the family when it calls it.
 */
#ifndef TOKEN_CACHE_H
#define TOKEN_CACHE_H

#include "watcher.h"

typedef void (*token_fn)(void);

struct token_waiter {
	token_fn		 fn;
	void			*arg;
	struct token_waiter	*next;
};

struct token_cache {
	struct event		*timer;
	struct token_waiter	*waiters;
	void			(*renew)(void *);	/* the timer's */
	void			*arg;
};

/* renew(arg) runs when the timer planned by token_cache_plan() fires. */
void	token_cache_init(struct token_cache *, struct event_base *,
	    void (*renew)(void *), void *arg);
/* Drops the waiters (not called) and the timer. */
void	token_cache_clear(struct token_cache *);

/*
 * Usable now: good for at least good_s more, or a quarter of a short life
 * (obtained_s to expires_s).  expires_s 0: it does not expire.
 */
int	token_cache_fresh(int64_t obtained_s, int64_t expires_s,
	    int64_t good_s, int64_t now_s);

/* Queue a caller until the refresh under way settles. */
void	token_cache_wait(struct token_cache *, token_fn, void *arg);
/* Forget the callers with that arg (they went away). */
void	token_cache_cancel(struct token_cache *, void *arg);
/* Take every waiter out, oldest first; then token_cache_pop() each. */
struct token_waiter *token_cache_take(struct token_cache *);
/* The next of a taken list into fn, arg (the node freed); 0 at the end. */
int	token_cache_pop(struct token_waiter **, token_fn *, void **arg);

/* Renew ahead_s before expires_s, or halfway through a shorter life. */
void	token_cache_plan(struct token_cache *, int64_t expires_s,
	    int64_t ahead_s);
/* Renew in s seconds (after a failure). */
void	token_cache_retry(struct token_cache *, int64_t s);
/* No renewal planned (one is under way). */
void	token_cache_stop(struct token_cache *);

#endif
