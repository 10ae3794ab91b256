// SPDX-License-Identifier: GPL-2.0
/*
 * Shared ports: the ports on which a packet's meeting is found by the ICE ufrag of its sender's
 * Binding Request instead of by the port. The set is saved in the state dir (one line of ports
 * and ranges) before the maps change, and put back by restore.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/files.h"
#include "state/changelog.h"
#include "state/rules_read.h"
#include "state/shared_ports.h"
#include "geoblock.skel.h"

int shared_ports_read(const struct gb_ctx *ctx, __u8 ports[GB_PORT_COUNT / 8], bool say)
{
	char path[4096], *line = NULL, err_msg[256];
	size_t cap = 0;
	int err = 0;
	FILE *f;

	memset(ports, 0, GB_PORT_COUNT / 8);
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, STATE_SHARED_FILE);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		if (say)
			gb_err("cannot open %s: %s", path, strerror(errno));
		return err;
	}
	/* Item by item: a damaged one is left out, named, and the others kept. */
	while (getline(&line, &cap, f) >= 0) {
		__u8 more[GB_PORT_COUNT / 8];
		char *save = NULL;

		line[strcspn(line, "\n")] = '\0';
		if (*line == '#')
			continue;
		for (char *item = strtok_r(line, ", \t\r", &save); item;
		     item = strtok_r(NULL, ", \t\r", &save)) {
			if (parse_ports(item, more, err_msg, sizeof(err_msg))) {
				if (say)
					gb_err("%s: %s; left out", path, err_msg);
				err = -EINVAL;
				continue;
			}
			for (size_t i = 0; i < sizeof(more); i++)
				ports[i] |= more[i];
		}
	}
	free(line);
	fclose(f);
	return err;
}

const char *shared_ports_none_says(const struct gb_ctx *ctx, const char *what, char *buf,
				   size_t n)
{
	__u8 ports[GB_PORT_COUNT / 8];

	*buf = '\0';
	if (shared_ports_read(ctx, ports, true) && port_next(ports, 1) >= GB_PORT_COUNT)
		return buf;
	for (size_t i = 0; i < sizeof(ports); i++)
		if (ports[i])
			return buf;
	snprintf(buf, n, "%s: no port is shared, so its ufrags match no packet yet (geoblock "
		 "shared-port add PORTS)", what);
	return buf;
}

void shared_ports_warn_none(const struct gb_ctx *ctx, const char *what)
{
	char line[PATH_MAX + 128];

	if (*shared_ports_none_says(ctx, what, line, sizeof(line)))
		gb_warn("%s", line);
}

int shared_ports_write(const struct gb_ctx *ctx, const __u8 ports[GB_PORT_COUNT / 8])
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return -ENOMEM;
	fprintf(f, "# shared ports (geoblock shared-port): meetings on them are told apart by ICE "
		"ufrag\n");
	if (port_next(ports, 1) < GB_PORT_COUNT) {
		print_ports(f, ports);
		fputc('\n', f);
	}
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	/* The state dir exists: the state lock is a file in it. */
	err = gb_write_file_atomic(ctx->state_dir, STATE_SHARED_FILE, buf, len);
	free(buf);
	return err;
}

/*
 * The data path's learned senders and their cache are written and read with x86-64's ordering:
 * loads kept in order with earlier loads, stores with earlier stores, a locked instruction a full
 * barrier. BPF on Linux 6.1 has no load-acquire to ask for it elsewhere (design.md).
 */
#ifndef SHARED_PORTS_ORDERED
#if defined(__x86_64__)
#define SHARED_PORTS_ORDERED	1
#else
#define SHARED_PORTS_ORDERED	0
#endif
#endif

int shared_ports_allowed(const struct rules *r, const __u8 want[GB_PORT_COUNT / 8])
{
	if (SHARED_PORTS_ORDERED)
		return 0;
	for (__u32 p = port_next(want, 1); p < GB_PORT_COUNT; p = port_next(want, p + 1))
		if (!rules_port_shared(r, p)) {
			gb_err("port %u cannot be shared on this CPU: the data path's shared-port "
			       "protocol needs x86-64's memory order (see design.md)", p);
			return -EOPNOTSUPP;
		}
	return 0;
}

void shared_ports_live(const struct rules *r, __u8 ports[GB_PORT_COUNT / 8])
{
	memset(ports, 0, GB_PORT_COUNT / 8);
	for (__u32 p = 1; p < GB_PORT_COUNT; p++)
		if (rules_port_shared(r, p))
			ports[p / 8] |= 1u << (p % 8);
}

/* Makes port shared (demultiplexed by ufrag) or not; it must be no meeting's. */
static int set_shared(const struct gb_ctx *ctx, struct rules *r, __u32 port, bool shared)
{
	struct port_owner o = { .flags = shared ? GB_PORT_SHARED : 0 };

	/* r->owners is the map's memory: it holds o after the update. */
	if (r->owners[port].meeting_id)
		return -EEXIST;
	if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.meeting_by_port), &port, &o, BPF_ANY))
		return -errno;
	return 0;
}

int shared_ports_set(const struct gb_ctx *ctx, struct rules *r,
		     const __u8 want[GB_PORT_COUNT / 8])
{
	int err;

	for (__u32 p = port_next(want, 1); p < GB_PORT_COUNT; p = port_next(want, p + 1))
		if (r->owners[p].meeting_id)
			return -EEXIST;
	err = shared_ports_allowed(r, want);
	if (err)
		return err;
	for (__u32 p = port_next(want, 1); p < GB_PORT_COUNT; p = port_next(want, p + 1)) {
		if (rules_port_shared(r, p))
			continue;
		err = set_shared(ctx, r, p, true);
		if (err)
			return err;
	}
	for (__u32 p = 1; p < GB_PORT_COUNT; p++) {
		if (!rules_port_shared(r, p) || port_isset(want, p))
			continue;
		err = set_shared(ctx, r, p, false);
		if (err)
			return err;
	}
	return 0;
}

/* Salvage's left-out lines are restore's to say (restore_rules reads the file again). */
static void say_nothing(void *arg, const char *what)
{
	(void)arg;
	(void)what;
}

int shared_ports_unowned(const struct gb_ctx *ctx, __u8 want[GB_PORT_COUNT / 8])
{
	struct salvage sv = { .left_out = say_nothing };
	struct spec_list saved;
	time_t now = time(NULL);
	char msg[512];
	int n = 0;

	if (port_next(want, 1) >= GB_PORT_COUNT ||
	    changelog_read(ctx, &sv, &saved, msg, sizeof(msg)))
		return 0;
	for (size_t i = 0; i < saved.n; i++) {
		/* One whose expiry has passed is deleted before it could hold a port. */
		if (spec_expired(&saved.v[i], now))
			continue;
		for (__u32 p = port_next(want, 1); p < GB_PORT_COUNT; p = port_next(want, p + 1)) {
			if (!port_isset(saved.v[i].ports, p))
				continue;
			gb_err("shared port %u left out: meeting \"%s\" of the saved rule set has "
			       "it; a port is either a meeting's or shared", p, saved.v[i].name);
			want[p / 8] &= ~(1u << (p % 8));
			n++;
		}
	}
	spec_list_free(&saved);
	return n;
}
