// SPDX-License-Identifier: GPL-2.0
/*
 * The loaded GeoIP table as the kernel holds it: the live maps mapped read-only, and lookups
 * answered from the networks loaded, the data path's compiled table or the LPM tries.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/errors.h"
#include "geoip/dxr_find.h"
#include "kern/maps.h"
#include "kern/table_view.h"
#include "geoblock.skel.h"

size_t table_elem_stride(size_t value_size)
{
	return (value_size + 7) & ~(size_t)7;	/* array maps store values 8-byte aligned */
}

size_t table_mapped_len(__u32 max_entries, size_t value_size)
{
	size_t page = sysconf(_SC_PAGESIZE), len = max_entries * table_elem_stride(value_size);

	return (len + page - 1) / page * page;
}

void table_outer_maps(const struct gb_ctx *ctx, int outer[TABLE_KINDS][2])
{
	outer[TABLE_COMPILED][0] = bpf_map__fd(ctx->skel->maps.lookup_live4);
	outer[TABLE_COMPILED][1] = bpf_map__fd(ctx->skel->maps.lookup_live_v6);
	outer[TABLE_LPM][0] = bpf_map__fd(ctx->skel->maps.country_v4);
	outer[TABLE_LPM][1] = bpf_map__fd(ctx->skel->maps.country_v6);
	outer[TABLE_NETWORKS][0] = bpf_map__fd(ctx->skel->maps.networks_v4);
	outer[TABLE_NETWORKS][1] = bpf_map__fd(ctx->skel->maps.networks_v6);
}

/*
 * Maps the live inner map of outer read-only; *mem stays NULL (and *id 0) when the slot is empty.
 */
static int map_inner(int outer, const void **mem, size_t *len, size_t *n, __u32 *id)
{
	struct bpf_map_info info = {};
	__u32 zero = 0, ilen = sizeof(info);
	void *p;
	int fd, err = 0;

	*mem = NULL;
	*len = *n = 0;
	*id = 0;
	if (bpf_map_lookup_elem(outer, &zero, id))
		return 0;
	fd = bpf_map_get_fd_by_id(*id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		err = -errno;
		goto out;
	}
	*len = table_mapped_len(info.max_entries, info.value_size);
	p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	*mem = p;
	*n = info.max_entries;
out:
	close(fd);
	return err;
}

int table_open(const struct gb_ctx *ctx, struct table_view *v)
{
	int outer[TABLE_KINDS][2], *tab = outer[TABLE_COMPILED], *lpm = outer[TABLE_LPM];
	int *net = outer[TABLE_NETWORKS];
	__u32 zero = 0, id;
	int err = 0;

	table_outer_maps(ctx, outer);
	memset(v, 0, sizeof(*v));
	v->lpm[0] = v->lpm[1] = -1;
	for (int i = 0; i < 2 && !err; i++) {
		size_t elems;

		err = map_inner(tab[i], &v->tab[i], &v->tab_len[i], &elems, &id);
		v->tab_entries[i] = elems * (size_t)GB_DXR_ELEM_BYTES;	/* bytes */
		if (!err)
			err = map_inner(net[i], &v->net[i], &v->net_len[i], &v->net_n[i],
					&v->net_id[i]);
		if (!err && !bpf_map_lookup_elem(lpm[i], &zero, &id)) {
			v->lpm[i] = bpf_map_get_fd_by_id(id);
			if (v->lpm[i] < 0)
				err = -errno;
		}
	}
	if (err)
		table_close(v);
	return err;
}

void table_networks_ids(const struct gb_ctx *ctx, __u32 ids[2])
{
	int outer[TABLE_KINDS][2];
	__u32 zero = 0;

	table_outer_maps(ctx, outer);
	for (int i = 0; i < 2; i++)
		if (bpf_map_lookup_elem(outer[TABLE_NETWORKS][i], &zero, &ids[i]))
			ids[i] = 0;
}

int table_networks_drop(const struct gb_ctx *ctx, int family)
{
	int outer[TABLE_KINDS][2];
	__u32 zero = 0;

	table_outer_maps(ctx, outer);
	if (bpf_map_delete_elem(outer[TABLE_NETWORKS][family], &zero) && errno != ENOENT) {
		gb_err("cannot empty the IPv%d network list: %s", family ? 6 : 4, strerror(errno));
		return -errno;
	}
	return 0;
}

void table_close(struct table_view *v)
{
	for (int i = 0; i < 2; i++) {
		if (v->tab[i])
			munmap((void *)v->tab[i], v->tab_len[i]);
		if (v->net[i])
			munmap((void *)v->net[i], v->net_len[i]);
		if (v->lpm[i] >= 0)
			close(v->lpm[i]);
	}
	memset(v, 0, sizeof(*v));
	v->lpm[0] = v->lpm[1] = -1;
}

static bool contains(const __u8 *net, unsigned int len, const __u8 *addr)
{
	unsigned int full = len / 8, rest = len % 8;

	if (memcmp(net, addr, full))
		return false;
	return !rest || !((net[full] ^ addr[full]) & (__u8)(0xff00 >> rest));
}

/* The network of the list holding addr (the list is sorted and its networks disjoint). */
static const __u8 *find_network(const struct table_view *v, int family, const __u8 *addr,
				unsigned int *len, __u16 *country)
{
	size_t alen = family == 4 ? 4 : 16, stride = table_elem_stride(family == 4 ?
				sizeof(struct prefix_v4_elem) : sizeof(struct prefix_v6_elem));
	const __u8 *base = v->net[family == 6];
	size_t lo = 0, hi = v->net_n[family == 6];

	if (!base)
		return NULL;
	while (lo < hi) {	/* first element with an address above addr */
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(base + mid * stride, addr, alen) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	base += (lo - 1) * stride;
	*len = base[alen];
	memcpy(country, base + alen + 2, 2);
	return contains(base, *len, addr) ? base : NULL;
}

void table_country_networks(const struct table_view *v, __u32 counts[2][GB_COUNTRY_COUNT])
{
	memset(counts, 0, 2 * sizeof(counts[0]));
	for (int fam = 0; fam < 2; fam++) {
		size_t alen = fam ? 16 : 4, stride = table_elem_stride(fam ? sizeof(struct prefix_v6_elem) :
							    sizeof(struct prefix_v4_elem));

		for (size_t i = 0; v->net[fam] && i < v->net_n[fam]; i++) {
			__u16 country;

			memcpy(&country, (const __u8 *)v->net[fam] + i * stride + alen + 2, 2);
			/* An IPv6 alias of the IPv4 table is no network of a country of its own. */
			if (country < GB_COUNTRY_COUNT)
				counts[fam][country]++;
		}
	}
}

static int lookup_lpm(int fd, int family, const __u8 *addr, struct table_match *m)
{
	__u8 key[sizeof(struct lpm_v6_key)];
	struct country_entry e;
	__u32 plen = family == 4 ? 32 : 128;

	memcpy(key, &plen, 4);
	memcpy(key + 4, addr, family == 4 ? 4 : 16);
	if (fd < 0 || bpf_map_lookup_elem(fd, key, &e))
		return -ENOENT;
	m->country = e.country;
	m->prefixlen = e.prefixlen;
	m->family = family;
	memcpy(m->addr, addr, family == 4 ? 4 : 16);
	return 0;
}

/* The answer of the networks loaded: the one holding addr, through an IPv6 alias to IPv4. */
static int lookup_networks(const struct table_view *v, int family, const __u8 *addr,
			   struct table_match *m)
{
	const __u8 *net;
	unsigned int len;
	__u16 country;
	__u8 v4[4];

	net = find_network(v, family, addr, &len, &country);
	if (net && family == 6 && country == GB_COUNTRY_V4_ALIAS) {
		if (len > 96)	/* no IPv4 address after it: no answer, as in the data path */
			return -ENOENT;
		alias_v4_addr(addr, len, v4);
		return lookup_networks(v, 4, v4, m);
	}
	if (!net || country == GB_COUNTRY_NONE || country >= GB_COUNTRY_COUNT)
		return -ENOENT;
	m->country = country;
	m->prefixlen = len;
	m->family = family;
	memcpy(m->addr, addr, family == 4 ? 4 : 16);
	return 0;
}

int table_lookup(const struct table_view *v, enum table_from from, int family, const __u8 *addr,
		 struct table_match *m)
{
	struct dxr_view t = { { v->tab[0], v->tab[1] }, { v->tab_entries[0], v->tab_entries[1] } };
	const __u8 *net;
	unsigned int len;
	__u16 country;
	__u8 v4[4];
	int fam;

	memset(m, 0, sizeof(*m));
	if (from == TABLE_FROM_NETWORKS)
		return lookup_networks(v, family, addr, m);
	if (from == TABLE_FROM_LPM) {
		if (lookup_lpm(v->lpm[family == 6], family, addr, m))
			return -ENOENT;
		if (m->country != GB_COUNTRY_V4_ALIAS)
			return 0;
		if (m->prefixlen > 96)
			return -ENOENT;
		alias_v4_addr(addr, m->prefixlen, v4);
		return lookup_lpm(v->lpm[0], 4, v4, m);
	}
	m->country = dxr_find(&t, family, addr, &fam, v4);
	if (m->country == GB_COUNTRY_NONE)
		return -ENOENT;
	/* The network that answered, from the list loaded with the table. */
	net = find_network(v, fam, fam == 4 ? v4 : addr, &len, &country);
	if (net) {
		m->prefixlen = len;
		m->family = fam;
		memcpy(m->addr, fam == 4 ? v4 : addr, fam == 4 ? 4 : 16);
	}
	return 0;
}

void table_memory(const struct gb_ctx *ctx, __u64 bytes[TABLE_KINDS][2])
{
	int outer[TABLE_KINDS][2];
	__u32 zero = 0, id;

	table_outer_maps(ctx, outer);
	for (int k = 0; k < TABLE_KINDS; k++) {
		for (int i = 0; i < 2; i++) {
			int fd;

			bytes[k][i] = 0;
			if (bpf_map_lookup_elem(outer[k][i], &zero, &id))
				continue;
			fd = bpf_map_get_fd_by_id(id);
			if (fd < 0)
				continue;
			bytes[k][i] = map_memlock(fd);
			close(fd);
		}
	}
}
