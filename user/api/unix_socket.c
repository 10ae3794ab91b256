// SPDX-License-Identifier: GPL-2.0
/*
 * The control API's unix socket: made (its directory 0750, itself 0660, both of --api-group if
 * given) in place of one a daemon left when it died, never of one served; removed at the end only
 * if it is still the socket made.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "api/unix_socket.h"

/*
 * Whether a process listens on the socket at path: a connection is taken, or anything but
 * refused (ECONNREFUSED: a socket its daemon left when it died) or gone (ENOENT). Non-blocking,
 * so that a listener whose queue is full counts as one (EAGAIN) rather than holding us.
 */
static bool socket_served(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool served;

	if (fd < 0)
		return true;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	served = !connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
		 (errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return served;
}

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
	/*
	 * A socket left by a daemon that died is replaced; one a process listens on is not (another
	 * daemon's: taken over, its clients would reach us, and our exit would remove it), nor any
	 * other file.
	 */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			gb_err("--api %s: exists and is not a socket", path);
			return -EEXIST;
		}
		if (socket_served(path)) {
			gb_err("--api %s: another process (a daemon?) serves this socket; stop it "
			       "first, or give another path", path);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Not bound: what is at path now is not ours to remove. */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		gb_err("--api %s: cannot listen: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	if (lstat(path, &st) || chmod(path, 0660) ||
	    (gid != (gid_t)-1 && chown(path, -1, gid)) || listen(fd, SOMAXCONN)) {
		err = -errno;
		gb_err("--api %s: cannot listen: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return err;
	}
	u->dev = st.st_dev;
	u->ino = st.st_ino;
	return fd;
}

void unix_socket_remove(const struct unix_socket *u)
{
	struct stat st;

	/* Removed or replaced meanwhile (another daemon's socket there now): not ours to remove. */
	if (!lstat(u->path, &st) && st.st_dev == u->dev && st.st_ino == u->ino)
		unlink(u->path);
}
