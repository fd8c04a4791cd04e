/*
 * queue.h: what the queue sinks (RedisStream, Nats, Kafka, Amqp, Mqtt)
 * share, so that each of them is only its client library:
 *
 * - the `contentMode` key: structured (the CloudEvent JSON as the message
 *   body, the default) or binary (the CloudEvents attributes as the
 *   protocol's headers, the event's data as the body), as the CloudEvents
 *   protocol bindings define them;
 * - the event parsed once per delivery (struct queue_event), its context
 *   attributes walked in a fixed order for binary mode, and its data as the
 *   binary-mode body;
 * - destinations (stream, subject, topic, routing key) that may be
 *   templates such as "artifacts.<+event.data.sourceId>", compiled at load
 *   time so that a bad one is a FILE:LINE:COL error;
 * - the checks of broker URLs: the scheme, and no password in them
 *   (credentials are `…Ref`s to secrets:).
 *
 * Everything here is pure: no I/O, no event loop.
 */
#ifndef QUEUE_H
#define QUEUE_H

#include "watcher.h"

struct cfg_errors;
struct cfg_node;
struct outbox_entry;
struct sink_conf;
struct template;

/* contentMode, a CFG_ENUM: index into queue_mode_choices. */
enum queue_mode { QUEUE_STRUCTURED, QUEUE_BINARY };
extern const char *const queue_mode_choices[];
/* The key-table line; `field` is an int in the sink's conf struct. */
#define QUEUE_MODE_KEY(st, field)					\
	{ .name = "contentMode", .type = CFG_ENUM,			\
	  .off = offsetof(st, field), .def = "structured",		\
	  .choices = queue_mode_choices }

/* The Content-Type of a structured-mode message. */
#define QUEUE_STRUCTURED_TYPE	"application/cloudevents+json"

/* One event, parsed once for a delivery. */
struct queue_event {
	const char	*id;		/* the event id (the outbox entry's) */
	const char	*json;		/* the CloudEvent as stored */
	size_t		 json_len;
	cJSON		*event;		/* parsed; NULL when it is not JSON */
};
/*
 * Parse the entry's JSON.  Never fails: an entry that is not a JSON object
 * leaves ev->event NULL (structured mode still sends it as stored; binary
 * mode then has only the id attribute and an empty body).  The entry must
 * outlive ev; queue_event_free() frees only what parse made.
 */
void	 queue_event_parse(const struct outbox_entry *, struct queue_event *);
/*
 * The same without parsing (ev->event NULL), for a delivery that needs
 * only the stored JSON and the id: structured mode to a fixed destination.
 */
void	 queue_event_wrap(const struct outbox_entry *, struct queue_event *);
void	 queue_event_free(struct queue_event *);

/*
 * Walk the context attributes for binary mode: specversion, id, source,
 * type, subject, time, datacontenttype, dataschema when present, then the
 * extensions (every other top-level member but data and data_base64) in
 * the event's order.  The names are the bare CloudEvents names; the sink
 * adds its binding's prefix (ce_ for Kafka, ce- for NATS, cloudEvents_ for
 * AMQP, none for MQTT 5 user properties), and most bindings map
 * datacontenttype to their own content-type property instead.  Values are
 * strings as CloudEvents writes them: numbers as integers, booleans as
 * "true"/"false"; an extension that is an object, an array or null is
 * skipped.  The id always comes from the outbox entry.  Returns the number
 * of attributes walked.
 */
typedef void (*queue_attr_cb)(const char *name, const char *value,
		    void *arg);
size_t	 queue_attrs(const struct queue_event *, queue_attr_cb, void *arg);
/* The attribute's value (as the walk gives it, allocated), or NULL. */
char	*queue_attr(const struct queue_event *, const char *name);

/*
 * The binary-mode body (allocated, *len set): a string data as its text,
 * other data as compact JSON, data_base64 decoded, nothing (len 0) when the
 * event has no data.
 */
char	*queue_data(const struct queue_event *, size_t *len);

/*
 * A destination: a fixed name, or a template rendered per event in header
 * mode (no line breaks or control characters in values).
 */
struct queue_dest;
/*
 * Check the destination key `key` of sink sc's spec (a string; may hold
 * <+…>): 0, or the number of errors added, each FILE:LINE:COL.
 */
int	 queue_dest_check(const struct sink_conf *, const char *key,
	    struct cfg_errors *);
/* Compile (check() has already); NULL with *cause on error. */
struct queue_dest *queue_dest_compile(const char *text, char **cause);
void	 queue_dest_free(struct queue_dest *);		/* accepts NULL */
/* 1 when the destination is the same for every event. */
int	 queue_dest_fixed(const struct queue_dest *);
/* The destination for this event (allocated).  May be "". */
char	*queue_dest_render(const struct queue_dest *,
	    const struct queue_event *);

/*
 * Check a broker URL key of sc's spec: it must start with one of the
 * schemes (NULL-terminated, e.g. "nats://") and hold no password (a
 * `user:password@`): a password goes in a …Ref.  Missing keys pass.
 * Returns the number of errors added; the URL is never repeated in one.
 */
int	 queue_url_check(const struct sink_conf *, const char *key,
	    const char *url, const char *const *schemes,
	    struct cfg_errors *);

#endif
