/* SPDX-License-Identifier: GPL-2.0 */
/* The kept copy of the loaded GeoIP table, changed with the live table: staged, then promoted. */
#ifndef GEOBLOCK_STATE_GEOIP_KEPT_H
#define GEOBLOCK_STATE_GEOIP_KEPT_H

#include <stdbool.h>
#include <sys/stat.h>
#include <linux/types.h>
#include "geoip/prefix.h"
#include "kern/pins.h"

/* The staged record, beside geoip.conf; the staged copies are each copy's name + this. */
#define GEOIP_KEPT_STAGED	".new"

/* A table about to be switched in: its files, their stat when the load began, how it was read. */
struct geoip_kept_load {
	char *const *paths;
	const struct stat *ids;
	int n;
	const struct geoip_table *t;
	const char *source, *field;
	bool with_lpm;
};

/*
 * Writes the copies of l's files and their record under staged names (geoip.db.new...,
 * geoip.conf.new, the last), durable, before the switch; the record names the table by net_ids
 * (the ids its network lists will have live). A file changed since the load began is refused
 * (-ESTALE). One error line (ending "the loaded table is unchanged"); nothing staged is left then.
 */
int geoip_kept_stage(const struct gb_ctx *ctx, const struct geoip_kept_load *l,
		     const __u32 net_ids[2]);
/* Removes what geoip_kept_stage wrote (the switch did not happen). */
void geoip_kept_unstage(const struct gb_ctx *ctx);
/*
 * After the switch: the staged copies and record become geoip.db... and geoip.conf, copies the
 * record no longer names are removed; audited with reason (NULL: none). One line on error.
 */
int geoip_kept_commit(const struct gb_ctx *ctx, const char *reason);
/*
 * Settles a load cut short between staging and commit, under the state lock (gb_open does it for
 * every locked command): promoted when its table went live (or no table is live: after a reboot
 * restore loads it), removed when another table is live. A load that went live in part (killed
 * between its families' lists) leaves the data path's tables compiled from the lists live.
 * failed: called by the load itself, which has said it failed (its copy goes unless it went
 * live). 1 if one was settled, 0 if none.
 */
int geoip_kept_settle(const struct gb_ctx *ctx, bool failed);
/* Whether a load cut short waits to be settled (for read-only commands to say so). */
bool geoip_kept_pending(const struct gb_ctx *ctx);

#endif
