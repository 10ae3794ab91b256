/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A body as libmicrohttpd or libcurl hands it over, piece by piece, kept up to a limit; a coding
 * the HTTP endpoints cannot read.
 */
#ifndef GEOBLOCK_API_UPLOAD_H
#define GEOBLOCK_API_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>

struct upload {
	char *body;		/* NUL-terminated; NULL while empty, and once too big */
	size_t len;
	bool too_big;		/* it passed the limit: dropped, and what follows too */
};

/* Appends len bytes of piece, unless the body would pass max bytes; -ENOMEM. */
int upload_add(struct upload *u, const char *piece, size_t len, size_t max);

struct MHD_Connection;
/*
 * Whether the request's Transfer-Encoding names a coding other than chunked (gzip, chunked),
 * which libmicrohttpd 0.9 does not read: it waits for the body's end until its timeout.
 */
bool upload_coding_unread(struct MHD_Connection *conn);

#endif
