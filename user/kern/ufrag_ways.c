// SPDX-License-Identifier: GPL-2.0
/*
 * Short ufrags in ufrag_sets. A line is written whole, but only one way of it changes, from 0 to a
 * way or back: a program reading the line meanwhile sees the way, no way, or half of one (slot 0,
 * or another hash), which it takes for no way and looks the ufrag up in meeting_by_ufrag instead.
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include "kern/ufrag_ways.h"

__u64 ufrag_ways_hash(const char *ufrag, __u64 seed)
{
	__u64 w[GB_UFRAG_SHORT / 8] = { 0 };
	size_t len = strnlen(ufrag, GB_UFRAG_SHORT);

	memcpy(w, ufrag, len);
	return gb_ufrag_hash(w, len, seed);
}

bool ufrag_ways_fits(const char *ufrag, __u64 seed, __u32 idx, __u64 v)
{
	__u64 h = ufrag_ways_hash(ufrag, seed);

	return v == gb_ufrag_way(h, v & GB_UFRAG_SLOT_MASK) &&
	       (idx == gb_ufrag_line_of(h, 0) || idx == gb_ufrag_line_of(h, 1));
}

/* Replaces the way holding old (0: a free one) in ufrag's lines with new; -ENOENT if none. */
static int swap_way(int sets_fd, const char *ufrag, __u64 seed, __u64 old, __u64 new)
{
	__u64 h = ufrag_ways_hash(ufrag, seed);
	struct ufrag_line line;

	for (int which = 0; which < 2; which++) {
		__u32 idx = gb_ufrag_line_of(h, which);

		if (bpf_map_lookup_elem(sets_fd, &idx, &line))
			return -errno;
		for (int w = 0; w < GB_UFRAG_WAYS; w++) {
			if (line.way[w] != old)
				continue;
			line.way[w] = new;
			return bpf_map_update_elem(sets_fd, &idx, &line, BPF_EXIST) ? -errno : 0;
		}
	}
	return -ENOENT;
}

int ufrag_ways_put(int sets_fd, const char *ufrag, __u64 seed, __u32 slot)
{
	__u64 way = gb_ufrag_way(ufrag_ways_hash(ufrag, seed), slot);
	int err;

	if (!slot || slot >= GB_UFRAGS_MAX || strlen(ufrag) > GB_UFRAG_SHORT)
		return -EINVAL;
	err = swap_way(sets_fd, ufrag, seed, way, way);
	if (err != -ENOENT)
		return err;
	err = swap_way(sets_fd, ufrag, seed, 0, way);
	return err == -ENOENT ? -ENOSPC : err;
}

int ufrag_ways_del(int sets_fd, const char *ufrag, __u64 seed, __u32 slot)
{
	__u64 way = gb_ufrag_way(ufrag_ways_hash(ufrag, seed), slot);
	int err;

	if (!slot)
		return 0;
	err = swap_way(sets_fd, ufrag, seed, way, 0);
	return err == -ENOENT ? 0 : err;
}
