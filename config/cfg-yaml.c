/*
 * cfg-yaml.c: YAML text to a tree of struct cfg_node, with the line and
 * column of every node so that each later error can point at the exact
 * place.  libyaml's event API is used, not its document API, because the
 * tree must keep scalars as written (quoted or not) and positions as
 * 1-based numbers.
 *
 * What the config does not need is refused with a clear message instead of
 * being half supported: anchors and aliases, several documents, keys that
 * are not strings, and nesting deeper than CFG_MAX_DEPTH.  Duplicate keys
 * are errors; the second one is left out of the tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"

#define CFG_MAX_DEPTH		64
#define CFG_MAX_FILE_SIZE	(16 * 1024 * 1024)

struct cfg_builder {
	struct cfg_errors	*errs;
	struct cfg_node		*root;
	struct cfg_node		*open[CFG_MAX_DEPTH];	/* containers */
	struct cfg_node		*key[CFG_MAX_DEPTH];	/* maps: key read */
	size_t			 depth;
	int			 documents;
};

const struct cfg_node *
cfg_node_get(const struct cfg_node *map, const char *key)
{
	size_t	 i;

	if (map == NULL || map->kind != CFG_MAP)
		return (NULL);
	for (i = 0; i < map->n; i++) {
		if (strcmp(map->keys[i]->value, key) == 0)
			return (map->items[i]);
	}
	return (NULL);
}

int
cfg_node_is_null(const struct cfg_node *node)
{
	if (node == NULL || node->kind != CFG_SCALAR || node->quoted)
		return (0);
	return (node->value[0] == '\0' || strcmp(node->value, "~") == 0 ||
	    strcmp(node->value, "null") == 0 ||
	    strcmp(node->value, "Null") == 0 ||
	    strcmp(node->value, "NULL") == 0);
}

const char *
cfg_node_kind_name(const struct cfg_node *node)
{
	switch (node->kind) {
	case CFG_MAP:
		return ("a map");
	case CFG_SEQ:
		return ("a list");
	default:
		return ("a string");
	}
}

void
cfg_node_free(struct cfg_node *node)
{
	size_t	 i;

	if (node == NULL)
		return;
	for (i = 0; i < node->n; i++) {
		if (node->kind == CFG_MAP)
			cfg_node_free(node->keys[i]);
		cfg_node_free(node->items[i]);
	}
	free(node->keys);
	free(node->items);
	free(node->value);
	free(node);
}

static struct cfg_node *
cfg_node_new(enum cfg_node_kind kind, const yaml_mark_t *mark)
{
	struct cfg_node	*node;

	node = xcalloc(1, sizeof *node);
	node->kind = kind;
	node->line = mark->line + 1;
	node->col = mark->column + 1;
	return (node);
}

static void
cfg_node_append(struct cfg_node *parent, struct cfg_node *key,
    struct cfg_node *item)
{
	if (parent->kind == CFG_MAP) {
		parent->keys = xreallocarray(parent->keys, parent->n + 1,
		    sizeof *parent->keys);
		parent->keys[parent->n] = key;
	}
	parent->items = xreallocarray(parent->items, parent->n + 1,
	    sizeof *parent->items);
	parent->items[parent->n++] = item;
}

/* A finished node goes to the open container, or becomes the root. */
static void
cfg_builder_attach(struct cfg_builder *b, struct cfg_node *node)
{
	struct cfg_node		*parent, *key, *first;
	size_t			 top;

	if (b->depth == 0) {
		b->root = node;
		return;
	}
	top = b->depth - 1;
	parent = b->open[top];
	if (parent->kind == CFG_SEQ) {
		cfg_node_append(parent, NULL, node);
		return;
	}
	if (b->key[top] == NULL) {
		if (node->kind != CFG_SCALAR) {
			cfg_error(b->errs, node, "a key must be a string, "
			    "not %s", cfg_node_kind_name(node));
		}
		b->key[top] = node;
		return;
	}
	key = b->key[top];
	b->key[top] = NULL;
	if (key->kind != CFG_SCALAR) {
		cfg_node_free(key);
		cfg_node_free(node);
		return;
	}
	if ((first = (struct cfg_node *)cfg_node_get(parent,
	    key->value)) != NULL) {
		cfg_error(b->errs, key, "duplicate key \"%s\" (first at line "
		    "%u)", key->value, first->line);
		cfg_node_free(key);
		cfg_node_free(node);
		return;
	}
	cfg_node_append(parent, key, node);
}

static int
cfg_builder_refuse_anchor(struct cfg_builder *b, const yaml_char_t *anchor,
    const yaml_mark_t *mark)
{
	if (anchor == NULL)
		return (0);
	cfg_error_at(b->errs, mark->line + 1, mark->column + 1,
	    "anchors (&%s) are not supported: write the value out",
	    (const char *)anchor);
	return (1);
}

static struct cfg_node *
cfg_builder_scalar(struct cfg_builder *b, const yaml_event_t *ev)
{
	struct cfg_node	*node;
	size_t		 len = ev->data.scalar.length;
	const char	*text = (const char *)ev->data.scalar.value;

	cfg_builder_refuse_anchor(b, ev->data.scalar.anchor, &ev->start_mark);
	node = cfg_node_new(CFG_SCALAR, &ev->start_mark);
	node->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	if (memchr(text, '\0', len) != NULL) {
		cfg_error(b->errs, node, "a value must not contain a NUL "
		    "character");
		len = strlen(text);
	}
	node->value = xstrndup(text, len);
	return (node);
}

/* One event; -1 when the tree cannot be built further. */
static int
cfg_builder_event(struct cfg_builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t	*mark = &ev->start_mark;
	struct cfg_node		*node;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->documents > 1) {
			cfg_error_at(b->errs, mark->line + 1, mark->column + 1,
			    "only one YAML document is allowed in a config "
			    "file");
			return (-1);
		}
		return (0);
	case YAML_ALIAS_EVENT:
		cfg_error_at(b->errs, mark->line + 1, mark->column + 1,
		    "aliases (*%s) are not supported: write the value out",
		    (const char *)ev->data.alias.anchor);
		node = cfg_node_new(CFG_SCALAR, mark);
		node->value = xstrdup("");
		cfg_builder_attach(b, node);
		return (0);
	case YAML_SCALAR_EVENT:
		cfg_builder_attach(b, cfg_builder_scalar(b, ev));
		return (0);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			cfg_builder_refuse_anchor(b,
			    ev->data.sequence_start.anchor, mark);
			node = cfg_node_new(CFG_SEQ, mark);
		} else {
			cfg_builder_refuse_anchor(b,
			    ev->data.mapping_start.anchor, mark);
			node = cfg_node_new(CFG_MAP, mark);
		}
		if (b->depth == CFG_MAX_DEPTH) {
			cfg_error(b->errs, node, "nesting deeper than %d "
			    "levels", CFG_MAX_DEPTH);
			cfg_node_free(node);
			return (-1);
		}
		b->key[b->depth] = NULL;
		b->open[b->depth++] = node;
		return (0);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		node = b->open[--b->depth];
		cfg_builder_attach(b, node);
		return (0);
	default:
		return (0);
	}
}

/* libyaml gives a byte offset for encoding errors: make it a position. */
static void
cfg_offset_position(const char *text, size_t len, size_t off, unsigned *line,
    unsigned *col)
{
	size_t	 i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}

static void
cfg_builder_syntax_error(struct cfg_builder *b, const yaml_parser_t *p,
    const char *text, size_t len)
{
	const char	*problem = p->problem != NULL ? p->problem : "unknown";
	unsigned	 line, col;

	if (p->error == YAML_READER_ERROR) {
		cfg_offset_position(text, len, p->problem_offset, &line, &col);
		cfg_error_at(b->errs, line, col, "not UTF-8 text: %s",
		    problem);
	} else if (p->context != NULL) {
		cfg_error_at(b->errs, p->problem_mark.line + 1,
		    p->problem_mark.column + 1, "YAML syntax error: %s "
		    "(%s at line %zu)", problem, p->context,
		    p->context_mark.line + 1);
	} else {
		cfg_error_at(b->errs, p->problem_mark.line + 1,
		    p->problem_mark.column + 1, "YAML syntax error: %s",
		    problem);
	}
}

static void
cfg_builder_clear(struct cfg_builder *b)
{
	while (b->depth > 0) {
		b->depth--;
		cfg_node_free(b->key[b->depth]);
		cfg_node_free(b->open[b->depth]);
	}
	cfg_node_free(b->root);
	b->root = NULL;
}

int
cfg_parse_text(const char *text, size_t len, struct cfg_node **root,
    struct cfg_errors *errs)
{
	struct cfg_builder	 b;
	yaml_parser_t		 parser;
	yaml_event_t		 ev;
	int			 done = 0, rc = 0;

	memset(&b, 0, sizeof b);
	b.errs = errs;
	*root = NULL;
	if (!yaml_parser_initialize(&parser))
		fatalx("yaml_parser_initialize");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			cfg_builder_syntax_error(&b, &parser, text, len);
			rc = -1;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if (cfg_builder_event(&b, &ev) != 0) {
			done = 1;
			rc = -1;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc != 0) {
		cfg_builder_clear(&b);
		return (-1);
	}
	*root = b.root;
	return (0);
}

int
cfg_parse_file(const char *path, struct cfg_node **root,
    struct cfg_errors *errs)
{
	struct buf	 text;
	FILE		*f;
	char		 chunk[8192];
	size_t		 n;
	int		 rc;

	*root = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		cfg_error(errs, NULL, "cannot open: %s", strerror(errno));
		return (-1);
	}
	memset(&text, 0, sizeof text);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (text.len + n > CFG_MAX_FILE_SIZE) {
			cfg_error(errs, NULL, "larger than %d MiB: not a "
			    "config file", CFG_MAX_FILE_SIZE / 1024 / 1024);
			fclose(f);
			buf_free(&text);
			return (-1);
		}
		buf_add(&text, chunk, n);
	}
	if (ferror(f)) {
		cfg_error(errs, NULL, "cannot read: %s", strerror(errno));
		fclose(f);
		buf_free(&text);
		return (-1);
	}
	fclose(f);
	rc = cfg_parse_text(text.data != NULL ? text.data : "", text.len,
	    root, errs);
	buf_free(&text);
	return (rc);
}
