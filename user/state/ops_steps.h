/* SPDX-License-Identifier: GPL-2.0 */
/* The steps every change of the rule set takes: lock, rule set, meeting, durability. */
#ifndef GEOBLOCK_STATE_OPS_STEPS_H
#define GEOBLOCK_STATE_OPS_STEPS_H

#include <linux/types.h>
#include "kern/pins.h"
#include "state/rules.h"
#include "state/rules_file.h"

struct json_object;

/*
 * An error that is not the caller's input (a map that cannot be read), nor a managed rule set's
 * refusal (-EPERM): -EIO for one that would be taken for either.
 */
int ops_failure(int err);
/*
 * The state lock, unless ctx holds it (a command): *fd to give to ops_unlock (-1 for none).
 * A daemon holds its context for long, unlocked: each change takes the lock for itself.
 */
int ops_lock(const struct gb_ctx *ctx, int *fd);
void ops_unlock(int fd);
/*
 * For a reader whose answer a program acts on (check, explain, the API's GETs): the state lock
 * shared, so that no change is read halfway (a meeting replaced make-before-break would seem gone
 * between its steps); -1 if ctx holds it already or there is none to take (best effort); -EMFILE,
 * -ENFILE or -ENOMEM (below -1, after one line) when it could not be taken for want of them: no
 * read then.
 */
int ops_lock_shared(const struct gb_ctx *ctx);
/*
 * After the lock is given back: the change, and its audit record, made durable before the caller
 * hears of it; concurrent changes share the fdatasync.
 */
int ops_durable(const struct gb_ctx *ctx, int err);
/* The "- old" and "+ new" lines of a change (either NULL) for the audit record. */
struct json_object *ops_change_lines(const struct meeting_spec *old,
				     const struct meeting_spec *new);
/*
 * The rule set for a change, under the lock: read anew (repaired, recovered, expired meetings
 * deleted) for a command, the one a daemon kept while it is valid. ops_rules_give gives it back
 * (err: the change's result; one failed midway makes the next read it anew).
 */
int ops_rules_take(const struct gb_ctx *ctx, struct rules **r);
void ops_rules_give(const struct gb_ctx *ctx, struct rules *r, int err);
/*
 * A daemon's expiry pass: rules_expire, but on the rule set it keeps while that is valid, so that
 * a pass that finds nothing to delete reads nothing (and holds the state lock for no time).
 */
int ops_expire(const struct gb_ctx *ctx);
/*
 * Takes the state lock and the rule set, and finds meeting name in it: 0 with r, *fd and *id held
 * (ops_end_meeting gives them back), or -errno (-ENOENT after one line: no such meeting).
 */
int ops_begin_meeting(const struct gb_ctx *ctx, const char *name, struct rules **r, int *fd,
		      __u32 *id);
int ops_end_meeting(const struct gb_ctx *ctx, struct rules *r, int fd, int err);

#endif
