// SPDX-License-Identifier: GPL-2.0
/* ice_hot, the data path's cache of learned senders: its entries cleared by the controller. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "kern/hot.h"

#define HOT_LEN	((size_t)(GB_ICE_HOT_LINES + 1) * sizeof(struct ice_hot_line))

/*
 * The count of the changes that cleared entries (the line past the data path's): odd while one
 * does, or since one stopped half way. Changes hold the state lock, so one writes it at a time.
 */
#define HOT_COUNT(h)	(&(h)->lines[GB_ICE_HOT_CONTROL].e[0])

int hot_open(int fd, struct hot *h)
{
	void *p = mmap(NULL, HOT_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	memset(h, 0, sizeof(*h));
	if (p == MAP_FAILED)
		return -errno;
	h->lines = p;
	return 0;
}

void hot_close(struct hot *h)
{
	if (h->lines)
		munmap(h->lines, HOT_LEN);
	h->lines = NULL;
}

/*
 * Clears entry *e if it is still what was read, marked used or not (a packet may mark it
 * meanwhile): the data path may have put another there, which stays.
 */
static void clear_entry(__u64 *e, __u64 seen)
{
	__u64 was = seen;

	while (!__atomic_compare_exchange_n(e, &seen, 0, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED) &&
	       !((seen ^ was) & ~GB_ICE_HOT_REF))
		;
}

/* Makes the count odd, so that the data path leaves ice_hot alone until forget. */
static void begin(struct hot *h)
{
	__u64 n;

	if (h->marked)
		return;
	h->marked = true;
	n = __atomic_load_n(HOT_COUNT(h), __ATOMIC_SEQ_CST);
	/* Left odd by a change that stopped: this one clears every entry, not only its own. */
	if (n & 1)
		h->all = true;
	else
		__atomic_store_n(HOT_COUNT(h), n + 1, __ATOMIC_SEQ_CST);
}

void hot_mark(struct hot *h, __u32 id)
{
	if (!h->lines || !id || id >= GB_MAX_MEETINGS)
		return;
	begin(h);
	h->forget[id / 64] |= 1ULL << (id % 64);
}

void hot_mark_all(struct hot *h)
{
	if (!h->lines)
		return;
	begin(h);
	h->all = true;
}

/* Clears the entries whose meeting is marked in forget (all: every one). */
static void forget(struct hot *h, bool all)
{
	/* The change is in the maps before any entry is read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (__u32 i = 0; i < GB_ICE_HOT_LINES; i++)
		for (int w = 0; w < GB_ICE_HOT_WAYS; w++) {
			__u64 e = __atomic_load_n(&h->lines[i].e[w], __ATOMIC_RELAXED);
			__u32 id = e & GB_ICE_HOT_MEETING_MASK;

			if (e && (all || (id < GB_MAX_MEETINGS && h->forget[id / 64] >> (id % 64) & 1)))
				clear_entry(&h->lines[i].e[w], e);
		}
	/* Even again (begin made it odd, or found it so). */
	__atomic_add_fetch(HOT_COUNT(h), 1, __ATOMIC_SEQ_CST);
	memset(h->forget, 0, sizeof(h->forget));
	h->marked = h->all = false;
}

void hot_forget(struct hot *h)
{
	if (h->lines && h->marked)
		forget(h, h->all);
}

bool hot_repair(struct hot *h)
{
	if (!h->lines || !(__atomic_load_n(HOT_COUNT(h), __ATOMIC_SEQ_CST) & 1))
		return false;
	forget(h, true);
	return true;
}

void hot_census(const struct hot *h, size_t *used, bool *suspended)
{
	*used = 0;
	*suspended = false;
	if (!h->lines)
		return;
	*suspended = __atomic_load_n(HOT_COUNT(h), __ATOMIC_RELAXED) & 1;
	for (__u32 i = 0; i < GB_ICE_HOT_LINES; i++)
		for (int w = 0; w < GB_ICE_HOT_WAYS; w++)
			*used += !!__atomic_load_n(&h->lines[i].e[w], __ATOMIC_RELAXED);
}

int hot_census_fd(int fd, size_t *used, bool *suspended)
{
	struct hot h = {};

	*used = 0;
	*suspended = false;
	/* Read only: a reader of the counters needs no write access to the data path's lines. */
	h.lines = mmap(NULL, HOT_LEN, PROT_READ, MAP_SHARED, fd, 0);
	if (h.lines == MAP_FAILED)
		return -errno;
	hot_census(&h, used, suspended);
	munmap(h.lines, HOT_LEN);
	return 0;
}

int hot_forget_way(int fd, __u32 set, __u32 tag)
{
	__u64 id = gb_ice_hot_id(set, tag);
	struct ice_hot_line *line;
	struct hot h;
	int err = hot_open(fd, &h);

	if (err)
		return err;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	line = &h.lines[gb_ice_hot_line_of(tag)];
	for (int w = 0; w < GB_ICE_HOT_WAYS; w++) {
		__u64 e = __atomic_load_n(&line->e[w], __ATOMIC_RELAXED);

		if (gb_ice_hot_names(e, id))
			clear_entry(&line->e[w], e);
	}
	hot_close(&h);
	return 0;
}
