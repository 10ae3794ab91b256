/* SPDX-License-Identifier: GPL-2.0 */
/* The Prometheus exporter: /metrics over HTTP (libmicrohttpd), read from the pins per scrape. */
#ifndef GEOBLOCK_EXPORTER_H
#define GEOBLOCK_EXPORTER_H

#include <stdarg.h>
#include <sys/socket.h>
#include "kern/pins.h"

/*
 * 10066: the Prometheus wiki's 9100-9999 exporter range is full; new exporters get ports above
 * 10000 (see docs/metrics.md). Loopback unless told otherwise: the page names every meeting.
 */
#define EXPORTER_DEFAULT_ADDR "127.0.0.1:10066"

struct exporter;

/*
 * Parses ADDR:PORT: an IPv4 address, an IPv6 address in brackets, or a host name (its first
 * address); PORT 0 picks a free port. 0, or -EINVAL with the reason in err.
 */
int exporter_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
			size_t errlen);
/* Binds addr and serves /metrics from ctx's maps in a thread of its own; 0 or a negative errno. */
/*
 * A listening TCP socket of ours on addr (so that a bind failure gets a precise message): its fd,
 * with the URL of path on it in url; or -errno.
 */
int exporter_listen(const struct sockaddr *addr, socklen_t len, const char *path, char *url,
		    size_t url_len);
/* libmicrohttpd's messages as one warning line each (MHD_OPTION_EXTERNAL_LOGGER). */
void exporter_mhd_log(void *cls, const char *fmt, va_list ap);
int exporter_start(const struct gb_ctx *ctx, const struct sockaddr *addr, socklen_t len,
		   struct exporter **out);
/* "http://ADDR:PORT/metrics", with the port actually bound. */
const char *exporter_url(const struct exporter *e);
void exporter_stop(struct exporter *e);

#endif
