/* SPDX-License-Identifier: GPL-2.0 */
/* A live meeting's ports changed in place: checked, then moved one map update per port. */
#ifndef GEOBLOCK_STATE_PORTS_H
#define GEOBLOCK_STATE_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "kern/pins.h"
#include "state/rules.h"

/*
 * The ports meeting id would have after adding (add) or removing the ports of list: want, and in
 * *changed how many of them differ from its ports now (adding a port it owns already changes
 * nothing). Refused with one line in err, want undefined: a port of another meeting (-EEXIST),
 * removing a port it does not own (-ENOENT) or its last one (-EINVAL).
 */
int rules_ports_plan(const struct rules *r, __u32 id, const __u8 list[GB_PORT_COUNT / 8], bool add,
		     __u8 want[GB_PORT_COUNT / 8], unsigned int *changed, char *err, size_t errlen);
/*
 * Gives meeting id exactly the ports of want, one update per port that changes: those it gains
 * first, then those it loses, so that its other ports never see a gap; its policy, id and drop
 * counters stay. A port of another meeting is -EEXIST, nothing changed. It stops at the first
 * update that fails: called again with the ports the meeting had, it gives them back.
 */
int rules_set_ports(const struct gb_ctx *ctx, struct rules *r, __u32 id,
		    const __u8 want[GB_PORT_COUNT / 8]);

#endif
