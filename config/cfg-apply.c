/*
 * cfg-apply.c: declarative key tables (struct cfg_key) applied to a YAML map.
 * A provider or sink lists its keys once, with types, defaults and limits,
 * and this file does the reading, checking and error wording for all of
 * them, so every module reports bad values the same way:
 *
 *	config.yaml:12:7: unknown key "intervall" in source "nginx" (did you
 *	    mean "interval"?)
 *	config.yaml:14:14: spec.imagePath of source "nginx" must be a string,
 *	    not a map
 *
 * Defaults are YAML text, read by the same code as values.  A key written
 * without a value ("key:" or "key: null") counts as absent.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static int	 apply_map(const struct cfg_key *, void *,
		    const struct cfg_node *, const struct cfg_node *,
		    const char *, struct cfg_errors *);

#define FIELD(base, k, type)	((type *)((char *)(base) + (k)->off))

/* "spec.url", or "url" at the top. */
static char *
key_path(const char *path, const char *key)
{
	char	*s;

	if (path == NULL)
		return (xstrdup(key));
	xasprintf(&s, "%s.%s", path, key);
	return (s);
}

/* How a key is named in a message: `spec.url of sink "ci"`. */
static char *
key_name(const struct cfg_errors *errs, const char *kp)
{
	char	*s;

	if (errs->where == NULL)
		return (xstrdup(kp));
	xasprintf(&s, "%s of %s", kp, errs->where);
	return (s);
}

/* Where a map is, for "unknown key ... in X": `spec of source "nginx"`. */
static char *
map_name(const struct cfg_errors *errs, const char *path)
{
	if (path == NULL && errs->where == NULL)
		return (NULL);
	if (path == NULL)
		return (xstrdup(errs->where));
	return (key_name(errs, path));
}

/* "1h30m", "500ms", "0": the way users write durations. */
static void
duration_format(int64_t ms, char *out, size_t len)
{
	static const struct {
		const char	*unit;
		int64_t		 ms;
	} units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	size_t	 i, used = 0;

	if (ms <= 0) {
		snprintf(out, len, "%" PRId64, ms);
		return;
	}
	out[0] = '\0';
	for (i = 0; i < nitems(units) && used < len; i++) {
		if (ms / units[i].ms == 0)
			continue;
		used += snprintf(out + used, len - used, "%" PRId64 "%s",
		    ms / units[i].ms, units[i].unit);
		ms %= units[i].ms;
	}
}

static int
set_bool(const struct cfg_node *v, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	size_t	 i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcmp(v->value, yes[i]) == 0) {
			*out = 1;
			return (0);
		}
		if (strcmp(v->value, no[i]) == 0) {
			*out = 0;
			return (0);
		}
	}
	return (-1);
}

static int
parse_int(const char *s, long long *out)
{
	char	*end;

	if (*s == '\0')
		return (-1);
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (-1);
	return (0);
}

static void
set_int(const struct cfg_key *k, void *base, const struct cfg_node *v,
    const char *name, struct cfg_errors *errs)
{
	long long	 n;

	if (parse_int(v->value, &n) != 0) {
		cfg_error(errs, v, "%s must be a whole number, not \"%s\"",
		    name, v->value);
		return;
	}
	if (k->max > 0 && (n < k->min || n > k->max)) {
		cfg_error(errs, v, "%s must be between %lld and %lld, not %lld",
		    name, k->min, k->max, n);
		return;
	}
	if (k->max <= 0 && k->min != 0 && n < k->min) {
		cfg_error(errs, v, "%s must be at least %lld, not %lld", name,
		    k->min, n);
		return;
	}
	*FIELD(base, k, long long) = n;
}

static void
set_number(const struct cfg_key *k, void *base, const struct cfg_node *v,
    const char *name, struct cfg_errors *errs)
{
	double	 d;
	char	*end;

	errno = 0;
	d = strtod(v->value, &end);
	if (errno != 0 || end == v->value || *end != '\0' || !isfinite(d) ||
	    d < 0) {
		cfg_error(errs, v, "%s must be a number of at least 0, not "
		    "\"%s\"", name, v->value);
		return;
	}
	if (k->max > 0 && d > (double)k->max) {
		cfg_error(errs, v, "%s must be at most %lld, not %s", name,
		    k->max, v->value);
		return;
	}
	*FIELD(base, k, double) = d;
}

static void
set_duration(const struct cfg_key *k, void *base, const struct cfg_node *v,
    const char *name, struct cfg_errors *errs)
{
	int64_t	 ms;
	char	*cause, limit[64], got[64];

	if (duration_parse(v->value, &ms, &cause) != 0) {
		cfg_error(errs, v, "%s: %s", name, cause);
		free(cause);
		return;
	}
	duration_format(ms, got, sizeof got);
	if (k->min != 0 && ms < k->min) {
		duration_format(k->min, limit, sizeof limit);
		cfg_error(errs, v, "%s must be at least %s, not %s", name,
		    limit, got);
		return;
	}
	if (k->max > 0 && ms > k->max) {
		duration_format(k->max, limit, sizeof limit);
		cfg_error(errs, v, "%s must be at most %s, not %s", name,
		    limit, got);
		return;
	}
	*FIELD(base, k, int64_t) = ms;
}

static void
set_enum(const struct cfg_key *k, void *base, const struct cfg_node *v,
    const char *name, struct cfg_errors *errs)
{
	struct cfg_suggest	 sg;
	struct buf		 list;
	size_t			 i;

	for (i = 0; k->choices[i] != NULL; i++) {
		if (strcmp(k->choices[i], v->value) == 0) {
			*FIELD(base, k, int) = (int)i;
			return;
		}
	}
	cfg_suggest_init(&sg, v->value);
	memset(&list, 0, sizeof list);
	for (i = 0; k->choices[i] != NULL; i++) {
		cfg_suggest_try(&sg, k->choices[i]);
		buf_printf(&list, "%s%s", i == 0 ? "" : ", ", k->choices[i]);
	}
	if (cfg_suggest_best(&sg) != NULL) {
		cfg_error(errs, v, "%s must be one of %s, not \"%s\" (did you "
		    "mean \"%s\"?)", name, list.data, v->value,
		    cfg_suggest_best(&sg));
	} else {
		cfg_error(errs, v, "%s must be one of %s, not \"%s\"", name,
		    list.data, v->value);
	}
	buf_free(&list);
}

/* Does v name a secret of the config?  Adds the error when it does not. */
static int
secret_known(const struct cfg_node *v, const char *name,
    struct cfg_errors *errs)
{
	const struct config	*conf = errs->conf;
	struct cfg_suggest	 sg;
	size_t			 i;

	if (conf == NULL)
		return (1);
	cfg_suggest_init(&sg, v->value);
	for (i = 0; i < conf->nsecrets; i++) {
		if (strcmp(conf->secrets[i].name, v->value) == 0)
			return (1);
		cfg_suggest_try(&sg, conf->secrets[i].name);
	}
	if (cfg_suggest_best(&sg) != NULL)
		cfg_error(errs, v, "%s: secret \"%s\" is not defined under "
		    "secrets: (did you mean \"%s\"?)", name, v->value,
		    cfg_suggest_best(&sg));
	else
		cfg_error(errs, v, "%s: secret \"%s\" is not defined under "
		    "secrets:", name, v->value);
	return (0);
}

static void
set_secret(const struct cfg_key *k, void *base, const struct cfg_node *v,
    const char *name, struct cfg_errors *errs)
{
	char	**field = FIELD(base, k, char *);

	if (!secret_known(v, name, errs))
		return;
	free(*field);
	*field = xstrdup(v->value);
}

static void
set_strlist(const struct cfg_key *k, void *base, const struct cfg_node *v,
    const char *kp, struct cfg_errors *errs)
{
	struct cfg_strlist	*l = FIELD(base, k, struct cfg_strlist);
	char			*name, *ikp;
	size_t			 i;

	if (v->kind != CFG_SEQ) {
		name = key_name(errs, kp);
		cfg_error(errs, v, "%s must be a list of strings, not %s",
		    name, cfg_node_kind_name(v));
		free(name);
		return;
	}
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = xcalloc(v->n, sizeof *l->v);
	l->n = 0;
	for (i = 0; i < v->n; i++) {
		if (v->items[i]->kind != CFG_SCALAR) {
			xasprintf(&ikp, "%s[%zu]", kp, i);
			name = key_name(errs, ikp);
			cfg_error(errs, v->items[i], "%s must be a string, not "
			    "%s", name, cfg_node_kind_name(v->items[i]));
			free(name);
			free(ikp);
			continue;
		}
		l->v[l->n++] = xstrdup(v->items[i]->value);
	}
}

/* A value given as {secretRef: NAME}: the name is kept, its value "". */
static void
set_strmap_secret(struct cfg_strmap *m, const char *key,
    const struct cfg_node *item, const char *kp, struct cfg_errors *errs)
{
	const struct cfg_node	*ref = cfg_node_get(item, "secretRef");
	char			*name, *ikp;

	ikp = key_path(kp, key);
	name = key_name(errs, ikp);
	if (item->n != 1 || ref == NULL || ref->kind != CFG_SCALAR ||
	    cfg_node_is_null(ref))
		cfg_error(errs, item, "%s must be a string or {secretRef: "
		    "NAME}", name);
	else if (secret_known(ref, name, errs)) {
		m->keys[m->n] = xstrdup(key);
		m->values[m->n] = xstrdup("");
		m->secret_refs[m->n++] = xstrdup(ref->value);
	}
	free(name);
	free(ikp);
}

static void
set_strmap(const struct cfg_key *k, void *base, const struct cfg_node *v,
    const char *kp, struct cfg_errors *errs)
{
	struct cfg_strmap	*m = FIELD(base, k, struct cfg_strmap);
	const struct cfg_node	*item;
	char			*name, *ikp;
	size_t			 i;

	if (v->kind != CFG_MAP) {
		name = key_name(errs, kp);
		cfg_error(errs, v, "%s must be a map of strings, not %s", name,
		    cfg_node_kind_name(v));
		free(name);
		return;
	}
	for (i = 0; i < m->n; i++) {
		free(m->keys[i]);
		free(m->values[i]);
		if (m->secret_refs != NULL)
			free(m->secret_refs[i]);
	}
	free(m->keys);
	free(m->values);
	free(m->secret_refs);
	m->keys = xcalloc(v->n, sizeof *m->keys);
	m->values = xcalloc(v->n, sizeof *m->values);
	m->secret_refs = NULL;
	if (k->flags & CFG_SECRET_VALUES)
		m->secret_refs = xcalloc(v->n, sizeof *m->secret_refs);
	m->n = 0;
	for (i = 0; i < v->n; i++) {
		item = v->items[i];
		if (item->kind == CFG_MAP && (k->flags & CFG_SECRET_VALUES)) {
			set_strmap_secret(m, v->keys[i]->value, item, kp, errs);
			continue;
		}
		if (item->kind != CFG_SCALAR) {
			ikp = key_path(kp, v->keys[i]->value);
			name = key_name(errs, ikp);
			cfg_error(errs, item, "%s must be a string, not %s",
			    name, cfg_node_kind_name(item));
			free(name);
			free(ikp);
			continue;
		}
		m->keys[m->n] = xstrdup(v->keys[i]->value);
		m->values[m->n++] = xstrdup(cfg_node_is_null(item) ? "" :
		    item->value);
	}
}

/* What a scalar key wants, for "must be X, not a map". */
static char *
scalar_kind(const struct cfg_key *k)
{
	struct buf	 b;
	size_t		 i;

	switch (k->type) {
	case CFG_BOOL:
		return (xstrdup("true or false"));
	case CFG_INT:
		return (xstrdup("a whole number"));
	case CFG_NUMBER:
		return (xstrdup("a number"));
	case CFG_DURATION:
		return (xstrdup("a duration such as 30s or 5m"));
	case CFG_SECRET:
		return (xstrdup("the name of a secret"));
	case CFG_ENUM:
		memset(&b, 0, sizeof b);
		buf_adds(&b, "one of ");
		for (i = 0; k->choices[i] != NULL; i++)
			buf_printf(&b, "%s%s", i == 0 ? "" : ", ",
			    k->choices[i]);
		return (buf_take(&b));
	default:
		return (xstrdup("a string"));
	}
}

/* Reads one value (not null) into its field. */
static void
set_value(const struct cfg_key *k, void *base, const struct cfg_node *v,
    const char *kp, struct cfg_errors *errs)
{
	char	*name = key_name(errs, kp), **field, *want;

	switch (k->type) {
	case CFG_IGNORE:
		break;
	case CFG_NODE:
		*FIELD(base, k, const struct cfg_node *) = v;
		break;
	case CFG_STRLIST:
		set_strlist(k, base, v, kp, errs);
		break;
	case CFG_STRMAP:
		set_strmap(k, base, v, kp, errs);
		break;
	case CFG_OBJECT:
		if (v->kind != CFG_MAP) {
			cfg_error(errs, v, "%s must be a map, not %s", name,
			    cfg_node_kind_name(v));
			break;
		}
		apply_map(k->sub, base, v, v, kp, errs);
		break;
	default:
		if (v->kind != CFG_SCALAR) {
			want = scalar_kind(k);
			cfg_error(errs, v, "%s must be %s, not %s", name, want,
			    cfg_node_kind_name(v));
			free(want);
			break;
		}
		switch (k->type) {
		case CFG_STRING:
			field = FIELD(base, k, char *);
			free(*field);
			*field = xstrdup(v->value);
			break;
		case CFG_BOOL:
			if (set_bool(v, FIELD(base, k, int)) != 0) {
				cfg_error(errs, v, "%s must be true or false, "
				    "not \"%s\"", name, v->value);
			}
			break;
		case CFG_INT:
			set_int(k, base, v, name, errs);
			break;
		case CFG_DURATION:
			set_duration(k, base, v, name, errs);
			break;
		case CFG_NUMBER:
			set_number(k, base, v, name, errs);
			break;
		case CFG_ENUM:
			set_enum(k, base, v, name, errs);
			break;
		case CFG_SECRET:
			set_secret(k, base, v, name, errs);
			break;
		default:
			fatalx("config key %s: bad type %d", k->name, k->type);
		}
	}
	free(name);
}

/* Defaults are the module's own text: a bad one is a bug, so fatal. */
static void
apply_defaults(const struct cfg_key *keys, void *base)
{
	const struct cfg_key	*k;
	struct cfg_errors	 errs;
	struct cfg_node		*v;

	for (k = keys; k->name != NULL; k++) {
		if (k->type == CFG_OBJECT) {
			apply_defaults(k->sub, base);
			continue;
		}
		if (k->def == NULL)
			continue;
		memset(&errs, 0, sizeof errs);
		if (cfg_parse_text(k->def, strlen(k->def), &v, &errs) != 0 ||
		    errs.n != 0 || v == NULL)
			fatalx("config key %s: bad default \"%s\"", k->name,
			    k->def);
		set_value(k, base, v, k->name, &errs);
		if (errs.n != 0)
			fatalx("config key %s: bad default: %s", k->name,
			    errs.msg[0]);
		cfg_node_free(v);
	}
}

static void
unknown_key(const struct cfg_key *keys, const struct cfg_node *key,
    const char *path, struct cfg_errors *errs)
{
	const struct cfg_key	*k;
	struct cfg_suggest	 sg;
	char			*where = map_name(errs, path), *in;
	char			*hint = NULL;

	cfg_suggest_init(&sg, key->value);
	for (k = keys; k->name != NULL; k++)
		cfg_suggest_try(&sg, k->name);
	if (cfg_suggest_best(&sg) != NULL)
		xasprintf(&hint, " (did you mean \"%s\"?)",
		    cfg_suggest_best(&sg));
	if (where != NULL)
		xasprintf(&in, " in %s", where);
	else
		in = xstrdup("");
	cfg_error(errs, key, "unknown key \"%s\"%s%s", key->value, in,
	    hint != NULL ? hint : "");
	free(hint);
	free(in);
	free(where);
}

static void
missing_key(const struct cfg_key *k, const struct cfg_node *at,
    const char *path, struct cfg_errors *errs)
{
	char	*where = map_name(errs, path);

	if (where != NULL)
		cfg_error(errs, at, "missing required key \"%s\" in %s",
		    k->name, where);
	else
		cfg_error(errs, at, "missing required key \"%s\"", k->name);
	free(where);
}

static int
apply_map(const struct cfg_key *keys, void *base, const struct cfg_node *map,
    const struct cfg_node *parent, const char *path, struct cfg_errors *errs)
{
	const struct cfg_key	*k;
	const struct cfg_node	*v;
	size_t			 before = errs->n, i;
	char			*kp, *name;

	if (cfg_node_is_null(map))
		map = NULL;
	if (map != NULL && map->kind != CFG_MAP) {
		name = path != NULL ? key_name(errs, path) :
		    xstrdup(errs->where != NULL ? errs->where : "this");
		cfg_error(errs, map, "%s must be a map, not %s", name,
		    cfg_node_kind_name(map));
		free(name);
		return (errs->n - before);
	}
	for (i = 0; map != NULL && i < map->n; i++) {
		for (k = keys; k->name != NULL; k++) {
			if (strcmp(k->name, map->keys[i]->value) == 0)
				break;
		}
		if (k->name == NULL) {
			unknown_key(keys, map->keys[i], path, errs);
			continue;
		}
		if (cfg_node_is_null(map->items[i]))
			continue;
		kp = key_path(path, k->name);
		set_value(k, base, map->items[i], kp, errs);
		free(kp);
	}
	for (k = keys; k->name != NULL; k++) {
		if (!(k->flags & CFG_REQUIRED))
			continue;
		v = cfg_node_get(map, k->name);
		if (v == NULL)
			missing_key(k, map != NULL ? map : parent, path, errs);
		else if (cfg_node_is_null(v)) {
			kp = key_path(path, k->name);
			name = key_name(errs, kp);
			cfg_error(errs, v, "%s needs a value", name);
			free(name);
			free(kp);
		}
	}
	return (errs->n - before);
}

int
cfg_apply_at(const struct cfg_key *keys, void *base,
    const struct cfg_node *map, const struct cfg_node *parent,
    const char *path, struct cfg_errors *errs)
{
	apply_defaults(keys, base);
	return (apply_map(keys, base, map, parent, path, errs));
}

int
cfg_apply(const struct cfg_key *keys, void *base, const struct cfg_node *map,
    struct cfg_errors *errs)
{
	return (cfg_apply_at(keys, base, map, map, NULL, errs));
}

void
cfg_free(const struct cfg_key *keys, void *base)
{
	const struct cfg_key	*k;
	struct cfg_strlist	*l;
	struct cfg_strmap	*m;
	char			**s;
	size_t			 i;

	for (k = keys; k->name != NULL; k++) {
		switch (k->type) {
		case CFG_STRING:
		case CFG_SECRET:
			s = FIELD(base, k, char *);
			free(*s);
			*s = NULL;
			break;
		case CFG_STRLIST:
			l = FIELD(base, k, struct cfg_strlist);
			for (i = 0; i < l->n; i++)
				free(l->v[i]);
			free(l->v);
			memset(l, 0, sizeof *l);
			break;
		case CFG_STRMAP:
			m = FIELD(base, k, struct cfg_strmap);
			for (i = 0; i < m->n; i++) {
				free(m->keys[i]);
				free(m->values[i]);
				if (m->secret_refs != NULL)
					free(m->secret_refs[i]);
			}
			free(m->keys);
			free(m->values);
			free(m->secret_refs);
			memset(m, 0, sizeof *m);
			break;
		case CFG_OBJECT:
			cfg_free(k->sub, base);
			break;
		case CFG_NODE:
			*FIELD(base, k, const struct cfg_node *) = NULL;
			break;
		default:
			break;
		}
	}
}
