/* SPDX-License-Identifier: GPL-2.0 */
/* The differential test's random numbers: splitmix64, one stream per (seed, use, index). */
#ifndef GEOBLOCK_DIFF_RNG_H
#define GEOBLOCK_DIFF_RNG_H

#include <stdbool.h>
#include <linux/types.h>

/* The uses of a seed. */
enum { RNG_RULES = 1, RNG_PACKETS, RNG_SWEEPS, RNG_SENDERS, RNG_CHURN };

struct rng {
	__u64 state;
};

static inline __u64 rng_next(struct rng *r)
{
	__u64 z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
static inline __u64 rng_below(struct rng *r, __u64 n)
{
	return n ? rng_next(r) % n : 0;
}

static inline bool rng_percent(struct rng *r, unsigned int pct)
{
	return rng_below(r, 100) < pct;
}

/*
 * The stream of item index of one use of the seed (rules, packets, ...): any item can be made again
 * from the seed alone, without the items before it.
 */
static inline struct rng rng_stream(__u64 seed, __u64 use, __u64 index)
{
	struct rng r = { seed ^ (use * 0xd1b54a32d192ed03ULL) };

	r.state = rng_next(&r) ^ index;
	r.state = rng_next(&r);
	return r;
}

#endif /* GEOBLOCK_DIFF_RNG_H */
