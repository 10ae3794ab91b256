// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: what operators type, through user/lib/country.c. The first byte picks the parser
 * ('0' ports, '1' countries, '2' meeting names); the rest is the argument. A refused argument gets
 * a one-line message; an accepted list prints back (format_ports, format_countries) to text that
 * parses to the same set; a name is accepted exactly when geoblock(8)'s rule says so.
 */
#include <ctype.h>
#include <errno.h>
#include "lib/country.h"
#include "fuzz.h"

static void check_ports(const char *s)
{
	static __u8 ports[GB_PORT_COUNT / 8], again[GB_PORT_COUNT / 8];
	static char text[GB_PORT_COUNT * 7];	/* every port, comma-separated */
	char err[256] = "";
	bool any = false;
	int ret;

	ret = parse_ports(s, ports, err, sizeof(err));
	if (ret) {
		FUZZ_ASSERT(ret == -EINVAL || ret == -ERANGE, "parse_ports returned %d", ret);
		FUZZ_ASSERT(fuzz_message_ok(err, sizeof(err)), "message \"%s\"", err);
		return;
	}
	FUZZ_ASSERT(!port_isset(ports, 0), "port 0 accepted from \"%s\"", s);
	for (unsigned int p = 1; p < GB_PORT_COUNT; p++)
		any |= port_isset(ports, p);
	FUZZ_ASSERT(any, "\"%s\" accepted as no port at all", s);
	ret = format_ports(ports, text, sizeof(text));
	FUZZ_ASSERT(!ret, "format_ports returned %d", ret);
	ret = parse_ports(text, again, err, sizeof(err));
	FUZZ_ASSERT(!ret, "\"%s\" printed as \"%.64s\", which does not parse: %s", s, text, err);
	FUZZ_ASSERT(!memcmp(ports, again, sizeof(ports)), "\"%s\" printed as \"%.64s\"", s, text);
}

static void check_countries(const char *s)
{
	__u64 blocked[GB_COUNTRY_WORDS], again[GB_COUNTRY_WORDS];
	char text[GB_COUNTRY_COUNT * 3 + 1], err[256] = "", cc[3];
	__u16 id = strlen(s) >= 2 ? country_id(s) : GB_COUNTRY_NONE;
	int ret;

	/* One code: its id names the same two letters. */
	if (id != GB_COUNTRY_NONE) {
		country_code(id, cc);
		FUZZ_ASSERT(id < GB_COUNTRY_COUNT && cc[0] == toupper((unsigned char)s[0]) &&
				    cc[1] == toupper((unsigned char)s[1]),
			    "\"%.2s\" is id %u, printed \"%s\"", s, id, cc);
	}
	ret = parse_countries(s, blocked, err, sizeof(err));
	if (ret) {
		FUZZ_ASSERT(ret == -EINVAL, "parse_countries returned %d", ret);
		FUZZ_ASSERT(fuzz_message_ok(err, sizeof(err)), "message \"%s\"", err);
		return;
	}
	FUZZ_ASSERT(!(blocked[0] & 1), "country id 0 set from \"%s\"", s);
	for (unsigned int i = GB_COUNTRY_COUNT; i < GB_COUNTRY_WORDS * 64; i++)
		FUZZ_ASSERT(!(blocked[i / 64] & (1ULL << (i % 64))), "id %u set from \"%s\"", i, s);
	ret = format_countries(blocked, text, sizeof(text));
	FUZZ_ASSERT(!ret, "format_countries returned %d", ret);
	ret = parse_countries(text, again, err, sizeof(err));
	FUZZ_ASSERT(!ret, "\"%s\" printed as \"%s\", which does not parse: %s", s, text, err);
	FUZZ_ASSERT(!memcmp(blocked, again, sizeof(blocked)), "\"%s\" printed as \"%s\"", s, text);
}

/* geoblock(8): letters, digits, '.', '_', '-'; not starting with '-'; at most 47 characters. */
static void check_name(const char *s)
{
	size_t len = strlen(s);
	bool ok = len > 0 && len < GB_MEETING_NAME_LEN && s[0] != '-';

	for (size_t i = 0; i < len && ok; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		     (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-';
	FUZZ_ASSERT(meeting_name_valid(s) == ok, "\"%s\": valid says %d", s, !ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (!size)
		return 0;
	s = fuzz_string(data + 1, size - 1);
	switch (data[0] % 3) {	/* '0', '1', '2' */
	case 0:
		check_ports(s);
		break;
	case 1:
		check_countries(s);
		break;
	default:
		check_name(s);
		break;
	}
	free(s);
	return 0;
}
