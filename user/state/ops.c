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
#include "state/janus_rooms.h"
#include "state/plan.h"
#include "state/ports.h"
#include "state/rules.h"
#include "state/save.h"
#include "state/shared_ports.h"
#include "state/ops_steps.h"
#include "state/managed.h"
#include "state/ops.h"

/*
 * Refuses a port or ufrag of s that a meeting other than id (0: any meeting) has, or a shared port,
 * after one error line.
 */
static int check_claims(const struct rules *r, __u32 id, const struct meeting_spec *s)
{
	for (__u32 p = port_next(s->ports, 1); p < GB_PORT_COUNT; p = port_next(s->ports, p + 1)) {
		__u32 owner = r->owners[p].meeting_id;

		if (owner && owner != id) {
			char held[64];

			gb_err("port %u already belongs to meeting \"%s\"%s", p,
			       owner < GB_MAX_MEETINGS ? r->policies[owner].name : "?",
			       janus_port_says(&r->janus, p, held, sizeof(held)));
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
		__u32 owner = ufrag_owner(&r->uf, s->ufrags[i]);

		if (owner && owner != id) {
			gb_err("ufrag %s already belongs to meeting \"%s\"", s->ufrags[i],
			       owner < GB_MAX_MEETINGS ? r->policies[owner].name : "?");
			return -EEXIST;
		}
	}
	for (size_t i = 0; i < s->n_janus_rooms; i++) {
		const char *owner = janus_room_meeting(&r->janus, s->janus_rooms[i]);

		/* A room kept for a meeting since deleted (expired) is free. */
		if (owner && strcmp(owner, s->name) && rules_find(r, owner)) {
			gb_err("Janus room %llu already belongs to meeting \"%s\"",
			       (unsigned long long)s->janus_rooms[i], owner);
			return -EEXIST;
		}
	}
	return 0;
}

/* The Janus rooms of meeting s recorded, before the rules file can be written from them. */
static int put_rooms(const struct gb_ctx *ctx, struct rules *r, const struct meeting_spec *s,
		     size_t n)
{
	int err = janus_rooms_put(ctx->state_dir, &r->janus, s->name, s->janus_rooms, n);

	if (err)
		gb_err("cannot write %s/%s: %s", ctx->state_dir, GB_JANUS_ROOMS_FILE,
		       strerror(-err));
	return err;
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
	if (s->n_ufrags > ufrags_room(&r->uf)) {
		gb_err("more than %d ufrags over all meetings", GB_UFRAGS_MAX - 1);
		return -ENOSPC;
	}
	return 0;
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
	if (!err && (err = put_rooms(ctx, r, s, s->n_janus_rooms))) {
		/* Out of the maps and the log again: nothing changed. */
		if (rules_remove(ctx, r, id))
			gb_warn("rollback incomplete; the next change finishes it");
		else
			rules_log_abort(ctx);
	}
	if (!err)
		err = rules_save_added(ctx, r, id);
	if (!err)
		rules_save_maybe(ctx, r);
	if (audit_result_by(ctx, who, s->reason, err, ops_change_lines(NULL, s)) && !err)
		err = -EIO;
	return ops_failure(err);
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
	char why[640];
	int err;

	err = check_claims(r, id, s);
	if (err)
		return err;
	err = spec_copy(&copy, s);
	if (!err) {
		/* The reason is the audit record's, not the rule's: out of its change lines. */
		copy.reason[0] = '\0';
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
	/* Refused before anything changes, saying what is short, as an apply is. */
	err = rules_plan_room(r, &p, why, sizeof(why));
	if (err) {
		gb_err("meeting \"%s\": %s", s->name, why);
		goto audit;
	}
	err = rules_log_intent(ctx, s, NULL);
	if (err)
		goto audit;
	err = rules_plan_execute(ctx, r, &p);
	if (!err)
		err = put_rooms(ctx, r, s, s->n_janus_rooms);
	if (err)
		gb_err("cannot replace meeting \"%s\": %s", s->name, strerror(-err));
	if (!err) {
		err = changelog_done(ctx);
		if (err)
			gb_err("cannot write %s/%s: %s", ctx->state_dir, GB_LOG_FILE,
			       strerror(-err));
	}
	if (err) {
		/*
		 * The maps back to the saved set, the old version in them; the change goes out of
		 * the log with that (changelog_recovered), and stays under way if it fails, so
		 * that the next change tries again, as said.
		 */
		if (rules_recover(ctx, r, NULL))
			gb_warn("putting meeting \"%s\" back failed; the next change tries again",
				s->name);
	} else {
		rules_save_maybe(ctx, r);
	}
audit:
	if (audit_result_by(ctx, who, s->reason, err, changes) && !err)
		err = -EIO;
	err = ops_failure(err);
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
	err = managed_guard(ctx, who, MANAGED_MEETINGS);
	if (!err)
		err = ops_lock(ctx, &fd);
	if (err)
		return err;
	err = ops_failure(countries_census(ctx, census));
	if (!err)
		err = check_countries(census, s->blocked, "");
	if (err)
		goto out;
	err = ops_failure(ops_rules_take(ctx, &r));
	if (err)
		goto out;
	id = replace ? rules_find(r, s->name) : 0;
	*created = !id;
	err = id ? replace_locked(ctx, who, r, id, s) : add_locked(ctx, who, r, s);
	ops_rules_give(ctx, r, err);
out:
	ops_unlock(fd);
	return ops_durable(ctx, err);
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
	err = managed_guard(ctx, who, MANAGED_MEETINGS);
	if (err)
		return err;
	err = ops_begin_meeting(ctx, name, &r, &fd, &id);
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
		err = rules_set_mode(ctx, r, id, monitor, NULL);
		if (err) {
			rules_log_abort(ctx);
			gb_err("cannot switch meeting \"%s\": %s", name, strerror(-err));
		} else {
			err = rules_save_switched(ctx, r, id);
		}
	}
	if (!err)
		rules_save_maybe(ctx, r);
	if (audit_result_by(ctx, who, reason, err, ops_change_lines(&old, err ? NULL : &new)) &&
	    !err)
		err = -EIO;
	spec_free(&old);
	spec_free(&new);
	err = ops_failure(err);
out:
	return ops_end_meeting(ctx, r, fd, err);
}

int ops_meeting_del(const struct gb_ctx *ctx, const struct audit_caller *who, const char *name,
		    const char *reason)
{
	struct meeting_spec old = {};
	struct rules *r;
	int fd, err, e;
	__u32 id;

	err = managed_guard(ctx, who, MANAGED_MEETINGS);
	if (err)
		return err;
	err = ops_begin_meeting(ctx, name, &r, &fd, &id);
	if (err)
		return err;
	err = rules_spec(r, id, &old);
	if (err)
		gb_err("out of memory");
	if (!err)
		err = rules_log_intent(ctx, NULL, name);
	if (!err)
		err = rules_remove_saved(ctx, r, id);
	/* Deleted: rooms still recorded for it are free to other meetings (check_claims). */
	if (!err && (e = janus_rooms_put(ctx->state_dir, &r->janus, name, NULL, 0)))
		gb_warn("meeting \"%s\" deleted, but its Janus rooms stay in %s/%s: %s", name,
			ctx->state_dir, GB_JANUS_ROOMS_FILE, strerror(-e));
	if (!err)
		rules_save_maybe(ctx, r);
	if (audit_result_by(ctx, who, reason, err, ops_change_lines(&old, NULL)) && !err)
		err = -EIO;
	spec_free(&old);
	return ops_end_meeting(ctx, r, fd, ops_failure(err));
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
	memset(out->claimed, 0, sizeof(out->claimed));
	out->changed = 0;
	if (add)
		err = rules_ports_plan(r, id, add, true, out->after, &out->changed, err_msg,
				       sizeof(err_msg));
	/* Its handles' ports: added, they become the operator's; removed, not the operator's. */
	for (size_t k = 0; k < r->janus.n_ports && !err; k++) {
		const struct janus_port *jp = &r->janus.ports[k];
		__u32 port = jp->port;

		if (strcmp(jp->meeting, r->policies[id].name))
			continue;
		if (add && port_isset(add, port)) {
			out->claimed[port / 8] |= 1u << (port % 8);
			out->changed++;
		} else if (remove && port_isset(remove, port)) {
			snprintf(err_msg, sizeof(err_msg), "port %u is not meeting \"%s\"'s own: a "
				 "Janus handle in its room %llu holds it while it lives", port,
				 r->policies[id].name, (unsigned long long)jp->room);
			err = -ENOENT;
		}
	}
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
	if (!err && !left && !r->uf.first[id] &&
	    !janus_has_rooms(&r->janus, r->policies[id].name)) {
		snprintf(err_msg, sizeof(err_msg), "meeting \"%s\" would have no port left; delete "
			 "the meeting instead", r->policies[id].name);
		err = -EINVAL;
	}
	if (err)
		gb_err("%s", err_msg);
	/* A port of another meeting is a conflict; one not the meeting's, bad input. */
	return err == -EEXIST ? err : err ? -EINVAL : 0;
}

/* The handles' ports that claimed names, forgotten (their records copied to *was first). */
static int claim_ports(const struct gb_ctx *ctx, struct rules *r, const __u8 *claimed,
		       struct janus_port **was, size_t *n)
{
	int err;

	*was = calloc(r->janus.n_ports + 1, sizeof(**was));
	if (!*was)
		return -ENOMEM;
	err = janus_ports_claim(ctx->state_dir, &r->janus, claimed, *was, n);
	if (err)
		gb_err("cannot write %s/%s: %s", ctx->state_dir, GB_JANUS_PORTS_FILE,
		       strerror(-err));
	return err;
}

/* The records claim_ports forgot, back: the change they were for failed. */
static void unclaim_ports(const struct gb_ctx *ctx, struct rules *r, const struct janus_port *was,
			  size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = janus_port_add(ctx->state_dir, &r->janus, &was[i]);
	if (err)
		gb_warn("cannot give the Janus handles' ports back in %s/%s: %s; a handle's end "
			"leaves its port to the meeting", ctx->state_dir, GB_JANUS_PORTS_FILE,
			strerror(-err));
}

int ops_meeting_ports(const struct gb_ctx *ctx, const struct audit_caller *who, const char *name,
		      const __u8 *add, const __u8 *remove, const char *reason, struct ops_ports *out)
{
	struct meeting_spec old = {}, new;
	struct janus_port *was = NULL;
	size_t n_was = 0;
	struct rules *r;
	int fd, err;
	__u32 id;

	err = managed_guard(ctx, who, MANAGED_MEETINGS);
	if (err)
		return err;
	err = ops_begin_meeting(ctx, name, &r, &fd, &id);
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
	/* Its handles' ports stay out of the saved rule set, but those named: the operator's now. */
	janus_strip_ports(&r->janus, new.name, new.ports);
	for (size_t i = 0; i < sizeof(new.ports); i++)
		new.ports[i] |= out->claimed[i];
	/* Forgotten as handles' ports first (kept when the handle ends); given back if it fails. */
	if (!err && out->changed)
		err = claim_ports(ctx, r, out->claimed, &was, &n_was);
	if (!err && out->changed && !(err = rules_log_intent(ctx, &new, NULL)))
		err = rules_set_ports_saved(ctx, r, id, out->after);
	if (err && n_was)
		unclaim_ports(ctx, r, was, n_was);
	free(was);
	/* Of its ports after, those its handles hold: what stripping them takes away. */
	memcpy(out->handles, out->after, sizeof(out->handles));
	janus_handle_ports(&r->janus, name, out->handles);
	if (!err && out->changed)
		rules_save_maybe(ctx, r);
	/* Adding ports it owns already changes nothing: said, not refused, not audited. */
	if (out->changed && audit_result_by(ctx, who, reason, err,
					    ops_change_lines(&old, err ? NULL : &new)) && !err)
		err = -EIO;
	spec_free(&old);
	err = ops_failure(err);
out:
	return ops_end_meeting(ctx, r, fd, err);
}

int ops_apply(const struct gb_ctx *ctx, const struct audit_caller *who, const char *where,
	      const struct spec_list *want, bool check, const char *reason, FILE *plan_out,
	      struct country_census *census, struct ops_counts *counts)
{
	struct json_object *changes;
	struct rules_plan plan;
	char prefix[PATH_MAX + 32];
	struct rules fresh, *r = &fresh;
	int fd = -1, err;
	size_t lost;

	if (!check) {
		err = managed_guard(ctx, who, MANAGED_MEETINGS);
		if (!err)
			err = ops_lock(ctx, &fd);
		if (err)
			return err;
	} else {
		/* A read as the others are: not of a change halfway (its plan would be wrong). */
		fd = ops_lock_shared(ctx);
		if (fd < -1)
			return fd;
	}
	err = ops_failure(countries_census(ctx, census));
	for (size_t i = 0; i < want->n && !err; i++) {
		if (where && want->v[i].line)
			snprintf(prefix, sizeof(prefix), "%s line %u: ", where, want->v[i].line);
		else
			snprintf(prefix, sizeof(prefix), "meeting \"%s\": ", want->v[i].name);
		err = check_countries(census, want->v[i].blocked, prefix);
	}
	if (err)
		goto out_unlock;
	/* A daemon's changes (a fleet node's converges) start from the rule set it keeps. */
	err = ops_failure(check ? rules_read(ctx, &fresh) : ops_rules_take(ctx, &r));
	if (err == -ESTALE)	/* a fleet node's converge: its status says why */
		gb_err("the pinned maps under %s were re-created since the daemon started: it "
		       "changes nothing in them; restart it", ctx->pin_dir);
	if (err)
		goto out_unlock;
	/* An apply puts the saved rule set back first (rules_begin): a check cannot. */
	lost = check ? rules_lost(ctx, r) : 0;
	if (lost) {
		gb_err("the maps hold no meeting while the saved rule set in %s lists %zu (pins "
		       "lost: after a reboot, run 'geoblock restore'); an apply would put them back "
		       "first, so a check cannot say what it changes: run 'geoblock restore' first",
		       ctx->state_dir, lost);
		err = -EIO;
		goto out_rules;
	}
	for (size_t i = 0; i < want->n && !err; i++) {
		const struct meeting_spec *s = &want->v[i];

		for (__u32 p = port_next(s->ports, 1); p < GB_PORT_COUNT && !err;
		     p = port_next(s->ports, p + 1)) {
			if (!rules_port_shared(r, p))
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
	err = rules_plan(r, want, &plan);
	if (err) {
		gb_err("cannot plan the change: %s", strerror(-err));
		goto out_rules;
	}
	/* Refused before anything is printed or changed; --check says so too. */
	err = rules_plan_room(r, &plan, prefix, sizeof(prefix));
	if (err) {
		gb_err("%s", prefix);
		rules_plan_free(&plan);
		goto out_rules;
	}
	rules_plan_print(r, &plan, plan_out, NULL);
	*counts = (struct ops_counts){ .add = plan.n_add, .change = plan.n_replace,
				       .mode = plan.n_mode, .deleted = plan.n_doomed,
				       .keep = plan.n_keep };
	if (!check) {
		changes = json_object_new_array();
		err = rules_converge(ctx, r, want, changes);
		if (audit_result_by(ctx, who, reason, err, changes) && !err)
			err = -EIO;
		err = ops_failure(err);
	}
	rules_plan_free(&plan);
out_rules:
	if (check)
		rules_free(&fresh);
	else
		ops_rules_give(ctx, r, err);
out_unlock:
	ops_unlock(fd);
	return check ? err : ops_durable(ctx, err);
}
