// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/lib/country.c: what operators type (ports, countries, names) and its printing. */
#include <errno.h>
#include "lib/country.h"
#include "check.h"

static __u8 ports[GB_PORT_COUNT / 8];

static int ports_ok(const char *list, const char *expect_formatted)
{
	char err[160], out[512];

	if (parse_ports(list, ports, err, sizeof(err)))
		return 0;
	return !format_ports(ports, out, sizeof(out)) && !strcmp(out, expect_formatted);
}

static int ports_bad(const char *list, const char *expect_in_msg)
{
	char err[160] = "";

	return parse_ports(list, ports, err, sizeof(err)) < 0 && strstr(err, expect_in_msg);
}

int main(void)
{
	__u64 blocked[GB_COUNTRY_WORDS];
	char err[160], out[64], cc[3];

	CHECK("ports_single", ports_ok("8801", "8801"));
	CHECK("ports_list_and_range", ports_ok("8801,8803-8805", "8801,8803-8805"));
	CHECK("ports_adjacent_items_join", ports_ok("10,11,12", "10-12"));
	CHECK("ports_overlap_and_order", ports_ok("20-25,22,1", "1,20-25"));
	CHECK("ports_bounds", ports_ok("1,65535", "1,65535"));
	CHECK("ports_whole_range", ports_ok("1-65535", "1-65535"));
	CHECK("ports_refuse_zero", ports_bad("0", "out of range"));
	CHECK("ports_refuse_65536", ports_bad("65536", "out of range"));
	CHECK("ports_refuse_range_past_end", ports_bad("65000-70000", "out of range"));
	CHECK("ports_refuse_letters", ports_bad("88a1", "not a port"));
	CHECK("ports_refuse_negative", ports_bad("-5", "not a port"));
	CHECK("ports_refuse_open_range", ports_bad("8801-", "not a port"));
	CHECK("ports_refuse_backwards", ports_bad("9000-8999", "backwards"));
	CHECK("ports_refuse_empty_item", ports_bad("8801,,8802", "empty item"));
	CHECK("ports_refuse_trailing_comma", ports_bad("8801,", "empty item"));
	CHECK("ports_refuse_empty", ports_bad("", "empty port list"));
	CHECK("ports_refuse_space", ports_bad("8801, 8802", "not a port"));
	CHECK("ports_refuse_long_number", ports_bad("0000008801", "not a port"));

	CHECK_INT("country_AA_is_first", 1, country_id("AA"));
	CHECK_INT("country_ZZ_is_last", GB_COUNTRY_COUNT - 1, country_id("ZZ"));
	CHECK_INT("country_case_insensitive", country_id("DE"), country_id("de"));
	CHECK_INT("country_digit_refused", GB_COUNTRY_NONE, country_id("D1"));
	country_code(country_id("cn"), cc);
	CHECK_STR("country_round_trip", "CN", cc);
	country_code(GB_COUNTRY_NONE, cc);
	CHECK_STR("country_none_prints_dashes", "--", cc);

	CHECK_INT("countries_parse", 0, parse_countries("cn,RU,ir", blocked, err, sizeof(err)));
	CHECK_INT("countries_format", 0, format_countries(blocked, out, sizeof(out)));
	CHECK_STR("countries_sorted_upper", "CN,IR,RU", out);
	CHECK_INT("countries_refuse_three_letters", -EINVAL,
		  parse_countries("CHN", blocked, err, sizeof(err)));
	CHECK("countries_message_names_code", strstr(err, "\"CHN\"") != NULL);
	CHECK_INT("countries_refuse_one_letter", -EINVAL, parse_countries("C", blocked, err, 160));
	CHECK_INT("countries_refuse_digits", -EINVAL, parse_countries("C1", blocked, err, 160));
	CHECK_INT("countries_refuse_empty_item", -EINVAL, parse_countries("CN,,DE", blocked, err, 160));
	CHECK_INT("countries_refuse_empty", -EINVAL, parse_countries("", blocked, err, 160));

	CHECK_STR("country_name_of_cn", "China", country_name(country_id("CN")));
	CHECK_STR("country_name_of_ch", "Switzerland", country_name(country_id("ch")));
	CHECK_STR("country_name_common_form", "South Korea", country_name(country_id("KR")));
	CHECK_STR("country_name_of_gb", "United Kingdom", country_name(country_id("GB")));
	CHECK("country_name_none_for_uk", country_name(country_id("UK")) == NULL);
	CHECK_STR("country_name_xk_in_use", "Kosovo", country_name(country_id("XK")));
	CHECK("country_xk_not_assigned", !country_assigned(country_id("XK")));
	CHECK("country_cn_assigned", country_assigned(country_id("cn")));
	CHECK("country_uk_not_assigned", !country_assigned(country_id("UK")));
	CHECK("country_name_none_for_eu", country_name(country_id("EU")) == NULL);
	CHECK("country_name_first_code", country_name(country_id("AD")) != NULL);
	CHECK("country_name_last_code", country_name(country_id("ZW")) != NULL);
	CHECK("country_name_none_for_none", country_name(GB_COUNTRY_NONE) == NULL);
	CHECK_STR("country_hint_uk", "UK is not a country code; the United Kingdom is GB",
		  country_hint(country_id("UK")));
	CHECK("country_hint_eu_continent", strstr(country_hint(country_id("EU")), "continent"));
	CHECK("country_hint_none_for_cn", country_hint(country_id("CN")) == NULL);

	CHECK("name_plain", meeting_name_valid("standup-2026.q4_team"));
	CHECK("name_refuse_empty", !meeting_name_valid(""));
	CHECK("name_refuse_space", !meeting_name_valid("stand up"));
	CHECK("name_refuse_leading_dash", !meeting_name_valid("-x"));
	CHECK("name_refuse_quote", !meeting_name_valid("a\"b"));
	CHECK("name_max_length", meeting_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	CHECK("name_refuse_too_long", !meeting_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	return check_summary();
}
