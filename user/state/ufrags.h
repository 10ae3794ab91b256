/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ufrags of the rule set in the maps (meetings on shared ports, told apart by ICE): each a slot
 * of ufrag_owner (meeting id, generation) named by its key in meeting_by_ufrag. struct rules holds
 * one ufrag_set; every function returns 0 or a negative errno.
 */
#ifndef GEOBLOCK_STATE_UFRAGS_H
#define GEOBLOCK_STATE_UFRAGS_H

#include <stddef.h>
#include <linux/types.h>
#include "kern/hot.h"
#include "kern/maps.h"
#include "geoblock.h"

/* A key left by an interrupted change, and the map it is in. */
struct ufrag_stray {
	int fd;
	struct ufrag_long_key key;	/* a short key is its start */
};

struct ufrag_set {
	const struct ufrag_slot *slots;		/* ufrag_owner, mapped: what the data path reads */
	char **text;				/* per slot: its ufrag, NULL for none */
	/* Each meeting's slots as a list: first[id], then next[slot] (0 ends). */
	__u32 *first, *next, *prev;
	size_t used;
	int key_fd, long_fd, slot_fd;		/* meeting_by_ufrag, meeting_by_long_ufrag, ufrag_owner */
	int sets_fd;				/* ufrag_sets: short ufrags by their hash */
	__u64 seed;				/* ice_seed: the hash's */
	/* Left by an interrupted change: keys of no slot (or of a taken one), of either map. */
	struct ufrag_stray *stray;
	size_t n_stray;
	struct map_view view;
	struct hot hot;				/* ice_hot: meetings' senders lose theirs */
};

struct geoblock;

/* Reads the maps whole into u: each key's text at its slot, each slot in its meeting's list. */
int ufrags_read(struct ufrag_set *u, const struct geoblock *skel);
void ufrag_set_free(struct ufrag_set *u);
/* Meeting id's ufrags, sorted, malloc'd (ufrag_list_free of lib/parse.h); *n 0: none. */
int ufrags_of(const struct ufrag_set *u, __u32 id, char ***out, size_t *n);
/* The meeting ufrag belongs to (0: none). */
__u32 ufrag_owner(const struct ufrag_set *u, const char *ufrag);
/* Slots free for new ufrags. */
size_t ufrags_room(const struct ufrag_set *u);
/*
 * Gives each ufrag of list to meeting id (its other ufrags kept), each in one update of what the
 * data path reads: a new one gets its slot before its key (and a short one its way in ufrag_sets
 * after); one moved from another meeting keeps its slot, and its senders. Then the entries of
 * ice_hot that hold the meetings they were taken from are cleared, in one pass.
 */
int ufrags_add(struct ufrag_set *u, __u32 id, char *const *list, size_t n);
/* Gives meeting id exactly the ufrags of list (sorted): gained ones first, then lost ones. */
int ufrags_give(struct ufrag_set *u, __u32 id, char *const *list, size_t n);
/* Takes every ufrag from meeting id. */
int ufrags_release(struct ufrag_set *u, __u32 id);
/*
 * Clears ice_hot whole if a change stopped while clearing entries of it; deletes stray keys; frees
 * slots of no key, and of a meeting whose policy slot is empty; frees ways of ufrag_sets that name
 * no slot's ufrag and gives one to each short ufrag without.
 */
int ufrags_repair(struct ufrag_set *u, const struct meeting_policy *policies);

#endif
