// SPDX-License-Identifier: GPL-2.0
/* Parsing and printing of the rest of what operators type: address lists, expiry times, protocols. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/country.h"
#include "lib/parse.h"

#define EXPIRY_MAX_SECONDS	(3650LL * 86400)	/* ten years: anything longer is a typo */

struct cidr_list {
	struct cidr *v;
	size_t n, cap;
};

static int add_cidr(const char *item, size_t len, void *arg, char *err, size_t errlen)
{
	struct cidr_list *l = arg;
	struct cidr c = {};
	char buf[INET6_ADDRSTRLEN + 8], shown[64 * 4 + 1], *slash;
	unsigned int bits, plen;

	if (len >= sizeof(buf))
		goto bad;
	memcpy(buf, item, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, c.addr) == 1)
		c.family = 4;
	else if (inet_pton(AF_INET6, buf, c.addr) == 1)
		c.family = 6;
	else
		goto bad;
	bits = c.family == 4 ? 32 : 128;
	plen = bits;
	if (slash) {
		const char *p = slash + 1;

		if (!*p || strlen(p) > 3)
			goto bad;
		plen = 0;
		for (; *p; p++) {
			if (!isdigit((unsigned char)*p))
				goto bad;
			plen = plen * 10 + (*p - '0');
		}
		if (plen > bits) {
			snprintf(err, errlen, "prefix length /%u of \"%.*s\" is more than %u", plen,
				 (int)len, item, bits);
			return -EINVAL;
		}
	}
	c.len = plen;
	/*
	 * An IPv4-mapped address (::ffff:1.2.3.4, as a dual-stack socket shows a client) is the
	 * IPv4 address: its packets carry that, and no IPv6 packet carries the mapped form. Bytes
	 * compared, not IN6_IS_ADDR_V4MAPPED: c.addr is not aligned as a struct in6_addr.
	 */
	if (c.family == 6 && plen >= 96 && !memcmp(c.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memmove(c.addr, c.addr + 12, 4);
		memset(c.addr + 4, 0, 12);
		c.family = 4;
		c.len = plen -= 96;
		bits = 32;
	}
	for (unsigned int b = plen; b < bits; b++) {
		if (c.addr[b / 8] & (0x80 >> (b % 8))) {
			struct cidr fixed = c;
			char net[INET6_ADDRSTRLEN + 8];

			for (unsigned int k = plen; k < bits; k++)
				fixed.addr[k / 8] &= ~(0x80 >> (k % 8));
			format_cidr(&fixed, net, sizeof(net));
			snprintf(err, errlen, "\"%.*s\" has bits set past its prefix length; did you "
				 "mean %s?", (int)len, item, net);
			return -EINVAL;
		}
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct cidr *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = c;
	return 0;
bad:
	snprintf(err, errlen, "\"%s\" is not an address or CIDR (e.g. 203.0.113.0/24, "
		 "2001:db8::/32)", printable(item, len, 64, shown, sizeof(shown)));
	return -EINVAL;
}

int cidr_cmp(const struct cidr *a, const struct cidr *b)
{
	int d;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	d = memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16);
	if (d)
		return d;
	return a->len == b->len ? 0 : a->len < b->len ? -1 : 1;
}

static int cidr_qsort_cmp(const void *a, const void *b)
{
	return cidr_cmp(a, b);
}

bool ufrag_valid(const char *s, size_t len)
{
	if (len < GB_UFRAG_MIN || len > GB_UFRAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/')
			return false;
	return true;
}

void ufrag_refusal(const char *item, size_t len, char *buf, size_t buflen)
{
	char shown[64 * 4 + 1];

	printable(item, len, 64, shown, sizeof(shown));
	if (len < GB_UFRAG_MIN || len > GB_UFRAG_MAX)
		snprintf(buf, buflen, "\"%s%s\" is not an ICE ufrag: it has %zu character%s, not "
			 "%d-%d (the server's ice-ufrag of the SDP)", shown, len > 64 ? "..." : "",
			 len, len == 1 ? "" : "s", GB_UFRAG_MIN, GB_UFRAG_MAX);
	else
		snprintf(buf, buflen, "\"%s%s\" is not an ICE ufrag: use %d-%d letters, digits, "
			 "'+', '/' (the server's ice-ufrag of the SDP)", shown, len > 64 ? "..." : "",
			 GB_UFRAG_MIN, GB_UFRAG_MAX);
}

struct ufrag_list {
	char **v;
	size_t n, cap;
};

static int add_ufrag(const char *item, size_t len, void *arg, char *err, size_t errlen)
{
	struct ufrag_list *l = arg;

	if (!ufrag_valid(item, len)) {
		ufrag_refusal(item, len, err, errlen);
		return -EINVAL;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			goto nomem;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strndup(item, len);
	if (!l->v[l->n])
		goto nomem;
	l->n++;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

int ufrag_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool ufrag_list_has(char *const *v, size_t n, const char *ufrag)
{
	return n && bsearch(&ufrag, v, n, sizeof(*v), ufrag_cmp);
}

void ufrag_list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int parse_ufrags(const char *list, char ***out, size_t *n, char *err, size_t errlen)
{
	struct ufrag_list l = {};
	size_t kept = 0;
	int ret;

	*out = NULL;
	*n = 0;
	ret = parse_items(list, "ufrag", add_ufrag, &l, err, errlen);
	if (ret) {
		ufrag_list_free(l.v, l.n);
		return ret;
	}
	qsort(l.v, l.n, sizeof(*l.v), ufrag_cmp);
	for (size_t i = 0; i < l.n; i++) {
		if (kept && !strcmp(l.v[kept - 1], l.v[i]))
			free(l.v[i]);
		else
			l.v[kept++] = l.v[i];
	}
	*out = l.v;
	*n = kept;
	return 0;
}

char **ufrag_list_copy(char *const *v, size_t n)
{
	char **c = n ? calloc(n, sizeof(*c)) : NULL;

	for (size_t i = 0; c && i < n; i++) {
		c[i] = strdup(v[i]);
		if (!c[i]) {
			ufrag_list_free(c, i);
			return NULL;
		}
	}
	return c;
}

bool ufrag_lists_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

int parse_cidrs(const char *list, struct cidr **out, size_t *n, char *err, size_t errlen)
{
	struct cidr_list l = {};
	size_t kept = 0;
	int ret;

	*out = NULL;
	*n = 0;
	ret = parse_items(list, "address", add_cidr, &l, err, errlen);
	if (ret) {
		free(l.v);
		return ret;
	}
	qsort(l.v, l.n, sizeof(*l.v), cidr_qsort_cmp);
	for (size_t i = 0; i < l.n; i++)
		if (!kept || cidr_cmp(&l.v[kept - 1], &l.v[i]))
			l.v[kept++] = l.v[i];
	*out = l.v;
	*n = kept;
	return 0;
}

int format_cidr(const struct cidr *c, char *out, size_t outlen)
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, buf, sizeof(buf)))
		return -errno;
	if ((size_t)snprintf(out, outlen, "%s/%u", buf, c->len) >= outlen)
		return -ENOSPC;
	return 0;
}

bool cidr_contains(const struct cidr *c, int family, const __u8 *addr)
{
	unsigned int full = c->len / 8, rest = c->len % 8;

	if (c->family != family || memcmp(c->addr, addr, full))
		return false;
	return !rest || !((c->addr[full] ^ addr[full]) & (__u8)(0xff00 >> rest));
}

/* Reads exactly n digits at *p into *v. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100) || y % 400 == 0;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM); fractions of a second are dropped. */
static int parse_rfc3339(const char *s, __s64 *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p = s;
	struct tm tm = {};

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
		return -EINVAL;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
	    !digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) ||
	    h > 23 || mi > 59 || sec > 60 || y < 1970)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;	/* a leap second (60) is the next second's start */
	*out = (__s64)timegm(&tm) - sign * (oh * 3600LL + om * 60LL);
	return 0;
}

/*
 * A duration: one or more <number><unit>, units d, h, m, s, each once and larger first (e.g. 2h,
 * 1h30m, 45s: "2h2h" or "30m1h" is more likely a slip than a sum).
 */
static int parse_duration(const char *s, __s64 *out)
{
	__s64 total = 0, last = 86400 * 2;
	const char *p = s;

	if (!*p)
		return -EINVAL;
	while (*p) {
		__s64 v = 0, unit;
		int nd = 0;

		while (isdigit((unsigned char)*p) && nd < 9) {
			v = v * 10 + (*p++ - '0');
			nd++;
		}
		if (!nd || isdigit((unsigned char)*p))
			return -EINVAL;
		switch (*p++) {
		case 'd':
			unit = 86400;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'm':
			unit = 60;
			break;
		case 's':
			unit = 1;
			break;
		default:
			return -EINVAL;
		}
		if (unit >= last)
			return -EDOM;
		last = unit;
		total += v * unit;
		if (total > EXPIRY_MAX_SECONDS)
			return -ERANGE;
	}
	*out = total;
	return 0;
}

int parse_expiry(const char *arg, __s64 now, bool any_time, __s64 *out, char *err, size_t errlen)
{
	char shown[40 * 4 + 1];
	__s64 v;
	int ret;

	printable(arg, strlen(arg), 40, shown, sizeof(shown));

	if (strlen(arg) > 10 && arg[4] == '-') {
		if (parse_rfc3339(arg, &v)) {
			snprintf(err, errlen, "\"%s\" is not an RFC 3339 time (e.g. "
				 "2026-03-01T18:00:00Z or 2026-03-01T19:00:00+01:00)", shown);
			return -EINVAL;
		}
		if (v > now + EXPIRY_MAX_SECONDS && !any_time) {
			snprintf(err, errlen, "expiry \"%s\" is more than ten years away", shown);
			return -ERANGE;
		}
		*out = v;
		return 0;
	}
	ret = parse_duration(arg, &v);
	if (ret == -ERANGE) {
		snprintf(err, errlen, "expiry \"%s\" is more than ten years away", shown);
		return ret;
	}
	if (ret == -EDOM) {
		snprintf(err, errlen, "duration \"%s\": each unit at most once, the larger first "
			 "(e.g. 1d2h, 1h30m)", shown);
		return -EINVAL;
	}
	if (ret) {
		snprintf(err, errlen, "\"%s\" is neither a duration (e.g. 2h, 1h30m, 45m, 1d) nor "
			 "an RFC 3339 time", shown);
		return ret;
	}
	if (v == 0) {
		snprintf(err, errlen, "expiry \"%s\" is not in the future", shown);
		return -EINVAL;
	}
	*out = now + v;
	return 0;
}

int format_rfc3339(__s64 t, char *out, size_t outlen)
{
	time_t tt = t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -EINVAL;
	return 0;
}

int format_time_age(__s64 t, __s64 now, char *out, size_t outlen)
{
	static const struct {
		__s64 seconds;
		const char *unit;
	} units[] = {
		{ 365 * 86400, "year" }, { 30 * 86400, "month" }, { 7 * 86400, "week" },
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" },
	};
	char when[32];
	__s64 d = now - t, a = d < 0 ? -d : d;
	size_t i = 0;

	if (!t) {
		snprintf(out, outlen, "never");
		return 0;
	}
	if (format_rfc3339(t, when, sizeof(when)))
		return -EINVAL;
	if (a < 1) {
		snprintf(out, outlen, "%s (now)", when);
		return 0;
	}
	while (a < units[i].seconds)
		i++;
	a /= units[i].seconds;
	snprintf(out, outlen, "%s (%s%lld %s%s%s)", when, d < 0 ? "in " : "", (long long)a,
		 units[i].unit, a == 1 ? "" : "s", d < 0 ? "" : " ago");
	return 0;
}

static int add_proto(const char *item, size_t len, void *arg, char *err, size_t errlen)
{
	__u32 *flags = arg;
	char shown[16 * 4 + 1];

	if (len == 3 && !strncasecmp(item, "udp", 3)) {
		*flags |= GB_MEETING_UDP;
	} else if (len == 3 && !strncasecmp(item, "tcp", 3)) {
		*flags |= GB_MEETING_TCP;
	} else {
		snprintf(err, errlen, "unknown protocol \"%s\": use udp, tcp or udp,tcp",
			 printable(item, len, 16, shown, sizeof(shown)));
		return -EINVAL;
	}
	return 0;
}

int parse_protos(const char *list, __u32 *flags, char *err, size_t errlen)
{
	*flags = 0;
	return parse_items(list, "protocol", add_proto, flags, err, errlen);
}

const char *format_protos(__u32 flags)
{
	switch (flags & (GB_MEETING_UDP | GB_MEETING_TCP)) {
	case GB_MEETING_UDP:
		return "udp";
	case GB_MEETING_TCP:
		return "tcp";
	case GB_MEETING_UDP | GB_MEETING_TCP:
		return "udp,tcp";
	default:
		return "none";
	}
}

int gb_utf8_len(const unsigned char *s)
{
	int n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
		s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;

	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, UTF-16 surrogates, and beyond U+10FFFF. */
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

char *gb_utf8_clean(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = s ? malloc(3 * strlen(s) + 1) : NULL;
	size_t at = 0;

	if (!out)
		return NULL;
	for (int n; *u; u += n ? n : 1) {
		n = gb_utf8_len(u);
		memcpy(out + at, n ? (const char *)u : "\xef\xbf\xbd", n ? n : 3);
		at += n ? n : 3;
	}
	out[at] = '\0';
	return out;
}

int reason_check(const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);
	bool ok = len && len <= GB_REASON_MAX;
	int n;

	for (size_t i = 0; i < len && ok; i += n) {
		const unsigned char *u = (const unsigned char *)s + i;

		n = gb_utf8_len(u);
		/* C0 and DEL, and C1 (U+0080-U+009F) too. */
		ok = n && !iscntrl(*u) && !(n == 2 && u[0] == 0xc2 && u[1] < 0xa0);
	}
	if (!ok)
		snprintf(err, errlen, "a reason must be 1-%d bytes of UTF-8 text, without control "
			 "characters", GB_REASON_MAX);
	return ok ? 0 : -EINVAL;
}

bool opt_value_taken_option(const char *name, const char *value, char *const *argv, int optind,
			    char *err, size_t errlen)
{
	char shown[4 * 64 + 8];

	/* Given as --name=VALUE, value is inside its word: meant so. */
	if (!value || optind < 1 || value != argv[optind - 1] || value[0] != '-' ||
	    !isalpha((unsigned char)value[value[1] == '-' ? 2 : 1]))
		return false;
	printable(value, strlen(value), 64, shown, sizeof(shown));
	snprintf(err, errlen, "--%s needs a value, not the option \"%s\" (for that text, write "
		 "--%s=%s)", name, shown, name, shown);
	return true;
}
