/*
 * order.c: semantic versions, the tag filter and sorting.
 *
 * SemVer 2.0 precedence: major, minor, patch numerically; a version with a
 * pre-release is lower than the same without; pre-release identifiers are
 * compared one by one, numbers numerically and below words, words in ASCII
 * order, a shorter list lower when all else is equal; build metadata is
 * ignored.  Tags are looser than the spec, so a leading "v" and missing
 * minor or patch ("1.27", "v2") are accepted.  Ties are broken by the whole
 * string so that sorting is a total order and stable across polls.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "order.h"

#define FILTER_MATCH_LIMIT	100000
#define FILTER_DEPTH_LIMIT	5000

static int
semver_number(const char **p, uint64_t *out)
{
	const char	*s = *p;
	uint64_t	 v = 0;

	if (!isdigit((unsigned char)*s))
		return (-1);
	if (*s == '0' && isdigit((unsigned char)s[1]))
		return (-1);		/* no leading zeros */
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	*p = s;
	return (0);
}

static int
semver_ident_ok(const char *s, size_t len)
{
	size_t	 i, start = 0;

	if (len == 0)
		return (0);
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (i == start)
				return (0);	/* empty identifier */
			start = i + 1;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return (0);
	}
	return (1);
}

int
semver_parse(const char *s, struct semver *v)
{
	const char	*p = s, *plus;

	memset(v, 0, sizeof *v);
	if (*p == 'v' || *p == 'V')
		p++;
	if (semver_number(&p, &v->major) != 0)
		return (-1);
	if (*p == '.') {
		p++;
		if (semver_number(&p, &v->minor) != 0)
			return (-1);
		if (*p == '.') {
			p++;
			if (semver_number(&p, &v->patch) != 0)
				return (-1);
		}
	}
	plus = strchr(p, '+');
	if (*p == '-') {
		p++;
		v->pre = p;
		v->prelen = plus != NULL ? (size_t)(plus - p) : strlen(p);
		if (!semver_ident_ok(v->pre, v->prelen))
			return (-1);
		p += v->prelen;
	}
	if (*p == '+') {
		p++;
		if (!semver_ident_ok(p, strlen(p)))
			return (-1);
		p += strlen(p);
	}
	return (*p == '\0' ? 0 : -1);
}

static int
semver_all_digits(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (0);
	}
	return (len > 0);
}

static int
semver_cmp_ident(const char *a, size_t alen, const char *b, size_t blen)
{
	int	 an = semver_all_digits(a, alen), bn = semver_all_digits(b, blen);
	int	 c;

	if (an && bn) {
		/* Equal-length digit strings compare like numbers. */
		if (alen != blen)
			return (alen < blen ? -1 : 1);
		return (memcmp(a, b, alen));
	}
	if (an != bn)
		return (an ? -1 : 1);
	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return (c);
	return (alen == blen ? 0 : (alen < blen ? -1 : 1));
}

int
semver_cmp(const struct semver *a, const struct semver *b)
{
	const char	*pa, *pb, *ea, *eb, *da, *db;
	int		 c;

	if (a->major != b->major)
		return (a->major < b->major ? -1 : 1);
	if (a->minor != b->minor)
		return (a->minor < b->minor ? -1 : 1);
	if (a->patch != b->patch)
		return (a->patch < b->patch ? -1 : 1);
	if (a->pre == NULL || b->pre == NULL) {
		if (a->pre == b->pre)
			return (0);
		return (a->pre == NULL ? 1 : -1);
	}
	pa = a->pre;
	ea = a->pre + a->prelen;
	pb = b->pre;
	eb = b->pre + b->prelen;
	while (pa < ea && pb < eb) {
		for (da = pa; da < ea && *da != '.'; da++)
			;
		for (db = pb; db < eb && *db != '.'; db++)
			;
		/* Leading zeros are not valid, but compare them sanely. */
		c = semver_cmp_ident(pa, (size_t)(da - pa), pb,
		    (size_t)(db - pb));
		if (c != 0)
			return (c);
		pa = da < ea ? da + 1 : da;
		pb = db < eb ? db + 1 : db;
	}
	if (pa < ea)
		return (1);
	if (pb < eb)
		return (-1);
	return (0);
}

struct filter {
	pcre2_code		*include;
	pcre2_code		*exclude;
	pcre2_match_context	*mctx;
	uint32_t		 key_group;	/* 0: none */
	int			 keep_noise;
	enum order_kind		 order;
	int			 prereleases;
};

static pcre2_code *
filter_compile(const char *pattern, const char *what, char **cause)
{
	pcre2_code	*re;
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	int		 err;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    0, &err, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(err, msg, sizeof msg);
		fail(cause, "%s: bad regular expression at offset %zu: %s",
		    what, (size_t)off, (char *)msg);
	}
	return (re);
}

struct filter *
filter_create(const struct filter_conf *fc, char **cause)
{
	struct filter	*f;
	int		 n;

	f = xcalloc(1, sizeof *f);
	f->keep_noise = fc->keep_noise;
	f->order = fc->order;
	f->prereleases = fc->prereleases;
	if (fc->include != NULL &&
	    (f->include = filter_compile(fc->include, "tagRegex",
	    cause)) == NULL)
		goto fail;
	if (fc->exclude != NULL &&
	    (f->exclude = filter_compile(fc->exclude, "tagRegexExclude",
	    cause)) == NULL)
		goto fail;
	if (f->include != NULL) {
		n = pcre2_substring_number_from_name(f->include,
		    (PCRE2_SPTR)"key");
		if (n > 0)
			f->key_group = (uint32_t)n;
	}
	if ((f->mctx = pcre2_match_context_create(NULL)) == NULL)
		fatalx("pcre2_match_context_create");
	pcre2_set_match_limit(f->mctx, FILTER_MATCH_LIMIT);
	pcre2_set_depth_limit(f->mctx, FILTER_DEPTH_LIMIT);
	return (f);
fail:
	filter_free(f);
	return (NULL);
}

void
filter_free(struct filter *f)
{
	if (f == NULL)
		return;
	pcre2_code_free(f->include);
	pcre2_code_free(f->exclude);
	pcre2_match_context_free(f->mctx);
	free(f);
}

/* sha256-<64 hex>.sig|.att|.sbom: cosign signatures and attestations. */
static int
filter_is_noise(const char *name)
{
	const char	*p;
	size_t		 i;

	if (strncmp(name, "sha256-", 7) != 0)
		return (0);
	p = name + 7;
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return (0);
	}
	p += 64;
	return (strcmp(p, ".sig") == 0 || strcmp(p, ".att") == 0 ||
	    strcmp(p, ".sbom") == 0);
}

/* 1 match, 0 no match, -1 limit hit. */
static int
filter_run(const struct filter *f, const pcre2_code *re, const char *name,
    pcre2_match_data *md, char **cause)
{
	int	 rc;

	rc = pcre2_match(re, (PCRE2_SPTR)name, strlen(name), 0, 0, md,
	    f->mctx);
	if (rc >= 0)
		return (1);
	if (rc == PCRE2_ERROR_NOMATCH)
		return (0);
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
		return (fail(cause, "tag \"%s\": the pattern needs too much "
		    "backtracking (PCRE2 match limit); simplify it", name));
	return (fail(cause, "tag \"%s\": pattern match failed (%d)", name,
	    rc));
}

int
filter_match(const struct filter *f, const char *name, char **key,
    char **cause)
{
	pcre2_match_data	*md = NULL;
	PCRE2_SIZE		*ov;
	struct semver		 sv;
	int			 r = 1;

	*key = NULL;
	if (!f->keep_noise && filter_is_noise(name))
		return (0);
	if (f->order == ORDER_SEMVER && !f->prereleases &&
	    semver_parse(name, &sv) == 0 && sv.pre != NULL)
		return (0);
	if (f->include != NULL) {
		md = pcre2_match_data_create_from_pattern(f->include, NULL);
		if (md == NULL)
			fatalx("pcre2_match_data_create");
		if ((r = filter_run(f, f->include, name, md, cause)) != 1)
			goto out;
		ov = pcre2_get_ovector_pointer(md);
		if (f->key_group != 0 && ov[2 * f->key_group] !=
		    PCRE2_UNSET) {
			*key = xstrndup(name + ov[2 * f->key_group],
			    ov[2 * f->key_group + 1] - ov[2 * f->key_group]);
		}
	}
	if (f->exclude != NULL) {
		if (md == NULL &&
		    (md = pcre2_match_data_create_from_pattern(f->exclude,
		    NULL)) == NULL)
			fatalx("pcre2_match_data_create");
		r = filter_run(f, f->exclude, name, md, cause);
		r = r == 1 ? 0 : (r == 0 ? 1 : -1);
	}
out:
	if (r != 1) {
		free(*key);
		*key = NULL;
	}
	pcre2_match_data_free(md);
	return (r);
}

int
order_parse(const char *s, enum order_kind *o)
{
	static const char *const names[] = {
		"none", "semver", "numeric", "alphabetical", "pushed"
	};
	size_t	 i;

	for (i = 0; i < nitems(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*o = (enum order_kind)i;
			return (0);
		}
	}
	return (-1);
}

struct order_item {
	struct version	 v;
	const char	*key;		/* what the order looks at */
	struct semver	 sv;
	long double	 num;
};

static int
order_cmp_semver(const void *pa, const void *pb)
{
	const struct order_item	*a = pa, *b = pb;
	int			 c = semver_cmp(&a->sv, &b->sv);

	return (c != 0 ? c : strcmp(a->v.name, b->v.name));
}

static int
order_cmp_numeric(const void *pa, const void *pb)
{
	const struct order_item	*a = pa, *b = pb;

	if (a->num != b->num)
		return (a->num < b->num ? -1 : 1);
	return (strcmp(a->v.name, b->v.name));
}

static int
order_cmp_alpha(const void *pa, const void *pb)
{
	const struct order_item	*a = pa, *b = pb;
	int			 c = strcmp(a->key, b->key);

	return (c != 0 ? c : strcmp(a->v.name, b->v.name));
}

static int
order_cmp_pushed(const void *pa, const void *pb)
{
	const struct order_item	*a = pa, *b = pb;

	if (a->v.pushed_at != b->v.pushed_at)
		return (a->v.pushed_at < b->v.pushed_at ? -1 : 1);
	return (strcmp(a->v.name, b->v.name));
}

static int
order_number(const char *s, long double *out)
{
	char	*end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return (-1);
	errno = 0;
	*out = strtold(s, &end);
	return (errno != 0 || *end != '\0' ? -1 : 0);
}

void
order_sort(struct versions *vs, char **keys, enum order_kind order,
    size_t *dropped)
{
	struct order_item	*items;
	size_t			 i, n = 0;
	int			(*cmp)(const void *, const void *) = NULL;
	int			 ok;

	*dropped = 0;
	if (order == ORDER_NONE) {
		for (i = 0; keys != NULL && i < vs->n; i++)
			free(keys[i]);
		return;
	}
	items = xcalloc(vs->n, sizeof *items);
	for (i = 0; i < vs->n; i++) {
		items[n].v = vs->v[i];
		items[n].key = keys != NULL && keys[i] != NULL ? keys[i] :
		    vs->v[i].name;
		switch (order) {
		case ORDER_SEMVER:
			ok = semver_parse(items[n].key, &items[n].sv) == 0;
			cmp = order_cmp_semver;
			break;
		case ORDER_NUMERIC:
			ok = order_number(items[n].key, &items[n].num) == 0;
			cmp = order_cmp_numeric;
			break;
		case ORDER_ALPHABETICAL:
			ok = 1;
			cmp = order_cmp_alpha;
			break;
		default:
			ok = 1;
			cmp = order_cmp_pushed;
			break;
		}
		if (ok)
			n++;
		else {
			version_clear(&vs->v[i]);
			(*dropped)++;
		}
	}
	qsort(items, n, sizeof *items, cmp);
	for (i = 0; i < n; i++)
		vs->v[i] = items[i].v;
	vs->n = n;
	free(items);
	for (i = 0; keys != NULL && i < vs->n + *dropped; i++)
		free(keys[i]);
}

char *
filter_literal_prefix(const char *re)
{
	struct buf	 b = { 0 };
	const char	*p = re;

	/* An alternation anywhere: no prefix is common to every branch. */
	if (strchr(re, '|') != NULL)
		return (xstrdup(""));
	if (*p == '^')
		p++;
	for (; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0' && strchr(".-/_+*?()[]{}|^$\\",
		    p[1]) != NULL) {
			/* An escaped literal, unless a quantifier follows. */
			if (p[2] == '*' || p[2] == '?' || p[2] == '{')
				break;
			buf_add(&b, p + 1, 1);
			p++;
			continue;
		}
		if (strchr(".[]()*+?{}|^$\\", *p) != NULL)
			break;
		if (p[1] == '*' || p[1] == '?' || p[1] == '{')
			break;
		buf_add(&b, p, 1);
	}
	return (buf_take(&b));
}
