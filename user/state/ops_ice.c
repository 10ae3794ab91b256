// SPDX-License-Identifier: GPL-2.0
/*
 * The changes of shared ports and of meetings' ICE ufrags, made as the rest of the rule set's
 * (state/ops.c): under the state lock, checked, logged, saved and audited before returning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/parse.h"
#include "state/audit.h"
#include "state/rules.h"
#include "state/save.h"
#include "state/shared_ports.h"
#include "state/ops_steps.h"
#include "state/managed.h"
#include "state/ops_ice.h"

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
	if (n_add && !(old->flags & GB_MEETING_UDP)) {
		gb_err("meeting \"%s\" covers tcp only: ufrags tell meetings apart on shared ports, "
		       "which are UDP", old->name);
		free(list);
		return -EINVAL;
	}
	for (size_t i = 0; i < n_remove; i++) {
		if (!ufrag_list_has(old->ufrags, old->n_ufrags, remove[i])) {
			gb_err("ufrag %s does not belong to meeting \"%s\"", remove[i], old->name);
			free(list);
			/* Bad input, as a port not the meeting's: -ENOENT is for no such meeting. */
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < old->n_ufrags; i++) {
		if (ufrag_list_has(remove, n_remove, old->ufrags[i]))
			out->removed++;
		else
			list[n++] = old->ufrags[i];
	}
	for (size_t i = 0; i < n_add; i++) {
		__u32 owner = ufrag_owner(&r->uf, add[i]);

		if (owner && owner != id) {
			gb_err("ufrag %s already belongs to meeting \"%s\"", add[i],
			       owner < GB_MAX_MEETINGS ? r->policies[owner].name : "?");
			free(list);
			return -EEXIST;
		}
		if (ufrag_list_has(old->ufrags, old->n_ufrags, add[i]) &&
		    !ufrag_list_has(remove, n_remove, add[i]))
			continue;
		list[n++] = add[i];
		out->added++;
	}
	/* More than fit at all: bad input, as for an apply's set (not a want of room for now). */
	if (out->added > ufrags_room(&r->uf)) {
		gb_err("%u ufrags to add; %zu more fit (at most %d over all meetings)", out->added,
		       ufrags_room(&r->uf), GB_UFRAGS_MAX - 1);
		free(list);
		return -EINVAL;
	}
	/* A meeting of Janus rooms needs neither (as its ports' change says: plan_ports). */
	if (!n && port_next(old->ports, 1) >= GB_PORT_COUNT && !old->n_janus_rooms) {
		gb_err("meeting \"%s\" would have no port or ufrag left; delete the meeting "
		       "instead", old->name);
		free(list);
		return -EINVAL;
	}
	qsort(list, n, sizeof(*list), ufrag_cmp);
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
	err = managed_guard(ctx, who, MANAGED_MEETINGS);
	if (err)
		return err;
	err = ops_begin_meeting(ctx, name, &r, &fd, &id);
	if (err)
		return err;
	err = rules_spec(r, id, &old);
	if (err) {
		gb_err("out of memory");
		err = ops_failure(err);
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
	    audit_result_by(ctx, who, reason, err,
			    ops_change_lines(&old, err ? NULL : &new)) && !err)
		err = -EIO;
	if (!err) {
		out->after = ufrag_list_copy(new.ufrags, new.n_ufrags);
		out->n_after = out->after ? new.n_ufrags : 0;
	}
	/* new shares old's strings and exceptions: only its own list is freed. */
	free(new.ufrags);
	err = ops_failure(err);
out:
	spec_free(&old);
	return ops_end_meeting(ctx, r, fd, err);
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

/*
 * A change cut short (a crash between the saved set and the maps) leaves them apart, which no
 * change of a port the two agree on would mend: the set in the maps, the one enforced and listed,
 * is saved, so that restore puts back what is live. Best effort: the change goes on either way.
 */
static void keep_live_saved(const struct gb_ctx *ctx, const __u8 live[GB_PORT_COUNT / 8])
{
	__u8 saved[GB_PORT_COUNT / 8];
	int err = shared_ports_read(ctx, saved, true);

	if ((err && err != -EINVAL) || (!err && !memcmp(saved, live, sizeof(saved))))
		return;
	err = shared_ports_write(ctx, live);
	if (err)
		gb_warn("cannot write %s/%s: %s", ctx->state_dir, STATE_SHARED_FILE,
			strerror(-err));
	else
		gb_warn("the saved shared ports were not those of the maps (a change cut short?): "
			"saved the maps' set ('geoblock shared-port list')");
}

int ops_shared_ports(const struct gb_ctx *ctx, const struct audit_caller *who, const __u8 *add,
		     const __u8 *remove, const char *reason, struct ops_shared *out)
{
	const __u8 *list = add ? add : remove;
	struct json_object *changes;
	struct rules *r;
	int fd, err;

	memset(out, 0, sizeof(*out));
	err = managed_guard(ctx, who, MANAGED_SHARED);
	if (err)
		return err;
	err = ops_lock(ctx, &fd);
	if (err)
		return err;
	err = ops_failure(ops_rules_take(ctx, &r));
	if (err) {
		ops_unlock(fd);
		return err;
	}
	shared_ports_live(r, out->before);
	memcpy(out->after, out->before, sizeof(out->after));
	keep_live_saved(ctx, out->before);
	for (__u32 p = port_next(list, 1); p < GB_PORT_COUNT && !err; p = port_next(list, p + 1)) {
		__u32 owner = r->owners[p].meeting_id;

		if (add && owner) {
			char held[64];

			gb_err("port %u belongs to meeting \"%s\"%s; a port is either a meeting's "
			       "or shared", p,
			       owner < GB_MAX_MEETINGS ? r->policies[owner].name : "?",
			       janus_port_says(&r->janus, p, held, sizeof(held)));
			err = -EEXIST;
		} else if (!add && !port_isset(out->before, p)) {
			gb_err("port %u is not a shared port; see 'geoblock shared-port list'", p);
			err = -ENOENT;
		} else if (port_isset(out->before, p) != !!add) {
			out->changed++;
			out->after[p / 8] ^= 1u << (p % 8);
		}
	}
	if (!err && out->changed && add)
		err = shared_ports_allowed(r, out->after);
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
	err = ops_failure(err);
out:
	ops_rules_give(ctx, r, err);
	ops_unlock(fd);
	return ops_durable(ctx, err);
}
