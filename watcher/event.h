/*
 * event.h: the CloudEvents 1.0 structured JSON of DESIGN §4, and the stable
 * event id derived from (source, version, digest).
 */
#ifndef EVENT_H
#define EVENT_H

#include "watcher.h"

enum event_type { EVENT_CREATED, EVENT_UPDATED };
/* The CloudEvents `type` of each, by enum value; NULL-terminated. */
extern const char *const event_type_names[];

struct event_info {
	enum event_type		 type;
	const char		*source_id;
	const char		*source_type;
	const char		*connector_ref;
	enum artifact_kind	 kind;		/* data.kind (0: container) */
	/*
	 * The kind's fields the source's versions share (provider.fields),
	 * may be NULL; a version's own (version.fields) come first.
	 */
	const cJSON		*fields;
	/* Container fields when `fields` lacks them (may be NULL). */
	const char		*registry;	/* host */
	const char		*repository;
	const struct version	*version;
	const char		*previous_digest;	/* updated only */
	int64_t			 detected_s;	/* unix seconds */
};

/*
 * Every field name some kind has (DESIGN §4), NULL-terminated: what
 * <+artifacts.primary.FIELD> and <+event.data.FIELD> may name.
 */
extern const char *const event_kind_fields[];

/* Hex id (32 chars) of (source, version, digest); out holds 33 bytes. */
void	 event_id(const char *source, const char *version, const char *digest,
	    char out[33]);
/* The event as JSON (allocated, compact); its id into id. */
char	*event_json(const struct event_info *, char id[33]);
/* The same as a cJSON object (the caller deletes it), and its printing. */
cJSON	*event_object(const struct event_info *, char id[33]);
char	*event_print(const cJSON *);

#endif
