// SPDX-License-Identifier: GPL-2.0
/*
 * Decides whether a newly compiled GeoIP table may replace the loaded one: never an empty table,
 * and not one that covers much less address space, per family, than the table it replaces.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "geoip/geoip.h"
#include "geoip/prefix.h"
#include "kern/geoip_sanity.h"
#include "kern/pins.h"
#include "kern/table_view.h"
#include "geoblock.skel.h"

static long double pow2(unsigned int k)
{
	if (k >= 128)
		return 0x1p128L;
	return k < 64 ? (long double)(1ULL << k) : (long double)(1ULL << (k - 64)) * 0x1p64L;
}

/* Addresses with a country: IPv4-alias ranges are counted in the IPv4 table they point into. */
static long double covered(const void *v, size_t n, size_t stride, size_t len_off,
			   size_t country_off, int bits)
{
	long double sum = 0;

	for (size_t i = 0; i < n; i++) {
		const __u8 *e = (const __u8 *)v + i * stride;
		__u16 country;

		memcpy(&country, e + country_off, sizeof(country));
		if (country != GB_COUNTRY_NONE && country != GB_COUNTRY_V4_ALIAS && e[len_off] <= bits)
			sum += pow2(bits - e[len_off]);
	}
	return sum;
}

static long double table_covered(const struct geoip_table *t, int fam)
{
	const struct prefix_list *l = fam == 4 ? &t->v4 : &t->v6;

	return covered(l->v, l->n, sizeof(struct prefix), offsetof(struct prefix, len),
		       offsetof(struct prefix, country), fam == 4 ? 32 : 128);
}

bool geoip_table_empty(const struct geoip_table *t)
{
	const struct prefix_list *lists[2] = { &t->v4, &t->v6 };

	for (int i = 0; i < 2; i++)
		for (size_t j = 0; j < lists[i]->n; j++)
			if (lists[i]->v[j].country != GB_COUNTRY_NONE &&
			    lists[i]->v[j].country != GB_COUNTRY_V4_ALIAS)
				return false;
	return true;
}

/*
 * The loaded table's coverage, from the network lists that are loaded with it (array maps hold
 * their values 8-byte aligned). Returns -ENOENT when no table is loaded.
 */
static int loaded_covered(const struct gb_ctx *ctx, long double out[2])
{
	struct geoip_info info = {};
	struct table_view v;
	__u32 zero = 0;
	int err;

	if (bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.geoip_info), &zero, &info) ||
	    !info.loaded_at)
		return -ENOENT;
	err = table_open(ctx, &v);
	if (err)
		return err;
	out[0] = covered(v.net[0], v.net[0] ? v.net_n[0] : 0,
			 (sizeof(struct prefix_v4_elem) + 7) & ~7UL,
			 offsetof(struct prefix_v4_elem, len), offsetof(struct prefix_v4_elem, country),
			 32);
	out[1] = covered(v.net[1], v.net[1] ? v.net_n[1] : 0,
			 (sizeof(struct prefix_v6_elem) + 7) & ~7UL,
			 offsetof(struct prefix_v6_elem, len), offsetof(struct prefix_v6_elem, country),
			 128);
	table_close(&v);
	return 0;
}

int geoip_check_shrink(const struct gb_ctx *ctx, const struct geoip_table *t, double max_shrink,
		       char *err, size_t errlen)
{
	long double old[2], now[2] = { table_covered(t, 4), table_covered(t, 6) };
	int ret;

	ret = loaded_covered(ctx, old);
	if (ret == -ENOENT)
		return 0;	/* nothing loaded: nothing to compare with */
	if (ret) {
		snprintf(err, errlen, "cannot read the loaded table to compare: %s", strerror(-ret));
		return ret;
	}
	for (int i = 0; i < 2; i++) {
		long double shrink = old[i] > 0 ? 100 * (old[i] - now[i]) / old[i] : 0;

		if (shrink > max_shrink) {
			snprintf(err, errlen, "the new table covers %.1Lf%% less IPv%d address space than "
				 "the loaded one (%.4Lg vs %.4Lg addresses; --max-shrink %g%%)", shrink,
				 i ? 6 : 4, now[i], old[i], max_shrink);
			return -EINVAL;
		}
	}
	return 0;
}
