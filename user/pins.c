// SPDX-License-Identifier: GPL-2.0
/* The pinned objects: bpffs checks, opening or creating the maps under the pin dir, the state lock. */
#include <errno.h>
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
#include "common.h"
#include "geoblock.skel.h"

#define BPFFS_ROOT "/sys/fs/bpf"

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
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

int gb_lock(const char *state_dir)
{
	char path[PATH_MAX];
	int fd, err;

	err = mkdir_p(state_dir, 0700);
	if (err) {
		gb_err("cannot create state dir %s: %s", state_dir, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/lock", state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		gb_err("cannot open lock %s: %s", path, strerror(errno));
		return err;
	}
	if (flock(fd, LOCK_EX)) {
		err = -errno;
		gb_err("cannot lock %s: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

static int take_lock(struct gb_ctx *ctx)
{
	int fd = gb_lock(ctx->state_dir);

	if (fd < 0)
		return fd;
	ctx->lock_fd = fd;
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

int gb_open(struct gb_ctx *ctx, unsigned int flags)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = ctx->pin_dir);
	int err;

	memset(ctx, 0, sizeof(*ctx));
	ctx->lock_fd = -1;
	copy_env(ctx->pin_dir, sizeof(ctx->pin_dir), "GEOBLOCK_PIN_DIR", GB_DEFAULT_PIN_DIR);
	copy_env(ctx->state_dir, sizeof(ctx->state_dir), "GEOBLOCK_STATE_DIR", GB_DEFAULT_STATE_DIR);

	if (flags & GB_OPEN_LOCKED) {
		err = take_lock(ctx);
		if (err)
			goto err_out;
		/* Best effort: an audit record that cannot be written says why itself. */
		audit_repair(ctx);
	}
	err = prepare_pin_dir(ctx->pin_dir);
	if (err)
		goto err_out;

	libbpf_set_print(NULL);
	ctx->skel = geoblock__open_opts(&opts);
	if (!ctx->skel) {
		err = -errno;
		gb_err("cannot open the embedded BPF object: %s", strerror(errno));
		goto err_out;
	}
	if (!(flags & GB_OPEN_PROGRAM))
		bpf_program__set_autoload(ctx->skel->progs.geoblock_xdp, false);
	ctx->skel->rodata->use_lpm = !!(flags & GB_OPEN_LPM);
	/* Creates and pins the maps that are missing, reuses those already pinned. */
	err = geoblock__load(ctx->skel);
	if (err) {
		gb_err("cannot load BPF objects under %s: %s (pinned maps from another version? "
		       "detach and remove the pin dir)", ctx->pin_dir, strerror(-err));
		goto err_out;
	}
	return 0;

err_out:
	gb_close(ctx);
	return err < 0 ? err : -EINVAL;
}

void gb_close(struct gb_ctx *ctx)
{
	geoblock__destroy(ctx->skel);
	ctx->skel = NULL;
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);
	ctx->lock_fd = -1;
}

int gb_write_file_atomic(const char *dir, const char *name, const char *data, size_t len)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			err = -errno;
			break;
		}
		off += n;
	}
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return gb_sync_dir(dir);
}

int gb_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	/* Makes a rename or unlink in dir survive a crash. */
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
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
		return -ENOENT;
	id = map_id(fd);
	close(fd);
	return id && id == map_id(bpf_map__fd(ctx->skel->maps.drop_counts)) ? 0 : -ESTALE;
}
