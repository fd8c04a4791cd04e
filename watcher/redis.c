/*
 * redis.c: a hiredis async connection that keeps itself connected.
 *
 * DESIGN
 *
 * The connection is in one of three states:
 *	WAITING		no connection; a backoff timer (1 s doubling to 30 s,
 *			jittered) will try again.  Commands fail at once.
 *	CONNECTING	TCP connect, then AUTH and SELECT.  Commands wait in
 *			`queued` and are sent when the handshake succeeds (or
 *			fail when it does not), so that nothing ever runs
 *			before AUTH and SELECT did.
 *	READY		commands go straight to hiredis.
 *
 * User callbacks run only from two places: a hiredis reply callback with a
 * real reply, or our own `drain` event, which calls back every command on
 * the `failed` list.  Commands that fail inside hiredis (NULL reply because
 * the connection dropped or was freed) are only moved to that list, so no
 * user code ever runs inside hiredis' connect, disconnect or free paths.
 *
 * hiredis 0.14 has no timeouts, so a watchdog timer drops the connection
 * when a connect or the oldest command in flight gets no answer in time.
 * It ticks only while something waits for an answer.
 *
 * redis_close() sets ac->data to NULL before freeing the context: the
 * callbacks hiredis then runs (NULL replies, perhaps deferred until a reply
 * callback on the stack returns) see that the owner is gone.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>
#include <openssl/evp.h>

#include "redis.h"

#define REDIS_DEFAULT_TIMEOUT_MS	10000
#define REDIS_WATCHDOG_MS		1000

enum redis_state { REDIS_WAITING, REDIS_CONNECTING, REDIS_READY };

struct redis_cmd {
	int			 argc;
	char			**argv;
	size_t			*lens;
	const char		*script;	/* EVALSHA: body for EVAL */
	redis_cb		 cb;
	void			*arg;
	const char		*cause;		/* on the failed list: why */
	TAILQ_ENTRY(redis_cmd)	 entry;
};
TAILQ_HEAD(redis_cmds, redis_cmd);

struct redis {
	struct event_base	*base;
	struct redis_url	 url;
	char			*addr;		/* host:port/db, for logs */
	redisAsyncContext	*ac;
	enum redis_state	 state;
	unsigned		 attempt;	/* failed connects in a row */
	int			 hello_left;	/* handshake replies due */
	char			*hello_error;
	int64_t			 timeout_ms;
	int64_t			 since;		/* connect start, last reply */
	unsigned		 inflight;
	struct redis_cmds	 queued;
	struct redis_cmds	 failed;
	struct event		*retry;
	struct event		*drain;
	struct event		*watchdog;
};

static const struct backoff redis_backoff = { .base_ms = 1000,
    .cap_ms = 30000 };

static void	redis_connect(struct redis *);
static void	redis_send(struct redis *, struct redis_cmd *);

/* Arm the watchdog, unless it is armed already. */
static void
redis_watch(struct redis *r)
{
	struct timeval	 tv = { REDIS_WATCHDOG_MS / 1000, 0 };

	if (!evtimer_pending(r->watchdog, NULL))
		evtimer_add(r->watchdog, &tv);
}

/* Undo %XX escapes of [p, p+len); NULL if one is broken. */
static char *
redis_url_decode(const char *p, size_t len)
{
	char		*out = xmalloc(len + 1), hex[3] = { 0 };
	size_t		 i, n = 0;

	for (i = 0; i < len; i++) {
		if (p[i] != '%') {
			out[n++] = p[i];
			continue;
		}
		if (i + 2 >= len || !isxdigit((unsigned char)p[i + 1]) ||
		    !isxdigit((unsigned char)p[i + 2])) {
			free(out);
			return (NULL);
		}
		hex[0] = p[i + 1];
		hex[1] = p[i + 2];
		out[n++] = (char)strtol(hex, NULL, 16);
		i += 2;
	}
	out[n] = '\0';
	return (out);
}

/* Stringify the hiredis version for the message. */
#define REDIS_STR2(x)	#x
#define REDIS_STR(x)	REDIS_STR2(x)

const char *
redis_url_tls_problem(const char *s)
{
	if (strncasecmp(s, "rediss://", 9) != 0)
		return (NULL);
	return ("rediss:// (Redis over TLS) is not supported: the hiredis "
	    "this watcher is built with (" REDIS_STR(HIREDIS_MAJOR) "."
	    REDIS_STR(HIREDIS_MINOR) "." REDIS_STR(HIREDIS_PATCH) ") has no "
	    "TLS support (hiredis_ssl); use redis:// through a TLS tunnel "
	    "such as stunnel on the same host");
}

int
redis_url_parse(const char *s, struct redis_url *u, char **cause)
{
	const char	*p, *at, *end, *colon, *tls;
	char		*ep;
	long		 n;

	memset(u, 0, sizeof *u);
	u->port = 6379;
	if ((tls = redis_url_tls_problem(s)) != NULL)
		return (fail(cause, "redis URL: %s", tls));
	if (strncmp(s, "redis://", 8) != 0)
		return (fail(cause, "redis URL %s: not redis://", log_q(s)));
	p = s + 8;
	end = p + strcspn(p, "/");
	at = memchr(p, '@', end - p);
	if (at != NULL) {
		colon = memchr(p, ':', at - p);
		if (colon == NULL)
			colon = at;	/* a user only */
		if (colon != p &&
		    (u->user = redis_url_decode(p, colon - p)) == NULL)
			goto bad;
		if (colon != at && (u->password = redis_url_decode(colon + 1,
		    at - colon - 1)) == NULL)
			goto bad;
		p = at + 1;
	}
	if (*p == '[') {
		colon = memchr(p, ']', end - p);
		if (colon == NULL)
			goto bad;
		u->host = xstrndup(p + 1, colon - p - 1);
		p = colon + 1;
	} else {
		colon = memchr(p, ':', end - p);
		u->host = xstrndup(p, (colon != NULL ? colon : end) - p);
		p = colon != NULL ? colon : end;
	}
	if (*u->host == '\0')
		goto bad;
	if (*p == ':') {
		if (!isdigit((unsigned char)p[1]))
			goto bad;
		errno = 0;
		n = strtol(p + 1, &ep, 10);
		if (errno != 0 || ep != end || n < 1 || n > 65535)
			goto bad;
		u->port = (int)n;
	} else if (p != end)
		goto bad;
	if (*end == '/' && end[1] != '\0') {
		if (!isdigit((unsigned char)end[1]))
			goto bad;
		errno = 0;
		n = strtol(end + 1, &ep, 10);
		if (errno != 0 || *ep != '\0' || n > 100000)
			goto bad;
		u->db = (int)n;
	}
	return (0);

bad:
	redis_url_free(u);
	return (fail(cause, "redis URL %s: expected "
	    "redis://[user:password@]host[:port][/db]", log_q(s)));
}

void
redis_url_free(struct redis_url *u)
{
	free(u->host);
	free(u->user);
	free(u->password);
	memset(u, 0, sizeof *u);
}

static void
redis_cmd_free(struct redis_cmd *cmd)
{
	int	 i;

	for (i = 0; i < cmd->argc; i++)
		free(cmd->argv[i]);
	free(cmd->argv);
	free(cmd->lens);
	free(cmd);
}

/* Queue cmd to be called back with cause from the drain event. */
static void
redis_fail(struct redis *r, struct redis_cmd *cmd, const char *cause)
{
	cmd->cause = cause;
	TAILQ_INSERT_TAIL(&r->failed, cmd, entry);
	event_active(r->drain, EV_TIMEOUT, 0);
}

static void
redis_drain_cb(__unused evutil_socket_t fd, __unused short events, void *arg)
{
	struct redis		*r = arg;
	struct redis_cmds	 q;
	struct redis_cmd	*cmd;

	/* A callback may close r: work on a list of our own. */
	TAILQ_INIT(&q);
	TAILQ_CONCAT(&q, &r->failed, entry);
	while ((cmd = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, cmd, entry);
		cmd->cb(NULL, cmd->cause, cmd->arg);
		redis_cmd_free(cmd);
	}
}

/* The connection is gone (or never came): fail what waits, retry later. */
static void
redis_lost(struct redis *r, const char *why)
{
	struct redis_cmd	*cmd;
	struct timeval		 tv;
	int64_t			 delay;

	delay = backoff_delay(&redis_backoff, ++r->attempt, random32());
	log_warn("redis unavailable", "addr=%s cause=%s retry_ms=%lld",
	    log_q(r->addr), log_q(why), (long long)delay);
	r->ac = NULL;
	r->state = REDIS_WAITING;
	r->inflight = 0;
	free(r->hello_error);
	r->hello_error = NULL;
	evtimer_del(r->watchdog);
	while ((cmd = TAILQ_FIRST(&r->queued)) != NULL) {
		TAILQ_REMOVE(&r->queued, cmd, entry);
		redis_fail(r, cmd, "redis: connection lost");
	}
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(r->retry, &tv);
}

static void
redis_ready(struct redis *r)
{
	struct redis_cmds	 q;
	struct redis_cmd	*cmd;

	log_info("redis connected", "addr=%s", log_q(r->addr));
	r->state = REDIS_READY;
	r->attempt = 0;
	r->since = mono_ms();
	TAILQ_INIT(&q);
	TAILQ_CONCAT(&q, &r->queued, entry);
	while ((cmd = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, cmd, entry);
		redis_send(r, cmd);
	}
}

/* A reply to AUTH or SELECT. */
static void
redis_hello_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct redis	*r = arg;
	redisReply	*rr = reply;

	if (ac->data == NULL || r->ac != ac || rr == NULL)
		return;		/* closed or lost: handled elsewhere */
	if (rr->type == REDIS_REPLY_ERROR && r->hello_error == NULL)
		r->hello_error = xstrndup(rr->str, rr->len);
	if (--r->hello_left > 0)
		return;
	if (r->hello_error != NULL) {
		/* Freed after this callback; disconnect_cb then sees it. */
		log_warn("redis handshake failed", "addr=%s cause=%s",
		    log_q(r->addr), log_q(r->hello_error));
		redisAsyncFree(ac);
		return;
	}
	redis_ready(r);
}

static void
redis_connect_cb(const redisAsyncContext *ac, int status)
{
	struct redis	*r = ac->data;

	if (r == NULL || status == REDIS_OK)
		return;
	/* ac->errstr is only set after this callback: use the context's. */
	redis_lost(r, ac->c.errstr[0] != '\0' ? ac->c.errstr :
	    "connect failed");
}

static void
redis_disconnect_cb(const redisAsyncContext *ac, __unused int status)
{
	struct redis	*r = ac->data;

	if (r == NULL || r->ac != ac)
		return;
	redis_lost(r, r->hello_error != NULL ? r->hello_error :
	    ac->c.errstr[0] != '\0' ? ac->c.errstr : "connection closed");
}

static void
redis_retry_cb(__unused evutil_socket_t fd, __unused short events, void *arg)
{
	redis_connect(arg);
}

static void
redis_hello(struct redis *r, int argc, const char **argv)
{
	if (redisAsyncCommandArgv(r->ac, redis_hello_cb, r, argc, argv,
	    NULL) == REDIS_OK)
		r->hello_left++;
}

static void
redis_connect(struct redis *r)
{
	redisAsyncContext	*ac;
	const char		*argv[3];
	char			 db[16];

	ac = redisAsyncConnect(r->url.host, r->url.port);
	if (ac == NULL)
		fatalx("redisAsyncConnect: out of memory");
	if (ac->err != 0) {
		r->ac = ac;
		redis_lost(r, ac->c.errstr);
		redisAsyncFree(ac);
		return;
	}
	ac->data = r;
	r->ac = ac;
	r->state = REDIS_CONNECTING;
	r->since = mono_ms();
	r->hello_left = 0;
	redisLibeventAttach(ac, r->base);
	redisAsyncSetConnectCallback(ac, redis_connect_cb);
	redisAsyncSetDisconnectCallback(ac, redis_disconnect_cb);
	if (r->url.password != NULL) {
		argv[0] = "AUTH";
		argv[1] = r->url.user != NULL ? r->url.user : r->url.password;
		argv[2] = r->url.password;
		redis_hello(r, r->url.user != NULL ? 3 : 2, argv);
	}
	snprintf(db, sizeof db, "%d", r->url.db);
	argv[0] = "SELECT";
	argv[1] = db;
	redis_hello(r, 2, argv);
	redis_watch(r);
}

/* Drop a connection that does not answer; see the DESIGN note. */
static void
redis_watchdog_cb(__unused evutil_socket_t fd, __unused short events,
    void *arg)
{
	struct redis		*r = arg;
	redisAsyncContext	*ac = r->ac;

	if (ac == NULL || (r->state != REDIS_CONNECTING && r->inflight == 0))
		return;		/* nothing waits: idle until redis_send */
	if (mono_ms() - r->since > r->timeout_ms) {
		redisAsyncFree(ac);	/* may call redis_disconnect_cb */
		if (r->ac == ac)
			redis_lost(r, "no answer in time");
		return;
	}
	redis_watch(r);
}

/* hiredis calls this exactly once per command sent. */
static void
redis_reply_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct redis_cmd	*cmd = arg;
	struct redis		*r = ac->data;
	redisReply		*rr = reply;
	static const char	 noscript[] = "NOSCRIPT";

	if (r == NULL) {
		/* Closed: the owner is gone. */
		cmd->cb(NULL, "redis: closed", cmd->arg);
		redis_cmd_free(cmd);
		return;
	}
	if (r->inflight > 0)
		r->inflight--;
	if (rr == NULL) {
		redis_fail(r, cmd, "redis: connection lost");
		return;
	}
	r->since = mono_ms();
	if (rr->type == REDIS_REPLY_ERROR && cmd->script != NULL &&
	    strncmp(rr->str, noscript, sizeof noscript - 1) == 0) {
		free(cmd->argv[0]);
		free(cmd->argv[1]);
		cmd->argv[0] = xstrdup("EVAL");
		cmd->lens[0] = 4;
		cmd->argv[1] = xstrdup(cmd->script);
		cmd->lens[1] = strlen(cmd->script);
		cmd->script = NULL;
		redis_send(r, cmd);
		return;
	}
	cmd->cb(rr, NULL, cmd->arg);
	redis_cmd_free(cmd);
}

static void
redis_send(struct redis *r, struct redis_cmd *cmd)
{
	switch (r->state) {
	case REDIS_WAITING:
		redis_fail(r, cmd, "redis: not connected");
		return;
	case REDIS_CONNECTING:
		TAILQ_INSERT_TAIL(&r->queued, cmd, entry);
		return;
	case REDIS_READY:
		break;
	}
	if (redisAsyncCommandArgv(r->ac, redis_reply_cb, cmd, cmd->argc,
	    (const char **)cmd->argv, cmd->lens) != REDIS_OK) {
		redis_fail(r, cmd, "redis: connection lost");
		return;
	}
	if (r->inflight++ == 0) {
		r->since = mono_ms();
		redis_watch(r);
	}
}

static struct redis_cmd *
redis_cmd_new(int extra, int argc, const char **argv,
    const size_t *lens, redis_cb cb, void *arg)
{
	struct redis_cmd	*cmd;
	int			 i;

	cmd = xcalloc(1, sizeof *cmd);
	cmd->argc = extra + argc;
	cmd->argv = xcalloc(cmd->argc, sizeof *cmd->argv);
	cmd->lens = xcalloc(cmd->argc, sizeof *cmd->lens);
	for (i = 0; i < argc; i++) {
		cmd->lens[extra + i] = lens != NULL ? lens[i] :
		    strlen(argv[i]);
		cmd->argv[extra + i] = xmalloc(cmd->lens[extra + i] + 1);
		memcpy(cmd->argv[extra + i], argv[i], cmd->lens[extra + i]);
		cmd->argv[extra + i][cmd->lens[extra + i]] = '\0';
	}
	cmd->cb = cb;
	cmd->arg = arg;
	return (cmd);
}

void
redis_command(struct redis *r, int argc, const char **argv,
    const size_t *lens, redis_cb cb, void *arg)
{
	redis_send(r, redis_cmd_new(0, argc, argv, lens, cb, arg));
}

void
redis_defer_error(struct redis *r, const char *cause, redis_cb cb, void *arg)
{
	redis_fail(r, redis_cmd_new(0, 0, NULL, NULL, cb, arg), cause);
}

void
redis_eval(struct redis *r, const char *script, int nkeys, int argc,
    const char **argv, const size_t *lens, redis_cb cb, void *arg)
{
	struct redis_cmd	*cmd;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen, i;
	char			 hex[2 * EVP_MAX_MD_SIZE + 1];

	if (EVP_Digest(script, strlen(script), md, &mdlen, EVP_sha1(),
	    NULL) != 1)
		fatalx("EVP_Digest(sha1) failed");
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	cmd = redis_cmd_new(3, argc, argv, lens, cb, arg);
	cmd->argv[0] = xstrdup("EVALSHA");
	cmd->argv[1] = xstrdup(hex);
	xasprintf(&cmd->argv[2], "%d", nkeys);
	for (i = 0; i < 3; i++)
		cmd->lens[i] = strlen(cmd->argv[i]);
	cmd->script = script;
	redis_send(r, cmd);
}

struct redis *
redis_open(struct event_base *base, const char *url, const char *password,
    char **cause)
{
	struct redis	*r;

	r = xcalloc(1, sizeof *r);
	if (redis_url_parse(url, &r->url, cause) != 0) {
		free(r);
		return (NULL);
	}
	if (password != NULL) {
		free(r->url.password);
		r->url.password = xstrdup(password);
	}
	xasprintf(&r->addr, "%s:%d/%d", r->url.host, r->url.port, r->url.db);
	r->base = base;
	r->timeout_ms = REDIS_DEFAULT_TIMEOUT_MS;
	TAILQ_INIT(&r->queued);
	TAILQ_INIT(&r->failed);
	r->retry = evtimer_new(base, redis_retry_cb, r);
	r->drain = event_new(base, -1, 0, redis_drain_cb, r);
	r->watchdog = evtimer_new(base, redis_watchdog_cb, r);
	redis_connect(r);
	return (r);
}

int
redis_connected(const struct redis *r)
{
	return (r->state == REDIS_READY);
}

void
redis_set_timeout(struct redis *r, int64_t ms)
{
	r->timeout_ms = ms;
}

void
redis_close(struct redis *r)
{
	struct redis_cmd	*cmd;
	redisAsyncContext	*ac;

	if (r == NULL)
		return;
	ac = r->ac;
	r->ac = NULL;
	if (ac != NULL) {
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	TAILQ_CONCAT(&r->failed, &r->queued, entry);
	while ((cmd = TAILQ_FIRST(&r->failed)) != NULL) {
		TAILQ_REMOVE(&r->failed, cmd, entry);
		cmd->cb(NULL, "redis: closed", cmd->arg);
		redis_cmd_free(cmd);
	}
	event_free(r->watchdog);
	event_free(r->drain);
	event_free(r->retry);
	free(r->hello_error);
	free(r->addr);
	redis_url_free(&r->url);
	free(r);
}
