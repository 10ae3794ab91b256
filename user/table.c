// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of the GeoIP table: builds new LPM tries beside the live ones, swaps them in with
 * one map-in-map update per family, and answers lookups from whatever is live.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "geoblock.skel.h"

#define BATCH 8192
#define ENOTSUPP 524	/* the kernel's own "not supported", seen by callers of bpf() */

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

int table_install(const struct gb_ctx *ctx, const struct geoip_table *t, const char *source)
{
	int outer[2] = { bpf_map__fd(ctx->skel->maps.country_v4),
			 bpf_map__fd(ctx->skel->maps.country_v6) };
	const struct prefix_list *lists[2] = { &t->v4, &t->v6 };
	struct geoip_info info = {};
	int fds[2] = { -1, -1 }, err = 0;
	__u32 zero = 0;

	/* Both tables are complete before either goes live. */
	for (int i = 0; i < 2; i++) {
		fds[i] = build_trie(i == 0 ? 4 : 6, lists[i]);
		if (fds[i] < 0) {
			err = fds[i];
			gb_err("cannot build the IPv%d table (%zu prefixes): %s", i == 0 ? 4 : 6,
			       lists[i]->n, strerror(-err));
			goto out;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (bpf_map_update_elem(outer[i], &zero, &fds[i], BPF_ANY)) {
			err = -errno;
			gb_err("cannot switch to the new IPv%d table: %s", i == 0 ? 4 : 6,
			       strerror(errno));
			goto out;
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
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return err;
}

/* Opens the live inner maps; an fd of -1 means no table of that family is loaded. */
int table_open(const struct gb_ctx *ctx, int fds[2])
{
	int outer[2] = { bpf_map__fd(ctx->skel->maps.country_v4),
			 bpf_map__fd(ctx->skel->maps.country_v6) };
	__u32 zero = 0, id;

	for (int i = 0; i < 2; i++) {
		fds[i] = -1;
		if (bpf_map_lookup_elem(outer[i], &zero, &id))
			continue;
		fds[i] = bpf_map_get_fd_by_id(id);
		if (fds[i] < 0) {
			int err = -errno;

			if (i == 1 && fds[0] >= 0)
				close(fds[0]);
			return err;
		}
	}
	return 0;
}

static int lookup_trie(int fd, int family, const __u8 *addr, struct table_match *m)
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

/* The answer the XDP program gets for a source address (IPv4 in the first 4 bytes of addr). */
int table_lookup(const int fds[2], int family, const __u8 *addr, struct table_match *m)
{
	__u8 v4[4];
	int err;

	memset(m, 0, sizeof(*m));
	err = lookup_trie(fds[family == 4 ? 0 : 1], family, addr, m);
	if (err || m->country != GB_COUNTRY_V4_ALIAS)
		return err;
	if (m->prefixlen > 96)
		return -ENOENT;
	/* The 32 bits after the alias prefix, which need not start on a byte. */
	for (int i = 0; i < 32; i++) {
		unsigned int bit = m->prefixlen + i;

		if (i % 8 == 0)
			v4[i / 8] = 0;
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			v4[i / 8] |= 0x80 >> (i % 8);
	}
	return lookup_trie(fds[0], 4, v4, m);
}
