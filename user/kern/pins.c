// SPDX-License-Identifier: GPL-2.0
/* The pinned objects: bpffs checks, opening or creating the maps under the pin dir. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "kern/pins.h"
#include "kern/retired.h"
#include "kern/senders.h"
#include "geoblock.skel.h"

#define BPFFS_ROOT "/sys/fs/bpf"

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/*
 * Whether dir is on bpffs, or would be once made: under its usual place (a change mounts bpffs
 * there), or below a directory on bpffs. For a read-only command, which makes nothing.
 */
static bool could_be_bpffs(const char *dir)
{
	char buf[PATH_MAX];
	char *slash;

	if (!strncmp(dir, BPFFS_ROOT "/", strlen(BPFFS_ROOT) + 1) || strlen(dir) >= sizeof(buf))
		return true;
	strcpy(buf, dir);
	while (access(buf, F_OK) && (slash = strrchr(buf, '/')) && slash != buf)
		*slash = '\0';
	return on_bpffs(buf);
}

/* The pin dir must be on bpffs; mount it at its usual place if that is where the dir belongs. */
static int prepare_pin_dir(const char *dir)
{
	int err;

	if (!strncmp(dir, BPFFS_ROOT "/", strlen(BPFFS_ROOT) + 1) && !on_bpffs(BPFFS_ROOT)) {
		if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700")) {
			gb_err("cannot mount bpffs on %s: %s", BPFFS_ROOT, strerror(errno));
			return -errno;
		}
	}
	err = mkdir_p(dir, 0700);
	if (err) {
		gb_err("cannot create pin dir %s: %s", dir, strerror(-err));
		return err;
	}
	if (!on_bpffs(dir)) {
		gb_err("pin dir %s is not on a bpf filesystem; mount one with 'mount -t bpf bpf DIR'", dir);
		return -EINVAL;
	}
	return 0;
}

static void copy_env(char *dst, size_t len, const char *var, const char *def)
{
	const char *v = getenv(var);

	snprintf(dst, len, "%s", v && *v ? v : def);
	/* "a/b/" and "a/b" name the same pins. */
	for (size_t n = strlen(dst); n > 1 && dst[n - 1] == '/'; n--)
		dst[n - 1] = '\0';
}

void pins_init(struct gb_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->lock_fd = -1;
	copy_env(ctx->pin_dir, sizeof(ctx->pin_dir), "GEOBLOCK_PIN_DIR", GB_DEFAULT_PIN_DIR);
	copy_env(ctx->state_dir, sizeof(ctx->state_dir), "GEOBLOCK_STATE_DIR", GB_DEFAULT_STATE_DIR);
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && gb_verbosity() < 2)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/*
 * Leaves unpinned the maps whose pins do not exist (they live in this process only, empty), so
 * that opening creates nothing; returns how many maps are pinned.
 */
static int keep_existing_pins(struct gb_ctx *ctx)
{
	struct bpf_map *map;
	int pinned = 0;

	bpf_object__for_each_map(map, ctx->skel->obj) {
		const char *path = bpf_map__pin_path(map);

		if (!path)
			continue;
		if (!access(path, F_OK))
			pinned++;
		else if (bpf_map__set_pin_path(map, NULL))
			return -EINVAL;
	}
	return pinned;
}

/*
 * Refuses pins of another ABI version. Pins without abi_version were made by a geoblock from
 * before the version was recorded; their layout is version 1's, and they are taken as such.
 */
static int check_abi(const struct gb_ctx *ctx)
{
	char path[512];
	__u32 zero = 0, version = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/abi_version", ctx->pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		err = -errno;
		gb_err("cannot open %s: %s", path, strerror(-err));
		return err;
	}
	if (bpf_map_lookup_elem(fd, &zero, &version))
		err = -errno;
	close(fd);
	if (err) {
		gb_err("cannot read %s: %s", path, strerror(-err));
		return err;
	}
	/* 0: created by a process that died before it wrote the version. */
	if (version && version != GB_ABI_VERSION) {
		gb_err("the pins under %s are of ABI version %u, this geoblock is of version %u: "
		       "stop the daemon, remove %s (filtering stops), run 'geoblock restore' to "
		       "make them anew from the state dir, then start the daemon", ctx->pin_dir,
		       version, GB_ABI_VERSION, ctx->pin_dir);
		return -EPROTO;
	}
	return 0;
}

static int record_abi(const struct gb_ctx *ctx)
{
	__u32 zero = 0, version = GB_ABI_VERSION;
	int err = 0;

	if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.abi_version), &zero, &version, 0)) {
		err = -errno;
		gb_err("cannot record the ABI version in %s/abi_version: %s", ctx->pin_dir,
		       strerror(errno));
	}
	return err;
}

int pins_load(struct gb_ctx *ctx, unsigned int flags)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = ctx->pin_dir);
	bool read_only = flags & GB_OPEN_READ;
	int err;

	if (!read_only) {
		err = prepare_pin_dir(ctx->pin_dir);
		if (err)
			return err;
	} else if (!could_be_bpffs(ctx->pin_dir)) {
		gb_err("pin dir %s is not on a bpf filesystem; mount one with 'mount -t bpf bpf DIR'",
		       ctx->pin_dir);
		return -EINVAL;
	}
	libbpf_set_print(gb_verbosity() ? print_libbpf : NULL);
	ctx->skel = geoblock__open_opts(&opts);
	if (!ctx->skel) {
		err = -errno;
		gb_err("cannot open the embedded BPF object: %s", strerror(errno));
		return err;
	}
	err = check_abi(ctx);
	if (err) {
		pins_unload(ctx);
		return err;
	}
	if (read_only) {
		err = keep_existing_pins(ctx);
		/* Said by the caller, who knows whether a saved rule set is there to restore. */
		if (err == 0 && !(flags & GB_OPEN_EMPTY_OK))
			err = -ENOMEDIUM;
		if (err < 0) {
			pins_unload(ctx);
			return err;
		}
	}
	if (!(flags & GB_OPEN_PROGRAM))
		bpf_program__set_autoload(ctx->skel->progs.geoblock_xdp, false);
	ctx->skel->rodata->use_lpm = !!(flags & GB_OPEN_LPM);
	/* Reuses the maps already pinned; creates and pins those missing (but with GB_OPEN_READ). */
	err = geoblock__load(ctx->skel);
	if (err) {
		gb_err("cannot load BPF objects under %s: %s (pinned maps from another version? "
		       "detach and remove the pin dir)", ctx->pin_dir, strerror(-err));
		pins_unload(ctx);
		return err < 0 ? err : -EINVAL;
	}
	if (!read_only) {
		err = record_abi(ctx);
		if (!err && (err = senders_seed(bpf_map__fd(ctx->skel->maps.ice_seed))))
			gb_err("cannot seed %s/ice_seed: %s", ctx->pin_dir, strerror(-err));
		if (err) {
			pins_unload(ctx);
			return err;
		}
		/* Housekeeping: a failure is a warning, not the command's. */
		retired_remove(ctx, true);
	}
	return 0;
}

void pins_unload(struct gb_ctx *ctx)
{
	geoblock__destroy(ctx->skel);
	ctx->skel = NULL;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int gb_pins_current(const struct gb_ctx *ctx)
{
	char path[512];
	__u32 id;
	int fd;

	snprintf(path, sizeof(path), "%s/drop_counts", ctx->pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;	/* -ENOENT: removed; another (-EMFILE, say) is not a removal */
	id = map_id(fd);
	close(fd);
	return id && id == map_id(bpf_map__fd(ctx->skel->maps.drop_counts)) ? 0 : -ESTALE;
}
