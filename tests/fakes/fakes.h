/*
 * fakes.h: what the fake artifact servers under tests/fakes share.
 *
 * A fake is one program (fake-server.c) that listens on 127.0.0.1 and
 * answers as real artifact APIs do, so tests and benchmarks can drive the
 * watcher without the network.  Each API lives in its own api-<name>.c and
 * is one line of the table in fake-server.c; faults.c damages replies on
 * demand (429, 5xx, slow, truncated, huge, garbage) and reqlog.c remembers
 * what was asked.  The fakes never link the daemon's own code, so a bug in
 * the watcher cannot hide itself by being shared with its test server.
 */
#ifndef FAKES_H
#define FAKES_H

#include <sys/queue.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof ((a)[0]))
#endif
#define printflike(a, b) __attribute__((format(printf, a, b)))

struct event_base;
struct evbuffer;
struct evhttp_request;
typedef struct cJSON cJSON;

/* xmalloc.c: allocation that exits instead of returning NULL. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) printflike(2, 3);
__attribute__((noreturn)) void fatalx(const char *, ...) printflike(1, 2);

/* strmap.c: a hash map from strings (copied) to pointers (not owned). */
struct strmap;
struct strmap	*strmap_new(void);
void		*strmap_get(const struct strmap *, const char *);
void		 strmap_put(struct strmap *, const char *, void *);
/* Frees the map; calls free_value on every value when it is not NULL. */
void		 strmap_free(struct strmap *, void (*free_value)(void *));

/* digest.c: hashes and encodings the APIs need. */
#define SHA256_DIGEST_LEN 72	/* "sha256:" + 64 hex + NUL */
void	 sha256_digest(const void *, size_t, char out[SHA256_DIGEST_LEN]);
uint64_t fnv1a64(const void *, size_t);
/* Decodes base64 into a new NUL-terminated string; NULL when not base64. */
char	*base64_decode(const char *);
/* IMF-fixdate ("Wed, 21 Oct 2026 07:28:00 GMT"); out holds >= 30 bytes. */
void	 http_date(int64_t unix_s, char *out, size_t len);
int64_t	 clock_ms(void);		/* CLOCK_REALTIME in ms */

/* reqlog.c: a ring of the last requests seen, for /_fake/requests. */
struct reqlog;
struct reqlog	*reqlog_new(size_t capacity);	/* 0 keeps nothing */
/* Records a request; returns its sequence number (from 1). */
uint64_t	 reqlog_add(struct reqlog *, struct evhttp_request *,
		    const char *method, const char *path, const char *query);
void		 reqlog_set_status(struct reqlog *, uint64_t seq, int status);
/* Entries with seq > since whose path starts with prefix, as JSON. */
cJSON		*reqlog_json(const struct reqlog *, uint64_t since,
		    const char *prefix);
void		 reqlog_clear(struct reqlog *);
void		 reqlog_free(struct reqlog *);

/* faults.c: rules that damage replies, and the sending of every reply. */
enum fault_kind {
	FAULT_NONE,
	FAULT_STATUS,		/* 429, 500, 503 ... with an error body */
	FAULT_SLOW_HEADERS,	/* answer after delay_ms */
	FAULT_SLOW_BODY,	/* drip the body, drip_bytes every drip_ms */
	FAULT_TRUNCATE,		/* promise Content-Length, send part, close */
	FAULT_HUGE,		/* a body of size bytes, never buffered whole */
	FAULT_GARBAGE,		/* 200 with bytes that are not JSON */
	FAULT_HTML,		/* 200 with an HTML error page */
	FAULT_CHUNKED,		/* the real reply, chunked */
	FAULT_CLOSE,		/* the real reply, then close the connection */
	FAULT_EXPIRED_TOKEN	/* tokens die after token_uses or 1 s */
};
struct fault {
	uint64_t		 id;
	enum fault_kind		 kind;
	char			*kind_name;	/* as given: "429", "slow_body" */
	char			*path_prefix;	/* "/" matches all */
	char			*method;	/* NULL matches all */
	int64_t			 count;		/* replies left; -1 = forever */
	int64_t			 hits;
	int			 status;
	char			*retry_after;	/* verbatim, or NULL */
	int64_t			 retry_after_date_in;	/* s, or -1 */
	char			*body;		/* replaces the error body */
	char			*content_type;	/* of the replaced body */
	int64_t			 delay_ms;
	int64_t			 drip_bytes;
	int64_t			 drip_ms;
	int64_t			 size;		/* huge body bytes */
	int64_t			 keep;		/* truncated: bytes sent */
	int64_t			 token_uses;	/* expired_token */
	int64_t			 token_expires_in;
	TAILQ_ENTRY(fault)	 link;
};
struct faults;
struct faults	*faults_new(struct event_base *);
/* Adds a rule from its JSON form; returns it or NULL with *cause set. */
struct fault	*faults_add(struct faults *, const cJSON *, char **cause);
/* The rule that applies to this request (counted as used), or NULL. */
struct fault	*faults_match(struct faults *, const char *method,
		    const char *path);
/* The expired_token rule in force, or NULL. */
const struct fault *faults_token_rule(const struct faults *);
cJSON		*faults_json(const struct faults *);
void		 faults_clear(struct faults *);
void		 faults_free(struct faults *);
/*
 * Answers in place of the API when the rule replaces the reply (status,
 * huge, garbage, html): returns the status sent, or 0 when the API must
 * answer.  faults_send sends the API's reply (body taken) shaped by the
 * rule (slow, truncated, chunked, close); f may be NULL.
 */
int		 faults_answer(struct faults *, struct evhttp_request *,
		    const struct fault *);
void		 faults_send(struct faults *, struct evhttp_request *,
		    int status, struct evbuffer *body, const struct fault *);
/* Drops a waiting reply libevent gave up on; -1 when it is not one. */
int		 faults_forget(struct faults *, struct evhttp_request *);

/* The server and one request through it. */
struct fake;
struct fake_api;
struct fake_req {
	struct fake		*fake;
	struct evhttp_request	*req;
	const char		*method;	/* "GET", "HEAD", ... */
	const char		*path;		/* without the query */
	const char		*query;		/* "" when none */
	uint64_t		 seq;		/* in the request log */
	struct fault		*fault;		/* in force, or NULL */
};
struct faults	*fake_faults(const struct fake *);
int		 fake_port(const struct fake *);

/*
 * Sends a reply: status, the headers already set on the request, and body
 * (taken; may be NULL), shaped by the fault in force.  Exactly once per
 * request.
 */
void	 fake_reply(struct fake_req *, int status, struct evbuffer *body);
/* A JSON reply from a string or a cJSON tree (not freed). */
void	 fake_reply_text(struct fake_req *, int status,
	    const char *content_type, const char *text);
void	 fake_reply_json(struct fake_req *, int status, const cJSON *);
/* The value of a query parameter (decoded, new string), or NULL. */
char	*fake_query_param(const struct fake_req *, const char *name);
const char *fake_header(const struct fake_req *, const char *name);
void	 fake_set_header(struct fake_req *, const char *name,
	    const char *value);

/*
 * An API the fake speaks.  handle() returns 0 when it answered the request
 * (through fake_reply) and -1 when the path is not its own.  control()
 * serves POST /_fake/<name>/<what> with a parsed JSON body (NULL when
 * empty) the same way.  reset() forgets all state made since start.
 */
struct fake_api {
	const char	*name;
	void		*(*create)(struct fake *);
	int		 (*handle)(void *, struct fake_req *);
	int		 (*control)(void *, struct fake_req *, const char *what,
			    const cJSON *body);
	void		 (*reset)(void *);
	void		 (*free)(void *);
};
extern const struct fake_api api_docker;
extern const struct fake_api api_dockerhub;

#endif
