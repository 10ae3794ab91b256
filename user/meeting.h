/* SPDX-License-Identifier: GPL-2.0 */
/* The rule set as read from the maps, for the commands that show or change meetings. */
#ifndef GEOBLOCK_MEETING_H
#define GEOBLOCK_MEETING_H

#include "common.h"

struct rules {
	struct meeting_policy *policies;	/* GB_MAX_MEETINGS slots, index = meeting id */
	struct port_owner *owners;		/* GB_PORT_COUNT entries, index = port */
};

int rules_read(const struct gb_ctx *ctx, struct rules *r);
void rules_free(struct rules *r);
__u32 rules_find(const struct rules *r, const char *name);
void rules_ports_of(const struct rules *r, __u32 id, __u8 ports[GB_PORT_COUNT / 8]);
/* Finishes what an interrupted change left: inactive slots and ports without a meeting. */
int rules_repair(const struct gb_ctx *ctx, struct rules *r);

#endif
