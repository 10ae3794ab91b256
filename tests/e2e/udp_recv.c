// SPDX-License-Identifier: GPL-2.0
/*
 * Test receiver: udp_recv PORT[,PORT...] END_PORT SENDERS OUT binds [::] (IPv4 and IPv6) on each
 * port, prints "ready" once listening, counts datagrams per (source, port) until SENDERS end markers
 * arrived on END_PORT, drains what is queued, and writes "SRC PORT COUNT" lines to OUT.
 * Gives up after 30 s without traffic (exit 3), so a lost end marker cannot hang a test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 64
#define MAX_FLOWS 4096

struct flow {
	char src[INET6_ADDRSTRLEN];
	int port;
	long count;
};

static struct flow flows[MAX_FLOWS];
static int nflows;

static int open_port(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0), off = 0, buf = 4 << 20;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "udp_recv: bind port %d: %s\n", port, strerror(errno));
		return -1;
	}
	return fd;
}

static void count(const struct sockaddr_in6 *from, int port)
{
	char src[INET6_ADDRSTRLEN];
	int i;

	if (IN6_IS_ADDR_V4MAPPED(&from->sin6_addr))
		inet_ntop(AF_INET, &from->sin6_addr.s6_addr[12], src, sizeof(src));
	else
		inet_ntop(AF_INET6, &from->sin6_addr, src, sizeof(src));
	for (i = 0; i < nflows; i++)
		if (flows[i].port == port && !strcmp(flows[i].src, src))
			break;
	if (i == nflows) {
		if (nflows == MAX_FLOWS)
			return;
		snprintf(flows[nflows].src, sizeof(flows[nflows].src), "%s", src);
		flows[nflows++].port = port;
	}
	flows[i].count++;
}

/* Reads everything queued on fd; returns how many datagrams. */
static int drain(int fd, int port)
{
	struct sockaddr_in6 from;
	socklen_t len = sizeof(from);
	char buf[2048];
	int n = 0;

	while (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) >= 0) {
		count(&from, port);
		len = sizeof(from);
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAX_PORTS + 1];
	int ports[MAX_PORTS + 1], nports = 0, senders, ends = 0;
	char *list, *tok, *save;
	FILE *out;

	if (argc != 5) {
		fprintf(stderr, "usage: udp_recv PORT[,PORT...] END_PORT SENDERS OUT\n");
		return 1;
	}
	list = strdup(argv[1]);
	for (tok = strtok_r(list, ",", &save); tok && nports < MAX_PORTS;
	     tok = strtok_r(NULL, ",", &save))
		ports[nports++] = atoi(tok);
	ports[nports++] = atoi(argv[2]);	/* the end port is last */
	senders = atoi(argv[3]);
	for (int i = 0; i < nports; i++) {
		pfd[i].fd = open_port(ports[i]);
		pfd[i].events = POLLIN;
		if (pfd[i].fd < 0)
			return 2;
	}
	printf("ready\n");
	fflush(stdout);

	while (ends < senders) {
		int n = poll(pfd, nports, 30000);

		if (n <= 0) {
			fprintf(stderr, "udp_recv: no traffic for 30 s, %d of %d senders done\n", ends,
				senders);
			return 3;
		}
		for (int i = 0; i < nports; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (i == nports - 1) {
				char buf[64];

				while (recv(pfd[i].fd, buf, sizeof(buf), 0) >= 0)
					ends++;
			} else {
				drain(pfd[i].fd, ports[i]);
			}
		}
	}
	for (int i = 0; i < nports - 1; i++)
		drain(pfd[i].fd, ports[i]);

	out = fopen(argv[4], "w");
	if (!out)
		return 2;
	for (int i = 0; i < nflows; i++)
		fprintf(out, "%s %d %ld\n", flows[i].src, flows[i].port, flows[i].count);
	fclose(out);
	free(list);
	return 0;
}
