// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/prefix.c: networks added in address order merge only into exact parents. */
#include <arpa/inet.h>
#include "check.h"
#include "common.h"

static void add4(struct prefix_list *l, const char *addr, int len, const char *cc)
{
	__u8 a[16] = {};

	inet_pton(AF_INET, addr, a);
	prefix_list_add(l, a, len, cc ? country_id(cc) : GB_COUNTRY_V4_ALIAS);
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
	return check_summary();
}
