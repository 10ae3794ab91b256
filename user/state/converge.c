// SPDX-License-Identifier: GPL-2.0
/*
 * Making the maps hold a whole rule set, all or nothing (apply, restore, recoveries), and what
 * every change runs first: the rollback of an interrupted change, the rules file put back into
 * maps made anew, the expiry of meetings whose time has passed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "lib/parse.h"
#include "kern/pins.h"
#include "state/audit.h"
#include "state/converge.h"
#include "state/journal.h"
#include "state/plan.h"
#include "state/rules.h"
#include "state/rules_file.h"
#include "state/save.h"

/* Re-reads the maps and brings them back to prev; 0 if that worked. */
static int roll_back(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *prev)
{
	struct rules_plan p;
	int err;

	rules_free(r);
	err = rules_read(ctx, r);
	if (err)
		return err;
	err = rules_repair(ctx, r);
	if (!err)
		err = rules_plan(r, prev, &p);
	if (err)
		return err;
	err = rules_plan_execute(ctx, r, &p);
	rules_plan_free(&p);
	if (!err)
		err = rules_save(ctx, r);
	if (!err)
		err = rules_journal_remove(ctx);
	return err;
}



/*
 * from_file: want is the rules file, which stays the authority. A failure then leaves the journal
 * (the next change tries again) instead of rolling back to the maps and saving them over the file:
 * after a reboot those hold nothing.
 */
static int converge(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *want,
		    struct json_object *changes, bool from_file)
{
	struct spec_list prev;
	struct rules_plan p;
	int err;

	err = rules_specs(r, &prev);
	if (err)
		return err;
	err = rules_plan(r, want, &p);
	if (err)
		goto out_prev;
	if (changes)
		rules_plan_print(r, &p, NULL, changes);
	err = rules_journal_write(ctx);
	if (err) {
		gb_err("cannot write %s/%s: %s; nothing changed", ctx->state_dir, GB_JOURNAL_FILE,
		       strerror(-err));
		goto out;
	}
	err = rules_plan_execute(ctx, r, &p);
	if (err == -ENOSPC && from_file)
		err = rules_plan_execute_doomed_first(ctx, r, want, &p);
	if (!err)
		err = rules_save(ctx, r);
	if (!err)
		err = rules_journal_remove(ctx);
	if (err && from_file) {
		gb_err("cannot make the maps match %s/%s: %s; the next change tries again",
		       ctx->state_dir, GB_RULES_FILE, strerror(-err));
	} else if (err) {
		int rb = roll_back(ctx, r, &prev);

		if (err == -ENOSPC && !rb)
			gb_err("not enough free meeting slots, drop counters or exception "
			       "entries to switch every meeting without a gap; nothing changed "
			       "(apply in two steps)");
		else
			gb_err("cannot change the rule set: %s; %s", strerror(-err), rb ?
			       "rollback incomplete, the next change finishes it" :
			       "rolled back to the previous rule set");
	}
out:
	rules_plan_free(&p);
out_prev:
	spec_list_free(&prev);
	return err;
}

int rules_converge(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *want,
		   struct json_object *changes)
{
	return converge(ctx, r, want, changes, false);
}

/* The state dir's rules file (none: no meeting); one error line if it cannot be read. */
static int read_rules_file(const struct gb_ctx *ctx, struct spec_list *want)
{
	char path[512], err_msg[512];
	int err;

	memset(want, 0, sizeof(*want));
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, GB_RULES_FILE);
	if (access(path, F_OK))
		return 0;
	err = rules_file_read(path, time(NULL), SPEC_PAST_OK, want, err_msg, sizeof(err_msg));
	if (err)
		gb_err("%s", err_msg);
	return err;
}

int rules_recover(const struct gb_ctx *ctx, struct rules *r, struct json_object *changes)
{
	struct spec_list want;
	int err;

	err = read_rules_file(ctx, &want);
	if (!err)
		err = converge(ctx, r, &want, changes, true);
	spec_list_free(&want);
	return err;
}


/* Deletes expired meetings, one audit record each; returns how many or -errno. */
static int expire_meetings(const struct gb_ctx *ctx, struct rules *r)
{
	int n = 0, err = 0;

	for (__u32 id = 1; id < GB_MAX_MEETINGS && !err; id++) {
		const struct meeting_policy *p = &r->policies[id];
		struct json_object *changes;
		char when[32], reason[64];

		if (!(p->flags & GB_MEETING_ACTIVE) || !rules_expired(p))
			continue;
		changes = json_object_new_array();
		rules_print_live(r, id, NULL, changes);
		format_rfc3339(rules_expires_unix(p), when, sizeof(when));
		snprintf(reason, sizeof(reason), "expired at %s", when);
		err = rules_remove(ctx, r, id);
		if (err)
			gb_err("cannot remove an expired meeting: %s", strerror(-err));
		if (audit_log(ctx, "expire", reason, err ? "failed" : "ok", changes) && !err)
			err = -EIO;
		n++;
	}
	if (n && !err)
		err = rules_save(ctx, r);
	return err ? err : n;
}

/*
 * Makes the maps hold want, the rules file, audited as a recovery for reason; err: reading the
 * file failed (audited as failed too).
 */
static int recover_audited(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *want,
			   int err, const char *reason)
{
	struct json_object *changes = json_object_new_array();

	if (!err)
		err = converge(ctx, r, want, changes, true);
	if (audit_log(ctx, "recover", reason, err ? "failed" : "ok", changes) && !err)
		err = -EIO;
	return err;
}

/* Rolls back a change of the rule set (apply, meeting add/set/del) that died midway, audited. */
static int recover_journal(const struct gb_ctx *ctx, struct rules *r)
{
	struct spec_list want;
	int err;

	if (!rules_journal_exists(ctx))
		return 0;
	err = read_rules_file(ctx, &want);
	err = recover_audited(ctx, r, &want, err, "a change of the rule set died midway; back to "
			      "the rules file");
	spec_list_free(&want);
	if (!err)
		gb_warn("an interrupted change was rolled back to %s/%s", ctx->state_dir,
			GB_RULES_FILE);
	return err;
}

/*
 * Maps without a meeting beside a rules file that lists some: the pins were lost (a reboot
 * before `restore`, or removed) and the maps made anew. A change made on them would write the
 * rules file from them and drop every meeting it lists, so the file is put back first, audited.
 */
static int recover_lost_maps(const struct gb_ctx *ctx, struct rules *r)
{
	struct spec_list want;
	int err;

	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if (rules_slot_occupied(&r->policies[id]))
			return 0;
	err = read_rules_file(ctx, &want);
	if (!err && want.n) {
		err = recover_audited(ctx, r, &want, 0, "the maps held no meeting (their pins were "
				      "made anew); back to the rules file");
		if (!err)
			gb_warn("the maps held no meeting while %s/%s lists %zu (pins lost: after a "
				"reboot, run 'geoblock restore'); put them back first",
				ctx->state_dir, GB_RULES_FILE, want.n);
	}
	spec_list_free(&want);
	return err;
}

int rules_begin(const struct gb_ctx *ctx, struct rules *r, bool lost_back)
{
	int err;

	err = rules_read(ctx, r);
	if (err)
		return err;
	err = rules_repair(ctx, r);
	if (err) {
		gb_err("cannot repair an interrupted change: %s", strerror(-err));
		goto err_out;
	}
	err = recover_journal(ctx, r);
	if (!err && lost_back)
		err = recover_lost_maps(ctx, r);
	if (!err)
		err = expire_meetings(ctx, r);
	if (err < 0)
		goto err_out;
	return 0;
err_out:
	rules_free(r);
	return err;
}

int rules_expire(const struct gb_ctx *ctx)
{
	struct rules r;
	int lock_fd = -1, n;

	/* A daemon holds its context for long; it takes the lock only for each pass. */
	if (ctx->lock_fd < 0) {
		lock_fd = gb_lock(ctx->state_dir);
		if (lock_fd < 0)
			return lock_fd;
	}
	n = rules_read(ctx, &r);
	if (!n) {
		n = rules_repair(ctx, &r);
		if (!n)
			n = recover_journal(ctx, &r);
		if (!n)
			n = expire_meetings(ctx, &r);
		rules_free(&r);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	return n;
}

