// SPDX-License-Identifier: GPL-2.0
/* Files of the state dir: directories made as needed, files replaced atomically, the state lock. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/errors.h"
#include "lib/files.h"

/*
 * A directory at path with mode, whatever the umask, if none is there; else it is left. The mode
 * is set through the directory made, not its name: a symlink swapped in meanwhile fails
 * (ENOTDIR). Directories above it are followed as they are.
 */
static int make_dir(const char *path, mode_t mode)
{
	int fd, err;

	if (mkdir(path, mode))
		return errno == EEXIST ? 0 : -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	err = fchmod(fd, mode) ? errno : 0;
	close(fd);
	errno = err;
	return err ? -1 : 0;
}

int mkdir_p(const char *path, mode_t mode)
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
		if (make_dir(buf, mode))
			return -errno;
		*p = '/';
	}
	return make_dir(buf, mode) ? -errno : 0;
}

int gb_daemon_lock(const char *state_dir, long *holder)
{
	char path[PATH_MAX], pid[24] = "";
	int fd, err, len;

	*holder = 0;
	err = mkdir_p(state_dir, 0700);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/daemon.pid", state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* A probe (gb_daemon_running) holds it shared for a moment: not a daemon. */
	for (int tries = 0; flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK && tries < 20;
	     tries++)
		usleep(10 * 1000);
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (err == -EWOULDBLOCK && (len = pread(fd, pid, sizeof(pid) - 1, 0)) > 0)
			*holder = strtol(pid, NULL, 10);
		close(fd);
		return err == -EWOULDBLOCK ? -EBUSY : err;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	errno = 0;	/* a short write sets none */
	if (ftruncate(fd, 0) || pwrite(fd, pid, len, 0) != len) {
		err = errno ? -errno : -EIO;
		close(fd);
		return err;
	}
	return fd;
}

long gb_daemon_running(const char *state_dir)
{
	char path[PATH_MAX], pid[24] = "";
	long holder = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/daemon.pid", state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* The lock is the daemon's for its life: a pid file it left behind is no daemon. */
	if (flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK)
		holder = pread(fd, pid, sizeof(pid) - 1, 0) > 0 && strtol(pid, NULL, 10) > 0 ?
			 strtol(pid, NULL, 10) : -1;
	close(fd);
	return holder;
}

/*
 * flock(2) grants a shared request while an exclusive one waits, so readers back to back would
 * hold a change off. A change takes lock.gate before the lock, and lets it go once it holds the
 * lock; a reader passes the gate (takes it shared and lets it go) first, so a change waiting for
 * the lock is let in before the readers that come after it. Best effort: no gate, no wait.
 */
/* state_dir's file name opened (flags) and flock(2)ed (op) on a new fd, or -errno. */
static int open_locked(const char *state_dir, const char *name, int flags, int op)
{
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", state_dir, name);
	fd = open(path, flags | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, op)) {
		if (errno != EINTR) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

static int gate(const char *state_dir, int flags, int op)
{
	return open_locked(state_dir, "lock.gate", flags, op);
}

int gb_lock_shared(const char *state_dir)
{
	int fd = gate(state_dir, O_RDONLY, LOCK_SH);

	if (fd >= 0)
		close(fd);
	return open_locked(state_dir, "lock", O_RDONLY, LOCK_SH);
}

int gb_lock(const char *state_dir)
{
	char path[PATH_MAX];
	int fd, in, err;

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
	in = gate(state_dir, O_RDWR | O_CREAT, LOCK_EX);
	err = flock(fd, LOCK_EX) ? -errno : 0;
	if (in >= 0)
		close(in);
	if (err) {
		gb_err("cannot lock %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int gb_write_all(int fd, const void *data, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);

		if (n < 0)
			return -errno;
		off += n;
	}
	return 0;
}

/* The temporary a write of dir/name goes through (into buf). */
static void temp_name(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/.%s.tmp", dir, name);
}

void gb_write_file_cut(const char *dir, const char *name)
{
	char path[PATH_MAX];

	temp_name(path, sizeof(path), dir, name);
	unlink(path);
}

int atomic_file_open(struct atomic_file *f, const char *dir, const char *name)
{
	f->dir = dir;
	snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
	temp_name(f->tmp, sizeof(f->tmp), dir, name);
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return f->fd < 0 ? -errno : 0;
}

int atomic_file_commit(struct atomic_file *f, int err)
{
	if (!err && fsync(f->fd))
		err = -errno;
	if (close(f->fd) && !err)
		err = -errno;
	f->fd = -1;
	if (!err && rename(f->tmp, f->path))
		err = -errno;
	if (err) {
		unlink(f->tmp);
		return err;
	}
	/*
	 * Renamed, the file holds what was written: a failure now is no failure to write it (a
	 * caller would roll back its maps under a file that holds the new state), only a rename a
	 * crash may still lose, as one a moment earlier would have.
	 */
	err = gb_sync_dir(f->dir);
	f->dir_synced = !err;
	if (err)
		gb_warn("%s written, but its directory cannot be synced (%s): a crash may yet "
			"lose it", f->path, strerror(-err));
	return 0;
}

int gb_write_file_synced(const char *dir, const char *name, const char *data, size_t len,
			 bool *synced)
{
	struct atomic_file f;
	int err = atomic_file_open(&f, dir, name);

	*synced = false;
	if (err)
		return err;
	err = atomic_file_commit(&f, gb_write_all(f.fd, data, len));
	*synced = !err && f.dir_synced;
	return err;
}

int gb_write_file_atomic(const char *dir, const char *name, const char *data, size_t len)
{
	bool synced;

	return gb_write_file_synced(dir, name, data, len, &synced);
}

int gb_write_file_replace(const char *dir, const char *name, const char *data, size_t len)
{
	struct atomic_file f;
	int err = atomic_file_open(&f, dir, name);

	if (err)
		return err;
	err = gb_write_all(f.fd, data, len);
	if (close(f.fd) && !err)
		err = -errno;
	if (!err && rename(f.tmp, f.path))
		err = -errno;
	if (err)
		unlink(f.tmp);
	return err;
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

int gb_read_first_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");
	int err = 0;

	out[0] = '\0';
	if (!f)
		return -errno;
	if (!fgets(out, len, f) && ferror(f))
		err = errno ? -errno : -EIO;
	fclose(f);
	if (err)
		out[0] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return err;
}

int gb_read_from(int fd, off_t from, char **buf, size_t *len)
{
	struct stat st;
	size_t got = 0, want;

	*buf = NULL;
	*len = 0;
	if (fstat(fd, &st))
		return -errno;
	want = st.st_size > from ? st.st_size - from : 0;
	*buf = malloc(want + 1);
	if (!*buf)
		return -ENOMEM;
	while (got < want) {
		ssize_t n = pread(fd, *buf + got, want - got, from + got);

		if (n < 0) {
			free(*buf);
			*buf = NULL;
			return -errno;
		}
		if (!n)
			break;
		got += n;
	}
	(*buf)[got] = '\0';
	*len = got;
	return 0;
}

int gb_read_all(int fd, char **buf, size_t *len)
{
	return gb_read_from(fd, 0, buf, len);
}

bool gb_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}
