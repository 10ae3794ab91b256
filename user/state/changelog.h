/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The saved rule set: the rules file (a base of `meeting add` lines) and the change log appended
 * to it by every change since, which a change writes before it touches the maps.
 */
#ifndef GEOBLOCK_STATE_CHANGELOG_H
#define GEOBLOCK_STATE_CHANGELOG_H

#include <stdbool.h>
#include <linux/types.h>
#include "kern/pins.h"
#include "state/rules_file.h"

struct salvage;		/* state/rules_read.h */

#define GB_RULES_FILE	"rules"
#define GB_LOG_FILE	"rules.log"

/*
 * Every function but changelog_sync and changelog_read is called under the state lock. Each
 * returns 0 or -errno; none prints, but changelog_read names the line it cannot read in err.
 */

/*
 * Whether the log is as this process left it at generation gen (changelog_generation): no other
 * process and no other change of this one touched it since.
 */
bool changelog_unchanged(const struct gb_ctx *ctx, __u64 gen);
__u64 changelog_generation(void);
/* A change of the rule set died midway: the log ends in a change without its "done". */
int changelog_under_way(const struct gb_ctx *ctx, bool *under_way);
/*
 * The intent of one change, appended before the maps change: meeting s put (added or replacing
 * the meeting of its name), or meeting name deleted, or (s and name NULL) a change of the whole
 * set, which ends by writing the rules file anew (changelog_compacted).
 */
int changelog_intent(const struct gb_ctx *ctx, const struct meeting_spec *s, const char *name);
/*
 * The intent of an expiry pass: a change of the whole set, as changelog_intent's, that notes
 * the audit log's size, so that a pass that died midway can be told from what it audited.
 * Synced before it returns (a power loss that keeps a record of the pass keeps its intent);
 * taken out again if it cannot be.
 */
int changelog_intent_expiry(const struct gb_ctx *ctx, long long audit_size);
/*
 * 1 if the change under way (changelog_under_way) is an expiry pass, with the audit log's size
 * as it began; 0 if not, or -errno.
 */
int changelog_expiry_under_way(const struct gb_ctx *ctx, long long *audit_size);
/* The maps hold the intent: "done" appended. */
int changelog_done(const struct gb_ctx *ctx);
/* The intent was not carried out (the maps are as before it): cut from the log. */
int changelog_abort(const struct gb_ctx *ctx);
/*
 * After recovering from a change that died midway (the maps made equal to changelog_read's set):
 * what it left after the last "done" is cut from the log.
 */
int changelog_recovered(const struct gb_ctx *ctx);
/*
 * Makes every record this thread appended, and its audit records, durable; without the state
 * lock, so that concurrent changes share one fdatasync.
 */
int changelog_sync(const struct gb_ctx *ctx);
/* The rules file is due to be written anew: the log has outgrown it. */
bool changelog_wants_compaction(const struct gb_ctx *ctx);
/* The number of the last change logged: the rules file written anew says it holds it. */
int changelog_last_seq(const struct gb_ctx *ctx, __u64 *seq);
/* The rules file now holds every logged change up to seq (and is synced): the log is emptied. */
int changelog_compacted(const struct gb_ctx *ctx, __u64 seq, size_t rules_bytes);
/* Whether anything was ever saved here (a rules file or a log). */
bool changelog_saved_any(const struct gb_ctx *ctx);
/*
 * The saved rule set: the rules file, then each change of the log that reached "done". A change
 * without it, or a record cut short, is left out. Reads without the lock too. With sv (restore),
 * a line or logged change that cannot be read is left out too, said through sv (rules_read.h).
 */
int changelog_read(const struct gb_ctx *ctx, struct salvage *sv, struct spec_list *want, char *err,
		   size_t errlen);
/* The first lines of the rules file, naming the last change it holds. */
#define GB_RULES_HEADER	"# geoblock rules, written by geoblock (restore reads it with %s)\n" \
			"# through change %llu\n"

#endif
