/*
 * template.c: `<+…>` expressions and templates (DESIGN §4).  An expression
 * is compiled once, at config load, to a path into the event JSON, so a
 * typo is a config error with its position and rendering cannot fail.
 * The Harness spellings map onto the event's fields through one table;
 * `event.…` reaches any field by its own name.
 *
 * A JSON template is scanned once to learn, for each placeholder, whether
 * it sits inside a JSON string; that decides its escaping (template.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "event.h"
#include "template.h"

/* One step of a path: an object member, or an array index (key NULL). */
struct expr_seg {
	char	*key;
	size_t	 index;
};
struct expr {
	struct expr_seg	*seg;
	size_t		 n;
};

/* What may follow a known name. */
enum expr_tail {
	TAIL_NONE,	/* nothing */
	TAIL_KEY,	/* one member: .get("k"), ["k"] or .REST (dots kept) */
	TAIL_PATH,	/* any path: .a.b, ["k"], [0], .get("k") */
	TAIL_FIELD,	/* .NAME: a field of the event's data (any kind) */
};
struct expr_name {
	const char	*name;
	const char	*path;		/* dotted path into the event */
	enum expr_tail	 tail;
	int		 plain;		/* only with EXPR_PLAIN */
};
static const struct expr_name expr_names[] = {
	{ "trigger.artifact.build", "data.version", TAIL_NONE, 0 },
	{ "trigger.artifact.metadata", "data.metadata", TAIL_KEY, 0 },
	{ "trigger.artifact.source.connectorRef", "data.connectorRef",
	  TAIL_NONE, 0 },
	{ "trigger.artifact.source.imagePath", "data.repository", TAIL_NONE,
	  0 },
	{ "artifacts.primary.image", "data.image", TAIL_NONE, 0 },
	{ "artifacts.primary.tag", "data.version", TAIL_NONE, 0 },
	{ "artifacts.primary.digest", "data.digest", TAIL_NONE, 0 },
	{ "artifacts.primary.imagePath", "data.repository", TAIL_NONE, 0 },
	{ "artifacts.primary.connectorRef", "data.connectorRef", TAIL_NONE,
	  0 },
	{ "artifacts.primary.type", "data.sourceType", TAIL_NONE, 0 },
	{ "artifacts.primary.identifier", "data.sourceId", TAIL_NONE, 0 },
	{ "artifacts.primary.metadata", "data.metadata", TAIL_KEY, 0 },
	{ "artifacts.primary.label", "data.labels", TAIL_KEY, 0 },
	/* Any field of the artifact's kind: chart, appVersion, path… */
	{ "artifacts.primary", "data", TAIL_FIELD, 0 },
	{ "event", "", TAIL_PATH, 0 },
	{ "image", "data.image", TAIL_NONE, 1 },
	{ "tag", "data.version", TAIL_NONE, 1 },
	{ "build", "data.version", TAIL_NONE, 1 },
	{ "version", "data.version", TAIL_NONE, 1 },
	{ "digest", "data.digest", TAIL_NONE, 1 },
	{ "SHA", "data.metadata.SHA", TAIL_NONE, 1 },
	{ "SHAV2", "data.metadata.SHAV2", TAIL_NONE, 1 },
	{ "repository", "data.repository", TAIL_NONE, 1 },
	{ "registry", "data.registry", TAIL_NONE, 1 },
	{ "labels", "data.labels", TAIL_KEY, 1 },
	{ "metadata", "data.metadata", TAIL_KEY, 1 },
};

/* The event's fields (event.c), so `<+event.data.verison>` is caught. */
static const char *const event_fields[] = {
	"specversion", "id", "source", "type", "subject", "time",
	"datacontenttype", "data", NULL
};
static const char *const event_data_fields[] = {
	"sourceId", "sourceType", "connectorRef", "version", "digest",
	"previousDigest", "pushedAt", "labels", "metadata", "url", NULL
};

/* A member of the event's data, common or of some kind (event.h). */
static int
expr_data_field(const char *key)
{
	size_t	 i;

	for (i = 0; event_data_fields[i] != NULL; i++) {
		if (strcmp(event_data_fields[i], key) == 0)
			return (1);
	}
	for (i = 0; event_kind_fields[i] != NULL; i++) {
		if (strcmp(event_kind_fields[i], key) == 0)
			return (1);
	}
	return (0);
}

static void
expr_push(struct expr *e, const char *key, size_t len, size_t index)
{
	e->seg = xreallocarray(e->seg, e->n + 1, sizeof *e->seg);
	e->seg[e->n].key = key != NULL ? xstrndup(key, len) : NULL;
	e->seg[e->n].index = index;
	e->n++;
}

void
expr_free(struct expr *e)
{
	size_t	 i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++)
		free(e->seg[i].key);
	free(e->seg);
	free(e);
}

/*
 * A quoted key at p ("k" or 'k', with \" and \\ escapes) up to end; the
 * key into *key (allocated); returns the byte after the closing quote or
 * NULL.
 */
static const char *
expr_quoted(const char *p, const char *end, char **key)
{
	struct buf	 b = { NULL, 0, 0 };
	char		 q;

	if (p >= end || (*p != '"' && *p != '\''))
		return (NULL);
	q = *p++;
	for (; p < end && *p != q; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		buf_add(&b, p, 1);
	}
	if (p >= end) {
		buf_free(&b);
		return (NULL);
	}
	buf_add(&b, "", 0);
	*key = buf_take(&b);
	return (p + 1);
}

/* One step of a path at p: .name, .get("k"), ["k"] or [N]. */
static const char *
expr_step(struct expr *e, const char *p, const char *end)
{
	const char	*s;
	char		*key;
	size_t		 index = 0;

	if (*p == '[') {
		if (p + 1 < end && isdigit((unsigned char)p[1])) {
			for (p++; p < end && isdigit((unsigned char)*p); p++) {
				if (index > 100000)
					return (NULL);
				index = index * 10 + (size_t)(*p - '0');
			}
			if (p >= end || *p != ']')
				return (NULL);
			expr_push(e, NULL, 0, index);
			return (p + 1);
		}
		if ((p = expr_quoted(p + 1, end, &key)) == NULL)
			return (NULL);
		expr_push(e, key, strlen(key), 0);
		free(key);
		return (p < end && *p == ']' ? p + 1 : NULL);
	}
	if (*p != '.')
		return (NULL);
	p++;
	if (end - p > 5 && strncmp(p, "get(", 4) == 0 &&
	    (p[4] == '"' || p[4] == '\'')) {
		if ((p = expr_quoted(p + 4, end, &key)) == NULL)
			return (NULL);
		expr_push(e, key, strlen(key), 0);
		free(key);
		return (p < end && *p == ')' ? p + 1 : NULL);
	}
	for (s = p; p < end && (isalnum((unsigned char)*p) || *p == '_' ||
	    *p == '-'); p++)
		/* nothing */;
	if (p == s)
		return (NULL);
	expr_push(e, s, (size_t)(p - s), 0);
	return (p);
}

static int
expr_field_known(const char *const *known, const char *key)
{
	for (; *known != NULL; known++) {
		if (strcmp(*known, key) == 0)
			return (1);
	}
	return (0);
}

/* After `event`: a path whose first two levels are the event's fields. */
static int
expr_event_path(struct expr *e, size_t first, const char *text, char **cause)
{
	const struct expr_seg	*s = e->seg + first;
	size_t			 n = e->n - first;

	if (n >= 1 && (s[0].key == NULL ||
	    !expr_field_known(event_fields, s[0].key)))
		return (fail(cause, "<+%s>: the event has no field \"%s\" "
		    "(it has specversion, id, source, type, subject, time, "
		    "datacontenttype, data)", text,
		    s[0].key != NULL ? s[0].key : "[]"));
	if (n >= 2 && strcmp(s[0].key, "data") == 0 && (s[1].key == NULL ||
	    !expr_data_field(s[1].key)))
		return (fail(cause, "<+%s>: the event's data has no field "
		    "\"%s\" (see the event in docs/templates.md)", text,
		    s[1].key != NULL ? s[1].key : "[]"));
	return (0);
}

static const struct expr_name *
expr_name_find(const char *text, size_t len, int flags)
{
	const struct expr_name	*en;
	size_t			 i, nl;

	for (i = 0; i < nitems(expr_names); i++) {
		en = &expr_names[i];
		if (en->plain && !(flags & EXPR_PLAIN))
			continue;
		nl = strlen(en->name);
		if (len < nl || strncmp(text, en->name, nl) != 0)
			continue;
		if (len == nl || (en->tail != TAIL_NONE &&
		    (text[nl] == '.' || text[nl] == '[')))
			return (en);
	}
	return (NULL);
}

struct expr *
expr_compile(const char *text, size_t len, int flags, char **cause)
{
	const struct expr_name	*en;
	const char		*p, *end, *dot;
	struct expr		*e;
	char			*copy;
	size_t			 base;

	while (len > 0 && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if ((flags & EXPR_PLAIN) && len > 3 && strncmp(text, "<+", 2) == 0 &&
	    text[len - 1] == '>')
		return (expr_compile(text + 2, len - 3, flags, cause));
	copy = xstrndup(text, len);
	if ((en = expr_name_find(text, len, flags)) == NULL) {
unknown:
		if (flags & EXPR_PLAIN)
			fail(cause, "unknown key \"%s\" (known: image, tag, "
			    "digest, SHA, labels.KEY, metadata.KEY, "
			    "<+artifacts.primary.…>, <+trigger.artifact.…>, "
			    "<+event.…>)", copy);
		else
			fail(cause, "unknown expression <+%s> (known: "
			    "<+trigger.artifact.build>, "
			    "<+artifacts.primary.image|tag|digest>, "
			    "<+artifacts.primary.metadata.KEY>, "
			    "<+artifacts.primary.label.get(\"KEY\")>, "
			    "<+event.FIELD>)", copy);
		free(copy);
		return (NULL);
	}

	e = xcalloc(1, sizeof *e);
	for (p = en->path; *p != '\0'; p = *dot == '.' ? dot + 1 : dot) {
		dot = strchrnul(p, '.');
		expr_push(e, p, (size_t)(dot - p), 0);
	}
	base = e->n;
	p = text + strlen(en->name);
	end = text + len;
	if (en->tail == TAIL_FIELD) {
		if (p >= end || (p = expr_step(e, p, end)) == NULL ||
		    p != end || e->seg[base].key == NULL ||
		    !expr_data_field(e->seg[base].key)) {
			expr_free(e);
			goto unknown;
		}
		free(copy);
		return (e);
	}
	if (en->tail == TAIL_KEY && p < end && *p == '.' &&
	    (end - p < 5 || strncmp(p, ".get(", 5) != 0)) {
		if (p + 1 == end)
			goto bad;
		expr_push(e, p + 1, (size_t)(end - p - 1), 0);
		p = end;
	} else if (en->tail == TAIL_KEY && p < end) {
		if ((p = expr_step(e, p, end)) == NULL || e->seg[base].key ==
		    NULL || p != end)
			goto bad;
	}
	while (p != NULL && p < end)
		p = expr_step(e, p, end);
	if (p == NULL)
		goto bad;
	if (en->tail == TAIL_PATH &&
	    expr_event_path(e, base, copy, cause) != 0) {
		expr_free(e);
		free(copy);
		return (NULL);
	}
	free(copy);
	return (e);
bad:
	fail(cause, "%s%s%s: cannot read what follows \"%s\" (write .NAME, "
	    ".get(\"KEY\"), [\"KEY\"] or [N])", flags & EXPR_PLAIN ? "\"" :
	    "<+", copy, flags & EXPR_PLAIN ? "\"" : ">", en->name);
	expr_free(e);
	free(copy);
	return (NULL);
}

const cJSON *
expr_lookup(const struct expr *e, const cJSON *event)
{
	const cJSON	*v = event;
	size_t		 i;

	for (i = 0; i < e->n && v != NULL; i++) {
		if (e->seg[i].key != NULL)
			v = cJSON_IsObject(v) ?
			    cJSON_GetObjectItemCaseSensitive(v,
			    e->seg[i].key) : NULL;
		else
			v = cJSON_IsArray(v) && e->seg[i].index <
			    (size_t)cJSON_GetArraySize(v) ?
			    cJSON_GetArrayItem(v, (int)e->seg[i].index) : NULL;
	}
	return (v);
}

char *
expr_text(const struct expr *e, const cJSON *event)
{
	const cJSON	*v = expr_lookup(e, event);
	char		*s;

	if (v == NULL || cJSON_IsNull(v))
		return (xstrdup(""));
	if (cJSON_IsString(v))
		return (xstrdup(v->valuestring));
	if ((s = cJSON_PrintUnformatted(v)) == NULL)
		fatalx("cJSON_PrintUnformatted");
	return (s);
}

/* The pieces of a template: literal text, or a placeholder. */
struct template_part {
	char		*text;		/* literal, or NULL */
	struct expr	*expr;		/* placeholder */
	int		 in_string;	/* JSON: inside a JSON string */
};
struct template {
	enum template_mode	 mode;
	struct template_part	*part;
	size_t			 n;
};

void
template_free(struct template *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->part[i].text);
		expr_free(t->part[i].expr);
	}
	free(t->part);
	free(t);
}

enum template_mode
template_mode(const struct template *t)
{
	return (t->mode);
}

static struct template_part *
template_add(struct template *t)
{
	t->part = xreallocarray(t->part, t->n + 1, sizeof *t->part);
	memset(&t->part[t->n], 0, sizeof t->part[t->n]);
	return (&t->part[t->n++]);
}

/* The end of the placeholder opened at p ("<+"): its '>' outside quotes. */
static const char *
template_close(const char *p)
{
	char	 q = '\0';

	for (p += 2; *p != '\0'; p++) {
		if (q != '\0') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == q)
				q = '\0';
		} else if (*p == '"' || *p == '\'')
			q = *p;
		else if (*p == '>')
			return (p);
		else if (*p == '<' && p[1] == '+')
			return (NULL);
	}
	return (NULL);
}

/*
 * Mark each placeholder inside or outside a JSON string, and see whether
 * the template is JSON with each placeholder standing for a value: an
 * object or an array (any JSON value when the content type says JSON).
 */
static int
template_json_scan(struct template *t, int forced)
{
	struct buf	 probe = { NULL, 0, 0 };
	const char	*p;
	cJSON		*json;
	size_t		 i;
	int		 in_string = 0, ok;

	for (i = 0; i < t->n; i++) {
		if (t->part[i].expr != NULL) {
			t->part[i].in_string = in_string;
			buf_adds(&probe, in_string ? "x" : "null");
			continue;
		}
		for (p = t->part[i].text; *p != '\0'; p++) {
			if (in_string && *p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				in_string = !in_string;
		}
		buf_adds(&probe, t->part[i].text);
	}
	json = probe.data != NULL ? cJSON_Parse(probe.data) : NULL;
	buf_free(&probe);
	if (json == NULL)
		return (0);
	ok = forced || cJSON_IsObject(json) || cJSON_IsArray(json);
	cJSON_Delete(json);
	return (ok);
}

struct template *
template_compile(const char *text, enum template_mode mode, size_t *erroff,
    char **cause)
{
	struct template		*t;
	struct template_part	*tp;
	const char		*p, *open, *close;
	char			*why;

	t = xcalloc(1, sizeof *t);
	t->mode = mode;
	if (mode == TEMPLATE_HEADER && (p = strpbrk(text, "\r\n")) != NULL) {
		*erroff = (size_t)(p - text);
		fail(cause, "a header value cannot hold a line break");
		goto fail;
	}
	for (p = text; *p != '\0'; p = close + 1) {
		if ((open = strstr(p, "<+")) == NULL) {
			template_add(t)->text = xstrdup(p);
			break;
		}
		if (open != p)
			template_add(t)->text = xstrndup(p,
			    (size_t)(open - p));
		if ((close = template_close(open)) == NULL) {
			*erroff = (size_t)(open - text);
			fail(cause, "\"<+\" is not closed by \">\"");
			goto fail;
		}
		if (close == open + 2) {
			*erroff = (size_t)(open - text);
			fail(cause, "empty expression \"<+>\"");
			goto fail;
		}
		tp = template_add(t);
		tp->expr = expr_compile(open + 2, (size_t)(close - open - 2), 0,
		    &why);
		if (tp->expr == NULL) {
			*erroff = (size_t)(open - text);
			fail(cause, "%s", why);
			free(why);
			goto fail;
		}
	}
	if (mode == TEMPLATE_AUTO || mode == TEMPLATE_JSON) {
		if (template_json_scan(t, mode == TEMPLATE_JSON))
			t->mode = TEMPLATE_JSON;
		else if (mode == TEMPLATE_JSON) {
			*erroff = 0;
			fail(cause, "the template is not JSON (with each <+…> "
			    "standing for a value), but its content type is");
			goto fail;
		} else
			t->mode = TEMPLATE_RAW;
	}
	return (t);
fail:
	template_free(t);
	return (NULL);
}

/* A string's content, escaped for a JSON string; UTF-8 passes through. */
static void
template_json_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '"':
			buf_adds(b, "\\\"");
			break;
		case '\\':
			buf_adds(b, "\\\\");
			break;
		case '\n':
			buf_adds(b, "\\n");
			break;
		case '\r':
			buf_adds(b, "\\r");
			break;
		case '\t':
			buf_adds(b, "\\t");
			break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				buf_printf(b, "\\u%04x", (unsigned char)*s);
			else
				buf_add(b, s, 1);
			break;
		}
	}
}

static void
template_json_value(struct buf *b, const struct template_part *tp,
    const cJSON *event)
{
	const cJSON	*v = expr_lookup(tp->expr, event);
	char		*s;

	if (tp->in_string) {
		s = expr_text(tp->expr, event);
		template_json_escape(b, s);
		free(s);
	} else if (v == NULL)
		buf_adds(b, "null");
	else if (cJSON_IsString(v)) {
		buf_adds(b, "\"");
		template_json_escape(b, v->valuestring);
		buf_adds(b, "\"");
	} else {
		if ((s = cJSON_PrintUnformatted(v)) == NULL)
			fatalx("cJSON_PrintUnformatted");
		buf_adds(b, s);
		free(s);
	}
}

char *
template_render(const struct template *t, const cJSON *event)
{
	struct buf	 b = { NULL, 0, 0 };
	char		*s, *p;
	size_t		 i;

	buf_add(&b, "", 0);
	for (i = 0; i < t->n; i++) {
		if (t->part[i].expr == NULL) {
			buf_adds(&b, t->part[i].text);
			continue;
		}
		if (t->mode == TEMPLATE_JSON) {
			template_json_value(&b, &t->part[i], event);
			continue;
		}
		s = expr_text(t->part[i].expr, event);
		if (t->mode == TEMPLATE_HEADER) {
			for (p = s; *p != '\0'; p++) {
				if (*p == '\t' || ((unsigned char)*p >= 0x20 &&
				    *p != 0x7f))
					buf_add(&b, p, 1);
			}
		} else
			buf_adds(&b, s);
		free(s);
	}
	return (buf_take(&b));
}

/* Line `line` (1-based) of a file, NUL-terminated; -1 if there is none. */
static int
template_file_line(const char *file, unsigned line, char *out, size_t len)
{
	FILE		*f;
	unsigned	 n = 0;
	int		 found = 0;

	if (file == NULL || (f = fopen(file, "r")) == NULL)
		return (-1);
	while (fgets(out, (int)len, f) != NULL) {
		if (strchr(out, '\n') == NULL && !feof(f))
			continue;	/* the rest of a long line */
		if (++n == line) {
			found = 1;
			break;
		}
	}
	fclose(f);
	return (found ? 0 : -1);
}

void
template_pos(const char *file, const struct cfg_node *n, size_t off,
    unsigned *line, unsigned *col)
{
	const char	*v = n->value, *nl, *start = n->value;
	char		 text[4096];
	unsigned	 lines = 0, indent = 0;
	int		 block = 0;

	while ((nl = memchr(start, '\n', off - (size_t)(start - v))) != NULL) {
		lines++;
		start = nl + 1;
	}
	if (n->quoted && template_file_line(file, n->line, text,
	    sizeof text) == 0 && n->col >= 1 && n->col <= strlen(text))
		block = text[n->col - 1] == '|' || text[n->col - 1] == '>';
	if (!block && lines == 0) {
		*line = n->line;
		*col = n->col + (n->quoted ? 1 : 0) + (unsigned)off;
		return;
	}
	/* A block scalar's content starts on the line after the indicator. */
	*line = n->line + lines + (block ? 1 : 0);
	/* Its indentation is that of its first line. */
	if (block && template_file_line(file, n->line + 1, text,
	    sizeof text) == 0)
		indent = (unsigned)strspn(text, " ");
	*col = indent + 1 + (unsigned)(off - (size_t)(start - v));
}

struct template *
template_from_node(const struct cfg_node *n, enum template_mode mode,
    const char *what, struct cfg_errors *errs)
{
	struct template	*t;
	char		*cause;
	size_t		 off = 0;
	unsigned	 line, col;

	if (n->kind != CFG_SCALAR) {
		cfg_error(errs, n, "%s must be a string, not %s", what,
		    cfg_node_kind_name(n));
		return (NULL);
	}
	if ((t = template_compile(n->value, mode, &off, &cause)) != NULL)
		return (t);
	template_pos(errs->file, n, off, &line, &col);
	cfg_error_at(errs, line, col, "%s: %s", what, cause);
	free(cause);
	return (NULL);
}
