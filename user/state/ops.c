// SPDX-License-Identifier: GPL-2.0
/*
 * The rule set's changes, made the same way for the CLI and the control API: under the state
 * lock, checked, journaled, saved and audited before returning.
 */
#include <errno.h>
#include <limits.h>
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
#include "state/converge.h"
#include "state/countries.h"
#include "state/changelog.h"
#include "state/plan.h"
#include "state/ports.h"
#include "state/rules.h"
#include "state/save.h"
#include "state/shared_ports.h"
#include "state/ops.h"

/* An error that is not the caller's input (a map that cannot be read): never taken for one. */
static int failure(int err)
{
	return err == -EINVAL || err == -ENOENT || err == -EEXIST ? -EIO : err;
}

/*
 * A daemon holds its context for long, unlocked: each change takes the state lock for itself
 * (as rules_expire does), so that changes from the CLI and from the API serialise.
 */
static int lock_for(const struct gb_ctx *ctx, int *fd)
{
	*fd = -1;
	if (ctx->lock_fd >= 0)
		return 0;
	*fd = gb_lock(ctx->state_dir);
	return *fd < 0 ? failure(*fd) : 0;
}

static void unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/*
 * After the lock is given back: the change, and its audit record, made durable before the caller
 * hears of it; concurrent changes share the fdatasync.
 */
static int durable(const struct gb_ctx *ctx, int err)
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

/*
 * Refuses a port or ufrag of s that a meeting other than id (0: any meeting) has, or a shared port,
 * after one error line.
 */
static int check_claims(const struct rules *r, __u32 id, const struct meeting_spec *s)
{
	for (__u32 p = port_next(s->ports, 1); p < GB_PORT_COUNT; p = port_next(s->ports, p + 1)) {
		__u32 owner = r->owners[p].meeting_id;

		if (owner && owner != id) {
			gb_err("port %u already belongs to meeting \"%s\"", p,
			       owner < GB_MAX_MEETINGS ? r->policies[owner].name : "?");
			return -EEXIST;
		}
		if (rules_port_shared(r, p)) {
			gb_err("port %u is a shared port (its meetings are told apart by ufrag); give "
			       "meeting \"%s\" --ufrag instead, or 'shared-port del %u'", p, s->name,
			       p);
			return -EEXIST;
		}
	}
	for (size_t i = 0; i < s->n_ufrags; i++) {
		__u32 owner = rules_ufrag_owner(r, s->ufrags[i]);

		if (owner && owner != id) {
			gb_err("ufrag %s already belongs to meeting \"%s\"", s->ufrags[i],
			       owner < GB_MAX_MEETINGS ? r->policies[owner].name : "?");
			return -EEXIST;
		}
	}
	return 0;
}

/* Refuses a name, port or ufrag another meeting has, or exceptions past the tries' size. */
static int check_conflicts(const struct rules *r, const struct meeting_spec *s)
{
	size_t n4 = r->n_allow4, n6 = r->n_allow6;
	int err;

	if (rules_find(r, s->name)) {
		gb_err("meeting \"%s\" already exists; delete it first or pick another name", s->name);
		return -EEXIST;
	}
	err = check_claims(r, 0, s);
	if (err)
		return err;
	for (size_t i = 0; i < s->n_allow; i++)
		*(s->allow[i].family == 4 ? &n4 : &n6) += 1;
	if (n4 > GB_ALLOW_MAX || n6 > GB_ALLOW_MAX) {
		gb_err("more than %d IPv4 or IPv6 allow exceptions over all meetings", GB_ALLOW_MAX);
		return -ENOSPC;
	}
	if (s->n_ufrags > rules_ufrags_free(r)) {
		gb_err("more than %d ufrags over all meetings", GB_UFRAGS_MAX - 1);
		return -ENOSPC;
	}
	return 0;
}

static struct json_object *change_lines(const struct meeting_spec *old,
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
 * as its last change left it: no other process, and no other path of this one (its expiry pass,
 * which deletes expired meetings, included), changed the rules since.
 */
static struct rules kept;
static const struct gb_ctx *kept_ctx;
static __u64 kept_gen;
static bool kept_ok;

/*
 * The rule set for a change, under the lock: read anew (repaired, recovered, expired meetings
 * deleted) for a command, the kept one in a daemon while it is valid. rules_give gives it back.
 */
static int rules_take(const struct gb_ctx *ctx, struct rules **r)
{
	int err;

	if (ctx->lock_fd >= 0) {
		*r = malloc(sizeof(**r));
		if (!*r)
			return -ENOMEM;
		err = rules_begin(ctx, *r, true);
		if (err) {
			free(*r);
			*r = NULL;
		}
		return err;
	}
	*r = &kept;
	if (kept_ok && kept_ctx == ctx && changelog_unchanged(ctx, kept_gen))
		return 0;
	if (kept_ok)
		rules_free(&kept);
	kept_ok = false;
	err = rules_begin(ctx, &kept, true);
	if (err)
		return err;
	kept_ok = true;
	kept_ctx = ctx;
	kept_gen = changelog_generation();
	return 0;
}

/* After a change that failed midway the kept rule set is read anew at the next. */
static void rules_give(struct rules *r, int err)
{
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

/*
 * Takes the state lock and the rule set, and finds meeting name in it: 0 with r, *fd and *id held
 * (end_meeting gives them back), or -errno (-ENOENT after one line: no such meeting), none held.
 */
static int begin_meeting(const struct gb_ctx *ctx, const char *name, struct rules **r, int *fd,
			 __u32 *id)
{
	int err = lock_for(ctx, fd);

	if (err)
		return err;
	err = failure(rules_take(ctx, r));
	if (err) {
		unlock(*fd);
		return err;
	}
	*id = find_meeting(*r, name);
	if (*id)
		return 0;
	rules_give(*r, 0);
	unlock(*fd);
	return -ENOENT;
}

static int end_meeting(const struct gb_ctx *ctx, struct rules *r, int fd, int err)
{
	rules_give(r, err);
	unlock(fd);
	return durable(ctx, err);
}

/* The blocked countries checked against the loaded table: -EINVAL after one error line. */
static int check_countries(const struct country_census *census, const __u64 *blocked,
			   const char *prefix)
{
	char err_msg[512];

	if (!countries_check(census, blocked, err_msg, sizeof(err_msg)))
		return 0;
	gb_err("%s%s", prefix, err_msg);
	return -EINVAL;
}

/* Adds s, known to be new, to r (locked and begun). */
static int add_locked(const struct gb_ctx *ctx, const struct audit_caller *who, struct rules *r,
		      const struct meeting_spec *s)
{
	__u32 id;
	int err;

	err = check_conflicts(r, s);
	if (err == -EEXIST)
		return err;
	if (!err)
		err = rules_log_intent(ctx, s, NULL);
	if (!err) {
		err = rules_add(ctx, r, s, &id);
		if (err)
			rules_log_abort(ctx);
		if (err == -ENOSPC)
			gb_err("all %d meeting slots are in use; delete a meeting first",
			       GB_MAX_MEETINGS - 1);
		else if (err == -ENOBUFS)
			gb_err("not enough free drop counters for meeting \"%s\" (%zu of %d "
			       "free, one per blocked country); delete a meeting first", s->name,
			       r->counters_free, GB_DROP_COUNTERS - 1);
		else if (err)
			gb_err("cannot write meeting \"%s\" to the maps: %s", s->name, strerror(-err));
	}
	if (!err)
		err = rules_save_added(ctx, r, id);
	if (!err)
		rules_save_maybe(ctx, r);
	if (audit_result_by(ctx, who, s->reason, err, change_lines(NULL, s)) && !err)
		err = -EIO;
	return failure(err);
}

/*
 * Replaces the live meeting id by s, make-before-break (the new version complete before the ports
 * move to it); the other meetings untouched. A failure midway puts the maps back to the saved set.
 */
static int replace_locked(const struct gb_ctx *ctx, const struct audit_caller *who,
			  struct rules *r, __u32 id, const struct meeting_spec *s)
{
	struct json_object *changes = NULL;
	struct spec_list one = {};
	struct meeting_spec copy;
	struct rules_plan p = {};
	int err;

	err = check_claims(r, id, s);
	if (err)
		return err;
	err = spec_copy(&copy, s);
	if (!err) {
		err = spec_list_push(&one, &copy);
		if (err)
			spec_free(&copy);
	}
	if (!err)
		err = rules_plan_one(r, &one, id, &p);
	if (err) {
		gb_err("out of memory");
		goto out;
	}
	changes = json_object_new_array();
	rules_plan_print(r, &p, NULL, changes);
	if (p.action[0] == PLAN_KEEP)
		goto audit;
	err = rules_log_intent(ctx, s, NULL);
	if (err)
		goto audit;
	err = rules_plan_execute(ctx, r, &p);
	if (err == -ENOSPC)
		gb_err("not enough free meeting slots, drop counters or exception entries to "
		       "replace meeting \"%s\" without a gap; nothing changed", s->name);
	else if (err)
		gb_err("cannot replace meeting \"%s\": %s", s->name, strerror(-err));
	if (!err) {
		err = changelog_done(ctx);
		if (err)
			gb_err("cannot write %s/%s: %s", ctx->state_dir, GB_LOG_FILE,
			       strerror(-err));
	}
	if (err) {
		/* Out of the log, and the maps back to the saved set, the old version in them. */
		rules_log_abort(ctx);
		if (err != -ENOSPC && rules_recover(ctx, r, NULL))
			gb_warn("putting meeting \"%s\" back failed; the next change tries again",
				s->name);
	} else {
		rules_save_maybe(ctx, r);
	}
audit:
	if (audit_result_by(ctx, who, s->reason, err, changes) && !err)
		err = -EIO;
	err = failure(err);
out:
	rules_plan_free(&p);
	spec_list_free(&one);
	return err;
}

/*
 * Adds s, or with replace puts it in the place of the live meeting of its name (*created: it was
 * new); the countries checked first.
 */
static int put_spec(const struct gb_ctx *ctx, const struct audit_caller *who,
		    const struct meeting_spec *s, struct country_census *census, bool replace,
		    bool *created)
{
	struct rules *r;
	int fd, err;
	__u32 id;

	*created = false;
	err = lock_for(ctx, &fd);
	if (err)
		return err;
	err = failure(countries_census(ctx, census));
	if (!err)
		err = check_countries(census, s->blocked, "");
	if (err)
		goto out;
	err = failure(rules_take(ctx, &r));
	if (err)
		goto out;
	id = replace ? rules_find(r, s->name) : 0;
	*created = !id;
	err = id ? replace_locked(ctx, who, r, id, s) : add_locked(ctx, who, r, s);
	rules_give(r, err);
out:
	unlock(fd);
	return durable(ctx, err);
}

int ops_meeting_add(const struct gb_ctx *ctx, const struct audit_caller *who,
		    const struct meeting_spec *s, struct country_census *census)
{
	bool created;

	return put_spec(ctx, who, s, census, false, &created);
}

int ops_meeting_put(const struct gb_ctx *ctx, const struct audit_caller *who,
		    const struct meeting_spec *s, struct country_census *census, bool *created)
{
	return put_spec(ctx, who, s, census, true, created);
}

int ops_meeting_set(const struct gb_ctx *ctx, const struct audit_caller *who, const char *name,
		    bool monitor, const char *reason, bool *already)
{
	struct meeting_spec old = {}, new = {};
	struct rules *r;
	int fd, err;
	__u32 id;

	*already = false;
	err = begin_meeting(ctx, name, &r, &fd, &id);
	if (err)
		return err;
	if (!!(r->policies[id].flags & GB_MEETING_MONITOR) == monitor) {
		*already = true;
		goto out;
	}
	err = rules_spec(r, id, &old);
	if (!err)
		err = spec_copy(&new, &old);
	if (err) {
		gb_err("out of memory");
	} else {
		new.flags = monitor ? new.flags | GB_MEETING_MONITOR :
				      new.flags & ~GB_MEETING_MONITOR;
		err = rules_log_intent(ctx, &new, NULL);
	}
	if (!err) {
		err = rules_set_monitor(ctx, r, id, monitor);
		if (err) {
			rules_log_abort(ctx);
			gb_err("cannot switch meeting \"%s\": %s", name, strerror(-err));
		} else {
			err = rules_save_switched(ctx, r, id);
		}
	}
	if (!err)
		rules_save_maybe(ctx, r);
	if (audit_result_by(ctx, who, reason, err, change_lines(&old, err ? NULL : &new)) && !err)
		err = -EIO;
	spec_free(&old);
	spec_free(&new);
	err = failure(err);
out:
	return end_meeting(ctx, r, fd, err);
}

int ops_meeting_del(const struct gb_ctx *ctx, const struct audit_caller *who, const char *name,
		    const char *reason)
{
	struct meeting_spec old = {};
	struct rules *r;
	int fd, err;
	__u32 id;

	err = begin_meeting(ctx, name, &r, &fd, &id);
	if (err)
		return err;
	err = rules_spec(r, id, &old);
	if (err)
		gb_err("out of memory");
	if (!err)
		err = rules_log_intent(ctx, NULL, name);
	if (!err)
		err = rules_remove_saved(ctx, r, id);
	if (!err)
		rules_save_maybe(ctx, r);
	if (audit_result_by(ctx, who, reason, err, change_lines(&old, NULL)) && !err)
		err = -EIO;
	spec_free(&old);
	return end_meeting(ctx, r, fd, failure(err));
}

/* The ports id has after adding add and removing remove (either NULL): 0, or -errno and a line. */
static int plan_ports(const struct rules *r, __u32 id, const __u8 *add, const __u8 *remove,
		      struct ops_ports *out)
{
	static __u8 gone[GB_PORT_COUNT / 8];
	unsigned int changed;
	char err_msg[512];
	bool left = false;
	int err = 0;

	rules_ports_of(r, id, out->before);
	memcpy(out->after, out->before, sizeof(out->after));
	out->changed = 0;
	if (add)
		err = rules_ports_plan(r, id, add, true, out->after, &out->changed, err_msg,
				       sizeof(err_msg));
	/* Removing every port it had is fine when it gains others: checked below, as a whole. */
	if (!err && remove) {
		err = rules_ports_plan(r, id, remove, false, gone, &changed, err_msg,
				       sizeof(err_msg));
		if (err == -EINVAL)
			err = 0;
		for (size_t i = 0; i < sizeof(gone) && !err; i++)
			out->after[i] &= ~remove[i];
		out->changed += changed;
	}
	for (size_t i = 0; i < sizeof(out->after) && !err && !left; i++)
		left = out->after[i];
	if (!err && !left && !r->first_ufrag[id]) {
		snprintf(err_msg, sizeof(err_msg), "meeting \"%s\" would have no port left; delete "
			 "the meeting instead", r->policies[id].name);
		err = -EINVAL;
	}
	if (err)
		gb_err("%s", err_msg);
	/* A port of another meeting is a conflict; one not the meeting's, bad input. */
	return err == -EEXIST ? err : err ? -EINVAL : 0;
}

int ops_meeting_ports(const struct gb_ctx *ctx, const struct audit_caller *who, const char *name,
		      const __u8 *add, const __u8 *remove, const char *reason, struct ops_ports *out)
{
	struct meeting_spec old = {}, new;
	struct rules *r;
	int fd, err;
	__u32 id;

	err = begin_meeting(ctx, name, &r, &fd, &id);
	if (err)
		return err;
	err = plan_ports(r, id, add, remove, out);
	if (err)
		goto out;
	err = rules_spec(r, id, &old);
	if (err)
		gb_err("out of memory");
	/* The meeting with its new ports: a shallow copy, sharing old's exceptions (freed once). */
	new = old;
	memcpy(new.ports, out->after, sizeof(new.ports));
	if (!err && out->changed && !(err = rules_log_intent(ctx, &new, NULL)))
		err = rules_set_ports_saved(ctx, r, id, out->after);
	if (!err && out->changed)
		rules_save_maybe(ctx, r);
	/* Adding ports it owns already changes nothing: said, not refused, not audited. */
	if (out->changed && audit_result_by(ctx, who, reason, err,
					    change_lines(&old, err ? NULL : &new)) && !err)
		err = -EIO;
	spec_free(&old);
	err = failure(err);
out:
	return end_meeting(ctx, r, fd, err);
}

static bool in_sorted(char *const *list, size_t n, const char *s)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(list[mid], s);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The ufrags of meeting id (spec old) after adding add and removing remove, into new (which shares
 * old's strings): 0, or -errno after one line.
 */
static int plan_ufrags(const struct rules *r, __u32 id, const struct meeting_spec *old,
		       char *const *add, size_t n_add, char *const *remove, size_t n_remove,
		       struct meeting_spec *new, struct ops_ufrags *out)
{
	char **list = malloc((old->n_ufrags + n_add + 1) * sizeof(*list));
	size_t n = 0;

	if (!list) {
		gb_err("out of memory");
		return -ENOMEM;
	}
	out->added = out->removed = 0;
	for (size_t i = 0; i < n_remove; i++) {
		if (!in_sorted(old->ufrags, old->n_ufrags, remove[i])) {
			gb_err("ufrag %s does not belong to meeting \"%s\"", remove[i], old->name);
			free(list);
			return -ENOENT;
		}
	}
	for (size_t i = 0; i < old->n_ufrags; i++) {
		if (in_sorted(remove, n_remove, old->ufrags[i]))
			out->removed++;
		else
			list[n++] = old->ufrags[i];
	}
	for (size_t i = 0; i < n_add; i++) {
		__u32 owner = rules_ufrag_owner(r, add[i]);

		if (owner && owner != id) {
			gb_err("ufrag %s already belongs to meeting \"%s\"", add[i],
			       owner < GB_MAX_MEETINGS ? r->policies[owner].name : "?");
			free(list);
			return -EEXIST;
		}
		if (in_sorted(old->ufrags, old->n_ufrags, add[i]) &&
		    !in_sorted(remove, n_remove, add[i]))
			continue;
		list[n++] = add[i];
		out->added++;
	}
	if (out->added > rules_ufrags_free(r)) {
		gb_err("more than %d ufrags over all meetings", GB_UFRAGS_MAX - 1);
		free(list);
		return -ENOSPC;
	}
	if (!n && port_next(old->ports, 1) >= GB_PORT_COUNT) {
		gb_err("meeting \"%s\" would have no port or ufrag left; delete the meeting instead",
		       old->name);
		free(list);
		return -EINVAL;
	}
	qsort(list, n, sizeof(*list), str_cmp);
	*new = *old;
	new->allow = old->allow;
	new->ufrags = list;
	new->n_ufrags = n;
	return 0;
}

int ops_meeting_ufrags(const struct gb_ctx *ctx, const struct audit_caller *who, const char *name,
		       char *const *add, size_t n_add, char *const *remove, size_t n_remove,
		       const char *reason, struct ops_ufrags *out)
{
	struct meeting_spec old = {}, new = {};
	struct rules *r;
	int fd, err;
	__u32 id;

	memset(out, 0, sizeof(*out));
	err = begin_meeting(ctx, name, &r, &fd, &id);
	if (err)
		return err;
	err = rules_spec(r, id, &old);
	if (err) {
		gb_err("out of memory");
		err = failure(err);
		goto out;
	}
	err = plan_ufrags(r, id, &old, add, n_add, remove, n_remove, &new, out);
	if (err)
		goto out;
	if (out->added + out->removed && !(err = rules_log_intent(ctx, &new, NULL)))
		err = rules_set_ufrags_saved(ctx, r, id, &new);
	if (!err && out->added + out->removed)
		rules_save_maybe(ctx, r);
	/* Adding ufrags it has already changes nothing: said, not refused, not audited. */
	if (out->added + out->removed &&
	    audit_result_by(ctx, who, reason, err, change_lines(&old, err ? NULL : &new)) && !err)
		err = -EIO;
	if (!err) {
		out->after = ufrags_copy(new.ufrags, new.n_ufrags);
		out->n_after = out->after ? new.n_ufrags : 0;
	}
	/* new shares old's strings and exceptions: only its own list is freed. */
	free(new.ufrags);
	err = failure(err);
out:
	spec_free(&old);
	return end_meeting(ctx, r, fd, err);
}

/* "+ shared ports LIST" or "- ..." ("none") for the audit record. */
static void shared_line(struct json_object *changes, char sign, const __u8 *ports)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	fprintf(f, "%c shared ports ", sign);
	if (port_next(ports, 1) < GB_PORT_COUNT)
		print_ports(f, ports);
	else
		fprintf(f, "none");
	if (!fclose(f))
		json_object_array_add(changes, json_object_new_string(buf));
	free(buf);
}

int ops_shared_ports(const struct gb_ctx *ctx, const struct audit_caller *who, const __u8 *add,
		     const __u8 *remove, const char *reason, struct ops_shared *out)
{
	const __u8 *list = add ? add : remove;
	struct json_object *changes;
	struct rules *r;
	int fd, err;

	memset(out, 0, sizeof(*out));
	err = lock_for(ctx, &fd);
	if (err)
		return err;
	err = failure(rules_take(ctx, &r));
	if (err) {
		unlock(fd);
		return err;
	}
	shared_ports_live(r, out->before);
	memcpy(out->after, out->before, sizeof(out->after));
	for (__u32 p = port_next(list, 1); p < GB_PORT_COUNT && !err; p = port_next(list, p + 1)) {
		__u32 owner = r->owners[p].meeting_id;

		if (add && owner) {
			gb_err("port %u belongs to meeting \"%s\"; a port is either a meeting's or "
			       "shared", p, owner < GB_MAX_MEETINGS ? r->policies[owner].name : "?");
			err = -EEXIST;
		} else if (!add && !port_isset(out->before, p)) {
			gb_err("port %u is not a shared port; see 'geoblock shared-port list'", p);
			err = -ENOENT;
		} else if (port_isset(out->before, p) != !!add) {
			out->changed++;
			out->after[p / 8] ^= 1u << (p % 8);
		}
	}
	if (err || !out->changed)
		goto out;
	/* Saved first: what the maps get is never more than restore puts back. */
	err = shared_ports_write(ctx, out->after);
	if (err) {
		gb_err("cannot write %s/%s: %s", ctx->state_dir, STATE_SHARED_FILE, strerror(-err));
	} else {
		err = shared_ports_set(ctx, r, out->after);
		if (err) {
			gb_err("cannot change the shared ports: %s", strerror(-err));
			if (shared_ports_set(ctx, r, out->before) ||
			    shared_ports_write(ctx, out->before))
				gb_warn("putting the shared ports back failed; 'geoblock restore' "
					"puts back what %s/%s holds", ctx->state_dir,
					STATE_SHARED_FILE);
		}
	}
	changes = json_object_new_array();
	shared_line(changes, '-', out->before);
	if (!err)
		shared_line(changes, '+', out->after);
	if (audit_result_by(ctx, who, reason, err, changes) && !err)
		err = -EIO;
	err = failure(err);
out:
	rules_give(r, err);
	unlock(fd);
	return durable(ctx, err);
}

int ops_apply(const struct gb_ctx *ctx, const struct audit_caller *who, const char *where,
	      const struct spec_list *want, bool check, const char *reason, FILE *plan_out,
	      struct country_census *census, struct ops_counts *counts)
{
	struct json_object *changes;
	struct rules_plan plan;
	char prefix[PATH_MAX + 32];
	struct rules r;
	int fd = -1, err;

	if (!check) {
		err = lock_for(ctx, &fd);
		if (err)
			return err;
	}
	err = failure(countries_census(ctx, census));
	for (size_t i = 0; i < want->n && !err; i++) {
		if (where && want->v[i].line)
			snprintf(prefix, sizeof(prefix), "%s line %u: ", where, want->v[i].line);
		else
			snprintf(prefix, sizeof(prefix), "meeting \"%s\": ", want->v[i].name);
		err = check_countries(census, want->v[i].blocked, prefix);
	}
	if (err)
		goto out_unlock;
	err = failure(check ? rules_read(ctx, &r) : rules_begin(ctx, &r, true));
	if (err)
		goto out_unlock;
	for (size_t i = 0; i < want->n && !err; i++) {
		const struct meeting_spec *s = &want->v[i];

		for (__u32 p = port_next(s->ports, 1); p < GB_PORT_COUNT && !err;
		     p = port_next(s->ports, p + 1)) {
			if (!rules_port_shared(&r, p))
				continue;
			if (where && s->line)
				snprintf(prefix, sizeof(prefix), "%s line %u: ", where, s->line);
			else
				snprintf(prefix, sizeof(prefix), "meeting \"%s\": ", s->name);
			gb_err("%sport %u is a shared port (its meetings are told apart by ufrag); use "
			       "--ufrag, or 'shared-port del %u' first", prefix, p, p);
			err = -EINVAL;
		}
	}
	if (err)
		goto out_rules;
	err = rules_plan(&r, want, &plan);
	if (err) {
		gb_err("cannot plan the change: %s", strerror(-err));
		goto out_rules;
	}
	rules_plan_print(&r, &plan, plan_out, NULL);
	*counts = (struct ops_counts){ .add = plan.n_add, .change = plan.n_replace,
				       .mode = plan.n_mode, .deleted = plan.n_doomed,
				       .keep = plan.n_keep };
	if (!check) {
		changes = json_object_new_array();
		err = rules_converge(ctx, &r, want, changes);
		if (audit_result_by(ctx, who, reason, err, changes) && !err)
			err = -EIO;
		err = failure(err);
	}
	rules_plan_free(&plan);
out_rules:
	rules_free(&r);
out_unlock:
	unlock(fd);
	return check ? err : durable(ctx, err);
}
