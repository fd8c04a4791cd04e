/*
 * test-order.c: semantic version precedence (the SemVer 2.0 examples and
 * the tag shapes people push), the tag filter (noise, include/exclude with
 * \d, the `key` group, backtracking limits) and sorting.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "order.h"

static int
cmp(const char *a, const char *b)
{
	struct semver	 sa, sb;

	cr_assert_eq(semver_parse(a, &sa), 0, "%s", a);
	cr_assert_eq(semver_parse(b, &sb), 0, "%s", b);
	return (semver_cmp(&sa, &sb));
}

Test(semver, spec_precedence_chain)
{
	static const char *const chain[] = {
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
		"1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
		"1.0.0", "1.9.0", "1.10.0", "1.11.0", "2.0.0", "2.1.0", "2.1.1",
	};
	size_t	 i;

	for (i = 0; i + 1 < sizeof chain / sizeof chain[0]; i++) {
		cr_assert_lt(cmp(chain[i], chain[i + 1]), 0, "%s < %s",
		    chain[i], chain[i + 1]);
		cr_assert_gt(cmp(chain[i + 1], chain[i]), 0, "%s > %s",
		    chain[i + 1], chain[i]);
	}
}

Test(semver, prefixes_build_metadata_and_short_forms)
{
	cr_assert_eq(cmp("v1.2.3", "1.2.3"), 0);
	cr_assert_eq(cmp("1.2.3+build.5", "1.2.3+other"), 0);
	cr_assert_eq(cmp("1.27", "1.27.0"), 0);
	cr_assert_lt(cmp("1.27", "1.27.1"), 0);
	cr_assert_lt(cmp("v2", "v10"), 0);
	cr_assert_lt(cmp("1.0.0-rc.1+build.1", "1.0.0"), 0);
	cr_assert_lt(cmp("1.0.0-2", "1.0.0-10"), 0);
	cr_assert_lt(cmp("1.0.0-9", "1.0.0-a"), 0);
}

Test(semver, rejects_non_versions)
{
	static const char *const bad[] = {
		"latest", "", "v", "1.", "1..2", "01.2.3", "1.2.3-", "1.2.3+",
		"1.2.3-a..b", "1.2.3.4", "1.2.3 ", "1.2.3-a_b",
		"99999999999999999999999.0.0", "stable-perl", "sha256-abc.sig",
	};
	struct semver	 v;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(semver_parse(bad[i], &v), -1, "%s", bad[i]);
}

static int
match(const struct filter *f, const char *name, char **key)
{
	char	*cause = NULL;
	int	 r;

	r = filter_match(f, name, key, &cause);
	free(cause);
	return (r);
}

Test(filter, noise_excluded_by_default)
{
	struct filter_conf	 fc = { 0 };
	struct filter		*f;
	char			*key, *cause = NULL;
	char			 sig[80];

	f = filter_create(&fc, &cause);
	cr_assert_not_null(f);
	strcpy(sig, "sha256-");
	memset(sig + 7, 'a', 64);
	strcpy(sig + 71, ".sig");
	cr_assert_eq(match(f, sig, &key), 0);
	strcpy(sig + 71, ".att");
	cr_assert_eq(match(f, sig, &key), 0);
	strcpy(sig + 71, ".sbom");
	cr_assert_eq(match(f, sig, &key), 0);
	strcpy(sig + 71, ".txt");
	cr_assert_eq(match(f, sig, &key), 1);
	cr_assert_eq(match(f, "1.0", &key), 1);
	cr_assert_null(key);
	filter_free(f);

	fc.keep_noise = 1;
	f = filter_create(&fc, &cause);
	strcpy(sig + 71, ".sig");
	cr_assert_eq(match(f, sig, &key), 1);
	filter_free(f);
}

Test(filter, include_exclude_digits_and_key)
{
	struct filter_conf	 fc = { 0 };
	struct filter		*f;
	char			*key = NULL, *cause = NULL;

	fc.include = "^build-(?<key>\\d+)$";
	fc.exclude = "^build-13$";
	f = filter_create(&fc, &cause);
	cr_assert_not_null(f, "%s", cause);
	cr_assert_eq(match(f, "build-12", &key), 1);
	cr_assert_str_eq(key, "12");
	free(key);
	cr_assert_eq(match(f, "build-13", &key), 0);
	cr_assert_null(key);
	cr_assert_eq(match(f, "build-x", &key), 0);
	cr_assert_eq(match(f, "latest", &key), 0);
	filter_free(f);
}

Test(filter, prereleases_policy)
{
	struct filter_conf	 fc = { 0 };
	struct filter		*f;
	char			*key, *cause = NULL;

	fc.order = ORDER_SEMVER;
	f = filter_create(&fc, &cause);
	cr_assert_eq(match(f, "1.2.3-rc.1", &key), 0);
	cr_assert_eq(match(f, "1.2.3", &key), 1);
	filter_free(f);
	fc.prereleases = 1;
	f = filter_create(&fc, &cause);
	cr_assert_eq(match(f, "1.2.3-rc.1", &key), 1);
	filter_free(f);
}

Test(filter, bad_pattern_names_offset)
{
	struct filter_conf	 fc = { 0 };
	char			*cause = NULL;

	fc.include = "^(1\\.\\d+";
	cr_assert_null(filter_create(&fc, &cause));
	cr_assert_not_null(cause);
	cr_assert(strstr(cause, "tagRegex: bad regular expression at offset "
	    "8: missing closing parenthesis") != NULL, "%s", cause);
	free(cause);
}

Test(filter, catastrophic_backtracking_is_bounded)
{
	struct filter_conf	 fc = { 0 };
	struct filter		*f;
	char			*key, *cause = NULL, name[64];

	fc.include = "^(a+)+$";
	f = filter_create(&fc, &cause);
	cr_assert_not_null(f);
	memset(name, 'a', 40);
	strcpy(name + 40, "!");
	cr_assert_eq(filter_match(f, name, &key, &cause), -1);
	cr_assert(strstr(cause, "match limit") != NULL, "%s", cause);
	free(cause);
	filter_free(f);
}

static void
make(struct versions *vs, const char *const *names, size_t n)
{
	size_t	 i;

	memset(vs, 0, sizeof *vs);
	for (i = 0; i < n; i++)
		versions_add(vs, names[i])->pushed_at = (int64_t)(100 - i);
}

Test(order, semver_sorts_and_drops_non_versions)
{
	static const char *const names[] = {
		"1.10.0", "latest", "1.9.0", "v1.2.0", "1.10.0-rc.1", "2.0.0",
	};
	struct versions	 vs;
	size_t		 dropped;

	make(&vs, names, 6);
	order_sort(&vs, NULL, ORDER_SEMVER, &dropped);
	cr_assert_eq(dropped, 1);
	cr_assert_eq(vs.n, 5);
	cr_assert_str_eq(vs.v[0].name, "v1.2.0");
	cr_assert_str_eq(vs.v[1].name, "1.9.0");
	cr_assert_str_eq(vs.v[2].name, "1.10.0-rc.1");
	cr_assert_str_eq(vs.v[3].name, "1.10.0");
	cr_assert_str_eq(vs.v[4].name, "2.0.0");
	versions_free(&vs);
}

Test(order, numeric_with_keys_pushed_and_alpha)
{
	static const char *const names[] = { "b-10", "b-9", "b-100", "x" };
	struct versions	 vs;
	char		**keys;
	size_t		 dropped;

	make(&vs, names, 4);
	keys = calloc(4, sizeof *keys);
	keys[0] = strdup("10");
	keys[1] = strdup("9");
	keys[2] = strdup("100");
	order_sort(&vs, keys, ORDER_NUMERIC, &dropped);
	free(keys);
	cr_assert_eq(dropped, 1);
	cr_assert_str_eq(vs.v[0].name, "b-9");
	cr_assert_str_eq(vs.v[1].name, "b-10");
	cr_assert_str_eq(vs.v[2].name, "b-100");
	versions_free(&vs);

	make(&vs, names, 4);
	order_sort(&vs, NULL, ORDER_PUSHED, &dropped);
	cr_assert_eq(dropped, 0);
	cr_assert_str_eq(vs.v[0].name, "x");
	cr_assert_str_eq(vs.v[3].name, "b-10");
	versions_free(&vs);

	make(&vs, names, 4);
	order_sort(&vs, NULL, ORDER_ALPHABETICAL, &dropped);
	cr_assert_str_eq(vs.v[0].name, "b-10");
	cr_assert_str_eq(vs.v[1].name, "b-100");
	cr_assert_str_eq(vs.v[2].name, "b-9");
	cr_assert_str_eq(vs.v[3].name, "x");
	versions_free(&vs);
}

/* The prefix S3 and GCS listings are asked under. */
Test(filter, literal_prefix_of_an_include_pattern)
{
	static const char *const cases[][2] = {
		{ "^releases/app-\\d+\\.tgz$", "releases/app-" },
		{ "^1\\.2\\.\\d+", "1.2." },
		{ "ab*", "a" },
		{ "ab+c", "ab" },
		{ "a\\.?b", "a" },
		{ "a|b", "" },
		{ "(?i)app", "" },
		{ "plain/path", "plain/path" },
	};
	size_t	 i;
	char	*p;

	for (i = 0; i < nitems(cases); i++) {
		p = filter_literal_prefix(cases[i][0]);
		cr_assert_str_eq(p, cases[i][1], "%s", cases[i][0]);
		free(p);
	}
}
