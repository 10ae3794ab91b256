// SPDX-License-Identifier: GPL-2.0
/* Unpinning the maps earlier versions of this ABI pinned, once no program reads them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lib/errors.h"
#include "kern/links.h"
#include "kern/maps.h"
#include "kern/retired.h"

/*
 * Pinned by earlier versions of ABI 3, in the order they were retired: the LRU hash map of learned
 * senders (ice_sender_sets since), the world tables, the live IPv4 table of two elements.
 */
static const char *const retired_names[] = {
	"ice_senders", "lookup_v4", "lookup_v6_tree", "lookup_live_v4",
};
#define RETIRED_COUNT (sizeof(retired_names) / sizeof(retired_names[0]))
_Static_assert(RETIRED_COUNT <= RETIRED_MAPS_MAX, "retired_read's callers have room for all");

/*
 * Marks in_use each of the n maps (ids) that a loaded program reads, listing the programs once: 0,
 * or -errno if they cannot be read.
 */
static int mark_read(const __u32 *ids, struct retired_map *maps, size_t n)
{
	__u32 prog_id = 0, *used, k;
	int err;

	while (!bpf_prog_get_next_id(prog_id, &prog_id)) {
		err = prog_map_ids(prog_id, &used, &k);	/* -ENOENT: gone meanwhile, none */
		if (err && err != -ENOENT) {
			free(used);
			return err;
		}
		for (__u32 i = 0; i < k; i++)
			for (size_t j = 0; j < n; j++)
				maps[j].in_use |= used[i] == ids[j];
		free(used);
	}
	return errno == ENOENT ? 0 : -errno;
}

/* What the kernel charges for the map at fd, and for its inner map if it holds one. */
static __u64 map_bytes(int fd, __u32 type)
{
	__u64 bytes = map_memlock(fd);
	__u32 zero = 0, inner_id;
	int inner;

	if (type != BPF_MAP_TYPE_ARRAY_OF_MAPS || bpf_map_lookup_elem(fd, &zero, &inner_id))
		return bytes;
	inner = bpf_map_get_fd_by_id(inner_id);
	if (inner >= 0) {
		bytes += map_memlock(inner);
		close(inner);
	}
	return bytes;
}

int retired_read(const struct gb_ctx *ctx, struct retired_map *out, size_t max)
{
	__u32 ids[RETIRED_COUNT];
	size_t n = 0;
	char path[512];
	int err;

	for (size_t i = 0; i < RETIRED_COUNT && n < max; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd;

		snprintf(path, sizeof(path), "%s/%s", ctx->pin_dir, retired_names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			err = -errno;
			if (fd >= 0)
				close(fd);
			return err;
		}
		ids[n] = info.id;
		out[n++] = (struct retired_map){ .name = retired_names[i],
						 .bytes = map_bytes(fd, info.type) };
		close(fd);
	}
	err = n ? mark_read(ids, out, n) : 0;
	return err ? err : (int)n;
}

int retired_remove(const struct gb_ctx *ctx, bool warn)
{
	struct retired_map maps[RETIRED_COUNT];
	char path[512], names[256] = "";
	int n = retired_read(ctx, maps, RETIRED_COUNT), removed = 0;
	__u64 bytes = 0;

	if (n < 0 && warn)
		gb_warn("cannot tell whether a program reads the maps an earlier version left in "
			"%s: %s", ctx->pin_dir, strerror(-n));
	for (int i = 0; i < n; i++) {
		int err;

		if (maps[i].in_use)
			continue;
		snprintf(path, sizeof(path), "%s/%s", ctx->pin_dir, maps[i].name);
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			if (warn)
				gb_warn("cannot remove %s, a map an earlier version left: %s", path,
					strerror(-err));
			return err;
		}
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 removed ? ", " : "", maps[i].name);
		bytes += maps[i].bytes;
		removed++;
	}
	if (removed)
		fprintf(stderr, "geoblock: unpinned %s, left by an earlier version and read by no "
			"program: %.1f MiB freed\n", names, bytes / 1048576.0);
	return n < 0 ? n : removed;
}
