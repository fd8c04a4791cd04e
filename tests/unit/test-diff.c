/*
 * test-diff.c: what counts as new: baseline, created, updated, unknown
 * digests, duplicates in a listing, and updating the index afterwards.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "diff.h"

static void
add(struct versions *vs, const char *name, const char *digest)
{
	struct version	*v = versions_add(vs, name);

	if (digest != NULL)
		v->digest = xstrdup(digest);
}

Test(diff, baseline_records_all_emits_nothing)
{
	struct index	*idx = index_create();
	struct versions	 vs = { 0 };
	struct diff	 d;

	add(&vs, "1.0", NULL);
	add(&vs, "1.1", NULL);
	diff_compute(idx, &vs, 1, 0, &d);
	cr_assert_eq(d.nchanges, 2);
	cr_assert_eq(d.nevents, 0);
	diff_free(&d);

	diff_compute(idx, &vs, 1, 1, &d);
	cr_assert_eq(d.nevents, 2);
	cr_assert_eq(d.events[0].type, EVENT_CREATED);
	cr_assert_str_eq(d.events[1].version->name, "1.1");
	cr_assert_eq(d.created, 2);
	diff_free(&d);
	versions_free(&vs);
	index_free(idx);
}

Test(diff, created_updated_and_quiet)
{
	struct index	*idx = index_create();
	struct versions	 vs = { 0 };
	struct diff	 d;

	index_put(idx, "1.0", "sha256:a", 1);
	index_put(idx, "latest", "sha256:b", 1);
	index_put(idx, "old", NULL, 0);
	add(&vs, "1.0", NULL);		/* known, not checked: nothing */
	add(&vs, "latest", "sha256:c");	/* re-pointed: updated */
	add(&vs, "old", "sha256:d");	/* digest learnt: record, quiet */
	add(&vs, "2.0", "sha256:e");	/* new: created */
	add(&vs, "2.0", "sha256:e");	/* listed twice: once */
	diff_compute(idx, &vs, 0, 0, &d);
	cr_assert_eq(d.nchanges, 3);
	cr_assert_str_eq(d.changes[0].name, "latest");
	cr_assert_str_eq(d.changes[1].name, "old");
	cr_assert_str_eq(d.changes[2].name, "2.0");
	cr_assert_eq(d.nevents, 2);
	cr_assert_eq(d.events[0].type, EVENT_UPDATED);
	cr_assert_str_eq(d.events[0].previous_digest, "sha256:b");
	cr_assert_str_eq(d.events[0].version->digest, "sha256:c");
	cr_assert_eq(d.events[1].type, EVENT_CREATED);
	cr_assert_null(d.events[1].previous_digest);
	cr_assert_eq(d.created, 1);
	cr_assert_eq(d.updated, 1);
	diff_free(&d);
	versions_free(&vs);
	index_free(idx);
}

Test(diff, keep_newest_trims_oldest_and_recounts)
{
	struct index	*idx = index_create();
	struct versions	 vs = { 0 };
	struct diff	 d;

	index_put(idx, "latest", "sha256:a", 1);
	add(&vs, "latest", "sha256:b");		/* updated, oldest */
	add(&vs, "1.0", NULL);
	add(&vs, "1.1", NULL);
	add(&vs, "1.2", NULL);
	diff_compute(idx, &vs, 0, 0, &d);
	cr_assert_eq(d.nevents, 4);
	diff_keep_newest(&d, 2);
	cr_assert_eq(d.nevents, 2);
	cr_assert_str_eq(d.events[0].version->name, "1.1");
	cr_assert_str_eq(d.events[1].version->name, "1.2");
	cr_assert_eq(d.created, 2);
	cr_assert_eq(d.updated, 0);
	cr_assert_eq(d.nchanges, 4, "everything is still recorded");
	diff_keep_newest(&d, 5);
	cr_assert_eq(d.nevents, 2);
	diff_keep_newest(&d, 0);
	cr_assert_eq(d.nevents, 0);
	diff_free(&d);
	versions_free(&vs);
	index_free(idx);
}

Test(diff, same_digest_is_quiet_and_apply_updates_index)
{
	struct index	*idx = index_create();
	struct versions	 vs = { 0 };
	struct diff	 d;
	const char	*dg;

	index_put(idx, "latest", "sha256:b", 1);
	add(&vs, "latest", "sha256:b");
	add(&vs, "new", NULL);
	diff_compute(idx, &vs, 0, 0, &d);
	cr_assert_eq(d.nchanges, 1);
	cr_assert_eq(d.nevents, 1);
	diff_free(&d);

	diff_apply(idx, &vs, 500);
	cr_assert_eq(index_checked(idx, "latest"), 500);
	cr_assert_eq(index_get(idx, "new", &dg), 1);
	cr_assert_null(dg);
	cr_assert_eq(index_count(idx), 2);

	/* The same listing again is quiet. */
	diff_compute(idx, &vs, 0, 0, &d);
	cr_assert_eq(d.nchanges, 0);
	cr_assert_eq(d.nevents, 0);
	diff_free(&d);
	versions_free(&vs);
	index_free(idx);
}
