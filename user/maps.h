/* SPDX-License-Identifier: GPL-2.0 */
/* Reading whole maps: arrays and per-CPU hashes in batches, per-CPU values summed. */
#ifndef GEOBLOCK_MAPS_H
#define GEOBLOCK_MAPS_H

#include <stddef.h>
#include <linux/types.h>

/* Reads elements 0..n-1 of an array map into out. */
int read_array(int fd, __u32 n, size_t value_size, void *out);
/* Sums a per-CPU value made of `words` __u64 counters. */
int percpu_sum(int fd, const void *key, __u64 *sum, size_t words);
/*
 * Reads every element of a per-CPU hash map whose values are `words` __u64 counters, summed over
 * CPUs: *keys gets *n keys of key_size bytes, *sums *n * words sums (NULL when empty); free both.
 */
int percpu_hash_read(int fd, size_t key_size, size_t words, void **keys, __u64 **sums, size_t *n);

#endif
