// SPDX-License-Identifier: GPL-2.0
/*
 * TCP test traffic, bounded in time:
 *   tcp_probe listen PORT[,PORT...]   listens on [::] (IPv4 and IPv6) on each port, prints "ready",
 *                                     accepts and closes connections until stdin closes (or 60 s
 *                                     pass without a connection)
 *   tcp_probe connect SRC DST PORT COUNT TIMEOUT_MS
 *                                     tries COUNT connections from SRC to DST:PORT, each given
 *                                     TIMEOUT_MS to complete; prints how many did
 * A filter that drops the SYNs makes every connect time out: "0".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 64

static int make_addr(const char *s, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -1;
}

static int listen_ports(char *list)
{
	struct pollfd pfd[MAX_PORTS + 1];
	int n = 0, off = 0, one = 1;
	char *tok, *save;

	for (tok = strtok_r(list, ",", &save); tok && n < MAX_PORTS; tok = strtok_r(NULL, ",", &save)) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(atoi(tok)) };
		int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd < 0)
			return 2;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 128)) {
			fprintf(stderr, "tcp_probe: listen on port %s: %s\n", tok, strerror(errno));
			return 2;
		}
		pfd[n].fd = fd;
		pfd[n++].events = POLLIN;
	}
	pfd[n].fd = 0;	/* stdin: the test closes it when done */
	pfd[n].events = POLLIN;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int r = poll(pfd, n + 1, 60000);

		if (r <= 0)
			return r == 0 ? 3 : 2;
		if (pfd[n].revents) {
			char buf[64];

			if (read(0, buf, sizeof(buf)) <= 0)
				return 0;
		}
		for (int i = 0; i < n; i++) {
			int c;

			if (!(pfd[i].revents & POLLIN))
				continue;
			while ((c = accept(pfd[i].fd, NULL, NULL)) >= 0)
				close(c);
		}
	}
}

/* 1 if a connection from src to dst completes within timeout_ms, 0 if not, -1 on error. */
static int try_connect(const char *src, const char *dst, int port, int timeout_ms)
{
	struct sockaddr_storage s, d;
	socklen_t slen, dlen;
	struct pollfd pfd;
	int fd, family, err = 0, ret;
	socklen_t elen = sizeof(err);

	family = make_addr(src, 0, &s, &slen);
	if (family < 0 || make_addr(dst, port, &d, &dlen) != family)
		return -1;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&s, slen)) {
		fprintf(stderr, "tcp_probe: bind %s: %s\n", src, strerror(errno));
		return -1;
	}
	ret = connect(fd, (struct sockaddr *)&d, dlen);
	if (ret && errno != EINPROGRESS) {
		close(fd);
		return 0;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	ret = poll(&pfd, 1, timeout_ms);
	if (ret == 1 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) && err == 0)
		ret = 1;
	else
		ret = 0;
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	int ok = 0;

	if (argc == 3 && !strcmp(argv[1], "listen"))
		return listen_ports(argv[2]);
	if (argc != 7 || strcmp(argv[1], "connect")) {
		fprintf(stderr, "usage: tcp_probe listen PORT[,PORT...]\n"
			"       tcp_probe connect SRC DST PORT COUNT TIMEOUT_MS\n");
		return 1;
	}
	for (int i = 0; i < atoi(argv[5]); i++) {
		int r = try_connect(argv[2], argv[3], atoi(argv[4]), atoi(argv[6]));

		if (r < 0)
			return 2;
		ok += r;
	}
	printf("%d\n", ok);
	return 0;
}
