/*
 * backoff.c: exponential backoff with jitter, for failed polls and failed
 * deliveries.  The delay before retry k is d = min(cap, base * 2^(k-1)),
 * then jittered so that many sources failing together do not retry
 * together: full jitter (uniform in [0, d]) for polls, which spreads a
 * registry's returning clients the most, equal jitter ([d/2, d]) for
 * deliveries, which keeps a floor under each retry.
 */
#include <stdlib.h>

#include "watcher.h"

int64_t
backoff_delay(const struct backoff *b, unsigned attempt, uint32_t random)
{
	int64_t	 d = b->base_ms;

	if (attempt == 0)
		attempt = 1;
	while (--attempt > 0 && d < b->cap_ms)
		d *= 2;
	if (d > b->cap_ms)
		d = b->cap_ms;
	/* Full jitter spreads most; equal jitter never collapses to 0. */
	if (b->full_jitter)
		return ((int64_t)(random % (uint64_t)(d + 1)));
	return (d / 2 + (int64_t)(random % (uint64_t)(d / 2 + 1)));
}

int64_t
jitter(int64_t ms, unsigned pct, uint32_t random)
{
	int64_t	 span = ms * pct / 100;

	if (span <= 0)
		return (ms);
	return (ms - span + (int64_t)(random % (uint64_t)(2 * span + 1)));
}

/*
 * glibc's arc4random: a per-thread ChaCha20 stream reseeded from the kernel,
 * so jitter costs no system call and needs no seed of ours.
 */
uint32_t
random32(void)
{
	return (arc4random());
}

uint32_t
random_keyed(uint64_t seed, const char *key, uint64_t n)
{
	uint64_t	 h = 14695981039346656037ULL, z;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	z = seed ^ h ^ (n * 0x9e3779b97f4a7c15ULL);
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return ((uint32_t)(z >> 32));
}

void
env_seed(struct env *env)
{
	const char	*v = getenv("AW_RANDOM_SEED");
	char		*end;

	env->seeded = 0;
	if (v == NULL || *v == '\0')
		return;
	env->seed = strtoull(v, &end, 10);
	if (*end != '\0') {
		log_warn("AW_RANDOM_SEED ignored", "value=%s", log_q(v));
		return;
	}
	env->seeded = 1;
	log_warn("jitter seeded", "seed=%llu", (unsigned long long)env->seed);
}

uint32_t
env_random(const struct env *env, const char *key, uint64_t n)
{
	if (env->seeded)
		return (random_keyed(env->seed, key, n));
	return (random32());
}
