// SPDX-License-Identifier: GPL-2.0
/*
 * The control API's unix socket: made (its directory 0750, itself 0660, both of --api-group if
 * given) in place of one a daemon left when it died; removed at the end.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "api/unix_socket.h"

int unix_socket_open(struct unix_socket *u, const char *path, gid_t gid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[PATH_MAX], *slash, *up;
	struct stat st;
	int fd, err = 0;

	snprintf(u->path, sizeof(u->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		up = strrchr(dir, '/');
		if (up && up != dir) {
			*up = '\0';
			err = mkdir_p(dir, 0755);
			*up = '/';
		}
		if (!err)
			err = mkdir_p(dir, 0750);
		if (!err && gid != (gid_t)-1 && chown(dir, -1, gid))
			err = -errno;
		if (err) {
			gb_err("--api: cannot make directory %s: %s", dir, strerror(-err));
			return err;
		}
	}
	/* A socket left by a daemon that died is replaced; any other file is not. */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			gb_err("--api %s: exists and is not a socket", path);
			return -EEXIST;
		}
		unlink(path);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(path, 0660) || (gid != (gid_t)-1 && chown(path, -1, gid)) ||
	    listen(fd, SOMAXCONN)) {
		err = -errno;
		gb_err("--api %s: cannot listen: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return err;
	}
	return fd;
}

void unix_socket_remove(const struct unix_socket *u)
{
	unlink(u->path);
}
