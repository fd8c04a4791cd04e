/*
 * test-token-cache.c: the waiters and the renewal timer the Aws, Gcp and
 * Azure connectors share (watcher/token-cache.c): freshness with a margin
 * of a minute or a quarter of a short life, waiters taken oldest first,
 * cancelled by their arg, and the renewal firing.
 */
#include <criterion/criterion.h>

#include "watcher.h"
#include "token-cache.h"
#include "unit.h"

Test(token_cache, fresh_with_a_margin)
{
	/* A credential that does not expire. */
	cr_assert(token_cache_fresh(0, 0, 60, 1000));
	/* An hour's token: good until a minute before its end. */
	cr_assert(token_cache_fresh(1000, 4600, 60, 4539));
	cr_assert_not(token_cache_fresh(1000, 4600, 60, 4540));
	/* Ten seconds of life: a quarter (2 s) is the margin. */
	cr_assert(token_cache_fresh(1000, 1010, 60, 1007));
	cr_assert_not(token_cache_fresh(1000, 1010, 60, 1008));
	/* No time obtained: the minute. */
	cr_assert_not(token_cache_fresh(0, 1010, 60, 1000));
}

static int	order[4], norder;

static void
waiter(void)
{
}

Test(token_cache, waiters_oldest_first_and_cancelled)
{
	struct ut_loop		 l;
	struct token_cache	 tc;
	struct token_waiter	*list;
	token_fn		 fn;
	void			*arg;
	int			 a = 1, b = 2, c = 3;

	ut_loop_init(&l, 5);
	token_cache_init(&tc, l.base, NULL, NULL);
	token_cache_wait(&tc, waiter, &a);
	token_cache_wait(&tc, waiter, &b);
	token_cache_wait(&tc, waiter, &c);
	token_cache_cancel(&tc, &b);
	list = token_cache_take(&tc);
	cr_assert_null(tc.waiters, "taken out");
	norder = 0;
	while (token_cache_pop(&list, &fn, &arg)) {
		cr_assert_eq(fn, waiter);
		order[norder++] = *(int *)arg;
	}
	cr_assert_eq(norder, 2);
	cr_assert_eq(order[0], 1);
	cr_assert_eq(order[1], 3);
	/* Clear frees waiters never taken (ASan says if not). */
	token_cache_wait(&tc, waiter, &a);
	token_cache_clear(&tc);
	ut_loop_free(&l);
}

static void
renew(void *arg)
{
	(*(int *)arg)++;
}

Test(token_cache, renewal_fires_and_stops)
{
	struct ut_loop		 l;
	struct token_cache	 tc;
	int			 renewed = 0;

	ut_loop_init(&l, 10);
	token_cache_init(&tc, l.base, renew, &renewed);
	/* A life of two seconds: renewed halfway, after one. */
	token_cache_plan(&tc, now_ms() / 1000 + 2, 300);
	ut_run_until(&l, &renewed);
	cr_assert_eq(renewed, 1);
	/* Planned, stopped, planned again: it fires once. */
	token_cache_retry(&tc, 1);
	token_cache_stop(&tc);
	token_cache_retry(&tc, 1);
	ut_run_until_count(&l, &renewed, 2);
	cr_assert_eq(renewed, 2);
	token_cache_clear(&tc);
	ut_loop_free(&l);
}
