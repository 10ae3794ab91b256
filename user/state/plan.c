// SPDX-License-Identifier: GPL-2.0
/*
 * What a change of the whole rule set (apply, a rollback, restore) does to the maps: the plan
 * (keep, switch mode, add, replace, remove, per meeting), printed as "- old" / "+ new" lines, and
 * carried out make-before-break.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/room_ids.h"
#include "kern/live_table.h"
#include "kern/pins.h"
#include "state/plan.h"
#include "state/ports.h"
#include "state/rules.h"
#include "state/rules_file.h"

void rules_plan_free(struct rules_plan *p)
{
	free(p->action);
	free(p->old_id);
	free(p->doomed);
	memset(p, 0, sizeof(*p));
}

/* A live meeting by name: rules_plan sorts them so that a name's copies sit together. */
struct live_name {
	const char *name;
	__u32 id;
};

static int live_name_cmp(const void *a, const void *b)
{
	const struct live_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/*
 * Whether cur and s differ in their ports or ufrags alone (meeting ports|ufrag add|del, or one of
 * them that died midway): changed in place, as those commands do, the meeting keeps its slot and
 * counters, and needs no room for a second version.
 */
static bool only_ports_differ(const struct meeting_spec *cur, const struct meeting_spec *s)
{
	struct meeting_spec t = *cur;	/* a shallow copy, not freed */

	memcpy(t.ports, s->ports, sizeof(t.ports));
	t.ufrags = s->ufrags;
	t.n_ufrags = s->n_ufrags;
	return spec_equal(&t, s, false);
}

/* What live meeting cur (read for this: its expiry is overwritten) needs to become s. */
static enum plan_action plan_of(struct meeting_spec *cur, const struct meeting_spec *s)
{
	if (spec_equal(cur, s, false))
		return PLAN_KEEP;
	if (spec_equal(cur, s, true))
		return PLAN_MODE;
	if (only_ports_differ(cur, s))
		return PLAN_PORTS;
	/* A relative --expires applied again (config management, say) keeps the counters. */
	cur->expires = s->expires;
	return spec_equal(cur, s, true) ? PLAN_EXPIRY : PLAN_REPLACE;
}

/* Counts a wanted meeting matched with a live one, by what is done to it (PLAN_ADD: n_add). */
static void count_action(struct rules_plan *p, enum plan_action a)
{
	p->n_keep += a == PLAN_KEEP;
	p->n_mode += a == PLAN_MODE;
	p->n_replace += a == PLAN_EXPIRY || a == PLAN_PORTS || a == PLAN_REPLACE;
}

/*
 * The live meeting that wanted meeting s is matched with, among the n copies of its name at live,
 * and what to do with it. A change that died midway can leave two copies of a name, the new one
 * written and the old one not yet removed: a copy equal to s is kept as it is (with its drop
 * counters), else the copy that owns ports (the one enforced) is changed. Matching another would
 * replace an intact meeting, and need room for a third copy where the maps may have none.
 */
static int match_live(const struct rules *r, const struct live_name *live, size_t n,
		      const bool *owns_port, const struct meeting_spec *s, __u32 *id,
		      enum plan_action *action)
{
	*id = 0;
	for (size_t k = 0; k < n; k++) {
		struct meeting_spec cur;
		enum plan_action a;
		int err = rules_spec(r, live[k].id, &cur);

		if (err)
			return err;
		a = plan_of(&cur, s);
		spec_free(&cur);
		if (a == PLAN_KEEP || !*id || (owns_port[live[k].id] && !owns_port[*id])) {
			*id = live[k].id;
			*action = a;
		}
		if (a == PLAN_KEEP)
			break;
	}
	return 0;
}

int rules_plan(const struct rules *r, const struct spec_list *want, struct rules_plan *p)
{
	bool *wanted = calloc(GB_MAX_MEETINGS, sizeof(*wanted));
	bool *owns_port = calloc(GB_MAX_MEETINGS, sizeof(*owns_port));
	struct live_name *live = calloc(GB_MAX_MEETINGS, sizeof(*live));
	size_t n_live = 0;
	int err = 0;

	memset(p, 0, sizeof(*p));
	p->want = want;
	p->action = calloc(want->n + 1, sizeof(*p->action));
	p->old_id = calloc(want->n + 1, sizeof(*p->old_id));
	p->doomed = calloc(GB_MAX_MEETINGS, sizeof(*p->doomed));
	if (!wanted || !owns_port || !live || !p->action || !p->old_id || !p->doomed) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if ((r->policies[id].flags & GB_MEETING_ACTIVE) && r->policies[id].name[0])
			live[n_live++] = (struct live_name){ r->policies[id].name, id };
	qsort(live, n_live, sizeof(*live), live_name_cmp);
	for (__u32 port = 1; port < GB_PORT_COUNT; port++)
		if (r->owners[port].meeting_id < GB_MAX_MEETINGS)
			owns_port[r->owners[port].meeting_id] = true;
	/* A meeting on shared ports alone is enforced through its ufrags. */
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		owns_port[id] |= r->uf.first[id] != 0;
	for (size_t i = 0; i < want->n; i++) {
		struct live_name key = { want->v[i].name, 0 };
		size_t lo = 0, hi = n_live, n = 0;
		__u32 id;

		/* The first copy of the name (ids sort after 0), then how many there are. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (live_name_cmp(&live[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo + n < n_live && !strcmp(live[lo + n].name, key.name))
			n++;
		if (!n) {
			p->action[i] = PLAN_ADD;
			p->n_add++;
			continue;
		}
		err = match_live(r, live + lo, n, owns_port, &want->v[i], &id, &p->action[i]);
		if (err)
			goto out;
		p->old_id[i] = id;
		wanted[id] = true;
		count_action(p, p->action[i]);
	}
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if ((r->policies[id].flags & GB_MEETING_ACTIVE) && !wanted[id])
			p->doomed[p->n_doomed++] = id;
out:
	free(wanted);
	free(owns_port);
	free(live);
	if (err)
		rules_plan_free(p);
	return err;
}

int rules_plan_one(const struct rules *r, const struct spec_list *one, __u32 old_id,
		   struct rules_plan *p)
{
	struct meeting_spec cur;
	int err;

	memset(p, 0, sizeof(*p));
	p->want = one;
	p->action = calloc(2, sizeof(*p->action));
	p->old_id = calloc(2, sizeof(*p->old_id));
	p->doomed = calloc(1, sizeof(*p->doomed));
	if (!p->action || !p->old_id || !p->doomed) {
		rules_plan_free(p);
		return -ENOMEM;
	}
	if (!old_id) {
		p->action[0] = PLAN_ADD;
		p->n_add = 1;
		return 0;
	}
	err = rules_spec(r, old_id, &cur);
	if (err) {
		rules_plan_free(p);
		return err;
	}
	p->old_id[0] = old_id;
	p->action[0] = plan_of(&cur, &one->v[0]);
	spec_free(&cur);
	count_action(p, p->action[0]);
	return 0;
}

static void print_change(FILE *out, struct json_object *changes, char sign, const char *line)
{
	char *full;

	if (!line)
		return;
	if (out)
		fprintf(out, "%c %s\n", sign, line);
	if (changes && asprintf(&full, "%c %s", sign, line) >= 0) {
		json_object_array_add(changes, json_object_new_string(full));
		free(full);
	}
}

void rules_print_live(const struct rules *r, __u32 id, FILE *out, struct json_object *changes)
{
	struct meeting_spec s;
	char *line;

	if (rules_spec(r, id, &s))
		return;
	line = spec_format(&s, false);
	/* A version owning nothing (written before its ports moved, or left after): said so. */
	if (line && port_next(s.ports, 1) >= GB_PORT_COUNT && !s.n_ufrags && !s.n_janus_rooms) {
		char *said;

		if (asprintf(&said, "%s # owning no port yet or any more (an unfinished change)",
			     line) >= 0) {
			free(line);
			line = said;
		}
	}
	print_change(out, changes, '-', line);
	free(line);
	spec_free(&s);
}

void rules_plan_print(const struct rules *r, const struct rules_plan *p, FILE *out,
		      struct json_object *changes)
{
	for (size_t i = 0; i < p->want->n; i++) {
		char *line;

		if (p->action[i] == PLAN_KEEP)
			continue;
		if (p->action[i] != PLAN_ADD)
			rules_print_live(r, p->old_id[i], out, changes);
		line = spec_format(&p->want->v[i], true);
		print_change(out, changes, '+', line);
		free(line);
	}
	for (size_t i = 0; i < p->n_doomed; i++)
		rules_print_live(r, p->doomed[i], out, changes);
}

/* Removes the live meetings the plan keeps no version of. */
static int remove_doomed(const struct gb_ctx *ctx, struct rules *r, const struct rules_plan *p)
{
	int err = 0;

	for (size_t i = 0; i < p->n_doomed && !err; i++)
		err = rules_remove(ctx, r, p->doomed[i]);
	return err;
}

/* Whether live meeting id goes in plan p (replaced by a new version, or deleted). */
static bool plan_removes(const struct rules_plan *p, __u32 id)
{
	for (size_t i = 0; i < p->want->n; i++)
		if (p->old_id[i] == id && p->action[i] == PLAN_REPLACE)
			return true;
	for (size_t i = 0; i < p->n_doomed; i++)
		if (p->doomed[i] == id)
			return true;
	return false;
}

/*
 * The ports Janus handles hold (janus_rooms.c) of the meetings p removes go with their room: to
 * the wanted meeting covering it (its new version), else to no meeting, whose handles' later
 * events give them to whichever covers the room then. janus_rooms_keep and janus_rooms_put name
 * the room's meeting in janus-ports after.
 */
static int move_janus_ports(const struct gb_ctx *ctx, struct rules *r, const struct rules_plan *p,
			    const __u32 *new_id)
{
	const struct spec_list *want = p->want;
	__u8 claimed[GB_PORT_COUNT / 8] = {};
	size_t kept = 0;
	int err = 0;

	/*
	 * A port a wanted meeting names as its own (the operator's rule) is no handle's any more,
	 * also where its room's meeting is that one: else the saved rule set, which leaves handles'
	 * ports out, would lose it, and the handle's end would take it from the meeting.
	 */
	for (size_t i = 0; i < want->n; i++)
		for (size_t b = 0; b < sizeof(claimed) && p->action[i] >= PLAN_PORTS; b++)
			claimed[b] |= want->v[i].ports[b];
	err = janus_ports_claim(ctx->state_dir, &r->janus, claimed, NULL, NULL);
	if (err)
		return err;
	/*
	 * A port this plan gave another meeting as its own is no handle's any more: forgotten, so
	 * that following the rooms cannot name it a Janus port of that meeting (as janus_validate
	 * forgets it at the next reading).
	 */
	for (size_t k = 0; k < r->janus.n_ports; k++) {
		const struct janus_port *jp = &r->janus.ports[k];
		__u32 owner = r->owners[jp->port].meeting_id;

		if (!owner || owner >= GB_MAX_MEETINGS || !strcmp(r->policies[owner].name, jp->meeting))
			r->janus.ports[kept++] = *jp;
	}
	r->janus.n_ports = kept;
	for (size_t k = 0; k < r->janus.n_ports && !err; k++) {
		const struct janus_port *jp = &r->janus.ports[k];
		__u32 owner = r->owners[jp->port].meeting_id, to = 0;

		/* Held for the handle's meeting (gone with it if owner is 0). */
		if (!owner || !plan_removes(p, owner))
			continue;
		for (size_t i = 0; i < want->n && !to; i++)
			if (room_ids_have(want->v[i].janus_rooms, want->v[i].n_janus_rooms, jp->room))
				to = p->action[i] < PLAN_ADD ? p->old_id[i] : new_id[i];
		if (to != owner)
			err = rules_set_owner(ctx, r, jp->port, to);
	}
	return err;
}

/*
 * Takes from live meeting id, whose ports and ufrags are s's own and maybe more, those s does
 * not have: a port a Janus handle holds for it (janus_rooms.c) stays, as no rule names it.
 */
static int drop_lost_ports(const struct gb_ctx *ctx, struct rules *r, const struct meeting_spec *s,
			   __u32 id)
{
	__u8 keep[GB_PORT_COUNT / 8];
	int err;

	rules_ports_of(r, id, keep);
	janus_handle_ports(&r->janus, s->name, keep);
	for (size_t b = 0; b < sizeof(keep); b++)
		keep[b] |= s->ports[b];
	err = rules_set_ports(ctx, r, id, keep);
	if (!err)
		err = ufrags_give(&r->uf, id, s->ufrags, s->n_ufrags);
	return err;
}

/* Appends to buf (at: its length) one more thing short, "; " after the one before. */
static void say_short(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;

	if (*at && *at < len)
		*at += snprintf(buf + *at, len - *at, "; ");
	va_start(ap, fmt);
	if (*at < len)
		*at += vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
}

int rules_plan_room(const struct rules *r, const struct rules_plan *p, char *why, size_t len)
{
	const struct spec_list *want = p->want;
	size_t free_slots = 0, need4 = r->n_allow4, need6 = r->n_allow6, counters = 0, ufrags = 0;
	size_t all4 = 0, all6 = 0, all_counters = 0, all_ufrags = 0, slots = 0, at = 0;
	char short_of[256] = "";

	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		free_slots += !rules_slot_occupied(&r->policies[id]);
	for (size_t i = 0; i < want->n; i++) {
		const struct meeting_spec *s = &want->v[i];
		size_t c = spec_drop_counters(s);

		for (size_t k = 0; k < s->n_allow; k++) {
			*(s->allow[k].family == 4 ? &all4 : &all6) += 1;
			if (p->action[i] >= PLAN_ADD)
				*(s->allow[k].family == 4 ? &need4 : &need6) += 1;
		}
		all_counters += c;
		counters += p->action[i] >= PLAN_ADD ? c : 0;
		slots += p->action[i] >= PLAN_ADD;
		all_ufrags += s->n_ufrags;
		/* Ufrags new to the maps: one moved from another meeting keeps its slot. */
		for (size_t k = 0; k < s->n_ufrags; k++)
			ufrags += !ufrag_owner(&r->uf, s->ufrags[k]);
	}
	/* The set itself does not fit, however it is reached. */
	*why = '\0';
	if (all_counters > GB_DROP_COUNTERS - 1)
		snprintf(why, len, "the rule set needs %zu drop counters (one per meeting and "
			 "country it blocks); at most %d exist", all_counters, GB_DROP_COUNTERS - 1);
	else if (all4 > GB_ALLOW_MAX || all6 > GB_ALLOW_MAX)
		snprintf(why, len, "the rule set has %zu IPv4 and %zu IPv6 exceptions; at most %d "
			 "of each fit", all4, all6, GB_ALLOW_MAX);
	else if (all_ufrags > GB_UFRAGS_MAX - 1)
		snprintf(why, len, "the rule set has %zu ufrags; at most %d fit", all_ufrags,
			 GB_UFRAGS_MAX - 1);
	if (*why)
		return -EINVAL;
	/* What is short, each as needed and free (a new version beside each old one). */
	if (free_slots < slots)
		say_short(short_of, sizeof(short_of), &at, "meeting slots: %zu needed, %zu free",
			  slots, free_slots);
	if (need4 > GB_ALLOW_MAX || need6 > GB_ALLOW_MAX)
		say_short(short_of, sizeof(short_of), &at, "exception entries: %zu IPv4 and %zu "
			  "IPv6 needed, %d of each exist", need4, need6, GB_ALLOW_MAX);
	if (counters > r->counters_free)
		say_short(short_of, sizeof(short_of), &at, "drop counters: %zu needed, %zu free",
			  counters, r->counters_free);
	if (ufrags > ufrags_room(&r->uf))
		say_short(short_of, sizeof(short_of), &at, "ufrag slots: %zu needed, %zu free",
			  ufrags, ufrags_room(&r->uf));
	if (!at)
		return 0;
	snprintf(why, len, "not enough free meeting slots, drop counters, exception entries or "
		 "ufrag slots to switch every meeting without a gap (%s); nothing changed (apply "
		 "in two steps, each changing fewer meetings; a meeting too large to be there "
		 "twice: 'meeting del' it, then add it, a gap)", short_of);
	return -ENOSPC;
}

/*
 * Carries out a plan, make-before-break: mode switches in place (counters kept); new versions
 * written complete and active but owning no port yet; then each port (and ufrag) moved to its new
 * owner in one update (a packet sees the old meeting or the new one, never none); then what is left of
 * old versions and deleted meetings removed.
 */
int rules_plan_execute(const struct gb_ctx *ctx, struct rules *r, const struct rules_plan *p)
{
	const struct spec_list *want = p->want;
	__u32 *new_id = calloc(want->n + 1, sizeof(*new_id));
	__u64 named[GB_COUNTRY_WORDS] = {};
	char why[320];
	int err = 0;

	if (!new_id) {
		err = -ENOMEM;
		goto out;
	}
	if (rules_plan_room(r, p, why, sizeof(why))) {
		err = -ENOSPC;
		goto out;
	}
	for (size_t i = 0; i < want->n; i++)
		for (int w = 0; w < GB_COUNTRY_WORDS && p->action[i] >= PLAN_ADD; w++)
			named[w] |= want->v[i].blocked[w];

	/* The data path's tables tell apart every country named, compiled once for them all. */
	err = live_table_cover(ctx, r->policies, named, false);
	for (size_t i = 0; i < want->n && !err; i++)
		if (p->action[i] == PLAN_MODE || p->action[i] == PLAN_EXPIRY)
			err = rules_set_mode(ctx, r, p->old_id[i],
					     want->v[i].flags & GB_MEETING_MONITOR,
					     p->action[i] == PLAN_EXPIRY ?
					     &want->v[i].expires : NULL);
	for (size_t i = 0; i < want->n && !err; i++) {
		if (p->action[i] < PLAN_ADD)
			continue;
		new_id[i] = rules_free_slot(r);
		err = rules_write_meeting(ctx, r, &want->v[i], new_id[i], false);
	}
	/* No port is in two wanted meetings (spec_list_check): each moves once, in one update. */
	for (size_t i = 0; i < want->n && !err; i++) {
		__u32 id = p->action[i] < PLAN_ADD ? p->old_id[i] : new_id[i];
		const __u8 *ports = want->v[i].ports;

		for (__u32 port = port_next(ports, 1); port < GB_PORT_COUNT && !err;
		     port = port_next(ports, port + 1))
			if (r->owners[port].meeting_id != id)
				err = rules_set_owner(ctx, r, port, id);
		/* Ufrags too (nor is a ufrag in two): a sender learned for one follows it. */
		if (!err)
			err = ufrags_add(&r->uf, id, want->v[i].ufrags, want->v[i].n_ufrags);
	}
	/* Changed in place: what the meeting no longer has is taken from it, once all have moved. */
	for (size_t i = 0; i < want->n && !err; i++)
		if (p->action[i] == PLAN_PORTS)
			err = drop_lost_ports(ctx, r, &want->v[i], p->old_id[i]);
	if (!err)
		err = move_janus_ports(ctx, r, p, new_id);
	for (size_t i = 0; i < want->n && !err; i++)
		if (p->action[i] == PLAN_REPLACE)
			err = rules_remove(ctx, r, p->old_id[i]);
	if (!err)
		err = remove_doomed(ctx, r, p);
out:
	free(new_id);
	return err;
}


/*
 * A recovery without the room to switch every meeting without a gap (a change that died midway
 * leaves two copies of many meetings, and the copy that owns the ports may not be the one the
 * file names): the meetings the file does not name are removed first, then the rest is planned
 * again. A port one of those owned passes unfiltered until the meeting the file gives it to owns
 * it, a moment later; the maps are out of step with the file until then anyway.
 */
int rules_plan_execute_doomed_first(const struct gb_ctx *ctx, struct rules *r,
				const struct spec_list *want, struct rules_plan *p)
{
	int err = remove_doomed(ctx, r, p);

	rules_plan_free(p);
	if (!err)
		err = rules_plan(r, want, p);
	if (!err)
		err = rules_plan_execute(ctx, r, p);
	return err;
}
