// SPDX-License-Identifier: GPL-2.0
/*
 * Making the maps hold a whole rule set, all or nothing (apply, restore, recoveries), and what
 * every change runs first: the rollback of an interrupted change, the rules file put back into
 * maps made anew, the expiry of meetings whose time has passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/files.h"
#include "lib/parse.h"
#include "kern/hot.h"
#include "kern/live_table.h"
#include "kern/pins.h"
#include "state/expiry.h"
#include "state/janus_rooms.h"
#include "state/audit.h"
#include "state/converge.h"
#include "state/managed.h"
#include "state/shared_ports.h"
#include "state/changelog.h"
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
		err = janus_rooms_keep(ctx->state_dir, &r->janus, prev);
	/* The maps hold the saved set again: the change is taken out of the log. */
	if (!err)
		err = changelog_abort(ctx);
	return err;
}



/* What converge's want is. */
enum want_is {
	NEW_SET,	/* a change asked for */
	SAVED_SET,	/* the saved rule set: a rollback */
	SAVED_AHEAD,	/* the saved rule set less what a change under way audited: rolled forward */
};

/*
 * A change of the whole set is logged as such ("set") before the maps change, and ends with the
 * rules file written anew from the maps, which empties the log; if it fails midway, the maps are
 * rolled back and the intent taken out of the log. A recovery (not NEW_SET) is logged the same
 * way, and a failure (or a kill) leaves it under way: the next command puts the saved set back
 * before anything else, rather than roll back to the maps and save them over the file (after a
 * reboot those hold nothing, and a restore cut short some of the meetings, not all). A rollback
 * ends with a "done", so that no process takes the log, as it was before, for the maps as they
 * were then.
 */
static int converge(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *want,
		    struct json_object *changes, enum want_is is)
{
	bool from_file = is != NEW_SET;
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
	err = changelog_intent(ctx, NULL, NULL);
	/* A recovery goes on where the log cannot be written, unlogged: the maps need the set. */
	if (err && !from_file) {
		gb_err("cannot write %s/%s: %s; nothing changed", ctx->state_dir, GB_LOG_FILE,
		       strerror(-err));
		goto out;
	}
	err = rules_plan_execute(ctx, r, &p);
	if (err == -ENOSPC && from_file)
		err = rules_plan_execute_doomed_first(ctx, r, want, &p);
	/* The rooms first: the rules file is written from them. */
	if (!err)
		err = janus_rooms_keep(ctx->state_dir, &r->janus, want);
	/*
	 * A rollback: the maps hold the saved set again, and what the log had after it goes. Rolled
	 * forward, the rules file is written anew from the maps (and the log emptied) instead.
	 */
	if (!err)
		err = is == SAVED_SET ? changelog_recovered(ctx) : rules_save(ctx, r);
	/* Best effort (a full disk: the log is right without it, only no longer told apart). */
	if (!err && is == SAVED_SET)
		changelog_done(ctx);
	if (err && from_file) {
		gb_err("cannot make the maps match the saved rule set in %s: %s; the next change "
		       "tries again", ctx->state_dir, strerror(-err));
	} else if (err) {
		int rb = roll_back(ctx, r, &prev);

		if (err == -ENOSPC && !rb)
			gb_err("not enough free meeting slots, drop counters, exception entries "
			       "or ufrag slots to switch every meeting without a gap; nothing "
			       "changed (apply in two steps)");
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
	return converge(ctx, r, want, changes, NEW_SET);
}

/* The saved rule set (none: no meeting); one error line if it cannot be read. */
static int read_rules_file(const struct gb_ctx *ctx, struct spec_list *want)
{
	char err_msg[512];
	int err;

	err = changelog_read(ctx, NULL, want, err_msg, sizeof(err_msg));
	if (err == -EINVAL || err == -E2BIG || err == -ERANGE)
		gb_err("%s (the saved rule set is damaged: 'geoblock restore' puts back what it can "
		       "read)", err_msg);
	else if (err)
		gb_err("%s", err_msg);
	return err;
}

int rules_recover(const struct gb_ctx *ctx, struct rules *r, struct json_object *changes)
{
	struct spec_list want;
	int err;

	err = read_rules_file(ctx, &want);
	if (!err)
		err = converge(ctx, r, &want, changes, SAVED_SET);
	spec_list_free(&want);
	return err;
}


/* Deletes expired meetings, one audit record each; returns how many or -errno. */
static int expire_meetings(const struct gb_ctx *ctx, struct rules *r)
{
	long long audit_at;
	int n = 0, err = 0;

	for (__u32 id = 1; id < GB_MAX_MEETINGS && !err; id++) {
		const struct meeting_policy *p = &r->policies[id];
		char when[32], reason[64], name[GB_MEETING_NAME_LEN];
		struct json_object *changes;

		if (!(p->flags & GB_MEETING_ACTIVE) || !expiry_passed(p))
			continue;
		snprintf(name, sizeof(name), "%s", p->name);
		/*
		 * Logged as a change of the set (the rules file is written anew after) begun at the
		 * audit log's end: a recovery keeps deleted what it audited (recover_journal).
		 */
		if (!n && (err = audit_size(ctx, &audit_at))) {
			gb_err("cannot read %s/%s: %s", ctx->state_dir, AUDIT_FILE, strerror(-err));
			break;
		}
		/* Durable before any of its records (changelog_intent_expiry syncs it). */
		if (!n && (err = changelog_intent_expiry(ctx, audit_at))) {
			gb_err("cannot write %s/%s: %s", ctx->state_dir, GB_LOG_FILE,
			       strerror(-err));
			break;
		}
		changes = json_object_new_array();
		rules_print_live(r, id, NULL, changes);
		format_rfc3339(expiry_unix(p), when, sizeof(when));
		snprintf(reason, sizeof(reason), "expired at %s", when);
		err = rules_remove(ctx, r, id);
		if (err)
			gb_err("cannot remove an expired meeting: %s", strerror(-err));
		/* Its Janus rooms and its handles' ports go with it, as with meeting del. */
		if (!err && (err = janus_rooms_put(ctx->state_dir, &r->janus, name, NULL, 0)))
			gb_err("expired meeting %s removed, but cannot forget its Janus rooms in "
			       "%s: %s", name, ctx->state_dir, strerror(-err));
		if (audit_expiry(ctx, name, reason, !err, changes) && !err)
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
			   int err, const char *reason, enum want_is is)
{
	struct json_object *changes = json_object_new_array();

	if (!err)
		err = converge(ctx, r, want, changes, is);
	if (audit_log(ctx, "recover", reason, err ? "failed" : "ok", changes) && !err)
		err = -EIO;
	return err;
}

/*
 * An expiry pass that died midway deleted and audited some meetings: those stay deleted (the
 * others go back, to be expired again, audited once), so that no expiry is audited twice; only
 * a meeting whose expiry has passed. 1 if want lost any.
 */
static int keep_expired(const struct gb_ctx *ctx, long long audit_at, struct spec_list *want)
{
	struct json_object *names = json_object_new_array();
	time_t now = time(NULL);
	int err, n = 0;

	err = names ? audit_expired_since(ctx, audit_at, names) : -ENOMEM;
	for (size_t i = 0; !err && i < json_object_array_length(names); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(names, i));
		ssize_t j = spec_list_find(want, name);

		if (j >= 0 && spec_expired(&want->v[j], now)) {
			spec_list_remove(want, j);
			n++;
		}
	}
	if (err)
		gb_err("cannot read the audit log in %s: %s", ctx->state_dir, strerror(-err));
	json_object_put(names);
	return err ? err : n > 0;
}

/*
 * Rolls back a change of the rule set (apply, meeting add/set/del) that died midway, audited; an
 * expiry pass is rolled forward as far as it audited.
 */
static int recover_journal(const struct gb_ctx *ctx, struct rules *r)
{
	struct spec_list want;
	long long audit_at;
	bool under_way;
	int err, ahead = 0;

	err = changelog_under_way(ctx, &under_way);
	if (err) {
		gb_err("cannot read %s/%s: %s", ctx->state_dir, GB_LOG_FILE, strerror(-err));
		return err;
	}
	if (!under_way)
		return 0;
	err = read_rules_file(ctx, &want);
	if (!err && (ahead = changelog_expiry_under_way(ctx, &audit_at)) < 0)
		gb_err("cannot read %s/%s: %s", ctx->state_dir, GB_LOG_FILE, strerror(-ahead));
	else if (!err && ahead)
		ahead = keep_expired(ctx, audit_at, &want);
	if (ahead < 0)
		err = ahead;
	err = recover_audited(ctx, r, &want, err, ahead > 0 ?
			      "an expiry pass died midway; the meetings whose expiry it audited "
			      "stay deleted, the others back to the saved rule set" :
			      "a change of the rule set died midway; back to the saved rule set",
			      ahead > 0 ? SAVED_AHEAD : SAVED_SET);
	spec_list_free(&want);
	if (!err)
		gb_warn(ahead > 0 ? "an interrupted expiry pass was finished as far as it audited in %s"
			: "an interrupted change was rolled back to the saved rule set in %s",
			ctx->state_dir);
	return err;
}

/* Whether the maps hold no meeting, not even a half-written one. */
static bool maps_empty(const struct rules *r)
{
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if (rules_slot_occupied(&r->policies[id]))
			return false;
	return true;
}

size_t rules_lost(const struct gb_ctx *ctx, const struct rules *r)
{
	struct spec_list want;
	char err_msg[512], path[PATH_MAX];
	size_t n = 0;
	int fd;

	if (!maps_empty(r))
		return 0;
	/* A change under way (an apply of fewer meetings) may have emptied them for a while. */
	snprintf(path, sizeof(path), "%s/lock", ctx->state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK) {
		close(fd);
		return 0;
	}
	if (!changelog_read(ctx, NULL, &want, err_msg, sizeof(err_msg))) {
		n = want.n;
		spec_list_free(&want);
	}
	if (fd >= 0)
		close(fd);
	return n;
}

/*
 * Maps that hold no meeting and not every shared port of the shared-ports file: their pins were
 * lost (a reboot before restore) and the maps made anew, or a put-back of them was cut short. The
 * shared ports go back first, as restore puts them back, before any rule set (the rollback of a
 * change under way, or the lost meetings): their meetings' ufrags need them. What a damaged file
 * still names goes back, what a saved meeting has is left out (each said). Not on a fleet node:
 * the store gives its.
 */
static int recover_lost_shared(const struct gb_ctx *ctx, struct rules *r)
{
	__u8 shared[GB_PORT_COUNT / 8], live[GB_PORT_COUNT / 8];
	static char text[GB_PORT_COUNT * 7];
	char by[512];
	bool none;
	__u32 p;
	int err;

	shared_ports_live(r, live);
	none = port_next(live, 1) >= GB_PORT_COUNT;
	if (!maps_empty(r) || managed_by(ctx, by, sizeof(by)))
		return 0;
	/* Read again, said, when they go back: a file that cannot be read is restore's to mend. */
	err = shared_ports_read(ctx, shared, false);
	if (err && err != -EINVAL) {
		if (none)
			shared_ports_read(ctx, shared, true);
		return 0;
	}
	for (p = port_next(shared, 1); p < GB_PORT_COUNT && port_isset(live, p);)
		p = port_next(shared, p + 1);
	if (p >= GB_PORT_COUNT)
		return 0;
	shared_ports_read(ctx, shared, true);
	shared_ports_unowned(ctx, shared);
	if (port_next(shared, 1) >= GB_PORT_COUNT)
		return 0;
	format_ports(shared, text, sizeof(text));
	/* As restore: none live now is taken away (a damaged file may lack some), only added. */
	for (size_t b = 0; b < sizeof(shared); b++)
		shared[b] |= live[b];
	err = shared_ports_set(ctx, r, shared);
	if (err)
		return err;
	if (none)
		gb_warn("the maps held no shared port while %s/%s lists %s (pins lost: after a "
			"reboot, run 'geoblock restore'); put them back first", ctx->state_dir,
			STATE_SHARED_FILE, text);
	else
		gb_warn("the maps held not every shared port %s/%s lists (%s: a put-back cut "
			"short); put the others back first", ctx->state_dir, STATE_SHARED_FILE,
			text);
	return 0;
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

	if (!maps_empty(r))
		return 0;
	err = read_rules_file(ctx, &want);
	if (!err && want.n) {
		err = recover_audited(ctx, r, &want, 0, "the maps held no meeting (their pins were "
				      "made anew); back to the rules file", SAVED_SET);
		if (!err)
			gb_warn("the maps held no meeting while the saved rule set in %s lists %zu "
				"(pins lost: after a reboot, run 'geoblock restore'); put them back "
				"first", ctx->state_dir, want.n);
	}
	spec_list_free(&want);
	return err;
}

int rules_begin(const struct gb_ctx *ctx, struct rules *r, bool lost_back, int *expired)
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
	/* Tables from before the record, or a change that died between two updates. */
	err = live_table_cover(ctx, r->policies, NULL, false);
	if (err)
		goto err_out;
	err = lost_back ? recover_lost_shared(ctx, r) : 0;
	if (!err)
		err = recover_journal(ctx, r);
	if (!err && lost_back)
		err = recover_lost_maps(ctx, r);
	if (!err)
		err = expire_meetings(ctx, r);
	if (err < 0)
		goto err_out;
	if (expired)
		*expired = err;
	return 0;
err_out:
	rules_free(r);
	return err;
}

void rules_shrink_table(const struct gb_ctx *ctx, struct rules *r)
{
	if (!r->countries_left)
		return;
	if (live_table_cover(ctx, r->policies, NULL, true))
		gb_warn("the data path's table still tells apart countries no meeting blocks; the "
			"next change shrinks it");
	else
		r->countries_left = false;
}

int rules_expire_in(const struct gb_ctx *ctx, struct rules *r)
{
	/*
	 * The kept rule set is repaired only when read anew: after a change that logged its intent
	 * and stopped. A `geoip load` stopped between marking ice_hot and clearing it logs none, and
	 * left the data path without its cache of senders; the pass, under the lock as every change,
	 * clears it.
	 */
	if (hot_repair(&r->uf.hot))
		gb_warn("a change stopped while clearing the cache of shared ports' senders (ice_hot), "
			"leaving it unused; cleared it");
	return expire_meetings(ctx, r);
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
		/* Each pass also shrinks the tables to what is live (a change's own shrink failed). */
		if (n >= 0 && live_table_cover(ctx, r.policies, NULL, true))
			gb_warn("the data path's table still tells apart countries no meeting blocks");
		rules_free(&r);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	return n;
}

