// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of gb_ice_hash (bpf/geoblock.h), which files a shared port's senders: a bit of a
 * sender flipped changes about half of the hash's bits, in the tag and in the set index alike; a
 * million senders as a media server sees them (addresses in a few networks, ports in a row) fill
 * ice_sender_sets with as few evicted as random draws would; 100,000 of them spread over the lines
 * of ice_hot; another seed files them elsewhere.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "geoblock.h"
#include "check.h"
#include "../diff/rng.h"

#define SENDERS		1000000
#define ACTIVE		100000

/* Sender i of a busy server: half IPv4 (a few /16s, hosts in a row), half IPv6 (a few /64s). */
static struct ice_tuple sender(__u32 i)
{
	struct ice_tuple t = { .dport = 10000 };
	__u32 host = i / 2;

	t.sport = htons(50000 + i % 2 * 7 + host % 8);
	if (i % 2) {
		t.family = 6;
		t.saddr[0] = 0x20;
		t.saddr[1] = 0x01;
		t.saddr[2] = 0x0d;
		t.saddr[3] = 0xb8;
		t.saddr[7] = host / 8 % 4;
		memcpy(&t.saddr[12], &(__be32){ htonl(host / 8) }, 4);
	} else {
		t.family = 4;
		t.saddr[0] = 100;
		t.saddr[1] = 64 + host / 8 % 4;
		memcpy(&t.saddr[2], &(__be16){ htons(host / 32) }, 2);
	}
	return t;
}

/* How far a share p is from a half. */
static double off_half(double p)
{
	return p > 0.5 ? p - 0.5 : 0.5 - p;
}

/*
 * Each bit the data path fills (source address, source port, destination port, family) flipped in
 * 4,000 random senders under random seeds: the mean number of hash bits that change, and how
 * often each bit of the hash and of the first set's index changes.
 */
static void avalanche(void)
{
	static const struct { int from, bits; } fields[] = {
		{ 0, 128 }, { 128, 16 }, { 144, 16 }, { 160, 8 },
	};
	struct rng r = { 0x2545f4914f6cdd1dULL };
	double worst_mean = 32, furthest = 0;
	char label[128];

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		for (int b = fields[f].from; b < fields[f].from + fields[f].bits; b++) {
			int flips[64] = { 0 }, set_flips[19] = { 0 }, n = 4000;
			long total = 0;

			for (int s = 0; s < n; s++) {
				struct ice_tuple t;
				__u64 seed = rng_next(&r), h, g;
				__u32 d;

				for (size_t k = 0; k < sizeof(t); k += 8) {
					__u64 v = rng_next(&r);

					memcpy((char *)&t + k, &v, 8);
				}
				memset(t.pad, 0, sizeof(t.pad));
				h = gb_ice_hash(&t, seed);
				((__u8 *)&t)[b / 8] ^= 1 << (b % 8);
				g = gb_ice_hash(&t, seed);
				total += __builtin_popcountll(h ^ g);
				for (int j = 0; j < 64; j++)
					flips[j] += (h ^ g) >> j & 1;
				d = gb_ice_set_of(h, 0) ^ gb_ice_set_of(g, 0);
				for (int j = 0; j < 19; j++)
					set_flips[j] += d >> j & 1;
			}
			double mean = (double)total / n;

			if (mean < worst_mean)
				worst_mean = mean;
			for (int j = 0; j < 64; j++) {
				double o = off_half((double)flips[j] / n);

				if (o > furthest)
					furthest = o;
			}
			for (int j = 0; j < 19; j++) {
				double p = (double)set_flips[j] / n;

				if (off_half(p) <= 0.1)
					continue;
				snprintf(label, sizeof(label), "input bit %d flips set bit %d in "
					 "40-60%% (%.3f)", b, j, p);
				CHECK(label, 0);
			}
		}
	printf("avalanche: least mean %.2f bits of 64, furthest from half %.3f\n", worst_mean,
	       furthest);
	snprintf(label, sizeof(label),
		 "every input bit flips 30 or more of 64 on average (least %.2f)", worst_mean);
	CHECK(label, worst_mean >= 30);
	snprintf(label, sizeof(label), "every input bit flips each hash bit in 40-60%% of senders "
		 "(furthest from half %.3f)", furthest);
	CHECK(label, furthest <= 0.1);
}

/* The data path's placement (learn_sender): a free way of the first set, else of the second. */
static void placement(void)
{
	__u8 *used = calloc(GB_ICE_SETS, 1);
	unsigned short *line = calloc(GB_ICE_HOT_LINES, sizeof(*line));
	__u64 seed = 0x8badf00d5eedULL, other = seed ^ 1;
	long evicted = 0, moved = 0, crowded = 0;
	char label[128];

	if (!used || !line) {
		CHECK("memory", 0);
		free(used);
		free(line);
		return;
	}
	for (__u32 i = 0; i < SENDERS; i++) {
		struct ice_tuple t = sender(i);
		__u64 h = gb_ice_hash(&t, seed);
		__u32 first = gb_ice_set_of(h, 0), second = gb_ice_set_of(h, 1);

		if (used[first] < GB_ICE_WAYS)
			used[first]++;
		else if (used[second] < GB_ICE_WAYS)
			used[second]++;
		else
			evicted++;
		if (i < ACTIVE)
			line[gb_ice_hot_line_of(gb_ice_tag_of(h))]++;
		moved += gb_ice_set_of(gb_ice_hash(&t, other), 0) != first;
	}
	for (__u32 l = 0; l < GB_ICE_HOT_LINES; l++)
		crowded += line[l] > GB_ICE_HOT_WAYS;
	/* Random draws: about 0.3% evicted, about 140 lines of more than 8 (Poisson, mean 3.05). */
	snprintf(label, sizeof(label), "1,000,000 senders: under 0.6%% evicted (%ld)", evicted);
	CHECK(label, evicted < SENDERS * 6 / 1000);
	snprintf(label, sizeof(label),
		 "100,000 active senders: under 280 lines of ice_hot over 8 (%ld)", crowded);
	CHECK(label, crowded < 280);
	snprintf(label, sizeof(label), "another seed: 99.9%% of senders in another first set (%ld)",
		 moved);
	CHECK(label, moved > SENDERS * 999 / 1000);
	printf("1,000,000 senders: %ld evicted; 100,000 active: %ld lines over %d; "
	       "another seed moved %ld\n", evicted, crowded, GB_ICE_HOT_WAYS, moved);
	free(used);
	free(line);
}

int main(void)
{
	avalanche();
	placement();
	return check_summary();
}
