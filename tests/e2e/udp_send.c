// SPDX-License-Identifier: GPL-2.0
/*
 * Test traffic: udp_send SRC DST PORT[,PORT...] COUNT END_PORT sends COUNT datagrams from SRC to
 * each DST:PORT, then one end marker to DST:END_PORT (so the receiver knows this sender is done).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

static int send_to(int fd, const char *dst, int port, const char *msg)
{
	struct sockaddr_storage ss;
	socklen_t len;

	make_addr(dst, port, &ss, &len);
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "udp_send: to %s port %d: %s\n", dst, port, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage src, dst;
	socklen_t slen, dlen;
	int fd, family, count, end_port;
	char msg[64], *ports, *tok, *save;

	if (argc != 6) {
		fprintf(stderr, "usage: udp_send SRC DST PORT[,PORT...] COUNT END_PORT\n");
		return 1;
	}
	family = make_addr(argv[1], 0, &src, &slen);
	if (family < 0 || make_addr(argv[2], 0, &dst, &dlen) != family) {
		fprintf(stderr, "udp_send: SRC and DST must be addresses of one family\n");
		return 1;
	}
	count = atoi(argv[4]);
	end_port = atoi(argv[5]);
	fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, slen)) {
		fprintf(stderr, "udp_send: bind %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	ports = strdup(argv[3]);
	for (tok = strtok_r(ports, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (int i = 0; i < count; i++) {
			snprintf(msg, sizeof(msg), "geoblock test %s %s %d", argv[1], tok, i);
			if (send_to(fd, argv[2], atoi(tok), msg))
				return 2;
		}
	}
	if (send_to(fd, argv[2], end_port, "end"))
		return 2;
	free(ports);
	close(fd);
	return 0;
}
