/*
 * json.h: the JSON helpers every provider's parser uses (cJSON), in one
 * place: a parse that says why a body is not JSON (an HTML error page, a
 * truncated body), and lookups by a dotted path that never crash on a
 * missing or mistyped member.  Pure.
 */
#ifndef JSON_H
#define JSON_H

#include "watcher.h"

/*
 * Parse len bytes as one JSON value, nothing after it; -1 with *cause
 * ("empty body", "not JSON (an HTML or XML page)", "invalid JSON at byte N").
 */
int		 json_parse(const char *body, size_t len, cJSON **out,
		    char **cause);
/* The same, and the value must be an object. */
int		 json_parse_object(const char *body, size_t len, cJSON **out,
		    char **cause);
/*
 * The message of a JSON error body, as servers spell it: "message"
 * (GitHub), "error" as a string (npm), "errors"[0].message (Artifactory,
 * registries), "error".message; one line of at most 200 bytes, control
 * characters dropped.  Allocated, or NULL when the body says none.
 */
char		*json_error_message(const char *body, size_t len);
/* The member at a dotted path ("a.b.c"), or NULL. */
const cJSON	*json_get(const cJSON *, const char *path);
/* Its string, or NULL when absent or not a string. */
const char	*json_str(const cJSON *, const char *path);
/* Its number into *out: 0, or -1 when absent or not a number. */
int		 json_num(const cJSON *, const char *path, double *out);
/* An RFC 3339 string at path as unix seconds, 0 when absent or bad. */
int64_t		 json_time(const cJSON *, const char *path);

#endif
