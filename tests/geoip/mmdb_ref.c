// SPDX-License-Identifier: GPL-2.0
/*
 * The reference answers for GeoIP tests, straight from libmaxminddb's own lookup:
 *   mmdb_ref sample DB COUNT SEED 4|6   random addresses, one "ADDR CC" line each ('--': none)
 *   mmdb_ref find DB CC 4|6 SEED        one random address whose country is CC (for IPv6, a
 *                                       native one: not in ::/16, 2001::/32 or 2002::/16,
 *                                       where databases alias the IPv4 tree)
 *   mmdb_ref sources DB COUNT SEED 4|6  COUNT random addresses that have a country, one per line
 * DB must be an uncompressed .mmdb.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <maxminddb.h>

static unsigned long long rng_state;

/* splitmix64: small, seedable, the same sequence everywhere */
static unsigned long long rnd(void)
{
	unsigned long long z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Random IPv6: a quarter anywhere, the rest in the /12s where most allocations are. */
static void random_v6(unsigned char a[16])
{
	static const unsigned short blocks[] = { 0x2001, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00 };
	unsigned long long hi = rnd(), lo = rnd();

	for (int i = 0; i < 8; i++) {
		a[i] = hi >> (56 - 8 * i);
		a[8 + i] = lo >> (56 - 8 * i);
	}
	if (rnd() % 4) {
		unsigned short b = blocks[rnd() % (sizeof(blocks) / sizeof(blocks[0]))];

		a[0] = b >> 8;
		a[1] = (b & 0xf0) | (a[1] & 0x0f);
	}
}

/*
 * An address chosen by a random walk down the search tree until a record, random bits after it:
 * lands in small networks as often as in large ones, so most samples have a country.
 */
static void random_descent(MMDB_s *db, int family, unsigned char *a)
{
	int bits = family == 4 ? 32 : 128, depth = 0;
	unsigned int node = 0;
	MMDB_search_node_s n;

	if (family == 4 && db->metadata.ip_version == 6) {
		for (int i = 0; i < 96 && !MMDB_read_node(db, node, &n); i++) {
			if (n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE)
				return;
			node = n.left_record;
		}
	}
	for (; depth < bits; depth++) {
		int right = rnd() & 1;

		if (MMDB_read_node(db, node, &n))
			return;
		/* avoid empty halves while the other half has something */
		if ((right ? n.right_record_type : n.left_record_type) == MMDB_RECORD_TYPE_EMPTY)
			right = !right;
		a[depth / 8] &= ~(0x80 >> (depth % 8));
		if (right)
			a[depth / 8] |= 0x80 >> (depth % 8);
		if ((right ? n.right_record_type : n.left_record_type) != MMDB_RECORD_TYPE_SEARCH_NODE)
			return;
		node = right ? n.right_record : n.left_record;
	}
}

static void country_of(MMDB_lookup_result_s *res, char out[3])
{
	MMDB_entry_data_s d;
	int st;

	strcpy(out, "--");
	if (!res->found_entry)
		return;
	st = MMDB_get_value(&res->entry, &d, "country", "iso_code", NULL);
	if (st != MMDB_SUCCESS || !d.has_data)
		st = MMDB_get_value(&res->entry, &d, "country_code", NULL);
	if (st == MMDB_SUCCESS && d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING &&
	    d.data_size == 2) {
		out[0] = d.utf8_string[0];
		out[1] = d.utf8_string[1];
	}
}

static int lookup(MMDB_s *db, int family, char *text, size_t textlen, char cc[3])
{
	struct sockaddr_storage ss = {};
	MMDB_lookup_result_s res;
	int err;

	if (family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		unsigned int v = (unsigned int)rnd();

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = v;
		if (rnd() & 1)
			random_descent(db, 4, (unsigned char *)&s4->sin_addr.s_addr);
		inet_ntop(AF_INET, &s4->sin_addr, text, textlen);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		random_v6(s6->sin6_addr.s6_addr);
		if (rnd() & 1)
			random_descent(db, 6, s6->sin6_addr.s6_addr);
		inet_ntop(AF_INET6, &s6->sin6_addr, text, textlen);
	}
	res = MMDB_lookup_sockaddr(db, (struct sockaddr *)&ss, &err);
	if (err != MMDB_SUCCESS && err != MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
		fprintf(stderr, "mmdb_ref: lookup of %s: %s\n", text, MMDB_strerror(err));
		return -1;
	}
	country_of(&res, cc);
	return 0;
}

/* sample, sources: COUNT random addresses (with a country, for sources). */
static int sample(MMDB_s *db, char **argv)
{
	bool sources = !strcmp(argv[1], "sources");
	long count = atol(argv[3]);
	int family = atoi(argv[5]);
	char text[INET6_ADDRSTRLEN], cc[3];

	rng_state = strtoull(argv[4], NULL, 0);
	for (long i = 0; i < count;) {
		if (lookup(db, family, text, sizeof(text), cc))
			return 2;
		if (!sources) {
			printf("%s %s\n", text, cc);
			i++;
		} else if (strcmp(cc, "--")) {
			printf("%s\n", text);
			i++;
		}
	}
	return 0;
}

/* find: one random address of country argv[3]. */
static int find(MMDB_s *db, char **argv)
{
	char text[INET6_ADDRSTRLEN], cc[3];

	rng_state = strtoull(argv[5], NULL, 0);
	for (long i = 0; i < 50000000; i++) {
		if (lookup(db, atoi(argv[4]), text, sizeof(text), cc))
			return 2;
		if (!strcasecmp(cc, argv[3]) &&
		    (atoi(argv[4]) == 4 || (strncmp(text, "::", 2) && strncmp(text, "2002:", 5) &&
					    strncmp(text, "2001::", 6) && strncmp(text, "2001:0:", 7)))) {
			printf("%s\n", text);
			return 0;
		}
	}
	fprintf(stderr, "mmdb_ref: no address found in %s\n", argv[3]);
	return 2;
}

int main(int argc, char **argv)
{
	MMDB_s db;
	int st, ret;

	if (argc != 6 || (strcmp(argv[1], "sample") && strcmp(argv[1], "find") &&
			  strcmp(argv[1], "sources"))) {
		fprintf(stderr, "usage: mmdb_ref sample|sources DB COUNT SEED 4|6 | find DB CC 4|6 SEED\n");
		return 1;
	}
	st = MMDB_open(argv[2], MMDB_MODE_MMAP, &db);
	if (st != MMDB_SUCCESS) {
		fprintf(stderr, "mmdb_ref: %s: %s\n", argv[2], MMDB_strerror(st));
		return 2;
	}
	ret = !strcmp(argv[1], "find") ? find(&db, argv) : sample(&db, argv);
	MMDB_close(&db);
	return ret;
}
