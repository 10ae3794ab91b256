/* SPDX-License-Identifier: GPL-2.0 */
/* What a change of the whole rule set does to the maps, carried out make-before-break. */
#ifndef GEOBLOCK_STATE_PLAN_H
#define GEOBLOCK_STATE_PLAN_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "kern/pins.h"
#include "state/rules.h"

struct json_object;

/*
 * What apply (or a rollback, or restore) changes to make the maps hold a given set. In place
 * (the meeting keeps its slot and counters): its mode alone (PLAN_MODE), its expiry and maybe its
 * mode (PLAN_EXPIRY), or its ports and ufrags alone (PLAN_PORTS), the last two counted as changes.
 * A new version beside it: PLAN_REPLACE.
 */
enum plan_action { PLAN_KEEP, PLAN_MODE, PLAN_EXPIRY, PLAN_PORTS, PLAN_ADD, PLAN_REPLACE };
struct rules_plan {
	const struct spec_list *want;
	enum plan_action *action;	/* per wanted meeting */
	__u32 *old_id;			/* per wanted meeting: the live meeting of that name, or 0 */
	__u32 *doomed;			/* live meetings of no wanted name: removed */
	size_t n_doomed;
	size_t n_keep, n_mode, n_add, n_replace;	/* n_replace: PLAN_EXPIRY and _PORTS too */
};

int rules_plan(const struct rules *r, const struct spec_list *want, struct rules_plan *p);
/*
 * The plan for one meeting (one->v[0]) in the place of live meeting old_id (0: added), the others
 * left as they are.
 */
int rules_plan_one(const struct rules *r, const struct spec_list *one, __u32 old_id,
		   struct rules_plan *p);
void rules_plan_free(struct rules_plan *p);
/* Prints the plan as "- old" / "+ new" lines; appends the same lines to changes if not NULL. */
void rules_plan_print(const struct rules *r, const struct rules_plan *p, FILE *out,
		      struct json_object *changes);
/* Prints live meeting id as a "- " line, as rules_plan_print does. */
void rules_print_live(const struct rules *r, __u32 id, FILE *out, struct json_object *changes);
/*
 * Whether the maps have the room to carry out p gap-free (the old version of each changed meeting
 * beside the new): 0; -EINVAL if the wanted set does not fit at all, -ENOSPC if only not beside
 * what it replaces; one line in why either way.
 */
int rules_plan_room(const struct rules *r, const struct rules_plan *p, char *why, size_t len);
/* Carries out p on the maps; -ENOSPC (nothing changed) without the room to do it gap-free. */
int rules_plan_execute(const struct gb_ctx *ctx, struct rules *r, const struct rules_plan *p);
/*
 * Removes the meetings want does not name first, then plans and carries out the rest: for a
 * recovery without the room to do it gap-free.
 */
int rules_plan_execute_doomed_first(const struct gb_ctx *ctx, struct rules *r,
				    const struct spec_list *want, struct rules_plan *p);

#endif
