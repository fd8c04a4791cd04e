/*
 * chat.h: what the chat sinks (sink-slack.c, sink-teams.c, sink-discord.c,
 * sink-googlechat.c) share.  Each is a webhook URL kept as a secret
 * (urlRef), an optional template for the message, and a payload in the
 * service's own shape; chat.c does the rest once for all of them: the
 * readable message built from any kind of event (DESIGN §4), the POST
 * through the HTTP engine without following redirects, and what the answer
 * means (2xx delivered; 429 retried after the Retry-After header or the
 * retry_after of a JSON body; 408, 5xx and no answer retried; anything else
 * permanent, with the start of the body as the reason).
 *
 * The payload builders are pure (event JSON in, payload text out) so that
 * tests can call them without a network; so is chat_verdict().
 */
#ifndef CHAT_H
#define CHAT_H

#include "http.h"
#include "sink.h"

/* Longest value and title the message model keeps, in characters. */
#define CHAT_VALUE_MAX	400
#define CHAT_TITLE_MAX	200
#define CHAT_MAX_FIELDS	10

/* One labelled line of the message: "Image", "index.docker.io/…". */
struct chat_field {
	const char	*name;
	char		*value;
	int		 code;		/* an identifier: shown as code */
};

/*
 * The readable message of one event, service-neutral.  Every string is
 * valid UTF-8 without control characters and within the limits above.
 */
struct chat_msg {
	char			*title;		/* "nginx 1.27.3 is out" */
	char			*summary;	/* one line for notifications */
	char			*link;		/* data.url if http(s) */
	char			*time;		/* RFC 3339: pushed, detected */
	char			*footer;	/* "nginx · DockerRegistry" */
	int			 updated;	/* artifact.updated */
	struct chat_field	 fields[CHAT_MAX_FIELDS];
	size_t			 nfields;
};
/* Build the message of an event (NULL or odd JSON gives a bare one). */
void	 chat_msg_build(const cJSON *event, struct chat_msg *);
void	 chat_msg_clear(struct chat_msg *);
/*
 * The message as lines of Slack-style markup, which Google Chat reads too:
 * "*<link|title>*", then "*Image:* `value`" per field; each text through
 * escape (NULL: as it is).
 */
char	*chat_markup(const struct chat_msg *, char *(*escape)(const char *));

/*
 * Text helpers.  chat_clean(): a copy with invalid UTF-8 replaced by '?'
 * and control characters but newline by spaces (newlines too unless
 * keep_newlines).  chat_trunc(): at most max characters (code points),
 * ending in "…" when cut, never inside a character.  chat_chars(): the
 * number of code points.
 */
char	*chat_clean(const char *, int keep_newlines);
char	*chat_trunc(const char *, size_t max);
size_t	 chat_chars(const char *);
/* A copy with &, < and > as entities (Slack mrkdwn, Google Chat HTML). */
char	*chat_entities(const char *);
/* "sha256:0123456789ab": an algorithm and 12 characters, or 16 of other. */
char	*chat_short_digest(const char *);
/* "2026-11-22 09:58:12 UTC" from RFC 3339, or a copy when it is not. */
char	*chat_human_time(const char *);

/* The key names a chat sink's spec: may hold (one struct for all). */
struct chat_conf {
	char		*url_ref;	/* secret: the webhook URL */
	char		*template;	/* the message, or the whole payload */
	int64_t		 timeout_ms;
	char		*username;	/* Discord */
	char		*thread_key;	/* GoogleChat, a template */
	int		 card;		/* GoogleChat: add a cardsV2 card */
	struct tls_conf	 tls;		/* caCertRef… proxyUrl */
};
#define CHAT_COMMON_KEYS						\
	{ .name = "urlRef", .type = CFG_SECRET,				\
	  .off = offsetof(struct chat_conf, url_ref),			\
	  .flags = CFG_REQUIRED },					\
	{ .name = "template", .type = CFG_STRING,			\
	  .off = offsetof(struct chat_conf, template) },		\
	{ .name = "timeout", .type = CFG_DURATION,			\
	  .off = offsetof(struct chat_conf, timeout_ms), .def = "10s",	\
	  .min = 1, .max = 60 * 60 * 1000 },				\
	CFG_TLS_KEYS(struct chat_conf, tls)

struct chat;
/* A service: its payload and, if it needs one, its own URL. */
struct chat_service {
	const char	*name;		/* "slack", in causes and logs */
	/*
	 * The payload (allocated JSON) for an event: the default message
	 * when text is NULL, else that text (a rendered template).
	 */
	char	*(*payload)(const struct chat *, const cJSON *event,
		    const char *text);
	/* The URL to post to, from the configured one (allocated). */
	char	*(*url)(const struct chat *, const char *url);
};

/* One chat sink instance. */
struct chat {
	const struct chat_service *svc;
	const struct chat_conf	*cc;
	const char		*id;		/* the sink's identifier */
	char			*url;		/* the secret (+ svc->url) */
	char			*path;		/* of url: never in a reason */
	struct template		*text;		/* NULL: the default message */
	int			 whole;		/* text is the whole payload */
	struct template		*thread;	/* GoogleChat threadKey */
	struct http_tls		 tls;		/* CA, client cert, proxy */
	struct http_req		*req;
	sink_done_cb		 done;
	void			*arg;
};

/* The sink_entry callbacks; check and init take the service. */
int	 chat_check(struct sink_conf *, const struct chat_service *,
	    struct cfg_errors *);
int	 chat_init(struct sink *, const struct chat_service *, char **cause);
void	 chat_deliver(struct sink *, const struct outbox_entry *,
	    sink_done_cb, void *);
void	 chat_cancel(struct sink *);
void	 chat_free(struct sink *);

/*
 * What an answer means.  `who` names the sink in the cause ("slack ci");
 * `secret` (may be NULL) is cut out of a body quoted in the cause.
 * *retry_after_ms is what the receiver asked for, else -1.
 */
enum delivery chat_verdict(const struct http_response *, const char *who,
	    const char *secret, int64_t *retry_after_ms, char **cause);
/* The retry_after (seconds, may be fractional) of a JSON body, in ms. */
int	 chat_body_retry_after(const char *body, size_t len, int64_t *ms);
/* url with "name=value" added to its query (allocated). */
char	*chat_url_param(const char *url, const char *param);

/* The pure payload builders of each service (text NULL: default). */
char	*slack_payload(const cJSON *event, const char *text);
char	*teams_payload(const cJSON *event, const char *text);
char	*discord_payload(const cJSON *event, const char *text,
	    const char *username);
char	*googlechat_payload(const cJSON *event, const char *text,
	    const char *thread_key, int card);

#endif
