// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/geoip/prefix.c: networks added in address order merge only into exact parents;
 * ranges split into their minimal cover; lists combine, refusing disagreeing overlaps; no list
 * grows past its family's limit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "lib/country.h"
#include "geoip/prefix.h"
#include "check.h"

static void add4(struct prefix_list *l, const char *addr, int len, const char *cc)
{
	__u8 a[16] = {};

	inet_pton(AF_INET, addr, a);
	prefix_list_add(l, 4, a, len, cc ? country_id(cc) : GB_COUNTRY_V4_ALIAS);
}

static int range(struct prefix_list *l, int family, const char *start, const char *end,
		 const char *cc)
{
	__u8 s[16] = {}, e[16] = {};
	int af = family == 4 ? AF_INET : AF_INET6;

	inet_pton(af, start, s);
	inet_pton(af, end, e);
	return prefix_list_add_range(l, family, s, e, cc ? country_id(cc) : GB_COUNTRY_V4_ALIAS);
}

static void add6(struct prefix_list *l, const char *addr, int len, const char *cc)
{
	__u8 a[16] = {};

	inet_pton(AF_INET6, addr, a);
	prefix_list_add(l, 6, a, len, cc ? country_id(cc) : GB_COUNTRY_V4_ALIAS);
}

static const char *show_fam(const struct prefix_list *l, size_t i, int family)
{
	static char buf[96];
	char a[INET6_ADDRSTRLEN], cc[3];

	if (i >= l->n)
		return "(none)";
	inet_ntop(family == 4 ? AF_INET : AF_INET6, l->v[i].addr, a, sizeof(a));
	country_code(l->v[i].country, cc);
	snprintf(buf, sizeof(buf), "%s/%d %s", a, l->v[i].len,
		 l->v[i].country == GB_COUNTRY_V4_ALIAS ? "alias" : cc);
	return buf;
}

static const char *show(const struct prefix_list *l, size_t i)
{
	static char buf[64];
	char a[INET_ADDRSTRLEN], cc[3];

	inet_ntop(AF_INET, l->v[i].addr, a, sizeof(a));
	country_code(l->v[i].country, cc);
	snprintf(buf, sizeof(buf), "%s/%d %s", a, l->v[i].len,
		 l->v[i].country == GB_COUNTRY_V4_ALIAS ? "alias" : cc);
	return buf;
}

/* n in network order at a. */
static void put32(__u8 *a, __u32 n)
{
	a[0] = n >> 24;
	a[1] = n >> 16;
	a[2] = n >> 8;
	a[3] = n;
}

/*
 * A list stops at its family's limit with -E2BIG, whatever the input: a crafted file cannot make it
 * take more memory than a table of that size. A network that merges into the last one takes no
 * slot, so it is still accepted at the limit.
 */
static void check_limits(void)
{
	size_t max4 = prefix_list_max(4), max6 = prefix_list_max(6), rows = 0;
	struct prefix_list l = {}, in[2] = {}, out;
	__u8 a[16], s[16] = {}, e[16] = {};
	int err = 0;

	memset(a, 0, sizeof(a));
	CHECK_INT("ipv4_limit_is_the_maps", GB_V4_PREFIXES_MAX, max4);
	CHECK_INT("ipv6_limit_is_the_maps", GB_V6_PREFIXES_MAX, max6);

	/* Every other /32: nothing merges. */
	for (__u32 i = 0; i < max4 && !err; i++) {
		put32(a, 2 * i);
		err = prefix_list_add(&l, 4, a, 32, country_id("DE"));
	}
	CHECK_INT("ipv4_list_fills_to_its_limit", 0, err);
	CHECK_INT("ipv4_list_holds_its_limit", max4, l.n);
	put32(a, 2 * max4);
	CHECK_INT("ipv4_network_past_the_limit_refused", -E2BIG,
		  prefix_list_add(&l, 4, a, 32, country_id("DE")));
	CHECK_INT("ipv4_refused_network_not_kept", max4, l.n);
	CHECK("ipv4_list_memory_bounded", l.cap <= max4);
	put32(a, 2 * (max4 - 1) + 1);
	CHECK_INT("ipv4_merging_network_at_the_limit_accepted", 0,
		  prefix_list_add(&l, 4, a, 32, country_id("DE")));
	CHECK_INT("ipv4_merged_at_the_limit", max4, l.n);
	CHECK_INT("ipv4_merged_into_parent", 31, l.v[l.n - 1].len);
	prefix_list_free(&l);

	/*
	 * Ranges that each split into 222 networks, as a crafted CSV file's rows would: 20,000 of
	 * them make 4.4 million, past the limit.
	 */
	s[15] = 1;
	memset(e + 2, 0xff, 14);
	e[15] = 0xfe;
	for (err = 0; !err && rows < 20000; rows++) {
		s[0] = e[0] = 0x20 + (rows >> 8);
		s[1] = e[1] = rows;
		err = prefix_list_add_range(&l, 6, s, e, country_id("FR"));
	}
	CHECK_INT("ipv6_ranges_past_the_limit_refused", -E2BIG, err);
	CHECK_INT("ipv6_list_stops_at_its_limit", max6, l.n);
	prefix_list_free(&l);

	/* Two lists within the limit whose union is not: every other /128, in two blocks. */
	memset(a, 0, sizeof(a));
	a[0] = 0x20;
	err = 0;
	for (size_t i = 0; i <= max6 / 2 && !err; i++) {
		put32(a + 12, 2 * i);
		a[11] = 0;
		err = prefix_list_add(&in[0], 6, a, 128, country_id("FR"));
		a[11] = 1;
		err = err ?: prefix_list_add(&in[1], 6, a, 128, country_id("FR"));
	}
	CHECK_INT("ipv6_halves_within_the_limit", 0, err);
	CHECK_INT("ipv6_halves_do_not_merge", max6 / 2 + 1, in[1].n);
	CHECK_INT("ipv6_union_past_the_limit_refused", -E2BIG,
		  prefix_list_union(&out, 6, in, 2, NULL));
	CHECK_INT("ipv6_refused_union_leaves_out_empty", 0, out.n);
	prefix_list_free(&in[0]);
	prefix_list_free(&in[1]);
}

int main(void)
{
	struct prefix_list l = {};

	add4(&l, "10.0.0.0", 25, "DE");
	add4(&l, "10.0.0.128", 25, "DE");
	CHECK_INT("siblings_merge", 1, l.n);
	CHECK_STR("siblings_merge_into_parent", "10.0.0.0/24 DE", show(&l, 0));
	add4(&l, "10.0.1.0", 24, "DE");
	CHECK_STR("merge_cascades", "10.0.0.0/23 DE", show(&l, 0));
	add4(&l, "10.0.2.0", 24, "DE");
	CHECK_INT("adjacent_but_not_siblings_stay_apart", 2, l.n);
	add4(&l, "10.0.3.0", 24, "FR");
	CHECK_INT("different_country_no_merge", 3, l.n);
	CHECK_INT("networks_counted_before_merging", 5, l.added);
	prefix_list_free(&l);

	add4(&l, "10.0.0.0", 24, "DE");
	add4(&l, "10.0.2.0", 24, "DE");
	CHECK_INT("gap_between_no_merge", 2, l.n);
	prefix_list_free(&l);

	add4(&l, "0.0.0.0", 1, NULL);
	add4(&l, "128.0.0.0", 1, NULL);
	CHECK_INT("aliases_never_merge", 2, l.n);
	prefix_list_free(&l);

	add4(&l, "10.1.2.255", 24, "DE");
	CHECK_STR("host_bits_cleared", "10.1.2.0/24 DE", show(&l, 0));
	add4(&l, "0.0.0.0", 0, "DE");
	CHECK_INT("zero_length_never_merges_up", 2, l.n);
	prefix_list_free(&l);

	/* Ranges: the minimal cover, in order. */
	CHECK_INT("range_aligned_ok", 0, range(&l, 4, "10.0.0.0", "10.0.0.255", "DE"));
	CHECK_INT("range_aligned_is_one_network", 1, l.n);
	CHECK_STR("range_aligned_network", "10.0.0.0/24 DE", show(&l, 0));
	prefix_list_free(&l);
	range(&l, 4, "10.0.0.1", "10.0.0.6", "DE");
	CHECK_INT("range_unaligned_cover", 4, l.n);
	CHECK_STR("range_unaligned_first", "10.0.0.1/32 DE", show(&l, 0));
	CHECK_STR("range_unaligned_second", "10.0.0.2/31 DE", show(&l, 1));
	CHECK_STR("range_unaligned_third", "10.0.0.4/31 DE", show(&l, 2));
	CHECK_STR("range_unaligned_last", "10.0.0.6/32 DE", show(&l, 3));
	prefix_list_free(&l);
	range(&l, 4, "0.0.0.0", "255.255.255.255", "DE");
	CHECK_STR("range_whole_ipv4_space", "0.0.0.0/0 DE", show(&l, 0));
	prefix_list_free(&l);
	range(&l, 4, "255.255.255.255", "255.255.255.255", "DE");
	CHECK_STR("range_last_address", "255.255.255.255/32 DE", show(&l, 0));
	prefix_list_free(&l);
	range(&l, 6, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "FR");
	CHECK_STR("range_whole_ipv6_space", "::/0 FR", show_fam(&l, 0, 6));
	CHECK_INT("range_whole_ipv6_space_one", 1, l.n);
	prefix_list_free(&l);
	range(&l, 6, "2001:db8::", "2001:db8::1:0", "FR");
	CHECK_INT("range_ipv6_cover", 2, l.n);
	CHECK_STR("range_ipv6_first", "2001:db8::/112 FR", show_fam(&l, 0, 6));
	CHECK_STR("range_ipv6_second", "2001:db8::1:0/128 FR", show_fam(&l, 1, 6));
	prefix_list_free(&l);
	CHECK_INT("range_backwards_refused", -EINVAL, range(&l, 4, "10.0.0.2", "10.0.0.1", "DE"));
	range(&l, 4, "10.0.0.0", "10.0.0.127", "DE");
	range(&l, 4, "10.0.0.128", "10.0.0.255", "DE");
	CHECK_STR("adjacent_ranges_merge", "10.0.0.0/24 DE", show(&l, 0));
	CHECK_INT("adjacent_ranges_counted_before_merging", 2, l.added);
	prefix_list_free(&l);

	/* Union of lists from several files. */
	{
		struct prefix_list in[2] = {}, out;
		struct prefix_conflict c;

		add4(&in[0], "10.0.0.0", 24, "DE");
		add4(&in[1], "10.0.1.0", 24, "DE");
		CHECK_INT("union_ok", 0, prefix_list_union(&out, 4, in, 2, &c));
		CHECK_STR("union_merges_across_lists", "10.0.0.0/23 DE", show(&out, 0));
		CHECK_INT("union_counts_networks_of_all", 2, out.added);
		prefix_list_free(&out);
		prefix_list_free(&in[0]);
		prefix_list_free(&in[1]);

		add4(&in[0], "10.0.5.0", 24, "DE");
		add4(&in[1], "10.0.0.0", 16, "DE");
		add4(&in[1], "10.1.0.0", 16, "FR");
		CHECK_INT("union_nested_same_country_ok", 0, prefix_list_union(&out, 4, in, 2, &c));
		CHECK_INT("union_nested_same_country_once", 2, out.n);
		CHECK_STR("union_keeps_outer", "10.0.0.0/16 DE", show(&out, 0));
		CHECK_STR("union_then_next", "10.1.0.0/16 FR", show(&out, 1));
		prefix_list_free(&out);
		prefix_list_free(&in[0]);
		prefix_list_free(&in[1]);

		add4(&in[0], "10.0.0.0", 16, "DE");
		add4(&in[1], "10.0.5.0", 24, "FR");
		CHECK_INT("union_nested_other_country_refused", -EEXIST,
			  prefix_list_union(&out, 4, in, 2, &c));
		CHECK_INT("union_conflict_names_first_list", 0, c.list_a);
		CHECK_INT("union_conflict_names_second_list", 1, c.list_b);
		CHECK_INT("union_conflict_outer_len", 16, c.a.len);
		CHECK_INT("union_conflict_inner_len", 24, c.b.len);
		CHECK_INT("union_refused_leaves_out_empty", 0, out.n);
		prefix_list_free(&in[0]);
		prefix_list_free(&in[1]);

		add4(&in[0], "10.0.0.0", 24, "DE");
		add4(&in[1], "10.0.0.0", 24, "FR");
		CHECK_INT("union_same_network_other_country_refused", -EEXIST,
			  prefix_list_union(&out, 4, in, 2, &c));
		prefix_list_free(&in[0]);
		prefix_list_free(&in[1]);

		add6(&in[0], "::ffff:0:0", 96, NULL);
		add6(&in[1], "::ffff:0:0", 96, NULL);
		CHECK_INT("union_same_alias_ok", 0, prefix_list_union(&out, 6, in, 2, &c));
		CHECK_INT("union_same_alias_once", 1, out.n);
		prefix_list_free(&out);
		prefix_list_free(&in[1]);
		add6(&in[1], "::ffff:102:300", 120, "DE");
		CHECK_INT("union_inside_alias_refused", -EEXIST,
			  prefix_list_union(&out, 6, in, 2, &c));
		prefix_list_free(&in[0]);
		prefix_list_free(&in[1]);
	}
	check_limits();
	return check_summary();
}
