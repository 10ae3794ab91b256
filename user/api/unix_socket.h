/* SPDX-License-Identifier: GPL-2.0 */
/* The control API's unix socket: made, and removed at the end if it is still the one made. */
#ifndef GEOBLOCK_API_UNIX_SOCKET_H
#define GEOBLOCK_API_UNIX_SOCKET_H

#include <sys/types.h>
#include <sys/un.h>

struct unix_socket {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;		/* the socket made at path */
	ino_t ino;
};

/*
 * A socket listening at path, its directory made 0750 and both given to gid (-1: left);
 * directories made above it 0755, as mkdir -p makes them, so that gid's members may pass
 * through. A socket no process listens on is replaced; one served, or any other file, is
 * refused. Its descriptor, or a negative errno after one error line.
 */
int unix_socket_open(struct unix_socket *u, const char *path, gid_t gid);
/* Removes the socket, unless another file (another daemon's socket) is at its path now. */
void unix_socket_remove(const struct unix_socket *u);

#endif
