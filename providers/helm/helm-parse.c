/*
 * helm-parse.c: the pure parser of a Helm chart repository's index.yaml.
 * Bytes in, the versions of one chart out; no I/O, no clock.
 *
 * An index can be tens of megabytes and list thousands of charts, of which
 * we want one, so it is read with libyaml's event parser and everything but
 * apiVersion and entries.<chart> is skipped without building a tree.
 * Aliases are never expanded (no billion laughs).  The file is a stranger's:
 * every field we keep is checked for its type and grammar, and every
 * failure says what was wrong and where.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "order.h"
#include "helm.h"

struct hp {
	yaml_parser_t	 parser;
	yaml_event_t	 ev;		/* the current event */
	int		 have;		/* ev must be deleted */
	char		**cause;
};

/* Why an entry was dropped: the first reason is kept. */
static void
hp_skip(struct helm_index *idx, const char *fmt, const char *what)
{
	idx->skipped++;
	if (idx->skip_cause == NULL)
		xasprintf(&idx->skip_cause, fmt, what);
}

/* Move to the next event; -1 with the YAML error as the cause. */
static int
hp_next(struct hp *p)
{
	if (p->have) {
		yaml_event_delete(&p->ev);
		p->have = 0;
	}
	if (!yaml_parser_parse(&p->parser, &p->ev)) {
		if (p->parser.problem == NULL)
			return (fail(p->cause, "invalid YAML"));
		if (p->parser.error == YAML_READER_ERROR)
			return (fail(p->cause, "invalid YAML at byte %zu: %s",
			    p->parser.problem_offset, p->parser.problem));
		return (fail(p->cause, "invalid YAML at line %zu column %zu: "
		    "%s", p->parser.problem_mark.line + 1,
		    p->parser.problem_mark.column + 1, p->parser.problem));
	}
	p->have = 1;
	return (0);
}

static int
hp_is_scalar(const struct hp *p)
{
	return (p->ev.type == YAML_SCALAR_EVENT);
}

/* The current scalar's text (NUL-terminated by libyaml). */
static const char *
hp_text(const struct hp *p)
{
	return ((const char *)p->ev.data.scalar.value);
}

/* A plain empty, ~ or null scalar. */
static int
hp_is_null(const struct hp *p)
{
	const char	*s;

	if (!hp_is_scalar(p) || !p->ev.data.scalar.plain_implicit)
		return (0);
	s = hp_text(p);
	return (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

/* 1-based line of the current event, for messages. */
static size_t
hp_line(const struct hp *p)
{
	return (p->ev.start_mark.line + 1);
}

/*
 * Skip the node that starts at the current event (a scalar, an alias or a
 * whole map or list); afterwards the current event is its last one.
 */
static int
hp_skip_node(struct hp *p)
{
	size_t	 depth = 0;

	for (;;) {
		switch (p->ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			break;
		default:
			return (fail(p->cause, "invalid YAML at line %zu",
			    hp_line(p)));
		}
		if (depth == 0)
			return (0);
		if (hp_next(p) != 0)
			return (-1);
	}
}

int
helm_version_valid(const char *v)
{
	size_t	 i;

	for (i = 0; v[i] != '\0'; i++) {
		if (i >= 128)
			return (0);
		if (!isalnum((unsigned char)v[i]) && strchr(".+_-", v[i]) == NULL)
			return (0);
	}
	return (i > 0);
}

int
helm_chart_valid(const char *c)
{
	size_t	 i;

	for (i = 0; c[i] != '\0'; i++) {
		if (i >= 250)
			return (0);
		if (!isalnum((unsigned char)c[i]) && strchr("._-", c[i]) == NULL)
			return (0);
	}
	return (i > 0);
}

/* "<64 hex>" or "sha256:<64 hex>" into "sha256:<lowercase hex>"; or NULL. */
static char *
hp_digest(const char *s)
{
	char	*d;
	size_t	 i;

	if (strncmp(s, "sha256:", 7) == 0)
		s += 7;
	if (strlen(s) != 64)
		return (NULL);
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return (NULL);
	}
	xasprintf(&d, "sha256:%s", s);
	for (i = 7; d[i] != '\0'; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return (d);
}

static void
hp_entry_clear(struct helm_entry *e)
{
	free(e->version);
	free(e->app_version);
	free(e->digest);
	free(e->url);
	memset(e, 0, sizeof *e);
}

/* urls: keep the first string of the list. */
static int
hp_urls(struct hp *p, struct helm_entry *e)
{
	if (p->ev.type != YAML_SEQUENCE_START_EVENT)
		return (hp_skip_node(p));
	for (;;) {
		if (hp_next(p) != 0)
			return (-1);
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			return (0);
		if (hp_is_scalar(p) && e->url == NULL && *hp_text(p) != '\0')
			e->url = xstrdup(hp_text(p));
		else if (hp_skip_node(p) != 0)
			return (-1);
	}
}

/*
 * One entry: the current event is its MAPPING_START.  Returns -1 on a YAML
 * error, 0 with *bad set (a static reason) when a field we need is wrong.
 */
static int
hp_entry(struct hp *p, struct helm_entry *e, const char **bad)
{
	char	*key;
	int	 r;

	*bad = NULL;
	for (;;) {
		if (hp_next(p) != 0)
			return (-1);
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (!hp_is_scalar(p)) {
			if (hp_skip_node(p) != 0 || hp_next(p) != 0 ||
			    hp_skip_node(p) != 0)
				return (-1);
			continue;
		}
		key = xstrdup(hp_text(p));
		if (hp_next(p) != 0) {
			free(key);
			return (-1);
		}
		r = 0;
		if (strcmp(key, "urls") == 0)
			r = hp_urls(p, e);
		else if (strcmp(key, "version") == 0 ||
		    strcmp(key, "appVersion") == 0 ||
		    strcmp(key, "digest") == 0 ||
		    strcmp(key, "created") == 0 ||
		    strcmp(key, "deprecated") == 0) {
			if (hp_is_null(p))
				;
			else if (!hp_is_scalar(p)) {
				if (*bad == NULL && strcmp(key, "version") == 0)
					*bad = "version is not a string";
				else if (*bad == NULL &&
				    strcmp(key, "digest") == 0)
					*bad = "digest is not a string";
				r = hp_skip_node(p);
			} else if (strcmp(key, "version") == 0) {
				free(e->version);
				e->version = xstrdup(hp_text(p));
			} else if (strcmp(key, "appVersion") == 0) {
				free(e->app_version);
				e->app_version = xstrdup(hp_text(p));
			} else if (strcmp(key, "digest") == 0) {
				free(e->digest);
				e->digest = hp_digest(hp_text(p));
				if (e->digest == NULL && *bad == NULL)
					*bad = "digest is not a sha256 hex";
			} else if (strcmp(key, "created") == 0) {
				if (time_parse_rfc3339(hp_text(p),
				    &e->created_s) != 0)
					e->created_s = 0;
			} else
				e->deprecated = strcmp(hp_text(p), "true") == 0;
		} else
			r = hp_skip_node(p);
		free(key);
		if (r != 0)
			return (-1);
	}
	if (*bad == NULL && e->version == NULL)
		*bad = "no version";
	else if (*bad == NULL && !helm_version_valid(e->version))
		*bad = "version is not a chart version";
	/* Printable text only in what reaches events. */
	if (*bad == NULL && e->app_version != NULL &&
	    (strlen(e->app_version) > 256 ||
	    strpbrk(e->app_version, "\r\n\t") != NULL)) {
		free(e->app_version);
		e->app_version = NULL;
	}
	return (0);
}

static int
hp_seen(const struct helm_index *idx, const char *version)
{
	size_t	 i;

	for (i = 0; i < idx->n; i++) {
		if (strcmp(idx->v[i].version, version) == 0)
			return (1);
	}
	return (0);
}

/* entries.<chart>: the current event starts its value. */
static int
hp_chart(struct hp *p, struct helm_index *idx, size_t *size)
{
	struct helm_entry	 e;
	const char		*bad;
	char			 where[32];

	if (hp_is_null(p))
		return (0);
	if (p->ev.type != YAML_SEQUENCE_START_EVENT)
		return (fail(p->cause, "line %zu: the chart's entry is not a "
		    "list", hp_line(p)));
	for (;;) {
		if (hp_next(p) != 0)
			return (-1);
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			return (0);
		snprintf(where, sizeof where, "line %zu", hp_line(p));
		if (p->ev.type != YAML_MAPPING_START_EVENT) {
			hp_skip(idx, "%s: a version is not a map", where);
			if (hp_skip_node(p) != 0)
				return (-1);
			continue;
		}
		memset(&e, 0, sizeof e);
		if (hp_entry(p, &e, &bad) != 0) {
			hp_entry_clear(&e);
			return (-1);
		}
		if (bad == NULL && hp_seen(idx, e.version))
			bad = "repeated version";
		if (bad != NULL) {
			idx->skipped++;
			if (idx->skip_cause == NULL)
				xasprintf(&idx->skip_cause, "%s: %s", where,
				    bad);
			hp_entry_clear(&e);
			continue;
		}
		if (idx->n == *size) {
			*size = *size == 0 ? 16 : *size * 2;
			idx->v = xreallocarray(idx->v, *size, sizeof *idx->v);
		}
		idx->v[idx->n++] = e;
	}
}

/* entries: a map of chart name -> list of versions. */
static int
hp_entries(struct hp *p, const char *chart, struct helm_index *idx)
{
	size_t	 size = 0;
	int	 mine;

	if (hp_is_null(p))
		return (0);
	if (p->ev.type != YAML_MAPPING_START_EVENT)
		return (fail(p->cause, "line %zu: entries is not a map",
		    hp_line(p)));
	for (;;) {
		if (hp_next(p) != 0)
			return (-1);
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			return (0);
		mine = hp_is_scalar(p) && strcmp(hp_text(p), chart) == 0 &&
		    !idx->found;
		if (hp_skip_node(p) != 0 || hp_next(p) != 0)
			return (-1);
		if (mine) {
			idx->found = 1;
			if (hp_chart(p, idx, &size) != 0)
				return (-1);
		} else if (hp_skip_node(p) != 0)
			return (-1);
	}
}

/* The document: a map with apiVersion and entries. */
static int
hp_document(struct hp *p, const char *chart, struct helm_index *idx)
{
	int	 api = 0, entries = 0, key;

	if (p->ev.type != YAML_MAPPING_START_EVENT)
		return (fail(p->cause, "not an index: the document is not a "
		    "map"));
	for (;;) {
		if (hp_next(p) != 0)
			return (-1);
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			break;
		key = 0;
		if (hp_is_scalar(p) && strcmp(hp_text(p), "apiVersion") == 0)
			key = 1;
		else if (hp_is_scalar(p) && strcmp(hp_text(p), "entries") == 0)
			key = 2;
		if (hp_skip_node(p) != 0 || hp_next(p) != 0)
			return (-1);
		if (key == 1) {
			if (!hp_is_scalar(p) || hp_is_null(p))
				return (fail(p->cause, "line %zu: apiVersion "
				    "is not a string", hp_line(p)));
			api = 1;
		} else if (key == 2 && !entries) {
			entries = 1;
			if (hp_entries(p, chart, idx) != 0)
				return (-1);
			continue;
		} else if (hp_skip_node(p) != 0)
			return (-1);
	}
	if (!api)
		return (fail(p->cause, "not an index: no apiVersion"));
	return (0);
}

/* Leading whitespace, then the first byte: tells HTML and empty apart. */
static const char *
hp_first(const char *body, size_t len)
{
	const char	*p = body, *end = body + len;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'))
		p++;
	return (p == end ? NULL : p);
}

int
helm_parse_index(const char *body, size_t len, const char *chart,
    struct helm_index *idx, char **cause)
{
	struct hp	 p;
	const char	*first;
	int		 r = -1;

	memset(idx, 0, sizeof *idx);
	if ((first = hp_first(body, len)) == NULL)
		return (fail(cause, "empty body"));
	if (*first == '<')
		return (fail(cause, "not an index (an HTML or XML page)"));
	memset(&p, 0, sizeof p);
	p.cause = cause;
	if (!yaml_parser_initialize(&p.parser))
		fatalx("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)body,
	    len);
	/* STREAM_START, DOCUMENT_START, the document, DOCUMENT_END. */
	if (hp_next(&p) != 0 || hp_next(&p) != 0)
		goto out;
	if (p.ev.type != YAML_DOCUMENT_START_EVENT) {
		fail(cause, "empty body");
		goto out;
	}
	if (hp_next(&p) != 0 || hp_document(&p, chart, idx) != 0)
		goto out;
	if (hp_next(&p) != 0 || hp_next(&p) != 0)
		goto out;
	if (p.ev.type != YAML_STREAM_END_EVENT) {
		fail(cause, "not an index: more than one YAML document");
		goto out;
	}
	r = 0;
out:
	if (p.have)
		yaml_event_delete(&p.ev);
	yaml_parser_delete(&p.parser);
	if (r != 0)
		helm_index_clear(idx);
	return (r);
}

void
helm_index_clear(struct helm_index *idx)
{
	size_t	 i;

	for (i = 0; i < idx->n; i++)
		hp_entry_clear(&idx->v[i]);
	free(idx->v);
	free(idx->skip_cause);
	memset(idx, 0, sizeof *idx);
}

/* Newest first: versions by SemVer precedence, the rest after, by name. */
static int
hp_cmp(const void *a, const void *b)
{
	const struct helm_entry	*x = a, *y = b;
	struct semver		 sx, sy;
	int			 vx, vy, c;

	vx = semver_parse(x->version, &sx) == 0;
	vy = semver_parse(y->version, &sy) == 0;
	if (vx && vy && (c = semver_cmp(&sx, &sy)) != 0)
		return (-c);
	if (vx != vy)
		return (vx ? -1 : 1);
	return (strcmp(x->version, y->version));
}

void
helm_index_sort(struct helm_index *idx)
{
	if (idx->n > 1)
		qsort(idx->v, idx->n, sizeof *idx->v, hp_cmp);
}

static int
hp_absolute(const char *url)
{
	return (strncmp(url, "http://", 7) == 0 ||
	    strncmp(url, "https://", 8) == 0);
}

char *
helm_chart_url(const char *repo, const char *url)
{
	const char	*host;
	char		*s;
	size_t		 n;

	if (hp_absolute(url))
		return (xstrdup(url));
	if (*url == '/') {
		/* Host-relative: scheme://host[:port] of the repository. */
		host = strstr(repo, "://");
		host = host == NULL ? repo : host + 3;
		n = strcspn(host, "/") + (size_t)(host - repo);
		xasprintf(&s, "%.*s%s", (int)n, repo, url);
		return (s);
	}
	n = strlen(repo);
	xasprintf(&s, "%s%s%s", repo, n > 0 && repo[n - 1] == '/' ? "" : "/",
	    url);
	return (s);
}

char *
helm_index_url(const char *repo)
{
	return (helm_chart_url(repo, "index.yaml"));
}
