/* SPDX-License-Identifier: GPL-2.0 */
/* The saved rule set (the rules file and the change log) kept in step with the maps. */
#ifndef GEOBLOCK_STATE_SAVE_H
#define GEOBLOCK_STATE_SAVE_H

#include <linux/types.h>
#include "kern/pins.h"
#include "state/changelog.h"
#include "state/rules.h"

/*
 * Writes the state dir's rules file anew from the maps, holding every change logged so far, and
 * empties the log (one error line if it cannot).
 */
int rules_save(const struct gb_ctx *ctx, const struct rules *r);
/*
 * The same from want instead of the maps: a set salvaged from a damaged saved set becomes it
 * (restore, before it makes the maps hold it).
 */
int rules_save_specs(const struct gb_ctx *ctx, const struct spec_list *want);
/* rules_save, when the log has outgrown the rules file; a failure only warns (the log holds all). */
void rules_save_maybe(const struct gb_ctx *ctx, const struct rules *r);
/*
 * A single meeting's change: rules_log_intent logs it before the maps change (meeting s put, or
 * meeting name deleted; one error line if it cannot: nothing changed); then one of the functions
 * below makes the change or marks it done, and if that fails, undoes it in the maps and takes the
 * intent back, one error line saying what was left; rules_log_abort takes the intent back when
 * the change failed before reaching them.
 */
int rules_log_intent(const struct gb_ctx *ctx, const struct meeting_spec *s, const char *name);
void rules_log_abort(const struct gb_ctx *ctx);
/* After meeting id was added (rules_add) or switched (rules_set_monitor). */
int rules_save_added(const struct gb_ctx *ctx, struct rules *r, __u32 id);
int rules_save_switched(const struct gb_ctx *ctx, struct rules *r, __u32 id);
/* Removes meeting id. */
int rules_remove_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id);
/* Gives meeting id the ports of want (rules_set_ports). */
int rules_set_ports_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id,
			  const __u8 want[GB_PORT_COUNT / 8]);
/* Gives meeting id the ufrags of want (ufrags_give). */
int rules_set_ufrags_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id,
			   const struct meeting_spec *want);

#endif
