/*
 * redis.h: one hiredis async connection on the libevent base that keeps
 * itself connected (AUTH and SELECT after each connect, reconnects with
 * backoff), for the Redis store and anything else that talks to Redis.
 *
 * Every command's callback runs exactly once, always later from the event
 * loop, never before redis_command() returns.  A command issued while a
 * connection attempt is under way waits for it; one issued while the
 * connection is down (waiting to retry) fails at once with "redis: not
 * connected"; commands waiting or in flight when a connect fails or the
 * connection drops, or when no answer comes within the timeout, fail with
 * "redis: connection lost".
 */
#ifndef REDIS_H
#define REDIS_H

#include <hiredis/hiredis.h>

#include "watcher.h"

/*
 * redis://[user[:password]@]host[:port][/db], user and password with %XX
 * escapes.  The configuration refuses a password in the URL (it names a
 * secret instead, handed to redis_open()); other callers may use one.
 */
struct redis_url {
	char	*host;
	int	 port;		/* default 6379 */
	int	 db;		/* default 0 */
	char	*user;		/* NULL: none (AUTH password) */
	char	*password;	/* NULL: no AUTH */
};
int	 redis_url_parse(const char *, struct redis_url *, char **cause);
/*
 * rediss:// (Redis over TLS) needs hiredis_ssl, which the hiredis built
 * against does not have (Debian 12's is 0.14; TLS came with 1.0): why such
 * a URL is refused, naming that hiredis, or NULL when the URL is not one.
 */
const char *redis_url_tls_problem(const char *);
void	 redis_url_free(struct redis_url *);

struct redis;

/*
 * A command's answer.  reply is NULL when there is none (cause says why);
 * otherwise it may be an error reply (REDIS_REPLY_ERROR), which the caller
 * checks.  Both are valid only during the callback.
 */
typedef void (*redis_cb)(redisReply *reply, const char *cause, void *arg);

/*
 * Start connecting to url.  password, if not NULL, replaces the URL's.
 * Fails only on a bad URL; an unreachable server is retried with backoff.
 */
struct redis	*redis_open(struct event_base *, const char *url,
		    const char *password, char **cause);
/* Commands still waiting get their callback with "redis: closed". */
void		 redis_close(struct redis *);
int		 redis_connected(const struct redis *);
/* How long (ms) a connection attempt or a command may wait for an answer
 * before the connection is dropped as hung; default 10 s. */
void		 redis_set_timeout(struct redis *, int64_t ms);

/* Call cb later from the loop with no reply and cause (a static string),
 * as a command that failed. */
void	 redis_defer_error(struct redis *, const char *cause, redis_cb, void *);

/* argv is copied: it may be freed as soon as the call returns. */
void	 redis_command(struct redis *, int argc, const char **argv,
	    const size_t *lens, redis_cb, void *);
/*
 * Run a Lua script: EVALSHA, falling back to EVAL (which loads it) when the
 * server answers NOSCRIPT.  argv holds the keys, then the arguments.
 */
void	 redis_eval(struct redis *, const char *script, int nkeys, int argc,
	    const char **argv, const size_t *lens, redis_cb, void *);

#endif
