// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's references to the pinned links: a pinned bpf_link is the only holder of an XDP
 * attachment, so if the pin dir is removed (rm -rf, a stray cleanup) the kernel would detach the
 * filter. The daemon holds an fd of every attached link it sees and, when their pins are gone,
 * pins the maps and links it holds again, so the filter keeps enforcing and the CLI finds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "kern/link_keeper.h"
#include "kern/links.h"
#include "kern/pins.h"
#include "geoblock.skel.h"

static __u32 obj_link_id(int fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static __u32 obj_map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* The id of the link pinned for name, 0 if none is. */
static __u32 pinned_link_id(const struct gb_ctx *ctx, const char *name)
{
	char path[512];
	__u32 id;
	int fd;

	snprintf(path, sizeof(path), "%s/" GB_LINK_PREFIX "%s", ctx->pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	id = obj_link_id(fd);
	close(fd);
	return id;
}

static void release(struct link_keeper *k, int i)
{
	close(k->held[i].fd);
	k->held[i] = k->held[--k->n];
}

/*
 * Pins again every map of the daemon's context whose pin is missing; -ESTALE when one is pinned
 * but is another map (the pins were re-created: ours are not the live set any more).
 */
static int repin_maps(const struct gb_ctx *ctx)
{
	struct bpf_map *map;
	int err = mkdir_p(ctx->pin_dir, 0700);	/* its parents too: they may be gone with it */

	if (err)
		return err;
	bpf_object__for_each_map(map, ctx->skel->obj) {
		const char *path = bpf_map__pin_path(map);
		int fd;

		if (!path)
			continue;
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bool same = obj_map_id(fd) == obj_map_id(bpf_map__fd(map));

			close(fd);
			if (!same)
				return -ESTALE;
			continue;
		}
		if (bpf_obj_pin(bpf_map__fd(map), path))
			return -errno;
	}
	return 0;
}

/* Links whose pin is gone while they still filter: pin them (and the maps) again. */
static void repin(struct link_keeper *k, const struct gb_ctx *ctx)
{
	int lost = 0, done = 0, err;
	char path[512];

	for (int i = 0; i < k->n; i++)
		lost += !pinned_link_id(ctx, k->held[i].name);
	if (!lost)
		return;
	err = repin_maps(ctx);
	if (err == -ESTALE) {
		k->repin_failed = 0;
		/* Someone made a new instance there: ours must not keep filtering beside it. */
		gb_err("the pins under %s were re-created; releasing %d link%s of the old ones",
		       ctx->pin_dir, lost, lost == 1 ? "" : "s");
		for (int i = k->n - 1; i >= 0; i--)
			if (!pinned_link_id(ctx, k->held[i].name))
				release(k, i);
		return;
	}
	for (int i = 0; i < k->n && !err; i++) {
		if (pinned_link_id(ctx, k->held[i].name))
			continue;
		snprintf(path, sizeof(path), "%s/" GB_LINK_PREFIX "%s", ctx->pin_dir,
			 k->held[i].name);
		if (bpf_obj_pin(k->held[i].fd, path))
			err = -errno;
		else
			done++;
	}
	if (err && !k->repin_failed)
		gb_err("the pins under %s were removed; %d link%s still filter%s (held by the "
		       "daemon), but pinning them again failed: %s; trying again every pass",
		       ctx->pin_dir, lost, lost == 1 ? "" : "s", lost == 1 ? "s" : "",
		       strerror(-err));
	k->repin_failed = err;	/* one line, not one per pass */
	if (!err)
		gb_err("the pins under %s were removed while %d link%s still filtered; pinned the "
		       "maps and link%s again", ctx->pin_dir, done, done == 1 ? "" : "s",
		       done == 1 ? "" : "s");
}

/* Holds every pinned link attached to an interface that is not held yet. */
static void hold_new(struct link_keeper *k, const struct gb_ctx *ctx)
{
	struct dirent *de;
	DIR *d = opendir(ctx->pin_dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *name = de->d_name + strlen(GB_LINK_PREFIX);
		char path[512];
		bool held = false;
		__u32 id;
		int fd;

		if (strncmp(de->d_name, GB_LINK_PREFIX, strlen(GB_LINK_PREFIX)) ||
		    strlen(name) >= sizeof(k->held[0].name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", ctx->pin_dir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		id = obj_link_id(fd);
		for (int i = 0; i < k->n; i++)
			held |= k->held[i].id == id;
		if (held || !id || link_ifindex(fd, NULL) <= 0) {
			close(fd);
			continue;
		}
		if (k->n == KEEPER_MAX) {
			if (!k->full_said)
				gb_warn("more than %d interfaces attached: the pin dir removed, "
					"those past them would stop filtering", KEEPER_MAX);
			k->full_said = true;
			close(fd);
			break;
		}
		k->held[k->n].fd = fd;
		k->held[k->n].id = id;
		snprintf(k->held[k->n].name, sizeof(k->held[0].name), "%s", name);
		k->n++;
	}
	closedir(d);
}

/* Watches the pin dir, so that a removal is seen at once and not only at the next tick. */
static void watch_pin_dir(struct link_keeper *k, const struct gb_ctx *ctx)
{
	if (k->inotify_fd < 0 || k->wd >= 0)
		return;
	k->wd = inotify_add_watch(k->inotify_fd, ctx->pin_dir,
				  IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVED_FROM);
}

int keeper_init(struct link_keeper *k)
{
	memset(k, 0, sizeof(*k));
	k->wd = -1;
	k->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return k->inotify_fd < 0 ? -errno : 0;
}

/* Reads the pin dir's pending events; false if there were none. */
static bool drain(struct link_keeper *k)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	ssize_t len;

	while ((len = read(k->inotify_fd, buf, sizeof(buf))) > 0) {
		any = true;
		for (char *p = buf; p < buf + len;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->mask & IN_IGNORED)
				k->wd = -1;	/* the dir is gone: watch the next one */
			p += sizeof(*ev) + ev->len;
		}
	}
	return any;
}

void keeper_settle(struct link_keeper *k)
{
	struct pollfd pfd = { .fd = k->inotify_fd, .events = POLLIN };

	/* Until the pin dir has been quiet for 200 ms (5 s at most): an `rm -rf` runs to its end. */
	for (int i = 0; i < 25 && drain(k); i++)
		if (poll(&pfd, 1, 200) <= 0)
			break;
}

void keeper_pass(struct link_keeper *k, const struct gb_ctx *ctx)
{
	int lock_fd;

	drain(k);
	/* attach, detach and restore change pins under the lock: never see them half done. */
	lock_fd = gb_lock(ctx->state_dir);
	if (lock_fd < 0)
		return;
	/* Detached (`geoblock detach` uses bpf_link_detach) or its interface gone: let go. */
	for (int i = k->n - 1; i >= 0; i--)
		if (link_ifindex(k->held[i].fd, NULL) <= 0)
			release(k, i);
	/* A link pinned for our name that is not ours replaced it: ours can no longer filter. */
	for (int i = k->n - 1; i >= 0; i--) {
		__u32 id = pinned_link_id(ctx, k->held[i].name);

		if (id && id != k->held[i].id)
			release(k, i);
	}
	repin(k, ctx);
	hold_new(k, ctx);
	watch_pin_dir(k, ctx);
	close(lock_fd);
}

void keeper_free(struct link_keeper *k)
{
	while (k->n)
		release(k, k->n - 1);
	if (k->inotify_fd >= 0)
		close(k->inotify_fd);
}
