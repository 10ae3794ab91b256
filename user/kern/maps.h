/* SPDX-License-Identifier: GPL-2.0 */
/* Reading whole maps: arrays and per-CPU arrays in batches, per-CPU values summed. */
#ifndef GEOBLOCK_MAPS_H
#define GEOBLOCK_MAPS_H

#include <stddef.h>
#include <linux/types.h>

/* Reads elements 0..n-1 of an array map into out. */
int read_array(int fd, __u32 n, size_t value_size, void *out);
/* Sums a per-CPU value made of `words` __u64 counters. */
int percpu_sum(int fd, const void *key, __u64 *sum, size_t words);
/* Elements 0..n-1 of a per-CPU array of `words` __u64 counters, each summed over CPUs. */
int percpu_array_sums(int fd, __u32 n, size_t words, __u64 *sums);

#endif
