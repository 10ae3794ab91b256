/* SPDX-License-Identifier: GPL-2.0 */
/* The node's own rule set as a converge to the store's want needs it (fleet/follow.c). */
#ifndef GEOBLOCK_FLEET_LOCAL_H
#define GEOBLOCK_FLEET_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "state/rules.h"
#include "fleet/layout.h"

/* The meetings (any slot taken) and shared ports of the rule set here: 0, or -errno. */
int fleet_local_held(const struct gb_ctx *ctx, size_t *meetings, size_t *shared);
/* The shared ports here, a bit each in ports (GB_PORT_COUNT bits): 0, or -errno. */
int fleet_local_shared(const struct gb_ctx *ctx, __u8 *ports);
/* The shared ports to add and to remove to make r's those of want (bits set, and *any_ set). */
void fleet_shared_diff(const struct rules *r, const __u8 *want, __u8 *add, __u8 *remove,
		       bool *any_add, bool *any_remove);
/*
 * A meeting whose key was refused keeps the version applied here before (a bad write to the store
 * must not lift a block on every node), unless it clashes with what the store now holds: added
 * to w's meetings, its refusal's reason saying so. 0, or -errno.
 */
int fleet_keep_refused(const struct rules *r, struct fleet_want *w);
/*
 * What of the rule set here the store's want w depends on: the versions of refused meetings
 * applied before (fleet_keep_refused), and the shared ports to change (kept: what the last
 * converge applied; drifted: a local change was made since, which may have changed them too).
 * 0, or -errno.
 */
int fleet_compare_local(const struct gb_ctx *ctx, const struct fleet_kept *kept, bool drifted,
			struct fleet_want *w, __u8 *add, __u8 *remove, bool *any_add,
			bool *any_remove);
/* Whether the rule set here holds no meeting and no shared port; if it does, why says so. */
bool fleet_local_empty(const struct gb_ctx *ctx, const char *prefix, char *why, size_t len);

#endif
