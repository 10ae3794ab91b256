// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the address lists of `meeting add --allow`, through parse_cidrs (user/lib/parse.c).
 * The input is the argument. Each item is also read by a plain reference (inet_pton, a decimal
 * prefix length of 1-3 digits, no bits past it; IPv4-mapped as IPv4): the list is accepted exactly
 * when every item is, and then holds exactly the reference's networks, sorted, without
 * duplicates. A refused list gets
 * a one-line message; one with bits past the prefix length names the network it meant, which
 * parses. An accepted list prints back (format_cidr) to text that parses to the same networks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include "lib/parse.h"
#include "fuzz.h"

#define MAX_ITEMS 256

/* The reference: 1 and the network for a well-formed item, 0 for one refused, -1 for host bits. */
static int ref_item(const char *item, size_t len, struct cidr *c)
{
	char buf[128], *slash;
	unsigned int bits, plen = 0;

	if (len >= sizeof(buf) || memchr(item, '\0', len))
		return 0;
	memcpy(buf, item, len);
	buf[len] = '\0';
	memset(c, 0, sizeof(*c));
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1)
		c->family = 4;
	else if (inet_pton(AF_INET6, buf, c->addr) == 1)
		c->family = 6;
	else
		return 0;
	bits = c->family == 4 ? 32 : 128;
	if (!slash) {
		plen = bits;
	} else {
		size_t n = strlen(slash);

		if (n < 1 || n > 3 || strspn(slash, "0123456789") != n)
			return 0;
		plen = atoi(slash);
		if (plen > bits)
			return 0;
	}
	c->len = plen;
	/* IPv4-mapped, /96 or longer: the IPv4 network. */
	if (c->family == 6 && plen >= 96 &&
	    !memcmp(c->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		unsigned char v4[4];

		memcpy(v4, c->addr + 12, 4);
		memset(c->addr, 0, sizeof(c->addr));
		memcpy(c->addr, v4, 4);
		c->family = 4;
		c->len = plen -= 96;
		bits = 32;
	}
	for (unsigned int b = plen; b < bits; b++)
		if (c->addr[b / 8] & (0x80 >> (b % 8)))
			return -1;
	return 1;
}

static bool host_bits_clear(const struct cidr *c)
{
	unsigned int bits = c->family == 4 ? 32 : 128;

	for (unsigned int b = c->len; b < bits; b++)
		if (c->addr[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

static int cmp(const void *a, const void *b)
{
	return cidr_cmp(a, b);
}

/* "did you mean NET?": NET parses alone to a network without host bits. */
static void check_suggestion(const char *msg)
{
	const char *p = strstr(msg, "did you mean ");
	char net[80];
	struct cidr *v;
	size_t n, len;
	char err[256];

	FUZZ_ASSERT(p, "host bits refused without a suggestion: \"%s\"", msg);
	p += strlen("did you mean ");
	len = strcspn(p, "?");
	FUZZ_ASSERT(len > 0 && len < sizeof(net) && p[len] == '?', "suggestion in \"%s\"", msg);
	memcpy(net, p, len);
	net[len] = '\0';
	FUZZ_ASSERT(!parse_cidrs(net, &v, &n, err, sizeof(err)), "suggested \"%s\" refused: %s",
		    net, err);
	FUZZ_ASSERT(n == 1 && host_bits_clear(&v[0]), "suggested \"%s\"", net);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cidr want[MAX_ITEMS];
	char *s = fuzz_string(data, size), err[256] = "", *text = NULL;
	struct cidr *v = NULL, *again = NULL;
	size_t n = 0, n2 = 0, nwant = 0, off = 0;
	int ret, ref = 1;

	/* The reference, item by item; the first refused item decides how the list is refused. */
	if (!*s)
		ref = 0;
	for (const char *p = s; *s && ref == 1;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (nwant == MAX_ITEMS)
			goto out;	/* longer lists than the reference keeps: not checked */
		ref = len ? ref_item(p, len, &want[nwant++]) : 0;
		if (!comma)
			break;
		p = comma + 1;
	}

	ret = parse_cidrs(s, &v, &n, err, sizeof(err));
	if (ret) {
		FUZZ_ASSERT(ret == -EINVAL, "parse_cidrs returned %d", ret);
		FUZZ_ASSERT(!v && !n, "a refused list left %zu networks", n);
		FUZZ_ASSERT(fuzz_message_ok(err, sizeof(err)), "message \"%s\"", err);
		FUZZ_ASSERT(ref != 1, "\"%s\" refused: %s", s, err);
		if (ref == -1)
			check_suggestion(err);
		goto out;
	}
	FUZZ_ASSERT(ref == 1, "\"%s\" accepted, the reference says %s", s,
		    ref ? "host bits" : "malformed");

	/* Exactly the reference's networks, sorted, once each. */
	qsort(want, nwant, sizeof(*want), cmp);
	{
		size_t k = 0;

		for (size_t i = 0; i < nwant; i++)
			if (!k || cidr_cmp(&want[k - 1], &want[i]))
				want[k++] = want[i];
		nwant = k;
	}
	FUZZ_ASSERT(n == nwant, "\"%s\": %zu networks, the reference has %zu", s, n, nwant);
	for (size_t i = 0; i < n; i++) {
		FUZZ_ASSERT(!cidr_cmp(&v[i], &want[i]) && !memcmp(&v[i], &want[i], sizeof(v[i])),
			    "\"%s\": network %zu differs from the reference", s, i);
		FUZZ_ASSERT(i == 0 || cidr_cmp(&v[i - 1], &v[i]) < 0, "\"%s\": not sorted", s);
		FUZZ_ASSERT(host_bits_clear(&v[i]), "\"%s\": host bits kept", s);
	}

	/* Printed back, it parses to the same list. */
	text = malloc(n * 64 + 1);
	if (!text)
		abort();
	text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		ret = format_cidr(&v[i], text + off + !!i, 64);
		FUZZ_ASSERT(!ret, "format_cidr returned %d", ret);
		if (i)
			text[off] = ',';
		off += strlen(text + off);
	}
	ret = parse_cidrs(text, &again, &n2, err, sizeof(err));
	FUZZ_ASSERT(!ret, "\"%s\" printed as \"%s\", which does not parse: %s", s, text, err);
	FUZZ_ASSERT(n2 == n && !memcmp(v, again, n * sizeof(*v)), "\"%s\" printed as \"%s\"", s,
		    text);
out:
	free(again);
	free(text);
	free(v);
	free(s);
	return 0;
}
