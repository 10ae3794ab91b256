/* SPDX-License-Identifier: GPL-2.0 */
/* The daemon's references to the pinned links, so that removing the pins does not detach them. */
#ifndef GEOBLOCK_LINK_KEEPER_H
#define GEOBLOCK_LINK_KEEPER_H

#include <stdbool.h>
#include <linux/types.h>
#include "kern/pins.h"

#define KEEPER_MAX 256	/* an fd each: the API's connections share the open files */

struct link_keeper {
	struct {
		char name[16];	/* the interface's name in the pin (link_NAME) */
		int fd;
		__u32 id;
	} held[KEEPER_MAX];
	int n;
	int inotify_fd;		/* events on the pin dir; poll it, then call keeper_pass */
	int wd;
	int repin_failed;	/* the last re-pin's error, so that it is logged once */
	bool full_said;		/* more links than held[] takes: said once */
};

int keeper_init(struct link_keeper *k);
/*
 * Under the state lock: lets go of links that were detached or whose interface is gone, pins the
 * maps and held links again if their pins were removed (one line on stderr), and holds every
 * attached link newly pinned. Call at start, on every tick and when inotify_fd is readable.
 */
void keeper_pass(struct link_keeper *k, const struct gb_ctx *ctx);
/*
 * When inotify_fd is readable, before keeper_pass: returns once the pin dir has had no event for
 * 200 ms (5 s at most), so that pins being removed (`rm -rf`) are not pinned again halfway.
 */
void keeper_settle(struct link_keeper *k);
void keeper_free(struct link_keeper *k);

#endif
