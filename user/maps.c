// SPDX-License-Identifier: GPL-2.0
/* Reading whole maps: arrays and per-CPU hashes in batches, per-CPU values summed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "maps.h"

int read_array(int fd, __u32 n, size_t value_size, void *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys, batch = 0, done = 0;
	int err = 0;

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

/* Growing output of percpu_hash_read: keys and their summed values. */
struct hash_out {
	__u8 *keys;
	__u64 *sums;
	size_t n, cap, key_size, words;
};

static int out_reserve(struct hash_out *o, size_t more)
{
	size_t cap = o->cap ? o->cap : 256;
	__u8 *k;
	__u64 *s;

	if (o->n + more <= o->cap)
		return 0;
	while (cap < o->n + more)
		cap *= 2;
	k = realloc(o->keys, cap * o->key_size);
	if (!k)
		return -ENOMEM;
	o->keys = k;
	s = realloc(o->sums, cap * o->words * sizeof(__u64));
	if (!s)
		return -ENOMEM;
	o->sums = s;
	o->cap = cap;
	return 0;
}

/* Appends n batch-read elements, summing each value over the CPUs. */
static void out_add(struct hash_out *o, const __u8 *kbuf, const __u64 *vbuf, __u32 n, int ncpu)
{
	for (__u32 i = 0; i < n; i++) {
		const __u64 *v = vbuf + (size_t)i * ncpu * o->words;
		__u64 *sum = o->sums + o->n * o->words;

		memcpy(o->keys + o->n * o->key_size, kbuf + (size_t)i * o->key_size, o->key_size);
		memset(sum, 0, o->words * sizeof(__u64));
		for (int c = 0; c < ncpu; c++)
			for (size_t w = 0; w < o->words; w++)
				sum[w] += v[(size_t)c * o->words + w];
		o->n++;
	}
}

/* One element at a time, for kernels without batch lookups of hash maps. */
static int read_slow(int fd, struct hash_out *o)
{
	__u8 prev[64], next[64];
	void *pk = NULL;
	int err;

	if (o->key_size > sizeof(prev))
		return -E2BIG;
	while (!bpf_map_get_next_key(fd, pk, next)) {
		memcpy(prev, next, o->key_size);
		pk = prev;
		err = out_reserve(o, 1);
		if (err)
			return err;
		err = percpu_sum(fd, next, o->sums + o->n * o->words, o->words);
		if (err == -ENOENT)
			continue;	/* deleted since get_next_key */
		if (err)
			return err;
		memcpy(o->keys + o->n * o->key_size, next, o->key_size);
		o->n++;
	}
	return 0;
}

int percpu_hash_read(int fd, size_t key_size, size_t words, void **keys, __u64 **sums, size_t *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct hash_out o = { .key_size = key_size, .words = words };
	int ncpu = libbpf_num_possible_cpus();
	__u32 chunk = 4096;
	__u8 *kbuf = NULL;
	__u64 *vbuf = NULL;
	__u64 cursor = 0;	/* hash maps page with a 4-byte bucket cursor */
	bool first = true;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	for (;;) {
		__u32 got = chunk;

		if (!kbuf) {
			kbuf = malloc((size_t)chunk * key_size);
			vbuf = malloc((size_t)chunk * ncpu * words * sizeof(__u64));
			if (!kbuf || !vbuf) {
				err = -ENOMEM;
				break;
			}
		}
		err = bpf_map_lookup_batch(fd, first ? NULL : &cursor, &cursor, kbuf, vbuf, &got,
					   &opts);
		err = err ? -errno : 0;
		if (err == -ENOSPC && chunk < (1U << 20)) {
			/* A hash bucket holds more than chunk elements: retry with more room. */
			chunk *= 2;
			free(kbuf);
			free(vbuf);
			kbuf = NULL;
			vbuf = NULL;
			continue;
		}
		if (err && err != -ENOENT)
			break;
		if (out_reserve(&o, got)) {
			err = -ENOMEM;
			break;
		}
		out_add(&o, kbuf, vbuf, got, ncpu);
		if (err == -ENOENT) {
			err = 0;	/* the end of the map */
			break;
		}
		first = false;
	}
	free(kbuf);
	free(vbuf);
	if (err == -EINVAL || err == -EOPNOTSUPP || err == -524 /* the kernel's ENOTSUPP */) {
		o.n = 0;
		err = read_slow(fd, &o);
	}
	if (err) {
		free(o.keys);
		free(o.sums);
		return err;
	}
	*keys = o.keys;
	*sums = o.sums;
	*n = o.n;
	return 0;
}
