/* SPDX-License-Identifier: GPL-2.0 */
/* Reading whole maps: arrays through mmap or in batches, per-CPU arrays, per-CPU values summed. */
#ifndef GEOBLOCK_MAPS_H
#define GEOBLOCK_MAPS_H

#include <stddef.h>
#include <linux/types.h>

/*
 * A read-only view of the n elements of a BPF_F_MMAPABLE array (the kernel's own memory, so always
 * current): element k at view->base + k * view->stride. -errno if the map cannot be mapped.
 */
struct map_view {
	const void *base;
	size_t stride, len;
};
int map_view_open(int fd, __u32 n, size_t value_size, struct map_view *view);
/*
 * Elements first..first+count-1 of the n (past n: up to n) only; first * the element stride must
 * be a multiple of the page size. view->base is element first.
 */
int map_view_open_part(int fd, __u32 n, size_t value_size, __u32 first, __u32 count,
		       struct map_view *view);
void map_view_close(struct map_view *view);
#define MAP_VIEW_ELEM(view, k) ((const void *)((const char *)(view)->base + (size_t)(k) * (view)->stride))

/* Reads elements 0..n-1 of an array map into out (through a view where the map allows one). */
int read_array(int fd, __u32 n, size_t value_size, void *out);
/* Every key of a hash or trie map (keys of up to MAP_KEY_MAX bytes), malloc'd into *out. */
#define MAP_KEY_MAX	64
int map_keys(int fd, size_t ksz, void **out, size_t *n);
/*
 * Every key and value of a hash map, malloc'd into *keys and *vals (ksz and vsz bytes each), read
 * in batches; *n of them.
 */
int map_entries(int fd, size_t ksz, size_t vsz, void **keys, void **vals, size_t *n);
/* What the kernel charges for a map (its fdinfo "memlock:"); 0 when unknown. */
__u64 map_memlock(int fd);
/* Sums a per-CPU value made of `words` __u64 counters. */
int percpu_sum(int fd, const void *key, __u64 *sum, size_t words);
/* Elements 0..n-1 of a per-CPU array of `words` __u64 counters, each summed over CPUs. */
int percpu_array_sums(int fd, __u32 n, size_t words, __u64 *sums);

#endif
