/* SPDX-License-Identifier: GPL-2.0 */
/* Files of the state dir: directories made as needed, files replaced atomically, the state lock. */
#ifndef GEOBLOCK_LIB_FILES_H
#define GEOBLOCK_LIB_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: every missing directory of path, with mode; 0 or a negative errno. */
int mkdir_p(const char *path, mode_t mode);
/* Replaces dir/name with data (temporary file, fsync, rename, fsync of dir); no message. */
int gb_write_file_atomic(const char *dir, const char *name, const char *data, size_t len);
/* Takes the state lock on a new fd (returned; close it to release), waiting for other holders. */
int gb_lock(const char *state_dir);
/* Makes a rename or unlink in dir survive a crash. */
int gb_sync_dir(const char *dir);

#endif
