// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/lib/parse.c and user/state/rules_file.c: allow lists, expiry times, protocols, and the
 * `meeting add` grammar shared by the command line, apply files and the rules file.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "lib/parse.h"
#include "state/rules_read.h"
#include "check.h"

#define NOW 1772380000LL	/* 2026-03-01T15:46:40Z */

static char err[512];

/* The formatted list if list parses, else "ERR: message". */
static const char *cidrs(const char *list)
{
	static char out[1024];
	struct cidr *v;
	size_t n, pos = 0;

	if (parse_cidrs(list, &v, &n, err, sizeof(err))) {
		snprintf(out, sizeof(out), "ERR: %s", err);
		return out;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char net[64];

		format_cidr(&v[i], net, sizeof(net));
		pos += snprintf(out + pos, sizeof(out) - pos, "%s%s", i ? "," : "", net);
	}
	free(v);
	return out;
}

static int cidr_bad(const char *list, const char *msg)
{
	const char *out = cidrs(list);

	if (!strncmp(out, "ERR: ", 5) && strstr(out, msg))
		return 1;
	fprintf(stderr, "  %s -> %s\n", list, out);
	return 0;
}

static long long expiry(const char *s)
{
	__s64 t;

	return parse_expiry(s, NOW, false, &t, err, sizeof(err)) ? -1 : t;
}

static int expiry_bad(const char *s, const char *msg)
{
	__s64 t;

	return parse_expiry(s, NOW, false, &t, err, sizeof(err)) < 0 && strstr(err, msg);
}

/* Parses a `meeting add` command line (words separated by single spaces). */
static int spec_of(const char *line, struct meeting_spec *s)
{
	char buf[2048], *argv[64], *save;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok_r(buf, " ", &save); w && argc < 63; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	return spec_parse(argc, argv, NOW, 0, s, err, sizeof(err));
}

/* "meeting add" + args, parsed, printed back: the canonical line (or "ERR: ..."). */
static const char *canonical(const char *args)
{
	static char out[2048];
	struct meeting_spec s;
	char line[1024], *f;

	snprintf(line, sizeof(line), "add %s", args);
	if (spec_of(line, &s)) {
		snprintf(out, sizeof(out), "ERR: %s", err);
		return out;
	}
	f = spec_format(&s, true);
	snprintf(out, sizeof(out), "%s", f ? f : "(null)");
	free(f);
	spec_free(&s);
	return out;
}

static int spec_bad(const char *args, const char *msg)
{
	const char *out = canonical(args);

	if (!strncmp(out, "ERR: ", 5) && strstr(out, msg))
		return 1;
	fprintf(stderr, "  %s -> %s\n", args, out);
	return 0;
}

/* Writes text to a temporary file, reads it as a rules file; the error or "" in err. */
static int read_text(const char *text, struct spec_list *l, unsigned int flags)
{
	char path[] = "/tmp/unit_parse.XXXXXX";
	int fd = mkstemp(path), ret;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -EIO;
	close(fd);
	err[0] = '\0';
	ret = rules_file_read(path, NOW, flags, NULL, l, err, sizeof(err));
	unlink(path);
	return ret;
}

static void test_cidrs(void)
{
	struct cidr c;
	__u8 a[16];

	CHECK_STR("cidr_v4", "10.0.0.0/8", cidrs("10.0.0.0/8"));
	CHECK_STR("cidr_v6", "2001:db8::/32", cidrs("2001:db8::/32"));
	CHECK_STR("cidr_host_v4", "198.51.100.7/32", cidrs("198.51.100.7"));
	CHECK_STR("cidr_host_v6", "2001:db8::1/128", cidrs("2001:db8::1"));
	CHECK_STR("cidr_sorted_deduplicated_v4_first", "10.0.0.0/8,192.0.2.0/24,2001:db8::/32",
		  cidrs("2001:db8::/32,192.0.2.0/24,10.0.0.0/8,192.0.2.0/24"));
	CHECK_STR("cidr_all_v4", "0.0.0.0/0", cidrs("0.0.0.0/0"));
	/* IPv4-mapped: the IPv4 network its packets come from (the whole mapped /96: all IPv4). */
	CHECK_STR("cidr_v4_mapped", "0.0.0.0/0,10.0.0.0/8,192.0.2.7/32",
		  cidrs("::ffff:192.0.2.7,::ffff:10.0.0.0/104,::ffff:0:0/96"));
	CHECK("cidr_v4_mapped_host_bits", cidr_bad("::ffff:10.0.0.1/104", "did you mean 10.0.0.0/8?"));
	CHECK("cidr_refuse_host_bits", cidr_bad("10.0.0.1/8", "did you mean 10.0.0.0/8?"));
	CHECK("cidr_refuse_host_bits_v6", cidr_bad("2001:db8::1/32", "did you mean 2001:db8::/32?"));
	CHECK("cidr_refuse_long_v4", cidr_bad("10.0.0.0/33", "more than 32"));
	CHECK("cidr_refuse_long_v6", cidr_bad("::/129", "more than 128"));
	CHECK("cidr_refuse_short_form", cidr_bad("10.0.0/8", "not an address or CIDR"));
	CHECK("cidr_refuse_name", cidr_bad("example.com", "not an address or CIDR"));
	CHECK("cidr_refuse_empty_len", cidr_bad("10.0.0.0/", "not an address or CIDR"));
	CHECK("cidr_refuse_negative_len", cidr_bad("10.0.0.0/-1", "not an address or CIDR"));
	CHECK("cidr_refuse_zone", cidr_bad("fe80::1%eth0", "not an address or CIDR"));
	CHECK("cidr_refuse_space", cidr_bad("10.0.0.0/8, 192.0.2.0/24", "not an address or CIDR"));
	CHECK("cidr_refuse_empty_item", cidr_bad("10.0.0.0/8,,192.0.2.0/24", "empty item"));
	CHECK("cidr_refuse_empty", cidr_bad("", "empty address list"));

	c = (struct cidr){ .family = 4, .len = 8, .addr = { 10 } };
	CHECK("contains_inside", cidr_contains(&c, 4, (__u8[]){ 10, 255, 1, 1 }));
	CHECK("contains_outside", !cidr_contains(&c, 4, (__u8[]){ 11, 0, 0, 0 }));
	c.len = 12;
	c.addr[1] = 0x10;
	CHECK("contains_partial_byte", cidr_contains(&c, 4, (__u8[]){ 10, 0x1f, 0, 0 }));
	CHECK("contains_partial_byte_outside", !cidr_contains(&c, 4, (__u8[]){ 10, 0x20, 0, 0 }));
	memset(a, 0, sizeof(a));
	CHECK("contains_family_differs", !cidr_contains(&c, 6, a));
	c = (struct cidr){ .family = 6, .len = 0 };
	a[0] = 0x20;
	CHECK("contains_slash_zero", cidr_contains(&c, 6, a));
}

static void test_reasons(void)
{
	CHECK("reason_text", !reason_check("ticket 4711: vendor's request", err, sizeof(err)));
	CHECK("reason_utf8", !reason_check("Zustimmung der Geschäftsführung \xe2\x9c\x93", err,
					   sizeof(err)));
	CHECK("reason_refuse_empty", reason_check("", err, sizeof(err)));
	CHECK("reason_refuse_control", reason_check("a\tb", err, sizeof(err)));
	CHECK("reason_refuse_del", reason_check("a\x7f", err, sizeof(err)));
	CHECK("reason_refuse_c1", reason_check("a\xc2\x85" "b", err, sizeof(err)));
	CHECK("reason_nbsp", !reason_check("a\xc2\xa0" "b", err, sizeof(err)));
	CHECK("reason_refuse_not_utf8", reason_check("caf\xe9", err, sizeof(err)));
	CHECK("reason_refuse_cut_utf8", reason_check("a\xc3", err, sizeof(err)));
	CHECK("reason_refuse_overlong", reason_check("\xc0\xaf", err, sizeof(err)));
	CHECK("reason_refuse_surrogate", reason_check("\xed\xa0\x80", err, sizeof(err)));
	CHECK("reason_max", !reason_check((char[GB_REASON_MAX + 1]){ [0 ... GB_REASON_MAX - 1] = 'x' },
					  err, sizeof(err)));
	CHECK("reason_refuse_long", reason_check((char[GB_REASON_MAX + 2]){
		[0 ... GB_REASON_MAX] = 'x' }, err, sizeof(err)));
}

static void test_expiry(void)
{
	char out[32];

	CHECK_INT("expiry_hours", NOW + 7200, expiry("2h"));
	CHECK_INT("expiry_combined", NOW + 5400, expiry("1h30m"));
	CHECK_INT("expiry_minutes", NOW + 5400, expiry("90m"));
	CHECK_INT("expiry_day", NOW + 86400, expiry("1d"));
	CHECK_INT("expiry_seconds", NOW + 45, expiry("45s"));
	CHECK_INT("expiry_rfc3339_utc", 1772388000, expiry("2026-03-01T18:00:00Z"));
	CHECK_INT("expiry_rfc3339_offset", 1772384400, expiry("2026-03-01T18:00:00+01:00"));
	CHECK_INT("expiry_rfc3339_negative_offset", 1772388000, expiry("2026-03-01T13:00:00-05:00"));
	CHECK_INT("expiry_rfc3339_lower_case", 1772388000, expiry("2026-03-01t18:00:00z"));
	CHECK_INT("expiry_rfc3339_fraction_dropped", 1772388000, expiry("2026-03-01T18:00:00.75Z"));
	CHECK_INT("expiry_rfc3339_leap_day", 1835395200, expiry("2028-02-29T00:00:00Z"));
	CHECK_INT("expiry_rfc3339_in_the_past_parses", 1772384400, expiry("2026-03-01T17:00:00Z"));
	CHECK("expiry_refuse_zero", expiry_bad("0s", "not in the future"));
	CHECK("expiry_refuse_bare_number", expiry_bad("2", "neither a duration"));
	CHECK("expiry_refuse_unit", expiry_bad("2w", "neither a duration"));
	CHECK("expiry_refuse_no_number", expiry_bad("h", "neither a duration"));
	CHECK("expiry_refuse_negative", expiry_bad("-2h", "neither a duration"));
	CHECK("expiry_refuse_space", expiry_bad("1h 30m", "neither a duration"));
	CHECK("expiry_refuse_unit_twice", expiry_bad("2h2h", "each unit at most once"));
	CHECK("expiry_refuse_smaller_unit_first", expiry_bad("30m1h", "the larger first"));
	CHECK_INT("expiry_every_unit", NOW + 86400 + 7200 + 180 + 4, expiry("1d2h3m4s"));
	CHECK("expiry_refuse_empty", expiry_bad("", "neither a duration"));
	CHECK("expiry_refuse_ten_years", expiry_bad("3651d", "more than ten years"));
	CHECK("expiry_refuse_far_date", expiry_bad("2099-01-01T00:00:00Z", "more than ten years"));
	{
		__s64 t = 0;

		/* A rules file read back after the clock went back: the time stands. */
		CHECK("expiry_far_date_any_time",
		      !parse_expiry("2099-01-01T00:00:00Z", NOW, true, &t, err, sizeof(err)) &&
		      t == 4070908800LL);
	}
	CHECK("expiry_refuse_no_leap_day", expiry_bad("2026-02-29T00:00:00Z", "not an RFC 3339"));
	CHECK("expiry_refuse_month_13", expiry_bad("2026-13-01T00:00:00Z", "not an RFC 3339"));
	CHECK("expiry_refuse_hour_24", expiry_bad("2026-03-01T24:00:00Z", "not an RFC 3339"));
	CHECK("expiry_refuse_no_zone", expiry_bad("2026-03-01T18:00:00", "not an RFC 3339"));
	CHECK("expiry_refuse_no_seconds", expiry_bad("2026-03-01T18:00Z", "not an RFC 3339"));
	CHECK("expiry_refuse_space_separator", expiry_bad("2026-03-01 18:00:00Z", "not an RFC 3339"));
	CHECK("expiry_refuse_trailing", expiry_bad("2026-03-01T18:00:00Zx", "not an RFC 3339"));
	CHECK_INT("rfc3339_format", 0, format_rfc3339(1772388000, out, sizeof(out)));
	CHECK_STR("rfc3339_round_trip", "2026-03-01T18:00:00Z", out);
}

static void test_protos(void)
{
	__u32 f;

	CHECK_INT("proto_udp", 0, parse_protos("udp", &f, err, sizeof(err)));
	CHECK_STR("proto_udp_format", "udp", format_protos(f));
	CHECK_INT("proto_both_any_case", 0, parse_protos("TCP,udp", &f, err, sizeof(err)));
	CHECK_STR("proto_both_format", "udp,tcp", format_protos(f));
	CHECK_INT("proto_tcp", 0, parse_protos("tcp", &f, err, sizeof(err)));
	CHECK_INT("proto_tcp_flags", GB_MEETING_TCP, f);
	CHECK_INT("proto_refuse_sctp", -EINVAL, parse_protos("sctp", &f, err, sizeof(err)));
	CHECK("proto_refuse_sctp_message", strstr(err, "unknown protocol \"sctp\"") != NULL);
	CHECK_INT("proto_refuse_empty", -EINVAL, parse_protos("", &f, err, sizeof(err)));
	CHECK_INT("proto_refuse_empty_item", -EINVAL, parse_protos("udp,,tcp", &f, err, 1024));
}

static void test_grammar(void)
{
	struct meeting_spec a, b;
	struct spec_list l;
	char *line;

	CHECK_STR("spec_minimal", "meeting add m --ports 8801-8810 --block CN,RU",
		  canonical("m --ports 8801-8810 --block ru,CN"));
	CHECK_STR("spec_everything",
		  "meeting add m --ports 1,5-6 --block DE --proto udp,tcp --allow 10.0.0.0/8,"
		  "2001:db8::/32 --expires 2026-03-01T17:46:40Z --monitor --reason 'why'",
		  canonical("m --monitor --ports 5,6,1 --allow 2001:db8::/32,10.0.0.0/8 --block de "
			    "--expires 2h --proto tcp,udp --reason why"));
	CHECK_STR("spec_name_anywhere", "meeting add m --ports 1 --block DE",
		  canonical("--ports 1 m --block DE"));
	CHECK_STR("spec_tcp_only", "meeting add m --ports 1 --block DE --proto tcp",
		  canonical("m --ports 1 --block DE --proto tcp"));
	CHECK_STR("spec_udp_is_default", "meeting add m --ports 1 --block DE",
		  canonical("m --ports 1 --block DE --proto udp"));
	CHECK("spec_refuse_unknown_option", spec_bad("m --ports 1 --block DE --frob",
						     "unknown option \"--frob\""));
	CHECK("spec_refuse_unknown_short", spec_bad("m --ports 1 --block DE -x",
						    "unknown option \"-x\""));
	CHECK("spec_refuse_missing_value", spec_bad("m --block DE --ports", "needs a value"));
	CHECK("spec_refuse_twice", spec_bad("m --ports 1 --ports 2 --block DE", "--ports given twice"));
	CHECK("spec_refuse_two_names", spec_bad("m n --ports 1 --block DE", "one meeting NAME"));
	CHECK("spec_refuse_no_name", spec_bad("--ports 1 --block DE", "one meeting NAME"));
	CHECK("spec_refuse_bad_name", spec_bad("m/x --ports 1 --block DE", "invalid meeting name"));
	/* "." and "..": refused when new, kept when saved (the rules file, the store). */
	CHECK("spec_refuse_dot", spec_bad(". --ports 1 --block DE", "choose another"));
	CHECK("spec_refuse_dot_dot", spec_bad(".. --ports 1 --block DE", "choose another"));
	CHECK("spec_take_three_dots", !strcmp(canonical("... --ports 1 --block DE"),
					      "meeting add ... --ports 1 --block DE"));
	CHECK_INT("spec_saved_dot_dot_reads", 0,
		  read_text("meeting add .. --ports 1 --block DE\n", &l, SPEC_PAST_OK));
	CHECK("spec_saved_dot_dot_is_it", l.n == 1 && !strcmp(l.v[0].name, ".."));
	spec_list_free(&l);
	CHECK("spec_new_dot_dot_refused",
	      read_text("meeting add .. --ports 1 --block DE\n", &l, 0) &&
	      strstr(err, "choose another"));
	spec_list_free(&l);
	CHECK("spec_refuse_no_block", spec_bad("m --ports 1", "are required"));
	CHECK("spec_refuse_bad_cidr", spec_bad("m --ports 1 --block DE --allow 1.2.3.4/40",
					       "more than 32"));
	CHECK("spec_refuse_bad_expiry", spec_bad("m --ports 1 --block DE --expires soon",
						 "neither a duration"));
	CHECK("spec_refuse_past_expiry", spec_bad("m --ports 1 --block DE --expires "
						  "2026-03-01T15:00:00Z", "already passed"));
	CHECK("spec_refuse_bad_proto", spec_bad("m --ports 1 --block DE --proto icmp",
						"unknown protocol"));
	CHECK("spec_refuse_bad_port", spec_bad("m --ports 0 --block DE", "out of range"));

	/* Printed specs read back as themselves, reason included. */
	CHECK_INT("spec_parse_for_round_trip", 0,
		  spec_of("add m --ports 1-3,7 --block DE,FR --allow 192.0.2.0/24 --proto tcp "
			  "--expires 1d --monitor --reason x", &a));
	line = spec_format(&a, true);
	CHECK_INT("spec_round_trip_reads", 0, read_text(line, &l, 0));
	CHECK("spec_round_trip_equal", l.n == 1 && spec_equal(&a, &l.v[0], false) &&
	      !strcmp(l.v[0].reason, "x"));
	spec_list_free(&l);
	free(line);
	b = a;
	b.allow = NULL;
	b.n_allow = 0;
	CHECK("spec_equal_sees_allow", !spec_equal(&a, &b, false));
	spec_copy(&b, &a);
	b.flags ^= GB_MEETING_MONITOR;
	CHECK("spec_equal_sees_mode", !spec_equal(&a, &b, false));
	CHECK("spec_equal_ignore_mode", spec_equal(&a, &b, true));
	spec_free(&b);
	spec_free(&a);

	/* Files: comments, blank lines, quotes, and errors that name their line. */
	CHECK_INT("file_reads", 0,
		  read_text("# rules\n\nmeeting add a --ports 1 --block DE   # trailing\n"
			    "\tmeeting add b --ports 2 --block FR --reason \"say \\\"hi\\\" # no\"\n"
			    "meeting add c --ports 3 --block US --reason 'a b'\n", &l, 0));
	CHECK_INT("file_meetings", 3, l.n);
	if (l.n == 3) {
		CHECK_INT("file_line_numbers", 4, l.v[1].line);
		CHECK_STR("file_double_quotes", "say \"hi\" # no", l.v[1].reason);
		CHECK_STR("file_single_quotes", "a b", l.v[2].reason);
	}
	spec_list_free(&l);
	CHECK_INT("file_empty_is_empty_set", 0, read_text("# nothing\n\n", &l, 0));
	CHECK_INT("file_empty_count", 0, l.n);
	CHECK_INT("file_refuse_other_command", -EINVAL,
		  read_text("meeting add a --ports 1 --block DE\nmeeting del a\n", &l, 0));
	CHECK("file_other_command_line", strstr(err, "line 2: expected \"meeting add") != NULL);
	CHECK_INT("file_refuse_open_quote", -EINVAL,
		  read_text("\n\nmeeting add a --ports 1 --block DE --reason 'x\n", &l, 0));
	CHECK("file_open_quote_line", strstr(err, "line 3: a quote is not closed") != NULL);
	CHECK_INT("file_refuse_bad_port", -EINVAL,
		  read_text("meeting add a --ports 1 --block DE\nmeeting add b --ports x --block DE\n",
			    &l, 0));
	CHECK("file_bad_port_line", strstr(err, "line 2: \"x\" is not a port") != NULL);
	CHECK_INT("file_refuse_shared_port", -EINVAL,
		  read_text("meeting add a --ports 1-10 --block DE\n# x\nmeeting add b --ports 10-20 "
			    "--block DE\n", &l, 0));
	CHECK("file_shared_port_lines",
	      strstr(err, "line 3: port 10 already belongs to meeting \"a\" (line 1)") != NULL);
	CHECK_INT("file_refuse_same_name", -EINVAL,
		  read_text("meeting add a --ports 1 --block DE\nmeeting add a --ports 2 --block DE\n",
			    &l, 0));
	CHECK("file_same_name_lines",
	      strstr(err, "line 2: meeting \"a\" is already defined on line 1") != NULL);
	CHECK_INT("file_refuse_past_expiry", -EINVAL,
		  read_text("meeting add a --ports 1 --block DE --expires 2020-01-01T00:00:00Z\n", &l,
			    0));
	CHECK_INT("file_past_expiry_ok_for_restore", 0,
		  read_text("meeting add a --ports 1 --block DE --expires 2020-01-01T00:00:00Z\n", &l,
			    SPEC_PAST_OK));
	spec_list_free(&l);
}

int main(void)
{
	test_cidrs();
	test_reasons();
	test_expiry();
	test_protos();
	test_grammar();
	return check_summary();
}
