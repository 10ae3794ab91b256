// SPDX-License-Identifier: GPL-2.0
/* Attaching the filter to interfaces through pinned bpf_links, and detaching it. */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lib/errors.h"
#include "kern/links.h"
#include "kern/live_table.h"
#include "kern/pins.h"
#include "state/audit.h"
#include "state/context.h"
#include "state/records.h"
#include "cli/attach.h"
#include "cli/cmd.h"
#include "geoblock.skel.h"

static void link_path(const struct gb_ctx *ctx, const char *ifname, char *out, size_t len)
{
	snprintf(out, len, "%s/" GB_LINK_PREFIX "%s", ctx->pin_dir, ifname);
}

static int try_attach(int prog_fd, int ifindex, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);

	return fd < 0 ? -errno : fd;
}

bool attach_live(const struct gb_ctx *ctx, const char *ifname)
{
	unsigned int now;
	char path[512];
	int fd, idx;

	link_path(ctx, ifname, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	idx = link_ifindex(fd, NULL);
	close(fd);
	now = if_nametoindex(ifname);
	/* Not one on an interface renamed since when a new one has the name: attach_iface says so. */
	return idx > 0 && (!now || (unsigned int)idx == now);
}

/* The ARPHRD_* link type of ifname, or -errno. */
static int link_type(const char *ifname)
{
	struct ifreq ifr = {};
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ret = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : ifr.ifr_hwaddr.sa_family;
	close(fd);
	return ret;
}

/*
 * A link of ours is live on ifname but not recorded: an attach died between pinning the link and
 * recording it. Recorded now as it runs (restore attaches it again after a reboot), audited.
 */
static int record_live(const struct gb_ctx *ctx, const char *ifname, int ifindex, __u32 prog_id,
		       const char *lookup)
{
	const char *mode = link_attach_mode(ifindex, prog_id), *kind = link_lookup_kind(prog_id);
	int err;

	if (strcmp(mode, "native") && strcmp(mode, "generic"))
		mode = "auto";
	if (strcmp(kind, "table") && strcmp(kind, "lpm"))
		kind = lookup;
	err = state_attachment_set(ctx, ifname, mode, kind);
	if (err > 0)
		err = 0;
	if (err)
		gb_err("attached to %s, but cannot record it in %s/%s (restore would not attach it "
		       "again): %s", ifname, ctx->state_dir, STATE_ATTACH_FILE, strerror(-err));
	if (audit_result(ctx, NULL, err, NULL) && !err)
		err = -EIO;
	if (err)
		return GB_EXIT_FAIL;
	printf("already attached to %s (%s mode, %s lookup), but not recorded (an attach stopped "
	       "midway): recorded now, for restore\n", ifname, mode, kind);
	return GB_EXIT_OK;
}

/*
 * Detaches link fd, even if something else holds a reference to it, then removes its pin at
 * path; closes fd. 0, or -errno of the step that failed (*detached: whether the detach was done).
 */
static int unpin_link(int fd, const char *path, bool *detached)
{
	int err;

	*detached = !bpf_link_detach(fd) || errno == ENOLINK || errno == EINVAL;
	err = *detached ? 0 : -errno;
	close(fd);
	if (!err && unlink(path))
		err = -errno;
	return err;
}

int attach_iface(const char *ifname, const char *mode, const char *lookup, bool locked)
{
	const char *requested = mode;
	char path[512];
	struct gb_ctx ctx;
	int ifindex, fd, prog_fd, err, ret = GB_EXIT_FAIL;
	bool detached;

	ifindex = strlen(ifname) < IF_NAMESIZE ? (int)if_nametoindex(ifname) : 0;
	if (!ifindex) {
		gb_err("no interface \"%.32s\"", ifname);
		return GB_EXIT_USAGE;
	}
	/*
	 * The program reads Ethernet frames. On an interface without link headers (WireGuard, tun,
	 * IP tunnels, loopback) it would take bytes of the IP header for an EtherType and pass
	 * nearly everything as "not IP": filtering nothing, silently.
	 */
	err = link_type(ifname);
	if (err != ARPHRD_ETHER) {
		if (err < 0)
			gb_err("cannot read the link type of %s: %s", ifname, strerror(-err));
		else
			gb_err("%s is not an Ethernet interface (link type %d): the filter reads "
			       "Ethernet frames; attach it where the traffic arrives with Ethernet "
			       "headers", ifname, err);
		return GB_EXIT_USAGE;
	}
	/* restore holds the lock already: a second flock on it would wait for ever. */
	if (gb_open(&ctx, (locked ? 0 : GB_OPEN_LOCKED) | GB_OPEN_PROGRAM |
			      (!strcmp(lookup, "lpm") ? GB_OPEN_LPM : 0)))
		return GB_EXIT_FAIL;
	if (!strcmp(lookup, "lpm")) {
		__u32 zero = 0, id;

		if (bpf_map_lookup_elem(bpf_map__fd(ctx.skel->maps.country_v4), &zero, &id) &&
		    bpf_map_lookup_elem(bpf_map__fd(ctx.skel->maps.country_v6), &zero, &id)) {
			gb_err("no LPM tries loaded; run 'geoblock geoip load --with-lpm PATH' first");
			ret = GB_EXIT_USAGE;
			goto out;
		}
	}
	link_path(&ctx, ifname, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		__u32 prog_id = 0;
		int idx = link_ifindex(fd, &prog_id);

		close(fd);
		/* Unreadable is not gone: the pin is left to a live link, if it is one. */
		if (idx < 0) {
			gb_err("cannot read the link pinned at %s: %s", path, strerror(-idx));
			goto out;
		}
		if (idx > 0 && idx != ifindex) {
			char now[IF_NAMESIZE];

			gb_err("already attached as %s, to interface index %d (%s here: renamed "
			       "since?); 'geoblock detach %s' first", ifname, idx,
			       if_indextoname(idx, now) ? now : "none", ifname);
			ret = GB_EXIT_USAGE;
			goto out;
		}
		if (idx > 0 && !locked && !state_attachment_recorded(&ctx, ifname)) {
			ret = record_live(&ctx, ifname, idx, prog_id, lookup);
			goto out;
		}
		if (idx > 0) {
			gb_err("already attached to %s; 'geoblock detach %s' first", ifname, ifname);
			ret = GB_EXIT_USAGE;
			goto out;
		}
		/* The interface it was attached to is gone: a stale pin, replace it. */
		unlink(path);
	}

	/*
	 * The compiled tables the program reads tell apart the live meetings' countries: pins made
	 * by an older geoblock hold none yet.
	 */
	if (live_table_cover(&ctx, NULL, NULL, false))
		goto out_failed;
	prog_fd = bpf_program__fd(ctx.skel->progs.geoblock_xdp);
	if (!strcmp(mode, "generic")) {
		fd = try_attach(prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
	} else {
		fd = try_attach(prog_fd, ifindex, XDP_FLAGS_DRV_MODE);
		if (fd < 0 && !strcmp(mode, "auto") && fd != -EBUSY && fd != -EEXIST) {
			gb_warn("native XDP on %s failed (%s); attaching in generic mode", ifname,
				strerror(-fd));
			mode = "generic";
			fd = try_attach(prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
		}
	}
	if (fd == -EBUSY || fd == -EEXIST) {
		gb_err("%s already has an XDP program attached (or a device stacked on it has one); "
		       "remove it first (ip link show %s)", ifname, ifname);
		goto out_failed;
	}
	if (fd < 0) {
		gb_err("cannot attach to %s in %s mode: %s%s%s", ifname, mode, strerror(-fd),
		       fd == -ERANGE ? " (its MTU too large for the driver's XDP?)" : "",
		       strcmp(mode, "generic") ? "; try --mode generic or --mode auto" : "");
		goto out_failed;
	}
	if (bpf_obj_pin(fd, path)) {
		gb_err("cannot pin the link at %s: %s; not attached", path, strerror(errno));
		close(fd);	/* the last reference: detaches */
		goto out_failed;
	}
	/* What was asked ("auto" stays auto), so that restore decides again on its machine. */
	err = locked ? 0 : state_attachment_set(&ctx, ifname, requested, lookup);
	if (err > 0)
		err = 0;
	/* Unrecorded, it would run until a reboot and not after: undone, so that it failed whole. */
	if (err) {
		int unpinned = unpin_link(fd, path, &detached);

		gb_err("cannot record the attachment in %s/%s: %s; %s", ctx.state_dir,
		       STATE_ATTACH_FILE, strerror(-err), !detached ?
		       "attached all the same (cannot undo it: 'geoblock detach' it)" : unpinned ?
		       "not attached (its link's pin stays: remove it)" : "not attached");
	} else {
		close(fd);
	}
	if (!locked && audit_result(&ctx, NULL, err, NULL) && !err)
		err = -EIO;
	if (err)
		goto out;
	printf("attached to %s (%s mode, %s lookup)\n", ifname,
	       !strcmp(mode, "generic") ? "generic" : "native", lookup);
	ret = GB_EXIT_OK;
	goto out;
out_failed:
	/* A failure while changing things is audited; refused input (exit 1) changed nothing. */
	if (!locked)
		audit_result(&ctx, NULL, -EIO, NULL);
out:
	gb_close(&ctx);
	return ret;
}

int cmd_attach(const struct cmd_args *a)
{
	return attach_iface(a->pos[0], a->opt[OPT_MODE], a->opt[OPT_LOOKUP], false);
}

int cmd_detach(const struct cmd_args *a)
{
	const char *ifname = a->pos[0];
	struct gb_ctx ctx;
	char path[512];
	int fd, err = 0, ret = GB_EXIT_FAIL;
	bool detached;

	if (gb_open(&ctx, GB_OPEN_LOCKED))
		return GB_EXIT_FAIL;
	link_path(&ctx, ifname, path, sizeof(path));
	fd = bpf_obj_get(path);
	/* A pin that cannot be opened (EMFILE, say) is no sign of no link: nothing forgotten. */
	if (fd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG) {
		gb_err("cannot open the link pinned at %s: %s", path, strerror(errno));
		goto out;
	}
	if (fd < 0) {
		/* Not attached (a reboot?) but recorded: restore must not attach it again. */
		err = state_attachment_set(&ctx, ifname, NULL, NULL);
		if (err < 0)
			gb_err("not attached to %s, but cannot forget its record in %s/%s (restore "
			       "would attach it): %s", ifname, ctx.state_dir, STATE_ATTACH_FILE,
			       strerror(-err));
		if (err == 0) {
			gb_err("not attached to \"%.32s\"; see 'geoblock status'", ifname);
			ret = GB_EXIT_USAGE;
			goto out;
		}
		if (err > 0) {
			printf("not attached to %s; restore will no longer attach it\n", ifname);
			ret = audit_result(&ctx, NULL, 0, NULL) ? GB_EXIT_FAIL : GB_EXIT_OK;
		}
		goto out;
	}
	err = unpin_link(fd, path, &detached);
	if (err) {
		if (detached)
			gb_err("detached, but cannot remove %s: %s", path, strerror(-err));
		else
			gb_err("cannot detach from %s: %s", ifname, strerror(-err));
		goto out_audit;
	}
	err = state_attachment_set(&ctx, ifname, NULL, NULL);
	if (err > 0)
		err = 0;
	if (err)
		gb_err("detached from %s, but cannot forget its record in %s/%s (restore would "
		       "attach it again): %s", ifname, ctx.state_dir, STATE_ATTACH_FILE,
		       strerror(-err));
out_audit:
	if (audit_result(&ctx, NULL, err, NULL) && !err)
		err = -EIO;
	if (!err) {
		printf("detached from %s\n", ifname);
		ret = GB_EXIT_OK;
	}
out:
	gb_close(&ctx);
	return ret;
}
