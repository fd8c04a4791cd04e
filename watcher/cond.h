/*
 * cond.h: Harness-style trigger conditions, {key, operator, value}
 * (DESIGN §2): eventConditions on the version, metadataConditions on other
 * fields of the event.  The key is an expression of template.h, so a
 * condition looks at the same event JSON a receiver gets.
 */
#ifndef COND_H
#define COND_H

#include "watcher.h"

struct expr;

enum cond_op {
	COND_EQUALS,
	COND_NOT_EQUALS,
	COND_IN,		/* value: comma-separated, each trimmed */
	COND_NOT_IN,
	COND_STARTS_WITH,
	COND_ENDS_WITH,
	COND_CONTAINS,
	COND_REGEX,		/* PCRE2, unanchored, with match limits */
};
/* The Harness spelling ("Equals", ...); -1 if none (case matters). */
int		 cond_op_parse(const char *, enum cond_op *);
const char	*cond_op_name(enum cond_op);
/* The closest operator name to a wrong one, or NULL. */
const char	*cond_op_suggest(const char *);

struct cond;
/*
 * A condition on what `key` names.  name is the key as the user wrote it,
 * for messages.  Takes key (freed with the condition, or at once on
 * failure).  NULL with *cause when the value is no good for op (a regex
 * that does not compile: *erroff is its offset in value; otherwise 0).
 */
struct cond	*cond_create(const char *name, struct expr *key,
		    enum cond_op, const char *value, size_t *erroff,
		    char **cause);
void		 cond_free(struct cond *);	/* accepts NULL */
/*
 * Does subject satisfy the condition?  1 yes, 0 no, -1 the regex hit
 * PCRE2's match limits on it (*cause set; the caller counts it as no).
 */
int		 cond_test(const struct cond *, const char *subject,
		    char **cause);
/* The same on the event's field (absent or null is ""). */
int		 cond_match(const struct cond *, const cJSON *event,
		    char **cause);

/* All of a list must hold. */
struct cond_list {
	struct cond	**v;
	size_t		  n;
};
void	 cond_list_add(struct cond_list *, struct cond *);
/*
 * 1 when every condition holds (or there are none), else 0; -1 when a
 * condition could not be decided (*cause set), which counts as not held.
 */
int	 cond_list_match(const struct cond_list *, const cJSON *event,
	    char **cause);
void	 cond_list_free(struct cond_list *);

#endif
