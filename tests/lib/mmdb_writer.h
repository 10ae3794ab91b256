/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal MaxMind DB writer for tests: a search tree of country networks, records, metadata. */
#ifndef GEOBLOCK_TEST_MMDB_WRITER_H
#define GEOBLOCK_TEST_MMDB_WRITER_H

/*
 * Writes the format of https://maxmind.github.io/MaxMind-DB/ (version 2.0): a binary search tree
 * of node_count nodes with two records each (24, 28 or 32 bits), 16 zero bytes, a data section,
 * then "\xab\xcd\xefMaxMind.com" and the metadata map. Enough to make small valid databases (and
 * seeds for the fuzzer) without MaxMind's Perl or Go writers, which this machine does not have.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mmdb_net {
	const char *cidr;	/* "10.0.0.0/8" or "2001:db8::/32"; IPv4 go under ::/96 in IPv6 DBs */
	const char *cc;		/* country code; NULL: a record with no country in it */
};

struct mmdb_spec {
	int ip_version;			/* 4 or 6 */
	int record_size;		/* 24, 28 or 32 */
	bool flat;			/* country_code at the top (DB-IP), else country.iso_code */
	const char *const *aliases;	/* IPv6 prefixes that lead to the IPv4 tree, NULL-ended */
	const struct mmdb_net *nets;
	size_t n;
	const char *database_type;
};

struct mmdb_buf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static inline void mmdb_put(struct mmdb_buf *b, const void *data, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2 + 256;
		uint8_t *p = realloc(b->p, cap);

		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

/* A control byte for type (1-15) and size, with the extended type and size bytes it needs. */
static inline void mmdb_ctrl(struct mmdb_buf *b, unsigned int type, size_t size)
{
	uint8_t c[6];
	size_t n = 1;

	c[0] = (type <= 7 ? type : 0) << 5;
	if (type > 7)
		c[n++] = type - 7;
	if (size < 29) {
		c[0] |= size;
	} else if (size < 285) {
		c[0] |= 29;
		c[n++] = size - 29;
	} else {
		c[0] |= 30;
		c[n++] = (size - 285) >> 8;
		c[n++] = size - 285;
	}
	mmdb_put(b, c, n);
}

static inline void mmdb_string(struct mmdb_buf *b, const char *s)
{
	mmdb_ctrl(b, 2, strlen(s));
	mmdb_put(b, s, strlen(s));
}

/* An unsigned integer of type 5 (uint16), 6 (uint32) or 9 (uint64), in as few bytes as it needs. */
static inline void mmdb_uint(struct mmdb_buf *b, unsigned int type, uint64_t v)
{
	uint8_t be[8];
	size_t n = 0;

	for (uint64_t x = v; x; x >>= 8)
		n++;
	for (size_t i = 0; i < n; i++)
		be[i] = v >> (8 * (n - 1 - i));
	mmdb_ctrl(b, type, n);
	mmdb_put(b, be, n);
}

/* The data record of a network of country cc (NULL: a record that names no country). */
static inline void mmdb_record(struct mmdb_buf *b, const struct mmdb_spec *s, const char *cc)
{
	if (!cc) {
		mmdb_ctrl(b, 7, 1);
		mmdb_string(b, "continent");
		mmdb_ctrl(b, 7, 1);
		mmdb_string(b, "code");
		mmdb_string(b, "AN");
	} else if (s->flat) {
		mmdb_ctrl(b, 7, 1);
		mmdb_string(b, "country_code");
		mmdb_string(b, cc);
	} else {
		mmdb_ctrl(b, 7, 2);
		mmdb_string(b, "country");
		mmdb_ctrl(b, 7, 1);
		mmdb_string(b, "iso_code");
		mmdb_string(b, cc);
		mmdb_string(b, "registered_country");
		mmdb_ctrl(b, 7, 1);
		mmdb_string(b, "iso_code");
		mmdb_string(b, cc);
	}
}

enum { MMDB_W_EMPTY, MMDB_W_NODE, MMDB_W_DATA };

struct mmdb_tree {
	struct {
		uint8_t kind[2];
		uint32_t val[2];	/* node number or data offset */
	} *node;
	size_t n, cap;
	int err;
};

static inline uint32_t mmdb_new_node(struct mmdb_tree *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void *p = realloc(t->node, cap * sizeof(*t->node));

		if (!p) {
			t->err = -ENOMEM;
			return 0;
		}
		t->node = p;
		t->cap = cap;
	}
	memset(&t->node[t->n], 0, sizeof(*t->node));
	return t->n++;
}

/* The node at the end of the first len bits of addr, made (pushing records down) if need be. */
static inline uint32_t mmdb_path(struct mmdb_tree *t, const uint8_t *addr, unsigned int len)
{
	uint32_t n = 0;

	for (unsigned int d = 0; d < len && !t->err; d++) {
		int bit = (addr[d / 8] >> (7 - d % 8)) & 1;

		if (t->node[n].kind[bit] != MMDB_W_NODE) {
			uint32_t child = mmdb_new_node(t);

			if (t->err)
				return 0;
			/* A shorter network's record is pushed down into both halves. */
			t->node[child].kind[0] = t->node[child].kind[1] = t->node[n].kind[bit];
			t->node[child].val[0] = t->node[child].val[1] = t->node[n].val[bit];
			t->node[n].kind[bit] = MMDB_W_NODE;
			t->node[n].val[bit] = child;
		}
		n = t->node[n].val[bit];
	}
	return n;
}

/* Sets the record that ends the path of len (>= 1) bits of addr to (kind, val). */
static inline void mmdb_insert(struct mmdb_tree *t, const uint8_t *addr, unsigned int len, int kind,
			       uint32_t val)
{
	uint32_t n = mmdb_path(t, addr, len - 1);
	int bit = (addr[(len - 1) / 8] >> (7 - (len - 1) % 8)) & 1;

	if (t->err)
		return;
	t->node[n].kind[bit] = kind;
	t->node[n].val[bit] = val;
}

/* An address and length from "addr/len"; IPv4 in an IPv6 tree goes under ::/96. */
static inline int mmdb_parse_cidr(const char *cidr, int ip_version, uint8_t addr[16],
				  unsigned int *len)
{
	char text[64];
	const char *slash = strchr(cidr, '/');
	size_t n = slash ? (size_t)(slash - cidr) : 0;

	if (!slash || n >= sizeof(text))
		return -EINVAL;
	memcpy(text, cidr, n);
	text[n] = '\0';
	*len = atoi(slash + 1);
	memset(addr, 0, 16);
	if (inet_pton(AF_INET6, text, addr) == 1)
		return ip_version == 6 && *len <= 128 ? 0 : -EINVAL;
	if (inet_pton(AF_INET, text, ip_version == 6 ? addr + 12 : addr) != 1 || *len > 32)
		return -EINVAL;
	if (ip_version == 6)
		*len += 96;
	return 0;
}

static inline void mmdb_put_record(struct mmdb_buf *b, int size, uint32_t left, uint32_t right)
{
	uint8_t n[8];

	if (size == 24) {
		uint8_t v[6] = { left >> 16, left >> 8, left, right >> 16, right >> 8, right };

		mmdb_put(b, v, 6);
	} else if (size == 28) {
		n[0] = left >> 16;
		n[1] = left >> 8;
		n[2] = left;
		n[3] = ((left >> 24) & 0x0f) << 4 | ((right >> 24) & 0x0f);
		n[4] = right >> 16;
		n[5] = right >> 8;
		n[6] = right;
		mmdb_put(b, n, 7);
	} else {
		uint32_t be[2] = { htonl(left), htonl(right) };

		mmdb_put(b, be, 8);
	}
}

/* The whole database in *out (malloc'd, *len bytes); 0 or a negative errno. */
static inline int mmdb_write(const struct mmdb_spec *s, uint8_t **out, size_t *len)
{
	static const uint8_t marker[] = "\xab\xcd\xefMaxMind.com";
	static const uint8_t zeros[16];
	struct mmdb_buf data = {}, file = {};
	struct mmdb_tree t = {};
	uint32_t *offsets = calloc(s->n + 1, sizeof(*offsets));
	int err = 0;

	if (!offsets)
		return -ENOMEM;
	mmdb_new_node(&t);	/* the root, node 0 */
	for (size_t i = 0; i < s->n && !err; i++) {
		uint8_t addr[16];
		unsigned int plen;

		/* Records of the same country share one data record. */
		offsets[i] = data.len;
		for (size_t j = 0; j < i; j++) {
			if ((s->nets[j].cc && s->nets[i].cc && !strcmp(s->nets[j].cc, s->nets[i].cc)) ||
			    (!s->nets[j].cc && !s->nets[i].cc)) {
				offsets[i] = offsets[j];
				break;
			}
		}
		if (offsets[i] == data.len)
			mmdb_record(&data, s, s->nets[i].cc);
		err = mmdb_parse_cidr(s->nets[i].cidr, s->ip_version, addr, &plen);
		if (!err && plen)
			mmdb_insert(&t, addr, plen, MMDB_W_DATA, offsets[i]);
	}
	if (!err && s->ip_version == 6 && s->aliases && s->aliases[0]) {
		uint8_t zero[16] = {};
		uint32_t v4root = mmdb_path(&t, zero, 96);	/* the IPv4 tree's root */

		for (size_t i = 0; s->aliases[i] && !err; i++) {
			uint8_t addr[16];
			unsigned int plen;

			err = mmdb_parse_cidr(s->aliases[i], 6, addr, &plen);
			if (!err && plen)
				mmdb_insert(&t, addr, plen, MMDB_W_NODE, v4root);
		}
	}
	err = err ?: t.err ?: data.err;
	for (size_t i = 0; i < t.n && !err; i++) {
		uint32_t rec[2];

		for (int side = 0; side < 2; side++)
			rec[side] = t.node[i].kind[side] == MMDB_W_EMPTY ? t.n :
				    t.node[i].kind[side] == MMDB_W_NODE	 ? t.node[i].val[side] :
									   t.n + 16 + t.node[i].val[side];
		mmdb_put_record(&file, s->record_size, rec[0], rec[1]);
	}
	mmdb_put(&file, zeros, 16);
	mmdb_put(&file, data.p, data.len);
	mmdb_put(&file, marker, sizeof(marker) - 1);
	mmdb_ctrl(&file, 7, 9);
	mmdb_string(&file, "binary_format_major_version");
	mmdb_uint(&file, 5, 2);
	mmdb_string(&file, "binary_format_minor_version");
	mmdb_uint(&file, 5, 0);
	mmdb_string(&file, "build_epoch");
	mmdb_uint(&file, 9, 1767225600);	/* 2026-01-01 */
	mmdb_string(&file, "database_type");
	mmdb_string(&file, s->database_type ? s->database_type : "geoblock-test");
	mmdb_string(&file, "description");
	mmdb_ctrl(&file, 7, 1);
	mmdb_string(&file, "en");
	mmdb_string(&file, "geoblock test database");
	mmdb_string(&file, "ip_version");
	mmdb_uint(&file, 5, s->ip_version);
	mmdb_string(&file, "languages");
	mmdb_ctrl(&file, 11, 1);
	mmdb_string(&file, "en");
	mmdb_string(&file, "node_count");
	mmdb_uint(&file, 6, t.n);
	mmdb_string(&file, "record_size");
	mmdb_uint(&file, 5, s->record_size);
	err = err ?: file.err;
	free(offsets);
	free(t.node);
	free(data.p);
	if (err) {
		free(file.p);
		return err;
	}
	*out = file.p;
	*len = file.len;
	return 0;
}

#endif /* GEOBLOCK_TEST_MMDB_WRITER_H */
