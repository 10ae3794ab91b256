// SPDX-License-Identifier: GPL-2.0
/*
 * A live meeting's ports changed in place (meeting ports add|del): only meeting_by_port changes,
 * one update per port, so packets to the meeting's other ports, its policy and its counters never
 * see the change.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/country.h"
#include "kern/pins.h"
#include "state/ports.h"
#include "state/rules.h"

int rules_ports_plan(const struct rules *r, __u32 id, const __u8 list[GB_PORT_COUNT / 8], bool add,
		     __u8 want[GB_PORT_COUNT / 8], unsigned int *changed, char *err, size_t errlen)
{
	const char *name = r->policies[id].name;
	bool left = false;

	rules_ports_of(r, id, want);
	*changed = 0;
	for (__u32 p = port_next(list, 1); p < GB_PORT_COUNT; p = port_next(list, p + 1)) {
		__u32 owner = r->owners[p].meeting_id;

		if (add && owner && owner != id) {
			char held[64];

			snprintf(err, errlen, "port %u already belongs to meeting \"%s\"%s", p,
				 r->policies[owner].name,
				 janus_port_says(&r->janus, p, held, sizeof(held)));
			return -EEXIST;
		}
		if (add && rules_port_shared(r, p)) {
			snprintf(err, errlen, "port %u is a shared port (its meetings are told apart "
				 "by ufrag); give the meeting a ufrag instead, or 'shared-port del' it",
				 p);
			return -EEXIST;
		}
		if (!add && owner != id) {
			snprintf(err, errlen, "port %u does not belong to meeting \"%s\"", p, name);
			return -ENOENT;
		}
		*changed += owner != (add ? id : 0);
		if (add)
			want[p / 8] |= 1u << (p % 8);
		else
			want[p / 8] &= ~(1u << (p % 8));
	}
	for (__u32 i = 0; i < GB_PORT_COUNT / 8 && !left; i++)
		left = want[i];
	if (!left && !r->uf.first[id]) {
		snprintf(err, errlen, "meeting \"%s\" would have no port left; delete the meeting "
			 "instead", name);
		return -EINVAL;
	}
	return 0;
}

int rules_set_ports(const struct gb_ctx *ctx, struct rules *r, __u32 id,
		    const __u8 want[GB_PORT_COUNT / 8])
{
	int err;

	for (__u32 p = port_next(want, 1); p < GB_PORT_COUNT; p = port_next(want, p + 1)) {
		__u32 owner = r->owners[p].meeting_id;

		if ((owner && owner != id) || rules_port_shared(r, p))
			return -EEXIST;
	}
	/* Gained ports first, then lost ones: at no moment fewer than the ports both sets share. */
	for (__u32 p = port_next(want, 1); p < GB_PORT_COUNT; p = port_next(want, p + 1)) {
		if (r->owners[p].meeting_id == id)
			continue;
		err = rules_set_owner(ctx, r, p, id);
		if (err)
			return err;
	}
	for (__u32 p = r->first_port[id], next; p; p = next) {
		next = r->next_port[p];
		if (port_isset(want, p))
			continue;
		err = rules_set_owner(ctx, r, p, 0);
		if (err)
			return err;
	}
	return 0;
}
