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
