/* SPDX-License-Identifier: GPL-2.0 */
/* Files of the state dir: directories made as needed, files replaced atomically, the state lock. */
#ifndef GEOBLOCK_LIB_FILES_H
#define GEOBLOCK_LIB_FILES_H

#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* mkdir -p: every missing directory of path, with mode (the umask aside); 0 or a negative errno. */
int mkdir_p(const char *path, mode_t mode);
/* A file replaced whole: written to a temporary beside it (dir/.name.tmp), then renamed over it. */
struct atomic_file {
	int fd;			/* of the temporary, to write to */
	const char *dir;
	char tmp[PATH_MAX], path[PATH_MAX];
	bool dir_synced;	/* atomic_file_commit: the rename made durable */
};

/* Creates the temporary for dir/name; 0 or a negative errno. */
int atomic_file_open(struct atomic_file *f, const char *dir, const char *name);
/*
 * With err 0: fsync, rename over dir/name, fsync of dir; otherwise (or if either of the first two
 * fails) the temporary is removed and dir/name left as it was. Closes f->fd; returns err or the
 * first failure. A failed fsync of dir, once renamed, is a warning line, not a failure: dir/name
 * holds the new content.
 */
int atomic_file_commit(struct atomic_file *f, int err);
/* Writes all of data, past short writes; 0 or a negative errno. */
int gb_write_all(int fd, const void *data, size_t len);
/*
 * Replaces dir/name with data (temporary file, fsync, rename, fsync of dir); no message but
 * atomic_file_commit's warning when the dir's fsync fails after the rename (0 returned).
 */
int gb_write_file_atomic(const char *dir, const char *name, const char *data, size_t len);
/* The same, saying in *synced whether the dir's fsync made the rename durable. */
int gb_write_file_synced(const char *dir, const char *name, const char *data, size_t len,
			 bool *synced);
/* Removes the temporary a write of dir/name (gb_write_file_atomic) killed midway left, if any. */
void gb_write_file_cut(const char *dir, const char *name);
/* The same without the fsyncs: for state rebuilt anyway after a crash, written often. */
int gb_write_file_replace(const char *dir, const char *name, const char *data, size_t len);
/* Takes the state lock on a new fd (returned; close it to release), waiting for other holders. */
int gb_lock(const char *state_dir);
/*
 * Takes the state lock shared (readers) on a new fd (returned), waiting for a change under way;
 * -ENOENT if no change ever took it (no lock file), another negative errno if it cannot.
 */
int gb_lock_shared(const char *state_dir);
/*
 * Holds state_dir's daemon lock (daemon.pid, holding this pid) on a new fd, for as long as it is
 * open: one daemon per state dir. -EBUSY if another holds it (its pid in *holder, 0 if unknown).
 */
int gb_daemon_lock(const char *state_dir, long *holder);
/*
 * The pid of the daemon that holds state_dir's daemon lock, whatever its binary is called; 0 if
 * none does (-1: one does, its pid unreadable).
 */
long gb_daemon_running(const char *state_dir);
/*
 * The first line of path in out (len bytes), without its line end ("" for an empty file); 0, or
 * a negative errno (a directory: -EISDIR); no message.
 */
/* The same file, unchanged: the inode, its size and its modification time. */
bool gb_same_file(const struct stat *a, const struct stat *b);
int gb_read_first_line(const char *path, char *out, size_t len);
/* The whole of the file fd from its start, malloc'd and NUL-terminated; 0 or a negative errno. */
int gb_read_all(int fd, char **buf, size_t *len);
/* The same from byte from on (none if the file is shorter). */
int gb_read_from(int fd, off_t from, char **buf, size_t *len);
/* Makes a rename or unlink in dir survive a crash. */
int gb_sync_dir(const char *dir);

#endif
