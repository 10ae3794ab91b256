// SPDX-License-Identifier: GPL-2.0
/*
 * The steps every change of the rule set takes (state/ops.c, state/ops_ice.c): the state lock,
 * the rule set (a daemon's kept from one change to the next), the meeting named, and the change
 * made durable before the caller hears of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/files.h"
#include "lib/parse.h"
#include "state/audit.h"
#include "state/changelog.h"
#include "state/converge.h"
#include "state/expiry.h"
#include "state/rules.h"
#include "state/ops_steps.h"

/*
 * An error that is not the caller's input (a map that cannot be read): never taken for one, nor
 * for the refusal of a rule set a store manages (-EPERM, managed_guard, which the API answers
 * 403): a system call's EPERM (an immutable file in the state dir) is a failure like any other.
 */
int ops_failure(int err)
{
	return err == -EINVAL || err == -ENOENT || err == -EEXIST || err == -EPERM ? -EIO : err;
}

/*
 * A daemon holds its context for long, unlocked: each change takes the state lock for itself
 * (as rules_expire does), so that changes from the CLI and from the API serialise.
 */
int ops_lock(const struct gb_ctx *ctx, int *fd)
{
	*fd = -1;
	if (ctx->lock_fd >= 0)
		return 0;
	*fd = gb_lock(ctx->state_dir);
	return *fd < 0 ? ops_failure(*fd) : 0;
}

void ops_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int ops_lock_shared(const struct gb_ctx *ctx)
{
	int fd = ctx->lock_fd >= 0 ? -1 : gb_lock_shared(ctx->state_dir);

	/* Out of descriptors or memory: no read, which unlocked could see a change halfway. */
	if (fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM) {
		gb_err("cannot take the state lock in %s to read: %s", ctx->state_dir,
		       strerror(-fd));
		return fd;
	}
	return fd >= 0 ? fd : -1;
}

/*
 * After the lock is given back: the change, and its audit record, made durable before the caller
 * hears of it; concurrent changes share the fdatasync.
 */
int ops_durable(const struct gb_ctx *ctx, int err)
{
	/* A failed change logged nothing, but its audit record is kept as surely. */
	int sync = err ? audit_sync(ctx) : changelog_sync(ctx);

	if (sync && !err) {
		gb_err("the change is made, but %s cannot be synced to disk: %s", ctx->state_dir,
		       strerror(-sync));
		return -EIO;
	}
	return err;
}

struct json_object *ops_change_lines(const struct meeting_spec *old,
				     const struct meeting_spec *new)
{
	struct json_object *changes = json_object_new_array();
	const struct meeting_spec *specs[2] = { old, new };

	for (int i = 0; i < 2; i++) {
		char *line = specs[i] ? spec_format(specs[i], false) : NULL, *full;

		if (line && asprintf(&full, "%c %s", i ? '+' : '-', line) >= 0) {
			json_object_array_add(changes, json_object_new_string(full));
			free(full);
		}
		free(line);
	}
	return changes;
}

/* The live meeting called name, or 0 after one error line. */
static __u32 find_meeting(const struct rules *r, const char *name)
{
	__u32 id = rules_find(r, name);
	char shown[64 * 4 + 1];

	if (!id)
		gb_err("no meeting \"%s\"; see 'geoblock meeting list'",
		       printable(name, strlen(name), 64, shown, sizeof(shown)));
	return id;
}

/*
 * The daemon's rule set, kept from one of its changes to the next (each under the state lock), so
 * that a change costs what it changes, not a reading of every map: valid while the change log is
 * as its last change left it (no other process changed the rules since; the daemon's own paths,
 * its expiry pass included, all change them through it) and the TAI offset is the same.
 */
static struct rules kept;
static const struct gb_ctx *kept_ctx;
static __u64 kept_gen;
static __s64 kept_tai;		/* the TAI offset it was read under */
static bool kept_ok;

/*
 * Valid: no change since but its own, under the same TAI offset (once NTP sets it, a reading
 * converts the expiries' CLOCK_TAI copies in the maps: rules_repair).
 */
static bool kept_valid(const struct gb_ctx *ctx)
{
	return kept_ok && kept_ctx == ctx && changelog_unchanged(ctx, kept_gen) &&
	       expiry_tai_offset() == kept_tai;
}

/*
 * The kept rule set, valid or read anew: meetings the reading deleted as expired in *expired (if
 * not NULL; untouched if nothing was read).
 */
static int kept_take(const struct gb_ctx *ctx, int *expired)
{
	int err;

	if (kept_valid(ctx))
		return 0;
	if (kept_ok)
		rules_free(&kept);
	kept_ok = false;
	kept_tai = expiry_tai_offset();
	err = rules_begin(ctx, &kept, true, expired);
	if (err)
		return err;
	kept_ok = true;
	kept_ctx = ctx;
	kept_gen = changelog_generation();
	return 0;
}

/*
 * The rule set for a change, under the lock: read anew (repaired, recovered, expired meetings
 * deleted) for a command, the kept one in a daemon while it is valid. rules_give gives it back.
 */
int ops_rules_take(const struct gb_ctx *ctx, struct rules **r)
{
	int err;

	if (ctx->lock_fd >= 0) {
		*r = malloc(sizeof(**r));
		if (!*r)
			return -ENOMEM;
		err = rules_begin(ctx, *r, true, NULL);
		if (err) {
			free(*r);
			*r = NULL;
		}
		return err;
	}
	/*
	 * The daemon's maps, made anew under it since it started, are read by no packet: a change
	 * there would go nowhere, and its save write the rules file from them (the API answers 503
	 * before; this stops Janus's events too).
	 */
	if (gb_pins_current(ctx) == -ESTALE) {
		*r = NULL;	/* nothing to give back (ops_rules_give) */
		return -ESTALE;
	}
	*r = &kept;
	return kept_take(ctx, NULL);
}

/* After a change that failed midway the kept rule set is read anew at the next. */
void ops_rules_give(const struct gb_ctx *ctx, struct rules *r, int err)
{
	if (r)
		rules_shrink_table(ctx, r);
	if (r != &kept) {
		if (r)
			rules_free(r);
		free(r);
		return;
	}
	if (err && err != -EINVAL && err != -ENOENT && err != -EEXIST) {
		rules_free(&kept);
		kept_ok = false;
	}
	kept_gen = changelog_generation();
}

int ops_expire(const struct gb_ctx *ctx)
{
	int fd, n, expired = 0;

	if (ctx->lock_fd >= 0)
		return rules_expire(ctx);
	n = ops_lock(ctx, &fd);
	if (n)
		return n;
	/*
	 * Kept: its own pass. Changed by another process, or the TAI offset by NTP: read anew, once
	 * (repaired, expiries converted, the expired ones deleted and counted by the reading), and
	 * the tables shrunk to what is live, in case that process's own shrink failed.
	 */
	if (kept_valid(ctx)) {
		n = rules_expire_in(ctx, &kept);
		ops_rules_give(ctx, &kept, n < 0 ? -EIO : 0);
	} else {
		n = kept_take(ctx, &expired);
		if (!n) {
			n = expired;
			kept.countries_left = true;
			ops_rules_give(ctx, &kept, 0);
		}
	}
	ops_unlock(fd);
	return n;
}

/*
 * Takes the state lock and the rule set, and finds meeting name in it: 0 with r, *fd and *id held
 * (end_meeting gives them back), or -errno (-ENOENT after one line: no such meeting), none held.
 */
int ops_begin_meeting(const struct gb_ctx *ctx, const char *name, struct rules **r, int *fd,
		      __u32 *id)
{
	int err = ops_lock(ctx, fd);

	if (err)
		return err;
	err = ops_failure(ops_rules_take(ctx, r));
	if (err) {
		ops_unlock(*fd);
		return err;
	}
	*id = find_meeting(*r, name);
	if (*id)
		return 0;
	ops_rules_give(ctx, *r, 0);
	ops_unlock(*fd);
	return -ENOENT;
}

int ops_end_meeting(const struct gb_ctx *ctx, struct rules *r, int fd, int err)
{
	ops_rules_give(ctx, r, err);
	ops_unlock(fd);
	return ops_durable(ctx, err);
}
