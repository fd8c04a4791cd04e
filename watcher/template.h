/*
 * template.h: the `<+…>` expressions users already write in Harness
 * (DESIGN §4) and the templates built from them, for webhook bodies and
 * headers.  Both work on the event JSON of event.c, so what a template or a
 * trigger condition sees is exactly what a receiver gets.
 *
 * An expression compiles to a path into the event: `artifacts.primary.tag`
 * is data.version, `artifacts.primary.label.get("k")` is data.labels["k"],
 * `event.data.digest` is itself.  Trigger conditions also take plain keys
 * (EXPR_PLAIN): image, tag, digest, SHA, labels.KEY, ...
 */
#ifndef TEMPLATE_H
#define TEMPLATE_H

#include "watcher.h"

struct cfg_node;
struct cfg_errors;

/* An expression: a compiled path into the event JSON. */
struct expr;
/* Also accept plain keys and a whole `<+…>` (condition keys). */
#define EXPR_PLAIN	0x1
/*
 * Compile the text of one expression (without `<+` and `>`).  NULL with
 * *cause naming the expression and what is known when it is not one.
 */
struct expr	*expr_compile(const char *text, size_t len, int flags,
		    char **cause);
void		 expr_free(struct expr *);	/* accepts NULL */
/* The JSON value the expression names in event, or NULL if absent. */
const cJSON	*expr_lookup(const struct expr *, const cJSON *event);
/*
 * The value as text (allocated): strings as they are, numbers and booleans
 * as JSON writes them, objects and arrays as compact JSON, and "" when the
 * field is absent or null.
 */
char		*expr_text(const struct expr *, const cJSON *event);

/*
 * How a template renders.  JSON: a placeholder inside a JSON string gets
 * the value escaped for a JSON string; one outside a string gets the value
 * as JSON (a string quoted, a number bare, null when absent).  RAW: values
 * as expr_text() gives them.  HEADER: RAW without CR, LF or other control
 * characters but tab: they are removed from values, and a line break in
 * the template text is an error.  AUTO: JSON when the template, with each
 * placeholder standing for a value, is a JSON object or array; else RAW.
 */
enum template_mode {
	TEMPLATE_AUTO,
	TEMPLATE_JSON,
	TEMPLATE_RAW,
	TEMPLATE_HEADER,
};
struct template;
/*
 * Compile; NULL on error with *cause and *erroff, the byte offset in text
 * of what is wrong (an unknown expression, an unclosed `<+`, ...).
 */
struct template	*template_compile(const char *text, enum template_mode,
		    size_t *erroff, char **cause);
void		 template_free(struct template *);	/* accepts NULL */
/* The mode AUTO settled on (never AUTO). */
enum template_mode template_mode(const struct template *);
/* The rendered text (allocated).  Cannot fail: absent fields are empty. */
char		*template_render(const struct template *,
		    const cJSON *event);

/*
 * The LINE:COL of byte `off` of a scalar's value in `file` (read to tell a
 * block scalar, `|` or `>`, from a quoted one, and for its indentation;
 * may be NULL).  Exact for one-line scalars and block scalars; for a
 * quoted or plain scalar folded over lines, the column after the first
 * line counts from the start of the line's text.
 */
void	 template_pos(const char *file, const struct cfg_node *, size_t off,
	    unsigned *line, unsigned *col);
/*
 * Compile a config scalar; on error add "FILE:LINE:COL: <what>: <cause>"
 * pointing into the scalar and return NULL.
 */
struct template	*template_from_node(const struct cfg_node *,
		    enum template_mode, const char *what, struct cfg_errors *);

#endif
