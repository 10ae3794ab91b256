/* SPDX-License-Identifier: GPL-2.0 */
/* The append-only audit log in the state dir: one JSON line per change. */
#ifndef GEOBLOCK_STATE_AUDIT_H
#define GEOBLOCK_STATE_AUDIT_H

#include <stdbool.h>
#include "kern/pins.h"

struct json_object;

#define AUDIT_FILE "audit.log"	/* in the state dir */

/*
 * Puts right a record cut short at the end of the audit log (its writer killed in mid-write), if
 * there is one; the caller holds the state lock. gb_open does it for every locked command.
 */
int audit_repair(const struct gb_ctx *ctx);
/*
 * Appends one JSON line: time, uid, SUDO_USER, command (NULL: this process's command line),
 * reason, result, and the changes (a JSON array of lines, taken over; may be NULL).
 */
int audit_log(const struct gb_ctx *ctx, const char *command, const char *reason, const char *result,
	      struct json_object *changes);
/*
 * Appends the record of meeting's expiry (command "expire", field "meeting"), ok or failed;
 * synced, as audit_log.
 */
int audit_expiry(const struct gb_ctx *ctx, const char *meeting, const char *reason, bool ok,
		 struct json_object *changes);
/* The audit log's size now (0: none yet). */
int audit_size(const struct gb_ctx *ctx, long long *size);
/*
 * Adds to names (a JSON array) the meeting of each expiry recorded as carried out ("ok") in the
 * audit log from byte from on: what an expiry pass that died midway had audited.
 */
int audit_expired_since(const struct gb_ctx *ctx, long long from, struct json_object *names);
/*
 * Appends the record of a finished command: result "ok" if ret is 0, else the last error. If the
 * record cannot be written after a change that was made (ret 0), the error line begins "done,
 * but not audited:" (the command still fails: nothing may change unrecorded without a word).
 */
int audit_result(const struct gb_ctx *ctx, const char *reason, int ret, struct json_object *changes);

/* Who asked for a change made on another's behalf (the control API): its record says so. */
struct audit_caller {
	const char *command;	/* the request, e.g. "PUT /v1/meetings/board" */
	long uid, pid;		/* the peer's, from SO_PEERCRED */
	const char *source;	/* a change made from a store: "etcd" (NULL: a caller) */
	long long revision;	/* with source: the store's revision it applies */
};

/*
 * audit_result for a change of the rule set (CLI or API): the record is written but not synced;
 * the change's changelog_sync makes it durable with the change (one fdatasync for many).
 */
int audit_result_by(const struct gb_ctx *ctx, const struct audit_caller *who, const char *reason,
		    int ret, struct json_object *changes);
/* Makes every record appended so far durable. */
int audit_sync(const struct gb_ctx *ctx);
/*
 * The records this process has written, and in *mine (if not NULL) the number of this thread's
 * last: a sync begun after a record's number was read covers that record.
 */
__u64 audit_written(__u64 *mine);

#endif
