/*
 * cfg-error.c: the list of configuration errors.  Each message is written
 * as "FILE:LINE:COL: text" at once, with its position kept beside it, so
 * that the loader can check the blocks in the order it needs (secrets before
 * the keys that name them) and still report in the order of the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/*
 * A check that several entries share (a connector seen from each source
 * that uses it) may find the same fault more than once: say it once.
 */
static int
cfg_error_known(const struct cfg_errors *errs, const char *msg)
{
	size_t	 i;

	for (i = 0; i < errs->n; i++) {
		if (strcmp(errs->msg[i], msg) == 0)
			return (1);
	}
	return (0);
}

static void
cfg_error_add(struct cfg_errors *errs, unsigned line, unsigned col,
    const char *fmt, va_list ap)
{
	char	*text, *msg;

	xvasprintf(&text, fmt, ap);
	if (line == 0 && errs->file != NULL)
		xasprintf(&msg, "%s: %s", errs->file, text);
	else if (line == 0)
		msg = xstrdup(text);
	else if (errs->file != NULL)
		xasprintf(&msg, "%s:%u:%u: %s", errs->file, line, col, text);
	else
		xasprintf(&msg, "%u:%u: %s", line, col, text);
	free(text);
	if (cfg_error_known(errs, msg)) {
		free(msg);
		return;
	}

	errs->msg = xreallocarray(errs->msg, errs->n + 1, sizeof *errs->msg);
	errs->pos = xreallocarray(errs->pos, errs->n + 1, sizeof *errs->pos);
	errs->msg[errs->n] = msg;
	errs->pos[errs->n].line = line;
	errs->pos[errs->n].col = col;
	errs->n++;
}

void
cfg_error(struct cfg_errors *errs, const struct cfg_node *node,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (node == NULL)
		cfg_error_add(errs, 0, 0, fmt, ap);
	else
		cfg_error_add(errs, node->line, node->col, fmt, ap);
	va_end(ap);
}

void
cfg_error_at(struct cfg_errors *errs, unsigned line, unsigned col,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	cfg_error_add(errs, line, col, fmt, ap);
	va_end(ap);
}

static int
pos_before(const struct cfg_error_pos *a, const struct cfg_error_pos *b)
{
	if (a->line != b->line)
		return (a->line < b->line);
	return (a->col < b->col);
}

/* Insertion sort: stable, and the lists are short. */
void
cfg_errors_sort(struct cfg_errors *errs)
{
	struct cfg_error_pos	 pos;
	char			*msg;
	size_t			 i, j;

	for (i = 1; i < errs->n; i++) {
		pos = errs->pos[i];
		msg = errs->msg[i];
		for (j = i; j > 0 && pos_before(&pos, &errs->pos[j - 1]); j--) {
			errs->pos[j] = errs->pos[j - 1];
			errs->msg[j] = errs->msg[j - 1];
		}
		errs->pos[j] = pos;
		errs->msg[j] = msg;
	}
}

void
cfg_errors_free(struct cfg_errors *errs)
{
	size_t	 i;

	for (i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	free(errs->pos);
	errs->msg = NULL;
	errs->pos = NULL;
	errs->n = 0;
}
