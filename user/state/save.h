/* SPDX-License-Identifier: GPL-2.0 */
/* The state dir's rules file, kept in step with the maps. */
#ifndef GEOBLOCK_STATE_SAVE_H
#define GEOBLOCK_STATE_SAVE_H

#include <linux/types.h>
#include "kern/pins.h"
#include "state/rules.h"

#define GB_RULES_FILE	"rules"

/* Writes the state dir's rules file from the maps. */
int rules_save(const struct gb_ctx *ctx, const struct rules *r);
/*
 * The rules file after meeting id was added or switched (rules_set_monitor); if it cannot be
 * written, the change is undone in the maps and one error line says so. The journal goes once
 * the maps and the file agree.
 */
int rules_save_added(const struct gb_ctx *ctx, struct rules *r, __u32 id);
int rules_save_switched(const struct gb_ctx *ctx, struct rules *r, __u32 id);
/* Removes meeting id, rules file first: if it cannot be written, the maps are left as they were. */
int rules_remove_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id);
/*
 * Gives meeting id the ports of want (rules_set_ports), then writes the rules file; if either
 * fails, the meeting gets its ports back and one error line says so. The journal as above.
 */
int rules_set_ports_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id,
			  const __u8 want[GB_PORT_COUNT / 8]);

#endif
