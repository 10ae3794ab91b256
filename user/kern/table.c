// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of the GeoIP table: builds the compiled tables (and the LPM tries when they are
 * in use) beside the live ones, swaps each in with one map-in-map update, and answers lookups from
 * whatever is live.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/errors.h"
#include "geoip/dxr.h"
#include "geoip/geoip.h"
#include "geoip/prefix.h"
#include "kern/pins.h"
#include "kern/maps.h"
#include "kern/table.h"
#include "geoblock.skel.h"

#define BATCH 8192
#define ENOTSUPP 524	/* the kernel's own "not supported", seen by callers of bpf() */

static size_t elem_stride(size_t value_size)
{
	return (value_size + 7) & ~(size_t)7;	/* array maps store values 8-byte aligned */
}

static size_t mapped_len(__u32 max_entries, size_t value_size)
{
	size_t page = sysconf(_SC_PAGESIZE), len = max_entries * elem_stride(value_size);

	return (len + page - 1) / page * page;
}

/*
 * A new mmapable array of n elements; *mem points at its (zeroed) values for the caller to fill.
 * Returns the map fd or a negative errno.
 */
static int create_mapped(const char *name, size_t value_size, size_t n, void **mem, size_t *len)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	int fd, err;

	if (n == 0)
		n = 1;
	if (n > UINT32_MAX / elem_stride(value_size))
		return -E2BIG;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, value_size, n, &opts);
	if (fd < 0)
		return -errno;
	*len = mapped_len(n, value_size);
	*mem = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*mem == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* The new map of a range table, created when its size is known; the compiler writes into it. */
struct mapped_table {
	const char *name;
	int fd;
	void *mem;
	size_t len;
};

static void *alloc_mapped(size_t bytes, void *arg)
{
	struct mapped_table *m = arg;

	m->fd = create_mapped(m->name, GB_DXR_ELEM_BYTES, bytes / GB_DXR_ELEM_BYTES, &m->mem, &m->len);
	return m->fd < 0 ? NULL : m->mem;	/* a new array map is zeroed */
}

/* The range table of a family, compiled straight into a new map; returns its fd. */
static int build_table(int family, const struct prefix_list *l)
{
	struct mapped_table m = { .name = family == 4 ? "gb_lookup_v4" : "gb_lookup_v6",
				  .fd = -ENOMEM };
	struct dxr_sink sink = { alloc_mapped, &m };
	size_t bytes;
	void *tab;
	int err;

	err = dxr_build(family, l, &sink, &tab, &bytes);
	if (m.fd >= 0)
		munmap(m.mem, m.len);
	if (err) {
		if (m.fd >= 0)
			close(m.fd);
		return err == -ENOMEM && m.fd < 0 ? m.fd : err;	/* the map's own error */
	}
	return m.fd;
}

static int build_networks(int family, const struct prefix_list *l)
{
	size_t vsz = family == 4 ? sizeof(struct prefix_v4_elem) : sizeof(struct prefix_v6_elem);
	size_t len, stride = elem_stride(vsz);
	void *mem;
	int fd;

	fd = create_mapped(family == 4 ? "gb_networks_v4" : "gb_networks_v6", vsz, l->n, &mem, &len);
	if (fd < 0)
		return fd;
	for (size_t i = 0; i < l->n; i++) {
		const struct prefix *p = &l->v[i];
		__u8 *el = (__u8 *)mem + i * stride;

		if (family == 4) {
			struct prefix_v4_elem e = { .len = p->len, .country = p->country };

			memcpy(e.addr, p->addr, 4);
			memcpy(el, &e, sizeof(e));
		} else {
			struct prefix_v6_elem e = { .len = p->len, .country = p->country };

			memcpy(e.addr, p->addr, 16);
			memcpy(el, &e, sizeof(e));
		}
	}
	munmap(mem, len);
	return fd;
}

static size_t key_size(int family)
{
	return family == 4 ? sizeof(struct lpm_v4_key) : sizeof(struct lpm_v6_key);
}

/* Fills a new LPM trie from l; returns its fd or a negative errno. */
static int build_trie(int family, const struct prefix_list *l)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	size_t ksz = key_size(family), addr_len = family == 4 ? 4 : 16;
	__u32 max = family == 4 ? GB_V4_PREFIXES_MAX : GB_V6_PREFIXES_MAX;
	struct country_entry *vals;
	__u8 *keys;
	int fd, err = 0;

	if (l->n > max)
		return -E2BIG;
	fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, family == 4 ? "gb_table_v4" : "gb_table_v6", ksz,
			    sizeof(struct country_entry), max, &opts);
	if (fd < 0)
		return -errno;
	keys = calloc(BATCH, ksz);
	vals = calloc(BATCH, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < l->n && !err; i += BATCH) {
		__u32 n = l->n - i < BATCH ? l->n - i : BATCH, count = n;

		for (__u32 j = 0; j < n; j++) {
			const struct prefix *p = &l->v[i + j];
			__u32 plen = p->len;

			memcpy(keys + j * ksz, &plen, 4);
			memcpy(keys + j * ksz + 4, p->addr, addr_len);
			vals[j] = (struct country_entry){ .country = p->country, .prefixlen = p->len };
		}
		if (bpf_map_update_batch(fd, keys, vals, &count, &bopts)) {
			/* Kernels without batch support for LPM tries: one element at a time. */
			err = errno == EINVAL || errno == ENOTSUPP || errno == EOPNOTSUPP ? 0 : -errno;
			for (__u32 j = 0; j < n && !err; j++)
				if (bpf_map_update_elem(fd, keys + j * ksz, &vals[j], BPF_ANY))
					err = -errno;
		}
	}
out:
	free(keys);
	free(vals);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static bool slot_filled(int outer_fd)
{
	__u32 zero = 0, id;

	return !bpf_map_lookup_elem(outer_fd, &zero, &id);
}

enum { KIND_TABLE = TABLE_COMPILED, KIND_LPM = TABLE_LPM, KIND_NETWORKS = TABLE_NETWORKS,
       KIND_COUNT = TABLE_KINDS };
static const char *const kind_names[KIND_COUNT] = { "lookup table", "LPM trie", "network list" };

/* The outer maps (map-in-map slots) of every kind and family: [kind][0 for IPv4, 1 for IPv6]. */
static void outer_maps(const struct gb_ctx *ctx, int outer[KIND_COUNT][2])
{
	outer[KIND_TABLE][0] = bpf_map__fd(ctx->skel->maps.lookup_v4);
	outer[KIND_TABLE][1] = bpf_map__fd(ctx->skel->maps.lookup_v6_tree);
	outer[KIND_LPM][0] = bpf_map__fd(ctx->skel->maps.country_v4);
	outer[KIND_LPM][1] = bpf_map__fd(ctx->skel->maps.country_v6);
	outer[KIND_NETWORKS][0] = bpf_map__fd(ctx->skel->maps.networks_v4);
	outer[KIND_NETWORKS][1] = bpf_map__fd(ctx->skel->maps.networks_v6);
}

/* The new maps of one family, built in a thread of their own: the families share nothing. */
struct family_build {
	int family;
	const struct prefix_list *l;
	bool with_lpm;
	int fds[KIND_COUNT];
	int err, failed_kind;
};

static void *build_family(void *arg)
{
	struct family_build *b = arg;

	for (int k = 0; k < KIND_COUNT; k++) {
		int fd;

		if (k == KIND_LPM && !b->with_lpm)
			continue;
		/*
		 * A map holds at least one element, and readers take the count from its size: an
		 * empty family gets no list at all, not one zeroed ::/0 network.
		 */
		if (k == KIND_NETWORKS && !b->l->n)
			continue;
		fd = k == KIND_TABLE ? build_table(b->family, b->l) :
		     k == KIND_LPM   ? build_trie(b->family, b->l) :
				       build_networks(b->family, b->l);
		if (fd < 0) {
			b->err = fd;
			b->failed_kind = k;
			break;
		}
		b->fds[k] = fd;
	}
	return NULL;
}

int table_install_checked(const struct gb_ctx *ctx, const struct geoip_table *t,
			  const char *source, bool with_lpm, table_check_fn check, void *arg)
{
	const struct prefix_list *lists[2] = { &t->v4, &t->v6 };
	int outer[KIND_COUNT][2];
	struct family_build b[2];
	int fds[KIND_COUNT][2], err = 0;
	struct geoip_info info = {};
	pthread_t threads[2];
	bool started[2];
	__u32 zero = 0;

	outer_maps(ctx, outer);
	/* The LPM tries are the reference: kept up to date once in use, built on request. */
	with_lpm = with_lpm || slot_filled(outer[KIND_LPM][0]) || slot_filled(outer[KIND_LPM][1]);

	/*
	 * Everything is complete before anything goes live. The two families are built at once, on
	 * two CPUs where there are, while this thread runs the check; without a thread, in turn.
	 */
	for (int i = 0; i < 2; i++) {
		b[i] = (struct family_build){ .family = i ? 6 : 4, .l = lists[i], .with_lpm = with_lpm };
		memset(b[i].fds, -1, sizeof(b[i].fds));
		started[i] = !pthread_create(&threads[i], NULL, build_family, &b[i]);
	}
	if (check)
		err = check(arg);
	for (int i = 0; i < 2; i++) {
		if (started[i])
			pthread_join(threads[i], NULL);
		else
			build_family(&b[i]);
		for (int k = 0; k < KIND_COUNT; k++)
			fds[k][i] = b[i].fds[k];
	}
	if (err)
		goto out;
	for (int i = 0; i < 2; i++) {
		if (b[i].err) {
			err = b[i].err;
			gb_err("cannot build the IPv%d %s (%zu prefixes): %s", b[i].family,
			       kind_names[b[i].failed_kind], lists[i]->n, strerror(-err));
			goto out;
		}
	}
	/* One update per map: each program sees the old table or the new one, never a mix. */
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < KIND_COUNT; k++) {
			if (k == KIND_NETWORKS && !lists[i]->n) {
				if (bpf_map_delete_elem(outer[k][i], &zero) && errno != ENOENT) {
					err = -errno;
					gb_err("cannot empty the IPv%d %s: %s", i ? 6 : 4,
					       kind_names[k], strerror(errno));
					goto out;
				}
				continue;
			}
			if (fds[k][i] < 0)
				continue;
			if (bpf_map_update_elem(outer[k][i], &zero, &fds[k][i], BPF_ANY)) {
				err = -errno;
				gb_err("cannot switch to the new IPv%d %s: %s", i ? 6 : 4, kind_names[k],
				       strerror(errno));
				goto out;
			}
		}
	}
	/* The failure count belongs to the pins, not to one table: carry it over. */
	bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.geoip_info), &zero, &info);
	info.loaded_at = time(NULL);
	info.build_epoch = t->build_epoch;
	info.v4_prefixes = t->v4.n;
	info.v6_prefixes = t->v6.n;
	info.v4_networks = t->v4.added;
	info.v6_networks = t->v6.added;
	snprintf(info.source, sizeof(info.source), "%s", source);
	snprintf(info.database_type, sizeof(info.database_type), "%s", t->database_type);
	if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.geoip_info), &zero, &info, BPF_ANY)) {
		err = -errno;
		gb_err("table loaded, but cannot record its description: %s", strerror(errno));
	}
out:
	for (int k = 0; k < KIND_COUNT; k++)
		for (int i = 0; i < 2; i++)
			if (fds[k][i] >= 0)
				close(fds[k][i]);
	return err;
}

int table_install(const struct gb_ctx *ctx, const struct geoip_table *t, const char *source,
		  bool with_lpm)
{
	return table_install_checked(ctx, t, source, with_lpm, NULL, NULL);
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
	*len = mapped_len(info.max_entries, info.value_size);
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
	int outer[KIND_COUNT][2], *tab = outer[KIND_TABLE], *lpm = outer[KIND_LPM];
	int *net = outer[KIND_NETWORKS];
	__u32 zero = 0, id;
	int err = 0;

	outer_maps(ctx, outer);
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
	int outer[KIND_COUNT][2];
	__u32 zero = 0;

	outer_maps(ctx, outer);
	for (int i = 0; i < 2; i++)
		if (bpf_map_lookup_elem(outer[KIND_NETWORKS][i], &zero, &ids[i]))
			ids[i] = 0;
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
	size_t alen = family == 4 ? 4 : 16, stride = elem_stride(family == 4 ?
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
		size_t alen = fam ? 16 : 4, stride = elem_stride(fam ? sizeof(struct prefix_v6_elem) :
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

int table_lookup(const struct table_view *v, bool lpm, int family, const __u8 *addr,
		 struct table_match *m)
{
	struct dxr_view t = { { v->tab[0], v->tab[1] }, { v->tab_entries[0], v->tab_entries[1] } };
	const __u8 *net;
	unsigned int len;
	__u16 country;
	__u8 v4[4];
	int fam;

	memset(m, 0, sizeof(*m));
	if (lpm) {
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
	int outer[KIND_COUNT][2];
	__u32 zero = 0, id;

	outer_maps(ctx, outer);
	for (int k = 0; k < KIND_COUNT; k++) {
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
