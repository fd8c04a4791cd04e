/*
 * test-backoff.c: the backoff schedule: doubling from the base to the cap,
 * equal jitter within [d/2, d], full jitter within [0, d], and the ±pct
 * jitter of poll intervals.  Random values are injected, so the bounds are
 * exact.
 */
#include <criterion/criterion.h>

#include "watcher.h"

Test(backoff, equal_jitter_doubles_to_the_cap)
{
	struct backoff	 b = { .base_ms = 1000, .cap_ms = 300000 };
	static const int64_t want[] = {
		1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000,
		300000, 300000,
	};
	unsigned	 k;

	for (k = 1; k <= sizeof want / sizeof want[0]; k++) {
		/* random 0 gives the floor d/2, UINT32_MAX-ish the top. */
		cr_assert_eq(backoff_delay(&b, k, 0), want[k - 1] / 2,
		    "attempt %u", k);
		cr_assert_eq(backoff_delay(&b, k, (uint32_t)(want[k - 1] / 2)),
		    want[k - 1], "attempt %u", k);
		cr_assert_leq(backoff_delay(&b, k, 0xffffffffu), want[k - 1]);
		cr_assert_geq(backoff_delay(&b, k, 0xffffffffu),
		    want[k - 1] / 2);
	}
	cr_assert_eq(backoff_delay(&b, 0, 0), 500, "attempt 0 is the first");
	cr_assert_eq(backoff_delay(&b, 1000, 0), 150000, "no overflow");
}

Test(backoff, full_jitter_spans_zero_to_d)
{
	struct backoff	 b = { .base_ms = 60000, .cap_ms = 1800000,
	    .full_jitter = 1 };
	uint32_t	 r;

	cr_assert_eq(backoff_delay(&b, 1, 0), 0);
	cr_assert_eq(backoff_delay(&b, 1, 60000), 60000);
	cr_assert_eq(backoff_delay(&b, 3, 240000), 240000);
	cr_assert_eq(backoff_delay(&b, 10, 1800000), 1800000, "capped");
	for (r = 1; r < 4000000000u; r += 97654321u) {
		cr_assert_leq(backoff_delay(&b, 6, r), 1800000);
		cr_assert_geq(backoff_delay(&b, 6, r), 0);
	}
}

Test(backoff, interval_jitter_is_plus_minus_pct)
{
	cr_assert_eq(jitter(60000, 10, 0), 54000);
	cr_assert_eq(jitter(60000, 10, 12000), 66000);
	cr_assert_eq(jitter(60000, 10, 6000), 60000);
	cr_assert_eq(jitter(5, 10, 123), 5, "too small to jitter");
}

/* The values test_politeness.py predicts with its own copy of the mix. */
Test(backoff, keyed_draws_are_fixed_by_seed_key_and_n)
{
	cr_assert_eq(random_keyed(1, "a", 0), 3237779966u);
	cr_assert_eq(random_keyed(20261204, "f500", 1), 3057459628u);
	cr_assert_eq(random_keyed(0, "", 0), 3280043009u);
	cr_assert_neq(random_keyed(1, "a", 1), random_keyed(1, "a", 0));
	cr_assert_neq(random_keyed(1, "b", 0), random_keyed(1, "a", 0));
}

Test(backoff, env_random_follows_the_seed_only_when_set)
{
	struct env	 env = { .seeded = 1, .seed = 20261204 };

	cr_assert_eq(env_random(&env, "f500", 1), 3057459628u);
	setenv("AW_RANDOM_SEED", "7", 1);
	env_seed(&env);
	cr_assert(env.seeded);
	cr_assert_eq(env.seed, 7);
	setenv("AW_RANDOM_SEED", "x7", 1);
	env_seed(&env);
	cr_assert_not(env.seeded, "not a number: ignored");
	unsetenv("AW_RANDOM_SEED");
	env_seed(&env);
	cr_assert_not(env.seeded);
}
