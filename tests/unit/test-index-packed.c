/*
 * test-index-packed.c: the compact storage of the known-version index
 * (index.c): sha256 digests kept as raw bytes come back as the same text,
 * other digests come back verbatim, and names and digests survive the
 * arena being rebuilt after many replacements and removals.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "provider.h"

/* A distinct well-formed sha256 digest for i (and round r). */
static void
make_digest(char *buf, size_t size, int i, int r)
{
	snprintf(buf, size, "sha256:%08x%056x", (unsigned)i, (unsigned)r);
}

Test(index_packed, digest_kinds_round_trip)
{
	struct index	*idx = index_create();
	const char	*d;
	char		 sha[80];
	static const char *texts[] = {
		"sha256:ABCDEF",			/* short */
		"sha512:00ff",				/* other algorithm */
		"sha256:0123456789ABCDEF0123456789abcdef"
		"0123456789abcdef0123456789abcdef",	/* upper case hex */
		"sha256:0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdeg",	/* not hex */
		"sha256:0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef0",	/* too long */
		"",
	};
	char		 name[16];
	size_t		 i;

	make_digest(sha, sizeof sha, 7, 1);
	index_put(idx, "packed", sha, 5);
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		snprintf(name, sizeof name, "t%zu", i);
		index_put(idx, name, texts[i], 0);
	}
	cr_assert_eq(index_get(idx, "packed", &d), 1);
	cr_assert_str_eq(d, sha);
	cr_assert_eq(index_checked(idx, "packed"), 5);
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		snprintf(name, sizeof name, "t%zu", i);
		cr_assert_eq(index_get(idx, name, &d), 1);
		cr_assert_str_eq(d, texts[i]);
	}
	/* A packed digest replaced by text, text by none, none by packed. */
	index_put(idx, "packed", "md5:x", 6);
	cr_assert_eq(index_get(idx, "packed", &d), 1);
	cr_assert_str_eq(d, "md5:x");
	index_put(idx, "packed", NULL, 7);
	cr_assert_eq(index_get(idx, "packed", &d), 1);
	cr_assert_null(d);
	index_put(idx, "packed", sha, 8);
	cr_assert_eq(index_get(idx, "packed", &d), 1);
	cr_assert_str_eq(d, sha);
	cr_assert_eq(index_count(idx), 1 + sizeof texts / sizeof texts[0]);
	index_free(idx);
}

Test(index_packed, churn_keeps_every_entry)
{
	struct index	*idx = index_create();
	char		 name[32], want[80];
	const char	*d;
	int		 i, r;

	/* Rounds of re-pointed digests and removals: garbage piles up. */
	for (r = 0; r < 6; r++) {
		for (i = 0; i < 20000; i++) {
			snprintf(name, sizeof name, "release-%d", i);
			make_digest(want, sizeof want, i, r);
			index_put(idx, name, want, r);
		}
		for (i = r; i < 20000; i += 7) {
			snprintf(name, sizeof name, "release-%d", i);
			cr_assert_eq(index_remove(idx, name), 1);
		}
	}
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof name, "release-%d", i);
		if (i % 7 == 5) {
			cr_assert_eq(index_get(idx, name, &d), 0, "%s", name);
			continue;
		}
		cr_assert_eq(index_get(idx, name, &d), 1, "%s", name);
		make_digest(want, sizeof want, i, 5);
		cr_assert_str_eq(d, want, "%s", name);
		cr_assert_eq(index_checked(idx, name), 5);
	}
	/* The last round removed i = 5, 12, ..., 19994: 2857 names. */
	cr_assert_eq(index_count(idx), 20000 - 2857);
	index_free(idx);
}

struct walk {
	int	 packed;
	int	 none;
};

static int
walk_cb(const char *name, const char *digest, int64_t checked, void *arg)
{
	struct walk	*w = arg;
	char		 want[80];
	int		 i;

	cr_assert_eq(sscanf(name, "w%d", &i), 1);
	cr_assert_eq(checked, i);
	if (i % 2 == 0) {
		make_digest(want, sizeof want, i, 0);
		cr_assert_str_eq(digest, want);
		w->packed++;
	} else {
		cr_assert_null(digest);
		w->none++;
	}
	return (0);
}

Test(index_packed, foreach_gives_text_digests)
{
	struct index	*idx = index_create();
	struct walk	 w = { 0, 0 };
	char		 name[16], dig[80];
	int		 i;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "w%d", i);
		make_digest(dig, sizeof dig, i, 0);
		index_put(idx, name, i % 2 == 0 ? dig : NULL, i);
	}
	cr_assert_eq(index_foreach(idx, walk_cb, &w), 0);
	cr_assert_eq(w.packed, 500);
	cr_assert_eq(w.none, 500);
	index_free(idx);
}
