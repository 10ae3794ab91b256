// SPDX-License-Identifier: GPL-2.0
/* The senders learned on shared ports: the controller's view of ice_sender_sets. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <bpf/bpf.h>
#include "kern/hot.h"
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

/* The two sets t may be in (their indexes and contents) and its tag there. */
struct place {
	__u32 idx[2], tag;
	struct ice_sender_set set[2];
};

static int read_sets(int sets_fd, int seed_fd, const struct ice_tuple *t, struct place *p)
{
	__u32 zero = 0;
	__u64 seed, h;

	if (bpf_map_lookup_elem(seed_fd, &zero, &seed))
		return -errno;
	h = gb_ice_hash(t, seed);
	p->tag = gb_ice_tag_of(h);
	for (int i = 0; i < 2; i++) {
		p->idx[i] = gb_ice_set_of(h, i);
		if (bpf_map_lookup_elem(sets_fd, &p->idx[i], &p->set[i]))
			return -errno;
	}
	return 0;
}

/* The way of p holding want (a tag, or 0 for a free way), first set first; NULL if none. */
static struct ice_way *way_of(struct place *p, __u32 want, int *which)
{
	for (*which = 0; *which < 2; (*which)++)
		for (int w = 0; w < GB_ICE_WAYS; w++)
			if (p->set[*which].way[w].tag == want)
				return &p->set[*which].way[w];
	return NULL;
}

/* Reads the sets of t into p and finds its way (*way NULL if it has none). */
static int find(int sets_fd, int seed_fd, const struct ice_tuple *t, struct place *p,
		struct ice_way **way, int *which)
{
	int err = read_sets(sets_fd, seed_fd, t, p);

	*way = err ? NULL : way_of(p, p->tag, which);
	return err;
}

/*
 * Writes set which of p back whole, where the way of tag changed: its entries in ice_hot (hot_fd,
 * -1 for none) are cleared after.
 */
static int write_set(int sets_fd, int hot_fd, const struct place *p, int which, __u32 tag)
{
	if (bpf_map_update_elem(sets_fd, &p->idx[which], &p->set[which], BPF_EXIST))
		return -errno;
	return hot_fd < 0 ? 0 : hot_forget_way(hot_fd, p->idx[which], tag);
}

int senders_get(int sets_fd, int seed_fd, const struct ice_tuple *t, struct ice_sender *out)
{
	struct ice_way *way;
	struct place p;
	int which, err = find(sets_fd, seed_fd, t, &p, &way, &which);

	if (err || !way)
		return err ?: -ENOENT;
	out->slot = (__u32)way->bind;
	out->gen = (__u32)(way->bind >> 32);
	out->seen_ns = way->seen_ms * 1000000ULL;
	return 0;
}

int senders_put(int sets_fd, int seed_fd, int hot_fd, const struct ice_tuple *t,
		const struct ice_sender *in)
{
	struct ice_way *way;
	struct place p;
	int which, err = find(sets_fd, seed_fd, t, &p, &way, &which);

	if (err)
		return err;
	if (!way)
		way = way_of(&p, 0, &which);
	if (!way)
		return -ENOSPC;
	way->tag = p.tag;
	way->bind = in->slot | (__u64)in->gen << 32;
	/* The data path's clock in ms, wrapping as it does. */
	way->seen_ms = (__u32)(in->seen_ns / 1000000);
	return write_set(sets_fd, hot_fd, &p, which, p.tag);
}

int senders_del(int sets_fd, int seed_fd, int hot_fd, const struct ice_tuple *t)
{
	struct ice_way *way;
	struct place p;
	int which, err = find(sets_fd, seed_fd, t, &p, &way, &which);

	if (err || !way)
		return err;
	memset(way, 0, sizeof(*way));
	return write_set(sets_fd, hot_fd, &p, which, p.tag);
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
