/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared ports and meetings' ICE ufrags changed as the CLI and the control API both change them;
 * each returns 0 or -errno as state/ops.h's do, after one error line.
 */
#ifndef GEOBLOCK_STATE_OPS_ICE_H
#define GEOBLOCK_STATE_OPS_ICE_H

#include <stddef.h>
#include <linux/types.h>
#include "kern/pins.h"
#include "state/audit.h"
#include "geoblock.h"

/* What a change of a meeting's ufrags did. */
struct ops_ufrags {
	unsigned int added, removed;
	char **after;			/* the meeting's ufrags after it (ufrag_list_free) */
	size_t n_after;
};

/* add and remove: sorted lists (parse_ufrags), either empty. */
int ops_meeting_ufrags(const struct gb_ctx *ctx, const struct audit_caller *who, const char *name,
		       char *const *add, size_t n_add, char *const *remove, size_t n_remove,
		       const char *reason, struct ops_ufrags *out);
/* What a change of the shared ports did: the set before and after. */
struct ops_shared {
	unsigned int changed;
	__u8 before[GB_PORT_COUNT / 8];
	__u8 after[GB_PORT_COUNT / 8];
};

/* Shares the ports of add, or stops sharing those of remove (one of them NULL). */
int ops_shared_ports(const struct gb_ctx *ctx, const struct audit_caller *who, const __u8 *add,
		     const __u8 *remove, const char *reason, struct ops_shared *out);
#endif
