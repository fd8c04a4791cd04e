/*
 * sink.h: where events go.  A sink type is a static
 * `const struct sink_entry` (sinks/sink-*.c) with the keys of its `spec:`
 * block and its callbacks; a `struct sink` is one configured instance.
 * sink.c holds the table.  Delivery order, retries, backoff and the
 * dead-letter list are the dispatcher's (dispatch.c), not the sink's.
 */
#ifndef SINK_H
#define SINK_H

#include "watcher.h"
#include "config.h"
#include "store.h"

enum delivery {
	DELIVERY_OK,		/* delivered: ack it */
	DELIVERY_RETRY,		/* try again later (408, 429, 5xx, network) */
	DELIVERY_PERMANENT,	/* will never work: dead-letter at once */
};
/* retry_after_ms: what the receiver asked for (Retry-After), else -1. */
typedef void (*sink_done_cb)(enum delivery, int64_t retry_after_ms,
		    const char *cause, void *arg);

struct sink;
struct sink_entry {
	const char		*name;		/* sink `type:` */
	const struct cfg_key	*keys;		/* its spec: */
	size_t			 size;
	int	(*check)(struct sink_conf *, struct cfg_errors *);
	int	(*init)(struct sink *, char **cause);
	/*
	 * Deliver one event.  `done` runs exactly once, from the event loop,
	 * unless cancel() comes first.  With max_inflight above 1, deliver()
	 * may be called again before the earlier calls' `done`: each call has
	 * its own done and arg, and the `done`s may come in any order (the
	 * dispatcher acknowledges in outbox order).  The entry is valid only
	 * during the call: copy what outlives it.
	 */
	void	(*deliver)(struct sink *, const struct outbox_entry *,
		    sink_done_cb done, void *arg);
	/* Drop every outstanding delivery: none of their `done`s runs. */
	void	(*cancel)(struct sink *);
	void	(*free)(struct sink *);
	/*
	 * Deliveries in flight at once by default; the sink's `maxInFlight`
	 * overrides it.  0: one at a time only (deliver() is never called
	 * again before the `done`), and a maxInFlight above 1 is a config
	 * error.  Brokers that confirm asynchronously set more.
	 */
	unsigned		 max_inflight;
};

struct sink {
	const struct sink_entry	*entry;
	const struct sink_conf	*conf;
	struct env		*env;
	void			*data;
};

/* sink.c */
const struct sink_entry *sink_find(const char *type);
struct sink	*sink_create(struct env *, const struct sink_conf *,
		    char **cause);
void		 sink_free(struct sink *);	/* accepts NULL */

/* sign.c: the webhook signature of DESIGN §6, "sha256=<hex>". */
void	 sign_hmac_sha256(const void *key, size_t key_len, const void *msg,
	    size_t msg_len, unsigned char out[32]);
char	*sign_body(const char *secret, size_t secret_len, int64_t ts,
	    const char *body, size_t body_len);

#endif
