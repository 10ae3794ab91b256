// SPDX-License-Identifier: GPL-2.0
/* The node's own rule set as a converge to the store's want needs it (fleet/follow.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/country.h"
#include "state/janus_rooms.h"
#include "state/shared_ports.h"
#include "fleet/local.h"

int fleet_local_held(const struct gb_ctx *ctx, size_t *meetings, size_t *shared)
{
	struct rules r;
	int err = rules_read(ctx, &r);

	*meetings = *shared = 0;
	if (err)
		return err;
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		*meetings += rules_slot_occupied(&r.policies[id]);
	*shared = rules_shared_count(&r);
	rules_free(&r);
	return 0;
}

int fleet_local_shared(const struct gb_ctx *ctx, __u8 *ports)
{
	struct rules r;
	int err = rules_read(ctx, &r);

	if (err)
		return err;
	shared_ports_live(&r, ports);
	rules_free(&r);
	return 0;
}

void fleet_shared_diff(const struct rules *r, const __u8 *want, __u8 *add, __u8 *remove,
		       bool *any_add, bool *any_remove)
{
	for (__u32 p = 1; p < GB_PORT_COUNT; p++) {
		bool now = rules_port_shared(r, p), wanted = port_isset(want, p);

		if (wanted && !now) {
			add[p / 8] |= 1u << (p % 8);
			*any_add = true;
		} else if (!wanted && now) {
			remove[p / 8] |= 1u << (p % 8);
			*any_remove = true;
		}
	}
}

/* Whether port sets a and b have a port in common. */
static bool ports_meet(const __u8 *a, const __u8 *b)
{
	for (size_t i = 0; i < GB_PORT_COUNT / 8; i++)
		if (a[i] & b[i])
			return true;
	return false;
}

int fleet_keep_refused(const struct rules *r, struct fleet_want *w)
{
	struct meeting_spec old;
	char why[240];
	int err = 0;
	__u32 id;

	for (size_t i = 0; i < w->n_refused && !err; i++) {
		struct fleet_refusal *f = &w->refused[i];

		if (!*f->name || !(id = rules_find(r, f->name)))
			continue;
		for (size_t j = 0; j < w->meetings.n && id; j++)
			if (!strcmp(w->meetings.v[j].name, f->name))
				id = 0;
		if (!id || rules_spec(r, id, &old))
			continue;
		/* Janus's handles' ports are not the store's to keep. */
		janus_strip_ports(&r->janus, old.name, old.ports);
		err = spec_list_push(&w->meetings, &old);
		if (err)
			break;
		/*
		 * Nor one claiming a port the store shares (shared ports come first): kept, it would
		 * hold every later change back, the port never becoming shared.
		 */
		if (spec_list_check(&w->meetings, why, sizeof(why)) ||
		    ports_meet(w->meetings.v[w->meetings.n - 1].ports, w->shared)) {
			spec_free(&w->meetings.v[--w->meetings.n]);
			continue;
		}
		snprintf(f->reason + strlen(f->reason), sizeof(f->reason) - strlen(f->reason),
			 "; the version applied before is kept");
	}
	return err;
}

/* The maps are read only when needed (a key refused, the shared ports not known the store's). */
int fleet_compare_local(const struct gb_ctx *ctx, const struct fleet_kept *kept, bool drifted,
			struct fleet_want *w, __u8 *add, __u8 *remove, bool *any_add,
			bool *any_remove)
{
	bool named = false, shared;
	struct rules r;
	int err;

	for (size_t i = 0; i < w->n_refused; i++)
		named |= *w->refused[i].name != '\0';
	/* A local change (drift) may have changed them too. */
	shared = !kept->shared_known || drifted ||
		 memcmp(kept->shared, w->shared, sizeof(w->shared));
	if (!named && !shared)
		return 0;
	err = rules_read(ctx, &r);
	if (err)
		return err;
	err = fleet_keep_refused(&r, w);
	if (shared)
		fleet_shared_diff(&r, w->shared, add, remove, any_add, any_remove);
	rules_free(&r);
	return err;
}

bool fleet_local_empty(const struct gb_ctx *ctx, const char *prefix, char *why, size_t len)
{
	size_t meetings, shared;
	int err = fleet_local_held(ctx, &meetings, &shared);

	if (err) {
		snprintf(why, len, "cannot read the rule set here: %s", strerror(-err));
		return false;
	}
	if (!meetings && !shared)
		return true;
	snprintf(why, len, "no fleet under %s (no meeting, shared-ports, geoip or fleet key): "
		 "keeping the %zu meeting%s and %zu shared port%s here; check --etcd-prefix, or "
		 "mark an empty fleet with 'geoblock fleet init'", prefix, meetings,
		 meetings == 1 ? "" : "s", shared, shared == 1 ? "" : "s");
	return false;
}
