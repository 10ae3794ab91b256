// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/prefix.c: networks added in address order merge only into exact parents;
 * ranges split into their minimal cover; lists combine, refusing disagreeing overlaps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include "check.h"
#include "common.h"

static void add4(struct prefix_list *l, const char *addr, int len, const char *cc)
{
	__u8 a[16] = {};

	inet_pton(AF_INET, addr, a);
	prefix_list_add(l, a, len, cc ? country_id(cc) : GB_COUNTRY_V4_ALIAS);
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
	prefix_list_add(l, a, len, cc ? country_id(cc) : GB_COUNTRY_V4_ALIAS);
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
		CHECK_INT("union_ok", 0, prefix_list_union(&out, in, 2, &c));
		CHECK_STR("union_merges_across_lists", "10.0.0.0/23 DE", show(&out, 0));
		CHECK_INT("union_counts_networks_of_all", 2, out.added);
		prefix_list_free(&out);
		prefix_list_free(&in[0]);
		prefix_list_free(&in[1]);

		add4(&in[0], "10.0.5.0", 24, "DE");
		add4(&in[1], "10.0.0.0", 16, "DE");
		add4(&in[1], "10.1.0.0", 16, "FR");
		CHECK_INT("union_nested_same_country_ok", 0, prefix_list_union(&out, in, 2, &c));
		CHECK_INT("union_nested_same_country_once", 2, out.n);
		CHECK_STR("union_keeps_outer", "10.0.0.0/16 DE", show(&out, 0));
		CHECK_STR("union_then_next", "10.1.0.0/16 FR", show(&out, 1));
		prefix_list_free(&out);
		prefix_list_free(&in[0]);
		prefix_list_free(&in[1]);

		add4(&in[0], "10.0.0.0", 16, "DE");
		add4(&in[1], "10.0.5.0", 24, "FR");
		CHECK_INT("union_nested_other_country_refused", -EEXIST,
			  prefix_list_union(&out, in, 2, &c));
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
			  prefix_list_union(&out, in, 2, &c));
		prefix_list_free(&in[0]);
		prefix_list_free(&in[1]);

		add6(&in[0], "::ffff:0:0", 96, NULL);
		add6(&in[1], "::ffff:0:0", 96, NULL);
		CHECK_INT("union_same_alias_ok", 0, prefix_list_union(&out, in, 2, &c));
		CHECK_INT("union_same_alias_once", 1, out.n);
		prefix_list_free(&out);
		prefix_list_free(&in[1]);
		add6(&in[1], "::ffff:102:300", 120, "DE");
		CHECK_INT("union_inside_alias_refused", -EEXIST, prefix_list_union(&out, in, 2, &c));
		prefix_list_free(&in[0]);
		prefix_list_free(&in[1]);
	}
	return check_summary();
}
