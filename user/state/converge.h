/* SPDX-License-Identifier: GPL-2.0 */
/* Making the maps hold a whole rule set, and what every change of it runs first. */
#ifndef GEOBLOCK_STATE_CONVERGE_H
#define GEOBLOCK_STATE_CONVERGE_H

#include <stdbool.h>
#include <stddef.h>
#include "kern/pins.h"
#include "state/rules.h"

struct json_object;

/*
 * Takes the rule set for a change (the caller holds the lock): reads it, repairs it, rolls back
 * an interrupted change, with lost_back puts the rules file back into maps that were made anew
 * (they hold no meeting while the file lists some: audited), and removes expired meetings
 * (audited): how many in *expired if not NULL.
 */
int rules_begin(const struct gb_ctx *ctx, struct rules *r, bool lost_back, int *expired);
/*
 * Deletes the meetings whose expiry has passed, audited; returns how many, or -errno. Locks. Also
 * shrinks the data path's tables to the countries of the meetings left.
 */
int rules_expire(const struct gb_ctx *ctx);
/*
 * The same on r, read and locked by the caller (a daemon's kept rule set): how many, or -errno.
 * Also clears ice_hot if a change stopped while clearing it (hot_repair), with a warning.
 */
int rules_expire_in(const struct gb_ctx *ctx, struct rules *r);
/*
 * After a change under the lock that removed meetings naming countries: the data path's tables
 * shrink to the countries still named (a failure is only logged: they still tell those apart).
 */
void rules_shrink_table(const struct gb_ctx *ctx, struct rules *r);
/*
 * Makes the maps hold exactly want, all or nothing: a journal in the state dir makes the next
 * change roll back a run that died midway; a failed step rolls back at once. The planned changes
 * are appended to changes (a JSON array) if not NULL.
 */
int rules_converge(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *want,
		   struct json_object *changes);
/*
 * How many meetings the saved rule set lists while the maps r holds none (their pins were lost,
 * a reboot before restore, and made anew): what the next change puts back first; else 0.
 */
size_t rules_lost(const struct gb_ctx *ctx, const struct rules *r);
/* Makes the maps hold the state dir's rules file (restore); changes as in rules_plan_print. */
int rules_recover(const struct gb_ctx *ctx, struct rules *r, struct json_object *changes);

#endif
