// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/kern/hot.c, the controller's side of ice_hot, on memory standing in for the
 * map: a change clears the entries of the meetings it marked and no other, counting itself in the
 * control word (odd while it clears, even after); one that finds the count left odd by a change
 * that stopped clears every entry (the daemon's kept rule set reaches that path, with no repair
 * before it); hot_repair clears all only when the count is odd; new tables clear every entry,
 * counted once; hot_forget_way clears the entries naming one way, marked used or not. The map is a
 * memfd of its size, opened through hot_open as the map's fd is.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "kern/hot.h"
#include "check.h"

#define LEN	((size_t)(GB_ICE_HOT_LINES + 1) * sizeof(struct ice_hot_line))

static struct hot h;

static __u64 *count(void)
{
	return &h.lines[GB_ICE_HOT_CONTROL].e[0];
}

/* An entry of meeting id naming way (set, tag), marked used or not. */
static __u64 entry(__u32 set, __u32 tag, __u32 id, bool used)
{
	return gb_ice_hot_id(set, tag) | id | (used ? GB_ICE_HOT_REF : 0);
}

/* A tag of line line. */
static __u32 tag_of(__u32 line, __u32 high)
{
	return line | high << GB_ICE_HOT_LINE_BITS;
}

/* Entries of meetings 1, 2 and 3 in lines 0, 100 and the last, two of them marked used. */
static void seed(void)
{
	memset(h.lines, 0, LEN - sizeof(struct ice_hot_line));
	h.lines[0].e[0] = entry(1, tag_of(0, 1), 1, false);
	h.lines[0].e[3] = entry(2, tag_of(0, 2), 2, true);
	h.lines[100].e[7] = entry(3, tag_of(100, 3), 3, false);
	h.lines[GB_ICE_HOT_LINES - 1].e[1] = entry(4, tag_of(GB_ICE_HOT_LINES - 1, 4), 1, true);
}

static int in_use(__u32 id)
{
	int n = 0;

	for (__u32 i = 0; i < GB_ICE_HOT_LINES; i++)
		for (int w = 0; w < GB_ICE_HOT_WAYS; w++)
			n += h.lines[i].e[w] && (!id || (h.lines[i].e[w] &
							 GB_ICE_HOT_MEETING_MASK) == id);
	return n;
}

int main(void)
{
	int fd = memfd_create("ice_hot", 0);
	size_t used;
	bool suspended;

	if (fd < 0 || ftruncate(fd, LEN) || hot_open(fd, &h))
		return 2;

	seed();
	hot_census(&h, &used, &suspended);
	CHECK_INT("census_used", 4, used);
	CHECK("census_not_suspended", !suspended);

	/* A change that takes a ufrag from meeting 1: its two entries go, and only they. */
	hot_mark(&h, 1);
	CHECK_INT("marked_count_odd", 1, *count());
	hot_census(&h, &used, &suspended);
	CHECK("census_suspended_while_clearing", suspended);
	hot_forget(&h);
	CHECK_INT("forget_count_even", 2, *count());
	CHECK_INT("forget_meeting_1_gone", 0, in_use(1));
	CHECK_INT("forget_others_kept", 2, in_use(0));
	hot_forget(&h);
	CHECK_INT("forget_unmarked_counts_nothing", 2, *count());

	/* A change that stopped after hot_mark: the count left odd; the next change clears all. */
	seed();
	*count() = 3;
	hot_mark(&h, 2);
	CHECK_INT("mark_on_odd_leaves_it_odd", 3, *count());
	hot_forget(&h);
	CHECK_INT("odd_found_every_entry_cleared", 0, in_use(0));
	CHECK_INT("odd_found_count_even", 4, *count());

	/* hot_repair: nothing while the count is even, every entry once it is odd. */
	seed();
	CHECK("repair_even_does_nothing", !hot_repair(&h));
	CHECK_INT("repair_even_entries_kept", 4, in_use(0));
	CHECK_INT("repair_even_count_kept", 4, *count());
	*count() = 5;
	CHECK("repair_odd_repairs", hot_repair(&h));
	CHECK_INT("repair_odd_every_entry_cleared", 0, in_use(0));
	CHECK_INT("repair_odd_count_even", 6, *count());

	/* New tables: every entry goes, counted once. */
	seed();
	hot_mark_all(&h);
	hot_mark(&h, 3);
	hot_forget(&h);
	CHECK_INT("mark_all_every_entry_cleared", 0, in_use(0));
	CHECK_INT("mark_all_counted_once", 8, *count());

	/* The entries naming one way, marked used or not, and no other (through the fd's own map). */
	seed();
	h.lines[100].e[2] = entry(3, tag_of(100, 3), 3, true);	/* the same way, twice */
	h.lines[100].e[4] = entry(3, tag_of(100, 5), 3, false);	/* another tag of the line */
	h.lines[100].e[5] = entry(6, tag_of(100, 3), 3, false);	/* another set */
	CHECK_INT("forget_way", 0, hot_forget_way(fd, 3, tag_of(100, 3)));
	CHECK("forget_way_cleared", !h.lines[100].e[7] && !h.lines[100].e[2]);
	CHECK("forget_way_other_tag_kept", h.lines[100].e[4] != 0);
	CHECK("forget_way_other_set_kept", h.lines[100].e[5] != 0);
	CHECK_INT("forget_way_others_kept", 5, in_use(0));
	CHECK_INT("forget_way_counts_nothing", 8, *count());
	hot_close(&h);
	close(fd);
	return check_summary();
}
