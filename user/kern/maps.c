// SPDX-License-Identifier: GPL-2.0
/* Reading whole maps: arrays through mmap or in batches, per-CPU arrays, per-CPU values summed. */
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kern/maps.h"

int map_view_open(int fd, __u32 n, size_t value_size, struct map_view *view)
{
	return map_view_open_part(fd, n, value_size, 0, n, view);
}

int map_view_open_part(int fd, __u32 n, size_t value_size, __u32 first, __u32 count,
		       struct map_view *view)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t off;
	void *p;

	memset(view, 0, sizeof(*view));
	/* An array's elements sit 8-byte aligned, and the mapping is whole pages. */
	view->stride = (value_size + 7) & ~(size_t)7;
	off = view->stride * first;
	if (first >= n || off % page)
		return -EINVAL;
	if (count > n - first)
		count = n - first;
	view->len = (view->stride * count + page - 1) / page * page;
	p = mmap(NULL, view->len, PROT_READ, MAP_SHARED, fd, off);
	if (p == MAP_FAILED) {
		int err = -errno;

		memset(view, 0, sizeof(*view));
		return err;
	}
	view->base = p;
	return 0;
}

void map_view_close(struct map_view *view)
{
	if (view->base)
		munmap((void *)view->base, view->len);
	memset(view, 0, sizeof(*view));
}

int read_array(int fd, __u32 n, size_t value_size, void *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys, batch = 0, done = 0;
	struct map_view view;
	int err = 0;

	if (!map_view_open(fd, n, value_size, &view)) {
		if (view.stride == value_size)
			memcpy(out, view.base, (size_t)n * value_size);
		else
			for (__u32 k = 0; k < n; k++)
				memcpy((char *)out + (size_t)k * value_size, MAP_VIEW_ELEM(&view, k),
				       value_size);
		map_view_close(&view);
		return 0;
	}
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (done < n) {
		__u32 count = n - done;

		err = bpf_map_lookup_batch(fd, done ? &batch : NULL, &batch, keys + done,
					   (char *)out + (size_t)done * value_size, &count, &opts);
		done += count;
		if (err) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
	}
	/* Without batch lookups (old kernels): one element at a time. */
	if (err == -EINVAL || err == -EOPNOTSUPP) {
		err = 0;
		for (__u32 k = 0; k < n && !err; k++)
			if (bpf_map_lookup_elem(fd, &k, (char *)out + (size_t)k * value_size))
				err = -errno;
	}
	free(keys);
	return err;
}

int percpu_sum(int fd, const void *key, __u64 *sum, size_t words)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;

	if (ncpu < 0)
		return ncpu;
	vals = calloc((size_t)ncpu * words, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	memset(sum, 0, words * sizeof(__u64));
	if (bpf_map_lookup_elem(fd, key, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	for (int c = 0; c < ncpu; c++)
		for (size_t w = 0; w < words; w++)
			sum[w] += vals[(size_t)c * words + w];
	free(vals);
	return 0;
}

int percpu_array_sums(int fd, __u32 n, size_t words, __u64 *sums)
{
	enum { CHUNK = 1024 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int ncpu = libbpf_num_possible_cpus();
	__u32 keys[CHUNK], batch, done = 0;
	size_t per_elem;
	__u64 *vals;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	per_elem = (size_t)ncpu * words;
	vals = calloc((size_t)CHUNK * per_elem, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	memset(sums, 0, (size_t)n * words * sizeof(*sums));
	while (done < n && !err) {
		__u32 count = n - done < CHUNK ? n - done : CHUNK;

		if (bpf_map_lookup_batch(fd, done ? &batch : NULL, &batch, keys, vals, &count,
					 &opts) && errno != ENOENT)
			err = -errno;
		for (__u32 i = 0; i < count && !err; i++)
			for (int c = 0; c < ncpu; c++)
				for (size_t w = 0; w < words; w++)
					sums[(size_t)(done + i) * words + w] +=
						vals[i * per_elem + (size_t)c * words + w];
		if (!err && !count)
			break;
		done += count;
	}
	/* Without batch lookups (old kernels): one element at a time. */
	if (err == -EINVAL || err == -EOPNOTSUPP) {
		err = 0;
		for (__u32 k = 0; k < n && !err; k++)
			err = percpu_sum(fd, &k, sums + (size_t)k * words, words);
	}
	free(vals);
	return err;
}

int map_keys(int fd, size_t ksz, void **out, size_t *n)
{
	__u8 key[MAP_KEY_MAX], next[MAP_KEY_MAX];
	size_t cap = 0;
	void *prev = NULL;
	int err;

	*out = NULL;
	*n = 0;
	if (ksz > MAP_KEY_MAX)
		return -EINVAL;
	while (!(err = bpf_map_get_next_key(fd, prev, next))) {
		if (*n == cap) {
			void *v = realloc(*out, (cap = cap ? cap * 2 : 64) * ksz);

			if (!v)
				return -ENOMEM;
			*out = v;
		}
		memcpy((__u8 *)*out + *n * ksz, next, ksz);
		(*n)++;
		memcpy(key, next, ksz);
		prev = key;
	}
	return err == -ENOENT ? 0 : err;
}

int map_entries(int fd, size_t ksz, size_t vsz, void **keys, void **vals, size_t *n)
{
	enum { CHUNK = 4096 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t cap = 0;
	__u64 batch;	/* a hash map's batch token is a bucket index (4 bytes) */
	bool first = true;
	int err = 0;

	*keys = *vals = NULL;
	*n = 0;
	for (;;) {
		__u32 count = CHUNK;

		if (*n + CHUNK > cap) {
			void *k = realloc(*keys, (cap + CHUNK) * ksz);
			void *v = k ? realloc(*vals, (cap + CHUNK) * vsz) : NULL;

			if (k)
				*keys = k;
			if (v)
				*vals = v;
			if (!k || !v) {
				err = -ENOMEM;
				break;
			}
			cap += CHUNK;
		}
		if (bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch,
					 (__u8 *)*keys + *n * ksz, (__u8 *)*vals + *n * vsz, &count,
					 &opts)) {
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			*n += count;
			break;
		}
		first = false;
		*n += count;
	}
	if (err) {
		free(*keys);
		free(*vals);
		*keys = *vals = NULL;
		*n = 0;
	}
	return err;
}

__u64 map_memlock(int fd)
{
	char path[64], line[128];
	__u64 bytes = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", (unsigned long long *)&bytes) == 1)
			break;
	fclose(f);
	return bytes;
}
