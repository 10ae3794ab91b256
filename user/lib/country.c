// SPDX-License-Identifier: GPL-2.0
/* Parsing and printing of what operators type: country codes, country lists, port lists, names. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/country.h"
#include "lib/iso3166.h"

__u16 country_id(const char *code)
{
	int a = toupper((unsigned char)code[0]), b;

	if (a < 'A' || a > 'Z')
		return GB_COUNTRY_NONE;
	b = toupper((unsigned char)code[1]);
	if (b < 'A' || b > 'Z')
		return GB_COUNTRY_NONE;
	return 1 + (a - 'A') * 26 + (b - 'A');
}

void country_code(__u16 id, char out[3])
{
	if (id == GB_COUNTRY_NONE || id >= GB_COUNTRY_COUNT) {
		strcpy(out, "--");
		return;
	}
	out[0] = 'A' + (id - 1) / 26;
	out[1] = 'A' + (id - 1) % 26;
	out[2] = '\0';
}

/* Codes no standard assigns that GeoIP databases use (GeoLite2, DB-IP), with their names. */
static const struct iso3166_country in_use[] = {
	{ "XK", "Kosovo" },
};

bool country_assigned(__u16 id)
{
	char code[3];
	unsigned int lo = 0, hi = iso3166_count;

	country_code(id, code);
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		int cmp = strcmp(iso3166_countries[mid].code, code);

		if (!cmp)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

const char *country_name(__u16 id)
{
	char code[3];
	unsigned int lo = 0, hi = iso3166_count;

	country_code(id, code);
	for (size_t i = 0; i < sizeof(in_use) / sizeof(in_use[0]); i++)
		if (!strcmp(in_use[i].code, code))
			return in_use[i].name;
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		int cmp = strcmp(iso3166_countries[mid].code, code);

		if (!cmp)
			return iso3166_countries[mid].name;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Codes operators type for a country that are not one, with what they meant. */
static const struct {
	char code[3];
	const char *hint;
} not_countries[] = {
	{ "UK", "UK is not a country code; the United Kingdom is GB" },
	{ "EL", "EL is not a country code; Greece is GR" },
	{ "EU", "EU is a continent (Europe), not a country code" },
	{ "AP", "AP is a region (Asia/Pacific), not a country code" },
	{ "ZZ", "ZZ is not a country code (it stands for an unknown country)" },
};

const char *country_hint(__u16 id)
{
	char code[3];

	country_code(id, code);
	for (size_t i = 0; i < sizeof(not_countries) / sizeof(not_countries[0]); i++)
		if (!strcmp(not_countries[i].code, code))
			return not_countries[i].hint;
	return NULL;
}

/*
 * An item for an error message, as printable text: an argument may hold any byte, and the message
 * must stay one line on a terminal. At most max bytes of it are shown.
 */
const char *printable(const char *item, size_t len, size_t max, char *buf, size_t buflen)
{
	size_t pos = 0;

	for (size_t i = 0; i < len && i < max && pos + 5 <= buflen; i++) {
		unsigned char c = item[i];

		if (c >= 0x20 && c < 0x7f)
			buf[pos++] = c;
		else
			pos += snprintf(buf + pos, buflen - pos, "\\x%02x", c);
	}
	buf[pos] = '\0';
	return buf;
}

/* Splits LIST at commas; calls fn on each item. Empty items are an error. */
int parse_items(const char *list, const char *what,
		int (*fn)(const char *item, size_t len, void *arg, char *err, size_t errlen),
		void *arg, char *err, size_t errlen)
{
	const char *p = list;
	int ret;

	if (!*list) {
		snprintf(err, errlen, "empty %s list", what);
		return -EINVAL;
	}
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == 0) {
			char shown[64 * 4 + 1];

			snprintf(err, errlen, "empty item in %s list \"%s\"", what,
				 printable(list, strlen(list), 64, shown, sizeof(shown)));
			return -EINVAL;
		}
		ret = fn(p, len, arg, err, errlen);
		if (ret)
			return ret;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int add_country(const char *item, size_t len, void *arg, char *err, size_t errlen)
{
	__u64 *blocked = arg;
	__u16 id = len == 2 ? country_id(item) : GB_COUNTRY_NONE;

	if (id == GB_COUNTRY_NONE) {
		char shown[16 * 4 + 1];

		snprintf(err, errlen, "\"%s\" is not a two-letter country code (ISO 3166-1 alpha-2)",
			 printable(item, len, 16, shown, sizeof(shown)));
		return -EINVAL;
	}
	blocked[id / 64] |= 1ULL << (id % 64);
	return 0;
}

int parse_countries(const char *list, __u64 blocked[GB_COUNTRY_WORDS], char *err, size_t errlen)
{
	memset(blocked, 0, sizeof(__u64) * GB_COUNTRY_WORDS);
	return parse_items(list, "country", add_country, blocked, err, errlen);
}

/* A port: 1 to 65535, decimal digits only. */
static int parse_port(const char *s, size_t len, long *out)
{
	long v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -ERANGE;
	*out = v;
	return 0;
}

static int add_ports(const char *item, size_t len, void *arg, char *err, size_t errlen)
{
	const char *dash = memchr(item, '-', len);
	char shown[32 * 4 + 1];
	__u8 *ports = arg;
	long lo, hi;
	int r1, r2;

	if (dash) {
		r1 = parse_port(item, dash - item, &lo);
		r2 = parse_port(dash + 1, len - (dash - item) - 1, &hi);
	} else {
		r1 = r2 = parse_port(item, len, &lo);
		hi = lo;
	}
	if (r1 == -ERANGE || r2 == -ERANGE) {
		snprintf(err, errlen, "port \"%s\" is out of range 1-65535",
			 printable(item, len, 32, shown, sizeof(shown)));
		return -ERANGE;
	}
	if (r1 || r2) {
		snprintf(err, errlen, "\"%s\" is not a port or port range (e.g. 8801,8802-8810)",
			 printable(item, len, 32, shown, sizeof(shown)));
		return -EINVAL;
	}
	if (lo > hi) {
		snprintf(err, errlen, "port range \"%s\" runs backwards",
			 printable(item, len, 32, shown, sizeof(shown)));
		return -EINVAL;
	}
	for (long p = lo; p <= hi; p++)
		ports[p / 8] |= 1u << (p % 8);
	return 0;
}

int parse_ports(const char *list, __u8 ports[GB_PORT_COUNT / 8], char *err, size_t errlen)
{
	memset(ports, 0, GB_PORT_COUNT / 8);
	return parse_items(list, "port", add_ports, ports, err, errlen);
}

/* Appends to out[*pos]; returns -ENOSPC once out is full. */
static int append(char *out, size_t outlen, size_t *pos, const char *fmt, long a, long b)
{
	int n = snprintf(out + *pos, outlen - *pos, fmt, a, b);

	if (n < 0 || (size_t)n >= outlen - *pos)
		return -ENOSPC;
	*pos += n;
	return 0;
}

void print_ports(FILE *f, const __u8 ports[GB_PORT_COUNT / 8])
{
	for (long p = port_next(ports, 1), q, n = 0; p < GB_PORT_COUNT;
	     p = port_next(ports, q + 1), n++) {
		for (q = p; q + 1 < GB_PORT_COUNT && port_isset(ports, q + 1); q++)
			;
		if (q > p)
			fprintf(f, "%s%ld-%ld", n ? "," : "", p, q);
		else
			fprintf(f, "%s%ld", n ? "," : "", p);
	}
}

int format_ports(const __u8 ports[GB_PORT_COUNT / 8], char *out, size_t outlen)
{
	size_t pos = 0;
	int err = 0;

	out[0] = '\0';
	for (long p = port_next(ports, 1); p < GB_PORT_COUNT; p = port_next(ports, p + 1)) {
		long q = p;

		while (q + 1 < GB_PORT_COUNT && port_isset(ports, q + 1))
			q++;
		if (pos)
			err = append(out, outlen, &pos, ",", 0, 0);
		if (!err)
			err = q > p ? append(out, outlen, &pos, "%ld-%ld", p, q) :
				      append(out, outlen, &pos, "%ld", p, 0);
		if (err)
			return err;
		p = q;
	}
	return 0;
}

int format_countries(const __u64 blocked[GB_COUNTRY_WORDS], char *out, size_t outlen)
{
	size_t pos = 0;

	out[0] = '\0';
	for (__u16 id = 1; id < GB_COUNTRY_COUNT; id++) {
		char cc[3];

		if (!country_isset(blocked, id))
			continue;
		if (pos + 4 > outlen)
			return -ENOSPC;
		country_code(id, cc);
		pos += snprintf(out + pos, outlen - pos, "%s%s", pos ? "," : "", cc);
	}
	return 0;
}

bool meeting_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= GB_MEETING_NAME_LEN || name[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}
