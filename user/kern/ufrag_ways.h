/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Short ufrags in ufrag_sets, as the data path looks them up (bpf/geoblock.h): a way holding the
 * ufrag's slot and its hash's high bits, in its first line or else its second.
 */
#ifndef GEOBLOCK_UFRAG_WAYS_H
#define GEOBLOCK_UFRAG_WAYS_H

#include <stdbool.h>
#include "geoblock.h"

/* The hash of ufrag (GB_UFRAG_SHORT characters at most) under seed, as the data path takes it. */
__u64 ufrag_ways_hash(const char *ufrag, __u64 seed);

/*
 * Gives ufrag a way for slot: a free way of its first line, else of its second; -ENOSPC if both
 * are full (the data path then finds it in meeting_by_ufrag). sets_fd: ufrag_sets.
 */
int ufrag_ways_put(int sets_fd, const char *ufrag, __u64 seed, __u32 slot);

/* Frees the way of ufrag for slot, if it has one. */
int ufrag_ways_del(int sets_fd, const char *ufrag, __u64 seed, __u32 slot);

/* Whether line idx, way w (its value v) is where ufrag's way for slot v would be. */
bool ufrag_ways_fits(const char *ufrag, __u64 seed, __u32 idx, __u64 v);

#endif
