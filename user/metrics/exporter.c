// SPDX-License-Identifier: GPL-2.0
/*
 * Serves /metrics with libmicrohttpd: every scrape reads the pinned per-CPU counters and sums them,
 * so the exporter keeps no counter of its own and a restart loses nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>
#include "lib/errors.h"
#include "kern/counters.h"
#include "kern/hot.h"
#include "kern/pins.h"
#include "metrics/exporter.h"
#include "metrics/metrics.h"
#include "geoblock.skel.h"

#define CONNECTION_LIMIT	16	/* Prometheus servers and a few people: not a web server */
#define PER_ADDRESS_LIMIT	4	/* so that one address cannot lock the scraper out */
#define CONNECTION_TIMEOUT	10	/* seconds an idle connection is kept */

struct exporter {
	struct MHD_Daemon *mhd;
	const struct gb_ctx *ctx;
	bool failing;		/* the last scrape failed: say so when they work again */
	char url[96];
};

int exporter_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
			size_t errlen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(s, ':'), *port_s;
	char host[256];
	unsigned long port;
	size_t hlen;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (!colon || colon == s) {
		snprintf(err, errlen, "\"%.64s\" is not ADDR:PORT (e.g. %s, [::1]:10066)", s,
			 EXPORTER_DEFAULT_ADDR);
		return -EINVAL;
	}
	port_s = colon + 1;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (*port_s < '0' || *port_s > '9' || *end || errno || port > 65535) {
		snprintf(err, errlen, "\"%.16s\" is not a port (0-65535)", port_s);
		return -EINVAL;
	}
	hlen = colon - s;
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']' || hlen - 2 >= sizeof(host)) {
			snprintf(err, errlen, "\"%.64s\": an IPv6 address goes in brackets, "
				 "[ADDR]:PORT", s);
			return -EINVAL;
		}
		memcpy(host, s + 1, hlen - 2);
		host[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
			snprintf(err, errlen, "\"%.64s\" is not an IPv6 address", host);
			return -EINVAL;
		}
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	if (hlen >= sizeof(host) || memchr(s, ':', hlen)) {
		snprintf(err, errlen, "\"%.64s\": an IPv6 address goes in brackets, [ADDR]:PORT",
			 s);
		return -EINVAL;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	{
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
		int rc = getaddrinfo(host, NULL, &hints, &ai);

		if (rc) {
			snprintf(err, errlen, "cannot resolve \"%.64s\": %s", host,
				 gai_strerror(rc));
			return -EINVAL;
		}
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*len = ai->ai_addrlen;
		freeaddrinfo(ai);
		if (ss->ss_family == AF_INET)
			s4->sin_port = htons(port);
		else
			s6->sin6_port = htons(port);
	}
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int status,
				  const char *text)
{
	return reply(conn, status, "text/plain; charset=utf-8", (char *)text, strlen(text),
		     MHD_RESPMEM_MUST_COPY);
}

/* Logged once when scrapes start failing, and once when they work again. */
static enum MHD_Result scrape_failed(struct exporter *e, struct MHD_Connection *conn,
				     unsigned int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (!e->failing)
		gb_err("%s", msg);
	e->failing = true;
	strcat(msg, "\n");
	return reply_text(conn, status, msg);
}

static enum MHD_Result serve_metrics(struct exporter *e, struct MHD_Connection *conn)
{
	struct textbuf page = {};
	struct timespec start;
	struct counters c;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &start);
	err = gb_pins_current(e->ctx);
	if (err == -ENOENT)
		return scrape_failed(e, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "the pinned maps under %s were removed since the daemon started: "
				     "it pins them again within seconds while it holds a link, else "
				     "restart it", e->ctx->pin_dir);
	if (err == -ESTALE)
		return scrape_failed(e, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				     "the pinned maps under %s were re-created since the daemon "
				     "started; restart it", e->ctx->pin_dir);
	if (err)
		return scrape_failed(e, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				     "cannot open the pinned maps under %s: %s", e->ctx->pin_dir,
				     strerror(-err));
	err = counters_read(e->ctx, &c);
	if (err)
		return scrape_failed(e, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				     "cannot read the counters: %s", strerror(-err));
	/* The cache's fill, for the page only; a scrape that cannot map it serves the rest. */
	c.ice_cache_known = !hot_census_fd(bpf_map__fd(e->ctx->skel->maps.ice_hot), &c.ice_cached,
					   &c.ice_cache_suspended);
	err = metrics_render(&c, &start, &page);
	counters_free(&c);
	if (err) {
		textbuf_free(&page);
		return scrape_failed(e, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				     "cannot render the metrics: %s", strerror(-err));
	}
	if (e->failing)
		gb_warn("scrapes work again");
	e->failing = false;
	/* MHD frees the page once it is sent. */
	return reply(conn, MHD_HTTP_OK, METRICS_CONTENT_TYPE, page.p, page.len,
		     MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(cls, conn);
	if (!strcmp(url, "/"))
		return reply_text(conn, MHD_HTTP_OK, "geoblock exporter: metrics at /metrics\n");
	return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found; metrics are at /metrics\n");
}

void exporter_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	gb_warn("http: %s", msg);
}

int exporter_listen(const struct sockaddr *addr, socklen_t len, const char *path, char *url,
		    size_t url_len)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	char host[INET6_ADDRSTRLEN];
	int fd, one = 1, err;
	unsigned int port;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A restarted daemon binds again while the old connections sit in TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, addr, len) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (bound.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&bound;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		snprintf(url, url_len, "http://[%s]:%u%s", host, port, path);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&bound;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		snprintf(url, url_len, "http://%s:%u%s", host, port, path);
	}
	return fd;
}

int exporter_start(const struct gb_ctx *ctx, const struct sockaddr *addr, socklen_t len,
		   struct exporter **out)
{
	struct exporter *e = calloc(1, sizeof(*e));
	int fd, err;

	if (!e)
		return -ENOMEM;
	e->ctx = ctx;
	fd = exporter_listen(addr, len, "/metrics", e->url, sizeof(e->url));
	if (fd < 0) {
		err = fd;
		goto err_free;
	}
	/*
	 * One internal thread: scrapes are served one at a time, so reads of the maps never run
	 * concurrently and need no lock. MHD closes the socket when it stops.
	 */
	e->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
				  MHD_USE_ERROR_LOG |
				  (addr->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, handle, e,
				  /* first, so that MHD logs nothing through its own logger */
				  MHD_OPTION_EXTERNAL_LOGGER, exporter_mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				  (unsigned int)PER_ADDRESS_LIMIT,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT,
				  MHD_OPTION_END);
	if (!e->mhd) {
		err = -EIO;
		close(fd);
		goto err_free;
	}
	*out = e;
	return 0;

err_free:
	free(e);
	return err;
}

const char *exporter_url(const struct exporter *e)
{
	return e->url;
}

void exporter_stop(struct exporter *e)
{
	if (!e)
		return;
	MHD_stop_daemon(e->mhd);
	free(e);
}
