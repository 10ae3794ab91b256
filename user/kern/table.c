// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of the GeoIP table: builds the data path's compiled tables, the network lists
 * (and the LPM tries when they are in use) beside the live ones, and swaps each in with one
 * map-in-map update.
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
#include "kern/hot.h"
#include "kern/pins.h"
#include "kern/maps.h"
#include "kern/table.h"
#include "kern/table_view.h"
#include "geoblock.skel.h"

#define BATCH 8192
#define ENOTSUPP 524	/* the kernel's own "not supported", seen by callers of bpf() */

/*
 * A new mmapable array of n elements (with flags, e.g. BPF_F_INNER_MAP); *mem points at its
 * (zeroed) values for the caller to fill. Returns the map fd or a negative errno.
 */
static int create_mapped(const char *name, __u32 flags, size_t value_size, size_t n, void **mem,
			 size_t *len)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE | flags);
	int fd, err;

	if (n == 0)
		n = 1;
	if (n > UINT32_MAX / table_elem_stride(value_size))
		return -E2BIG;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, value_size, n, &opts);
	if (fd < 0)
		return -errno;
	*len = table_mapped_len(n, value_size);
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
	__u32 flags;		/* BPF_F_INNER_MAP for an inner map of any size */
	int fd;
	void *mem;
	size_t len;
};

static void *alloc_mapped(size_t bytes, void *arg)
{
	struct mapped_table *m = arg;

	m->fd = create_mapped(m->name, m->flags, GB_DXR_ELEM_BYTES, bytes / GB_DXR_ELEM_BYTES,
			      &m->mem, &m->len);
	return m->fd < 0 ? NULL : m->mem;	/* a new array map is zeroed */
}

/*
 * The range table of a family, compiled straight into a new map from l, or else from the n
 * elements of a network list as mapped (elems); returns its fd.
 */
static int build_table(int family, const struct prefix_list *l, const void *elems, size_t n,
		       const __u64 *keep)
{
	struct mapped_table m = { .name = family == 4 ? "gb_live_v4" : "gb_live_v6",
				  /* IPv4's of one element, as the program's (bpf/table_layout.h) */
				  .flags = family == 4 ? 0 : BPF_F_INNER_MAP, .fd = -ENOMEM };
	struct dxr_sink sink = { alloc_mapped, &m };
	size_t bytes;
	void *tab;
	int err;

	err = l ? dxr_build_for(family, l, keep, &sink, &tab, &bytes) :
		  dxr_build_networks(family, elems, n, keep, &sink, &tab, &bytes);
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
	size_t len, stride = table_elem_stride(vsz);
	void *mem;
	int fd;

	fd = create_mapped(family == 4 ? "gb_networks_v4" : "gb_networks_v6", BPF_F_INNER_MAP, vsz,
			   l->n, &mem, &len);
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

/* The new maps of one family, built in a thread of their own: the families share nothing. */
struct family_build {
	int family;
	const struct prefix_list *l;	/* NULL: a table only, from the network list in elems */
	const void *elems;
	size_t n_elems;
	const __u64 *keep;		/* the countries the compiled table tells apart; NULL: all */
	bool kinds[KIND_COUNT];		/* which to build */
	int fds[KIND_COUNT];
	int err, failed_kind;
};

static void *build_family(void *arg)
{
	struct family_build *b = arg;

	for (int k = 0; k < KIND_COUNT; k++) {
		int fd;

		/*
		 * A map holds at least one element, and readers take the count from its size: an
		 * empty family gets no list at all, not one zeroed ::/0 network.
		 */
		if (!b->kinds[k] || (k == KIND_NETWORKS && !b->l->n))
			continue;
		fd = k == KIND_TABLE ? build_table(b->family, b->l, b->elems, b->n_elems, b->keep) :
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

/*
 * Builds the maps of both families (b[0] IPv4) at once, on two CPUs where there are, while this
 * thread runs check (if any); without a thread, in turn. fds[kind][family]: -1 where none was
 * built.
 */
static int build_families(struct family_build b[2], const bool kinds[KIND_COUNT],
			  table_check_fn check, void *arg, int fds[KIND_COUNT][2])
{
	pthread_t threads[2];
	bool started[2];
	int err = 0;

	for (int i = 0; i < 2; i++) {
		b[i].family = i ? 6 : 4;
		memcpy(b[i].kinds, kinds, sizeof(b[i].kinds));
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
	for (int i = 0; i < 2 && !err; i++) {
		if (b[i].err) {
			char why[96];

			err = b[i].err;
			/* The compiled table's own limits (bpf/table_layout.h), far past real data. */
			if (err == -E2BIG && b[i].failed_kind == KIND_TABLE && b[i].family == 4)
				snprintf(why, sizeof(why), "more than the %u ranges it holds outside "
					 "single-country /16s", GB_DXR4_MAX_RANGES);
			else if (err == -E2BIG && b[i].failed_kind == KIND_TABLE)
				snprintf(why, sizeof(why), "more than the %u blocks finer than /64 it "
					 "holds", GB_DXR6_MAX_REFINES);
			else
				snprintf(why, sizeof(why), "%s", strerror(-err));
			gb_err("cannot build the IPv%d %s (%zu prefixes): %s", b[i].family,
			       kind_names[b[i].failed_kind], b[i].l ? b[i].l->n : b[i].n_elems, why);
		}
	}
	return err;
}

/* Records which countries the live compiled tables tell apart (keep NULL: all). */
static int record_cover(const struct gb_ctx *ctx, const int outer[2], const __u64 *keep)
{
	struct lookup_cover c = {};
	__u32 zero = 0;

	for (int i = 0; i < 2; i++)
		if (bpf_map_lookup_elem(outer[i], &zero, &c.table_ids[i]))
			c.table_ids[i] = 0;
	if (keep)
		memcpy(c.countries, keep, sizeof(c.countries));
	else
		memset(c.countries, 0xff, sizeof(c.countries));
	if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.lookup_cover), &zero, &c, BPF_ANY))
		return -errno;
	return 0;
}

int table_cover(const struct gb_ctx *ctx, __u64 countries[GB_COUNTRY_WORDS])
{
	int outer[KIND_COUNT][2];
	struct lookup_cover c;
	__u32 zero = 0, id;

	table_outer_maps(ctx, outer);
	if (bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.lookup_cover), &zero, &c))
		return -errno;
	for (int i = 0; i < 2; i++) {
		if (bpf_map_lookup_elem(outer[KIND_TABLE][i], &zero, &id))
			id = 0;
		if (id != c.table_ids[i])
			return -ESTALE;
	}
	memcpy(countries, c.countries, sizeof(c.countries));
	return 0;
}

/*
 * Puts each built map of fds in its slot, one update per map; with lists, a family without
 * networks is left without a network list.
 */
static int swap_in(const struct gb_ctx *ctx, const int outer[KIND_COUNT][2],
		   int fds[KIND_COUNT][2], const struct prefix_list *lists[2])
{
	/*
	 * The lists first: their ids identify the live table (table_networks_ids). A family
	 * without networks loses its list after the others have theirs: once a new list is live,
	 * geoip_kept_settle can tell that the switch began, and finish it.
	 */
	static const int order[KIND_COUNT] = { KIND_NETWORKS, KIND_TABLE, KIND_LPM };
	__u32 zero = 0;
	int err;

	for (int o = 0; o < KIND_COUNT; o++) {
		int k = order[o];

		for (int i = 0; i < 2; i++) {
			if ((k == KIND_NETWORKS && lists && !lists[i]->n) || fds[k][i] < 0)
				continue;
			if (bpf_map_update_elem(outer[k][i], &zero, &fds[k][i], BPF_ANY)) {
				gb_err("cannot switch to the new IPv%d %s: %s", i ? 6 : 4, kind_names[k],
				       strerror(errno));
				return -errno;
			}
		}
		for (int i = 0; k == KIND_NETWORKS && lists && i < 2; i++)
			if (!lists[i]->n && (err = table_networks_drop(ctx, i)))
				return err;
	}
	return 0;
}

/*
 * swap_in, with every entry of ice_hot cleared: they hold their sources' countries by the tables
 * that go. The data path leaves ice_hot alone meanwhile.
 */
static int swap_live(const struct gb_ctx *ctx, const int outer[KIND_COUNT][2],
		     int fds[KIND_COUNT][2], const struct prefix_list *lists[2])
{
	struct hot h;
	int err = hot_open(bpf_map__fd(ctx->skel->maps.ice_hot), &h);

	if (err) {
		gb_err("cannot map ice_hot to clear its entries: %s", strerror(-err));
		return err;
	}
	hot_mark_all(&h);
	err = swap_in(ctx, outer, fds, lists);
	hot_forget(&h);
	hot_close(&h);
	return err;
}

static void close_fds(int fds[KIND_COUNT][2])
{
	for (int k = 0; k < KIND_COUNT; k++)
		for (int i = 0; i < 2; i++)
			if (fds[k][i] >= 0)
				close(fds[k][i]);
}

/* The map id of each built network list, 0 for a family without one. */
static void built_ids(int fds[KIND_COUNT][2], __u32 ids[2])
{
	for (int i = 0; i < 2; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		ids[i] = fds[KIND_NETWORKS][i] >= 0 &&
			 !bpf_obj_get_info_by_fd(fds[KIND_NETWORKS][i], &info, &len) ? info.id : 0;
	}
}

int table_install_checked(const struct gb_ctx *ctx, const struct geoip_table *t,
			  const char *source, bool with_lpm, const __u64 *keep,
			  const struct table_hooks *hooks)
{
	static const struct table_hooks none;
	const struct prefix_list *lists[2] = { &t->v4, &t->v6 };
	bool kinds[KIND_COUNT] = { [KIND_TABLE] = true, [KIND_NETWORKS] = true };
	struct family_build b[2] = { { .l = &t->v4, .keep = keep }, { .l = &t->v6, .keep = keep } };
	int outer[KIND_COUNT][2];
	int fds[KIND_COUNT][2], err;
	struct geoip_info info = {};
	__u32 zero = 0, ids[2];

	if (!hooks)
		hooks = &none;
	table_outer_maps(ctx, outer);
	/* The LPM tries are the reference: kept up to date once in use, built on request. */
	kinds[KIND_LPM] = with_lpm || slot_filled(outer[KIND_LPM][0]) ||
			  slot_filled(outer[KIND_LPM][1]);
	/* Everything is complete before anything goes live. */
	err = build_families(b, kinds, hooks->check, hooks->arg, fds);
	if (!err && hooks->stage) {
		built_ids(fds, ids);
		err = hooks->stage(hooks->arg, ids);
	}
	/* Each program sees the old table or the new one, never a mix. */
	if (!err)
		err = swap_live(ctx, outer, fds, lists);
	if (err)
		goto out;
	if (record_cover(ctx, outer[KIND_TABLE], keep))
		gb_warn("cannot record the countries of the new table; the next change compiles it "
			"again");
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
	close_fds(fds);
	return err;
}

int table_install(const struct gb_ctx *ctx, const struct geoip_table *t, const char *source,
		  bool with_lpm)
{
	return table_install_checked(ctx, t, source, with_lpm, NULL, NULL);
}

int table_compile_live(const struct gb_ctx *ctx, const void *const networks[2],
		       const size_t n[2], const __u64 *keep)
{
	const bool kinds[KIND_COUNT] = { [KIND_TABLE] = true };
	struct family_build b[2] = { { .elems = networks[0], .n_elems = n[0], .keep = keep },
				     { .elems = networks[1], .n_elems = n[1], .keep = keep } };
	int outer[KIND_COUNT][2], fds[KIND_COUNT][2], err;

	table_outer_maps(ctx, outer);
	err = build_families(b, kinds, NULL, NULL, fds);
	if (!err)
		err = swap_live(ctx, outer, fds, NULL);
	if (!err)
		err = record_cover(ctx, outer[KIND_TABLE], keep);
	close_fds(fds);
	return err;
}
