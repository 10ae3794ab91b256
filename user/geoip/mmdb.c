// SPDX-License-Identifier: GPL-2.0
/*
 * Reads a MaxMind DB file into country-tagged prefix lists, walking its search tree node by node so
 * that every network is emitted once, in address order, with its country.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <maxminddb.h>
#include "lib/country.h"
#include "geoip/mmdb.h"
#include "geoip/prefix.h"

/* Data-section offset -> country id, so each distinct record is decoded once. */
struct country_cache {
	__u32 *keys;		/* offset + 1; 0 marks a free slot */
	__u16 *vals;
	size_t cap, n;
};

struct walker {
	MMDB_s *mmdb;
	const char *field;
	struct geoip_table *t;
	struct country_cache cache;
	__u32 ipv4_start;	/* node of ::/96 in an IPv6 tree; UINT32_MAX when there is none */
	__u64 descents, max_descents;
	char *err;
	size_t errlen;
};

/* A pending piece of the walk: a search node to descend, or a data record to emit. */
struct frame {
	__u32 node;		/* search node number, or data-section offset when is_data */
	__u8 depth;		/* bits of addr that are the path to here */
	__u8 in_v4;		/* below the canonical ::/96, i.e. in the IPv4 tree */
	__u8 is_data;
	__u8 addr[16];
};

static int cache_grow(struct country_cache *c)
{
	size_t cap = c->cap ? c->cap * 2 : 1024;
	__u32 *keys = calloc(cap, sizeof(*keys));
	__u16 *vals = calloc(cap, sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->cap; i++) {
		size_t j;

		if (!c->keys[i])
			continue;
		for (j = (c->keys[i] * 2654435761u) & (cap - 1); keys[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = c->keys[i];
		vals[j] = c->vals[i];
	}
	free(c->keys);
	free(c->vals);
	c->keys = keys;
	c->vals = vals;
	c->cap = cap;
	return 0;
}

/* Returns the slot for offset: found (keys[slot] set) or where to insert it. */
static size_t cache_slot(const struct country_cache *c, __u32 offset)
{
	size_t j = ((offset + 1) * 2654435761u) & (c->cap - 1);

	while (c->keys[j] && c->keys[j] != offset + 1)
		j = (j + 1) & (c->cap - 1);
	return j;
}

static void cache_free(struct country_cache *c)
{
	free(c->keys);
	free(c->vals);
	memset(c, 0, sizeof(*c));
}

/* A two-letter code from a record, or GB_COUNTRY_NONE; negative errno for a corrupt record. */
static int decode_country(struct walker *w, MMDB_entry_s *entry, __u16 *out)
{
	MMDB_entry_data_s data;
	int status;

	status = MMDB_get_value(entry, &data, w->field, "iso_code", NULL);
	if ((status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
	     (status == MMDB_SUCCESS && !data.has_data)) && !strcmp(w->field, "country"))
		/* The flat layout of DB-IP / ip-location-db databases. */
		status = MMDB_get_value(entry, &data, "country_code", NULL);
	if (status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) {
		*out = GB_COUNTRY_NONE;
		return 0;
	}
	if (status != MMDB_SUCCESS) {
		snprintf(w->err, w->errlen, "corrupt data record at offset %u: %s", entry->offset,
			 MMDB_strerror(status));
		return -EINVAL;
	}
	if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2) {
		*out = GB_COUNTRY_NONE;
		return 0;
	}
	*out = country_id(data.utf8_string);
	return 0;
}

static int entry_country(struct walker *w, MMDB_entry_s *entry, __u16 *out)
{
	struct country_cache *c = &w->cache;
	size_t slot;
	int err;

	if (c->n * 2 >= c->cap) {
		err = cache_grow(c);
		if (err)
			return err;
	}
	slot = cache_slot(c, entry->offset);
	if (c->keys[slot]) {
		*out = c->vals[slot];
		return 0;
	}
	err = decode_country(w, entry, out);
	if (err)
		return err;
	c->keys[slot] = entry->offset + 1;
	c->vals[slot] = *out;
	c->n++;
	return 0;
}

static void set_bit(__u8 *addr, unsigned int bit)
{
	addr[bit / 8] |= 0x80 >> (bit % 8);
}

static int too_many(struct walker *w, int err, int family)
{
	if (err == -E2BIG)
		snprintf(w->err, w->errlen, "more than %zu IPv%d networks, the most a table holds",
			 prefix_list_max(family), family);
	return err;
}

/* Emits the data record of the network of f->depth bits at f->addr. */
static int emit(struct walker *w, const struct frame *f)
{
	MMDB_entry_s entry = { .mmdb = w->mmdb, .offset = f->node };
	__u16 country;
	int err;

	err = entry_country(w, &entry, &country);
	if (err || country == GB_COUNTRY_NONE)
		return err;
	if (w->mmdb->metadata.ip_version == 4)
		err = prefix_list_add(&w->t->v4, 4, f->addr, f->depth, country);
	else if (f->in_v4)
		err = prefix_list_add(&w->t->v4, 4, f->addr + 12, f->depth - 96, country);
	else
		err = prefix_list_add(&w->t->v6, 6, f->addr, f->depth, country);
	return too_many(w, err, w->mmdb->metadata.ip_version == 4 || f->in_v4 ? 4 : 6);
}

/*
 * The IPv4 tree of an IPv6 database hangs at ::/96 and is reachable through aliases too
 * (::ffff:0:0/96, 2001::/32, 2002::/16 in MaxMind's files). It is walked once, from ::/96; every
 * path that reaches it, ::/96 included, becomes one IPv6 entry meaning "the next 32 bits are an
 * IPv4 address".
 * Returns 1 when the walk should descend (the canonical path), 0 when not.
 */
static int visit_ipv4_start(struct walker *w, struct frame *f)
{
	bool canonical = f->depth == 96;
	int err;

	if (f->depth > 96) {
		snprintf(w->err, w->errlen, "IPv4 tree reached at depth %u (corrupt search tree)",
			 f->depth);
		return -EINVAL;
	}
	for (int i = 0; canonical && i < 12; i++)
		canonical = !f->addr[i];
	err = prefix_list_add(&w->t->v6, 6, f->addr, f->depth, GB_COUNTRY_V4_ALIAS);
	if (err)
		return too_many(w, err, 6);
	f->in_v4 = canonical;
	return canonical;
}

/* Follows ::/96 from the root; when a record ends the path early, *end holds it. */
static __u32 find_ipv4_start(MMDB_s *mmdb, struct frame *end)
{
	MMDB_search_node_s node;
	__u32 n = 0;

	memset(end, 0, sizeof(*end));
	for (int depth = 0; depth < 96; depth++) {
		if (MMDB_read_node(mmdb, n, &node) != MMDB_SUCCESS)
			return UINT32_MAX;
		if (node.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
			end->is_data = node.left_record_type == MMDB_RECORD_TYPE_DATA;
			end->node = node.left_record_entry.offset;
			return UINT32_MAX;
		}
		n = node.left_record;
	}
	return n;
}

static int push_child(struct walker *w, struct frame *stack, size_t *sp, const struct frame *parent,
		      int side, __u8 type, __u64 record, __u32 offset)
{
	struct frame child = *parent;

	if (side)
		set_bit(child.addr, parent->depth);
	child.depth = parent->depth + 1;
	switch (type) {
	case MMDB_RECORD_TYPE_EMPTY:
		return 0;
	case MMDB_RECORD_TYPE_SEARCH_NODE:
		child.node = (__u32)record;
		child.is_data = 0;
		break;
	case MMDB_RECORD_TYPE_DATA:
		child.node = offset;
		child.is_data = 1;
		break;
	default:
		snprintf(w->err, w->errlen, "invalid record in search node %u (corrupt file)",
			 parent->node);
		return -EINVAL;
	}
	stack[(*sp)++] = child;
	return 0;
}

/* Depth-first, left before right: networks come out in address order, each once. */
static int walk(struct walker *w)
{
	unsigned int bits = w->mmdb->metadata.ip_version == 4 ? 32 : 128;
	struct frame stack[2 * 128 + 2];
	size_t sp = 1;
	int err;

	memset(&stack[0], 0, sizeof(stack[0]));
	while (sp) {
		struct frame f = stack[--sp];
		MMDB_search_node_s node;

		if (f.is_data) {
			err = emit(w, &f);
			if (err)
				return err;
			continue;
		}
		if (bits == 128 && !f.in_v4 && f.node == w->ipv4_start) {
			err = visit_ipv4_start(w, &f);
			if (err < 0)
				return err;
			if (!err)
				continue;
		}
		if (++w->descents > w->max_descents) {
			snprintf(w->err, w->errlen, "search tree revisits nodes (corrupt file)");
			return -EINVAL;
		}
		if (f.depth >= bits) {
			snprintf(w->err, w->errlen, "search tree deeper than %u bits (corrupt file)", bits);
			return -EINVAL;
		}
		err = MMDB_read_node(w->mmdb, f.node, &node);
		if (err != MMDB_SUCCESS) {
			snprintf(w->err, w->errlen, "cannot read search node %u: %s", f.node,
				 MMDB_strerror(err));
			return -EINVAL;
		}
		/* Right first onto the stack, so that the left half comes out first. */
		err = push_child(w, stack, &sp, &f, 1, node.right_record_type, node.right_record,
				 node.right_record_entry.offset);
		if (!err)
			err = push_child(w, stack, &sp, &f, 0, node.left_record_type, node.left_record,
					 node.left_record_entry.offset);
		if (err)
			return err;
	}
	return 0;
}

/*
 * path is what libmaxminddb opens and maps: a sealed memory file (geoip.c copies every input into
 * one), since a file that shrinks under the mapping faults the reader (SIGBUS); name is the file
 * the user gave.
 */
int mmdb_read(const char *path, const char *name, const char *field, struct geoip_table *t,
	      char *err, size_t errlen)
{
	struct walker w = { .field = field, .t = t, .err = err, .errlen = errlen };
	struct frame end;
	MMDB_s mmdb;
	int ret, status;

	memset(t, 0, sizeof(*t));
	status = MMDB_open(path, MMDB_MODE_MMAP, &mmdb);
	if (status != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s is not a readable MaxMind DB file: %s", name,
			 MMDB_strerror(status));
		return -EINVAL;
	}
	w.mmdb = &mmdb;
	t->build_epoch = mmdb.metadata.build_epoch;
	snprintf(t->database_type, sizeof(t->database_type), "%s",
		 mmdb.metadata.database_type ? mmdb.metadata.database_type : "");
	if (mmdb.metadata.ip_version != 4 && mmdb.metadata.ip_version != 6) {
		snprintf(err, errlen, "%s: unsupported ip_version %u", name, mmdb.metadata.ip_version);
		ret = -EINVAL;
		goto out;
	}
	/* A valid tree visits each node once; the alias paths add a handful. */
	w.max_descents = (__u64)mmdb.metadata.node_count + 1024;
	w.ipv4_start = UINT32_MAX;
	if (mmdb.metadata.ip_version == 6) {
		w.ipv4_start = find_ipv4_start(&mmdb, &end);
		/* ::/k with k < 96 a single record: every IPv4 address gets that record. */
		if (w.ipv4_start == UINT32_MAX && end.is_data) {
			end.in_v4 = 1;
			end.depth = 96;
			ret = emit(&w, &end);
			if (ret)
				goto out;
		}
	}
	ret = walk(&w);
	if (ret) {
		char inner[200];

		snprintf(inner, sizeof(inner), "%s", err);
		snprintf(err, errlen, "%s: %s", name, ret == -ENOMEM ? "out of memory" : inner);
	}
out:
	cache_free(&w.cache);
	MMDB_close(&mmdb);
	if (ret)
		geoip_table_free(t);
	return ret;
}
