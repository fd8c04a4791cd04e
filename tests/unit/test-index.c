/*
 * test-index.c: the known-version index: put, get, replace, remove (with
 * probe runs that wrap), growth to 100,000 entries, iteration.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "provider.h"

Test(index, put_get_replace)
{
	struct index	*idx = index_create();
	const char	*d;

	cr_assert_eq(index_get(idx, "1.0", &d), 0);
	index_put(idx, "1.0", "sha256:aa", 100);
	index_put(idx, "1.1", NULL, 0);
	cr_assert_eq(index_get(idx, "1.0", &d), 1);
	cr_assert_str_eq(d, "sha256:aa");
	cr_assert_eq(index_get(idx, "1.1", &d), 1);
	cr_assert_null(d);
	cr_assert_eq(index_checked(idx, "1.0"), 100);
	index_put(idx, "1.0", "sha256:bb", 200);
	cr_assert_eq(index_get(idx, "1.0", &d), 1);
	cr_assert_str_eq(d, "sha256:bb");
	cr_assert_eq(index_checked(idx, "1.0"), 200);
	cr_assert_eq(index_count(idx), 2);
	index_free(idx);
}

Test(index, many_and_remove)
{
	struct index	*idx = index_create();
	char		 name[32], dig[32];
	const char	*d;
	int		 i;

	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof name, "v%d", i);
		snprintf(dig, sizeof dig, "sha256:%d", i);
		index_put(idx, name, dig, i);
	}
	cr_assert_eq(index_count(idx), 100000);
	for (i = 0; i < 100000; i += 2) {
		snprintf(name, sizeof name, "v%d", i);
		cr_assert_eq(index_remove(idx, name), 1);
	}
	cr_assert_eq(index_remove(idx, "v0"), 0);
	cr_assert_eq(index_count(idx), 50000);
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof name, "v%d", i);
		snprintf(dig, sizeof dig, "sha256:%d", i);
		if (i % 2 == 0)
			cr_assert_eq(index_get(idx, name, &d), 0, "%s", name);
		else {
			cr_assert_eq(index_get(idx, name, &d), 1, "%s", name);
			cr_assert_str_eq(d, dig);
		}
	}
	index_free(idx);
}

static int
count_cb(const char *name, const char *digest, int64_t checked, void *arg)
{
	int	*n = arg;

	cr_assert(strncmp(name, "t", 1) == 0);
	cr_assert(digest == NULL || strncmp(digest, "sha256:", 7) == 0);
	cr_assert(checked >= 0);
	(*n)++;
	return (*n == 3 ? 7 : 0);
}

Test(index, foreach_stops)
{
	struct index	*idx = index_create();
	int		 n = 0;

	index_put(idx, "t1", "sha256:1", 1);
	index_put(idx, "t2", NULL, 0);
	index_put(idx, "t3", "sha256:3", 3);
	index_put(idx, "t4", "sha256:4", 4);
	cr_assert_eq(index_foreach(idx, count_cb, &n), 7);
	cr_assert_eq(n, 3);
	index_free(idx);
}
