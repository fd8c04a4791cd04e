/*
 * cond.c: trigger conditions (DESIGN §2), the eight operators Harness
 * triggers use, with Harness' spelling.  Everything that can be checked is
 * checked when the condition is made (an In list, a regex), so testing one
 * on an event only compares strings.
 *
 * Regex is PCRE2 (so the `\d` people write works), searched anywhere in the
 * subject like Harness does; anchor with ^ and $.  As in order.c, the match
 * and depth limits turn a catastrophic pattern into an error for that
 * event, never a hung loop.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "config.h"
#include "cond.h"
#include "template.h"

#define COND_MATCH_LIMIT	100000
#define COND_DEPTH_LIMIT	5000

static const char *const cond_op_names[] = {
	[COND_EQUALS] = "Equals",
	[COND_NOT_EQUALS] = "NotEquals",
	[COND_IN] = "In",
	[COND_NOT_IN] = "NotIn",
	[COND_STARTS_WITH] = "StartsWith",
	[COND_ENDS_WITH] = "EndsWith",
	[COND_CONTAINS] = "Contains",
	[COND_REGEX] = "Regex",
};

struct cond {
	char			*name;
	struct expr		*key;
	enum cond_op		 op;
	char			*value;
	char			**list;		/* In, NotIn */
	size_t			 nlist;
	pcre2_code		*re;		/* Regex */
	pcre2_match_context	*mctx;
};

int
cond_op_parse(const char *s, enum cond_op *op)
{
	size_t	 i;

	for (i = 0; i < nitems(cond_op_names); i++) {
		if (strcmp(s, cond_op_names[i]) == 0) {
			*op = (enum cond_op)i;
			return (0);
		}
	}
	return (-1);
}

const char *
cond_op_name(enum cond_op op)
{
	return (cond_op_names[op]);
}

const char *
cond_op_suggest(const char *s)
{
	struct cfg_suggest	 sg;
	size_t			 i;

	cfg_suggest_init(&sg, s);
	for (i = 0; i < nitems(cond_op_names); i++)
		cfg_suggest_try(&sg, cond_op_names[i]);
	return (cfg_suggest_best(&sg));
}

/* "a, b ,c" into trimmed items; empty items are errors. */
static int
cond_split(struct cond *c, const char *value, char **cause)
{
	const char	*p = value, *comma, *s, *e;

	for (;;) {
		comma = strchrnul(p, ',');
		for (s = p; s < comma && isspace((unsigned char)*s); s++)
			/* nothing */;
		for (e = comma; e > s && isspace((unsigned char)e[-1]); e--)
			/* nothing */;
		if (e == s)
			return (fail(cause, "%s: the list \"%s\" has an empty "
			    "item", cond_op_names[c->op], value));
		c->list = xreallocarray(c->list, c->nlist + 1,
		    sizeof *c->list);
		c->list[c->nlist++] = xstrndup(s, (size_t)(e - s));
		if (*comma == '\0')
			return (0);
		p = comma + 1;
	}
}

static int
cond_regex(struct cond *c, const char *value, size_t *erroff, char **cause)
{
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	int		 err;

	c->re = pcre2_compile((PCRE2_SPTR)value, PCRE2_ZERO_TERMINATED, 0,
	    &err, &off, NULL);
	if (c->re == NULL) {
		pcre2_get_error_message(err, msg, sizeof msg);
		*erroff = (size_t)off;
		return (fail(cause, "Regex: bad regular expression at offset "
		    "%zu: %s", (size_t)off, (char *)msg));
	}
	if ((c->mctx = pcre2_match_context_create(NULL)) == NULL)
		fatalx("pcre2_match_context_create");
	pcre2_set_match_limit(c->mctx, COND_MATCH_LIMIT);
	pcre2_set_depth_limit(c->mctx, COND_DEPTH_LIMIT);
	return (0);
}

struct cond *
cond_create(const char *name, struct expr *key, enum cond_op op,
    const char *value, size_t *erroff, char **cause)
{
	struct cond	*c;
	int		 rc = 0;

	*erroff = 0;
	c = xcalloc(1, sizeof *c);
	c->name = xstrdup(name);
	c->key = key;
	c->op = op;
	c->value = xstrdup(value);
	if (op == COND_IN || op == COND_NOT_IN)
		rc = cond_split(c, value, cause);
	else if (op == COND_REGEX)
		rc = cond_regex(c, value, erroff, cause);
	if (rc != 0) {
		cond_free(c);
		return (NULL);
	}
	return (c);
}

void
cond_free(struct cond *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nlist; i++)
		free(c->list[i]);
	free(c->list);
	pcre2_code_free(c->re);
	pcre2_match_context_free(c->mctx);
	expr_free(c->key);
	free(c->value);
	free(c->name);
	free(c);
}

static int
cond_in_list(const struct cond *c, const char *subject)
{
	size_t	 i;

	for (i = 0; i < c->nlist; i++) {
		if (strcmp(c->list[i], subject) == 0)
			return (1);
	}
	return (0);
}

static int
cond_regex_test(const struct cond *c, const char *subject, char **cause)
{
	pcre2_match_data	*md;
	int			 rc;

	if ((md = pcre2_match_data_create_from_pattern(c->re, NULL)) == NULL)
		fatalx("pcre2_match_data_create");
	rc = pcre2_match(c->re, (PCRE2_SPTR)subject, strlen(subject), 0, 0,
	    md, c->mctx);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return (1);
	if (rc == PCRE2_ERROR_NOMATCH)
		return (0);
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
		return (fail(cause, "condition on %s: Regex \"%s\" needs too "
		    "much backtracking on \"%s\" (PCRE2 match limit); "
		    "simplify the pattern", c->name, c->value, subject));
	return (fail(cause, "condition on %s: Regex \"%s\" failed on \"%s\" "
	    "(PCRE2 error %d)", c->name, c->value, subject, rc));
}

int
cond_test(const struct cond *c, const char *subject, char **cause)
{
	size_t	 sl = strlen(subject), vl = strlen(c->value);

	switch (c->op) {
	case COND_EQUALS:
		return (strcmp(subject, c->value) == 0);
	case COND_NOT_EQUALS:
		return (strcmp(subject, c->value) != 0);
	case COND_IN:
		return (cond_in_list(c, subject));
	case COND_NOT_IN:
		return (!cond_in_list(c, subject));
	case COND_STARTS_WITH:
		return (strncmp(subject, c->value, vl) == 0);
	case COND_ENDS_WITH:
		return (sl >= vl && strcmp(subject + sl - vl, c->value) == 0);
	case COND_CONTAINS:
		return (strstr(subject, c->value) != NULL);
	case COND_REGEX:
		return (cond_regex_test(c, subject, cause));
	}
	return (fail(cause, "condition on %s: no operator", c->name));
}

int
cond_match(const struct cond *c, const cJSON *event, char **cause)
{
	char	*subject;
	int	 rc;

	subject = expr_text(c->key, event);
	rc = cond_test(c, subject, cause);
	free(subject);
	return (rc);
}

void
cond_list_add(struct cond_list *l, struct cond *c)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = c;
}

int
cond_list_match(const struct cond_list *l, const cJSON *event, char **cause)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < l->n; i++) {
		if ((rc = cond_match(l->v[i], event, cause)) != 1)
			return (rc);
	}
	return (1);
}

void
cond_list_free(struct cond_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		cond_free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
