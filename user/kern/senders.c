// SPDX-License-Identifier: GPL-2.0
/* The senders learned on shared ports: the controller's view of ice_sender_sets. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <bpf/bpf.h>
#include "kern/senders.h"

int senders_seed(int seed_fd)
{
	__u32 zero = 0;
	__u64 seed = 0;

	if (bpf_map_lookup_elem(seed_fd, &zero, &seed))
		return -errno;
	if (seed)
		return 0;
	/* The data path hashes with 0 until then: nothing is learned under it without a program. */
	while (!seed)
		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
			return -errno;
	return bpf_map_update_elem(seed_fd, &zero, &seed, BPF_ANY) ? -errno : 0;
}

/* The set of t and its tag, and the set read whole. */
static int read_set(int sets_fd, int seed_fd, const struct ice_tuple *t, __u32 *idx, __u32 *tag,
		    struct ice_sender_set *set)
{
	__u32 zero = 0;
	__u64 seed, h;

	if (bpf_map_lookup_elem(seed_fd, &zero, &seed))
		return -errno;
	h = gb_ice_hash(t, seed);
	*idx = gb_ice_set_of(h);
	*tag = gb_ice_tag_of(h);
	return bpf_map_lookup_elem(sets_fd, idx, set) ? -errno : 0;
}

int senders_get(int sets_fd, int seed_fd, const struct ice_tuple *t, struct ice_sender *out)
{
	struct ice_sender_set set;
	__u32 idx, tag;
	int err = read_set(sets_fd, seed_fd, t, &idx, &tag, &set);

	if (err)
		return err;
	for (int w = 0; w < GB_ICE_WAYS; w++) {
		if (set.way[w].tag != tag)
			continue;
		out->slot = (__u32)set.way[w].bind;
		out->gen = (__u32)(set.way[w].bind >> 32);
		out->seen_ns = set.way[w].seen_ms * 1000000ULL;
		return 0;
	}
	return -ENOENT;
}

int senders_put(int sets_fd, int seed_fd, const struct ice_tuple *t, const struct ice_sender *in)
{
	struct ice_sender_set set;
	__u32 idx, tag;
	int err = read_set(sets_fd, seed_fd, t, &idx, &tag, &set), w;

	if (err)
		return err;
	for (w = 0; w < GB_ICE_WAYS; w++)
		if (set.way[w].tag == tag)
			break;
	if (w == GB_ICE_WAYS)
		for (w = 0; w < GB_ICE_WAYS; w++)
			if (!set.way[w].tag)
				break;
	if (w == GB_ICE_WAYS)
		return -ENOSPC;
	set.way[w].tag = tag;
	set.way[w].bind = in->slot | (__u64)in->gen << 32;
	/* The data path's clock in ms, wrapping as it does. */
	set.way[w].seen_ms = (__u32)(in->seen_ns / 1000000);
	return bpf_map_update_elem(sets_fd, &idx, &set, BPF_EXIST) ? -errno : 0;
}

int senders_del(int sets_fd, int seed_fd, const struct ice_tuple *t)
{
	struct ice_sender_set set;
	__u32 idx, tag;
	int err = read_set(sets_fd, seed_fd, t, &idx, &tag, &set);

	if (err)
		return err;
	for (int w = 0; w < GB_ICE_WAYS; w++)
		if (set.way[w].tag == tag)
			memset(&set.way[w], 0, sizeof(set.way[w]));
	return bpf_map_update_elem(sets_fd, &idx, &set, BPF_EXIST) ? -errno : 0;
}

int senders_count(int sets_fd, size_t *n)
{
	size_t len = (size_t)GB_ICE_SETS * sizeof(struct ice_sender_set);
	const struct ice_sender_set *sets;

	sets = mmap(NULL, len, PROT_READ, MAP_SHARED, sets_fd, 0);
	if (sets == MAP_FAILED)
		return -errno;
	*n = 0;
	for (size_t i = 0; i < GB_ICE_SETS; i++)
		for (int w = 0; w < GB_ICE_WAYS; w++)
			*n += !!sets[i].way[w].tag;
	munmap((void *)sets, len);
	return 0;
}
