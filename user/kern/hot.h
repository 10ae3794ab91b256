/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ice_hot, the data path's cache of learned senders (bpf/geoblock.h), as the controller keeps it
 * true. An entry holds the meeting its sender's binding resolved to and its source's country, so
 * it must go when that binding no longer resolves so: when the way it names changes (the data
 * path clears it then; so do senders_put and senders_del), when its ufrag is freed or moved to
 * another meeting (the change clears the entries of the meetings it took ufrags from), and when
 * new tables go live (every entry goes). A change counts itself in the control line before and
 * after it clears, and the data path neither reads nor puts entries while the count is odd.
 * Clearing comes after a full barrier, so that a data path that put an entry from what was there
 * before either sees the change or has its entry cleared. Functions return 0 or -errno.
 */
#ifndef GEOBLOCK_HOT_H
#define GEOBLOCK_HOT_H

#include <stdbool.h>
#include <linux/types.h>
#include "geoblock.h"

/* Meetings as bits, for hot_forget. */
#define HOT_MEETING_WORDS	((GB_MAX_MEETINGS + 63) / 64)

struct hot {
	struct ice_hot_line *lines;	/* mapped: the data path's lines, then GB_ICE_HOT_CONTROL */
	__u64 forget[HOT_MEETING_WORDS];	/* meetings whose entries go at hot_forget */
	bool marked;
	bool all;			/* every entry goes: a change before stopped while clearing */
};

int hot_open(int fd, struct hot *h);
void hot_close(struct hot *h);
/*
 * Before a change that frees or moves a ufrag of meeting id: marks it, and counts the change (odd),
 * so that if it stops before hot_forget, the data path leaves ice_hot alone until the next change
 * clears all (in its hot_repair, or in its hot_forget if it marks first).
 */
void hot_mark(struct hot *h, __u32 id);
/* Before a change that puts new tables live: every entry is to be cleared. */
void hot_mark_all(struct hot *h);
/* After the change is in the maps: clears the marked meetings' entries (all, if so marked). */
void hot_forget(struct hot *h);
/* Clears every entry if a change stopped between hot_mark and hot_forget: true if it did. */
bool hot_repair(struct hot *h);
/*
 * The entries in use, and whether the count is odd: a change is clearing, or one stopped half way
 * (the data path leaves ice_hot alone until the next change that clears repairs it).
 */
void hot_census(const struct hot *h, size_t *used, bool *suspended);
/* hot_census of the lines of ice_hot's fd, mapped read-only for the while: 0 or -errno. */
int hot_census_fd(int fd, size_t *used, bool *suspended);
/* Clears the entries that name the way (set, tag) of ice_sender_sets (ice_hot's fd). */
int hot_forget_way(int fd, __u32 set, __u32 tag);

#endif
