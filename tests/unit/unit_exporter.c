// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/metrics/exporter.c: --metrics takes IPv4, [IPv6] or a name with a port, no more. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include "metrics/exporter.h"
#include "check.h"

/* "ADDR PORT" of a parsed address, or "error: ..." */
static const char *parsed(const char *s)
{
	static char out[200];
	struct sockaddr_storage ss;
	char err[160], host[INET6_ADDRSTRLEN];
	socklen_t len;

	if (exporter_parse_addr(s, &ss, &len, err, sizeof(err))) {
		snprintf(out, sizeof(out), "error: %s", err);
		return out;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(out, sizeof(out), "%s %u%s", host, ntohs(s6->sin6_port),
			 len == sizeof(*s6) ? "" : " (bad length)");
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(out, sizeof(out), "%s %u%s", host, ntohs(s4->sin_port),
			 len == sizeof(*s4) ? "" : " (bad length)");
	}
	return out;
}

static int refused(const char *s, const char *part)
{
	const char *got = parsed(s);

	if (!strncmp(got, "error: ", 7) && strstr(got, part))
		return 1;
	fprintf(stderr, "  \"%s\" gave \"%s\", expected an error saying \"%s\"\n", s, got, part);
	return 0;
}

int main(void)
{
	CHECK_STR("default", "127.0.0.1 10066", parsed(EXPORTER_DEFAULT_ADDR));
	CHECK_STR("ipv4", "0.0.0.0 9", parsed("0.0.0.0:9"));
	CHECK_STR("ipv6 in brackets", "::1 10066", parsed("[::1]:10066"));
	CHECK_STR("ipv6 any", ":: 65535", parsed("[::]:65535"));
	CHECK_STR("port 0 picks one", "127.0.0.1 0", parsed("127.0.0.1:0"));
	/* A name that does not resolve: metrics_show_what_is_configured.sh, in a namespace. */
	CHECK("host name resolves to loopback",
	      !strcmp(parsed("localhost:10066"), "127.0.0.1 10066") ||
		      !strcmp(parsed("localhost:10066"), "::1 10066"));
	CHECK("no port", refused("127.0.0.1", "not ADDR:PORT"));
	CHECK("empty host", refused(":10066", "not ADDR:PORT"));
	CHECK("empty port", refused("127.0.0.1:", "not a port"));
	CHECK("port too big", refused("127.0.0.1:65536", "not a port"));
	CHECK("negative port", refused("127.0.0.1:-1", "not a port"));
	CHECK("port with junk", refused("127.0.0.1:80x", "not a port"));
	CHECK("port with a space", refused("127.0.0.1: 80", "not a port"));
	CHECK("ipv6 without brackets", refused("::1:10066", "brackets"));
	CHECK("unclosed bracket", refused("[::1:10066", "brackets"));
	CHECK("not an ipv6 address", refused("[1.2.3.4]:10066", "not an IPv6 address"));
	return check_summary();
}
