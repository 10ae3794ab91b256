// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/state/shared_ports.c as built for a CPU whose memory order the data path's
 * shared-port protocol cannot rely on (SHARED_PORTS_ORDERED 0, as on arm64): no port becomes
 * shared, with one line naming it, and the maps are not touched (the context has no skeleton, so
 * a write would crash the test); ports already shared stay allowed, and a meeting's port is still
 * refused as a meeting's first. x86-64 builds share ports in the shell tests.
 */
#include <errno.h>
#include <string.h>
#include <linux/types.h>
#define SHARED_PORTS_ORDERED	0
#include "state/shared_ports.c"
#include "check.h"

static struct port_owner owners[GB_PORT_COUNT];

static void set_port(__u8 *ports, __u32 p)
{
	ports[p / 8] |= 1u << (p % 8);
}

int main(void)
{
	struct rules r = { .owners = owners };
	struct gb_ctx ctx = {};
	__u8 want[GB_PORT_COUNT / 8] = {};

	owners[10000].flags = GB_PORT_SHARED;
	owners[8801].meeting_id = 1;

	CHECK_INT("nothing wanted", 0, shared_ports_allowed(&r, want));
	set_port(want, 10000);
	CHECK_INT("a port shared already", 0, shared_ports_allowed(&r, want));
	CHECK_INT("set to the shared set it has", 0, shared_ports_set(&ctx, &r, want));

	set_port(want, 10001);
	CHECK_INT("a new shared port refused", -EOPNOTSUPP, shared_ports_allowed(&r, want));
	CHECK("the line names the port", strstr(gb_last_error(), "port 10001 cannot be shared") != NULL);
	CHECK("the line names the CPU's memory order", strstr(gb_last_error(), "x86-64") != NULL);
	CHECK_INT("set refuses it", -EOPNOTSUPP, shared_ports_set(&ctx, &r, want));
	CHECK_INT("port 10001 untouched", 0, owners[10001].flags);
	CHECK_INT("port 10000 still shared", GB_PORT_SHARED, owners[10000].flags);

	set_port(want, 8801);
	CHECK_INT("a meeting's port refused as a meeting's", -EEXIST,
		  shared_ports_set(&ctx, &r, want));
	return check_summary();
}
