// SPDX-License-Identifier: GPL-2.0
/*
 * The reference answers for GeoIP tests, straight from libmaxminddb's own lookup:
 *   mmdb_ref sample DB COUNT SEED 4|6 [FIELD]
 *                                       random addresses, one "ADDR CC" line each ('--': none);
 *                                       FIELD is the MaxMind country field (default country)
 *   mmdb_ref find DB CC 4|6 SEED        one random address whose country is CC (for IPv6, a
 *                                       native one: not in ::/16, 2001::/32 or 2002::/16,
 *                                       where databases alias the IPv4 tree)
 *   mmdb_ref sources DB COUNT SEED 4|6  COUNT random addresses that have a country, one per line
 *   mmdb_ref sources DB COUNT SEED 4|6 CC[,CC...]
 *                                       COUNT random addresses of the countries CC, one per line:
 *                                       half of them drawn by address space, half from a network
 *                                       chosen as likely as any other of those countries' (for
 *                                       IPv6, none in ::/16, where the database keeps the IPv4
 *                                       tree; the 6to4 and Teredo aliases stay)
 *   mmdb_ref lookup DB [FIELD]          "ADDR CC" for each address read from stdin
 * DB must be an uncompressed .mmdb.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <maxminddb.h>

static unsigned long long rng_state;
static const char *field = "country";
static bool alias_samples;	/* sample: also addresses in the IPv4-alias ranges */

/* splitmix64: small, seedable, the same sequence everywhere */
static unsigned long long rnd(void)
{
	unsigned long long z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Random IPv6: (with alias_samples) one in eight in a range that MaxMind's files alias to the IPv4 tree (::/96,
 * ::ffff:0:0/96, 2001::/32, 2002::/16), a quarter of the rest anywhere, the others in the /12s
 * where most allocations are.
 */
static void random_v6(unsigned char a[16])
{
	static const unsigned short blocks[] = { 0x2001, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00 };
	unsigned long long hi = rnd(), lo = rnd();

	for (int i = 0; i < 8; i++) {
		a[i] = hi >> (56 - 8 * i);
		a[8 + i] = lo >> (56 - 8 * i);
	}
	if (alias_samples && rnd() % 8 == 0) {
		switch (rnd() % 4) {
		case 0:		/* ::/96 */
			memset(a, 0, 12);
			break;
		case 1:		/* ::ffff:0:0/96 */
			memset(a, 0, 10);
			a[10] = a[11] = 0xff;
			break;
		case 2:		/* 2001::/32 */
			a[0] = 0x20;
			a[1] = 0x01;
			a[2] = a[3] = 0;
			break;
		default:	/* 2002::/16 */
			a[0] = 0x20;
			a[1] = 0x02;
			break;
		}
		return;
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
	st = MMDB_get_value(&res->entry, &d, field, "iso_code", NULL);
	/* The flat layout (DB-IP lite, ip-location-db) has only a country_code. */
	if ((st != MMDB_SUCCESS || !d.has_data) && !strcmp(field, "country"))
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

/* A network of the countries `sources` was asked for: its first address and its prefix length. */
struct network {
	unsigned char addr[16];
	int len;
};

static struct network *nets;
static size_t nnets, nets_cap;

/* Whether cc is one of the codes of list, "CC,CC,...". */
static bool listed(const char *list, const char cc[3])
{
	for (const char *p = list; strlen(p) >= 2; p += 3) {
		if (!strncasecmp(p, cc, 2))
			return true;
		if (p[2] != ',')
			break;
	}
	return false;
}

/* 2^e as a double, e < 128. */
static double pow2(int e)
{
	return e >= 64 ? (double)(1ULL << (e - 64)) * 0x1p64 : (double)(1ULL << e);
}

/*
 * Every network of a country in list below node, whose prefix is the first depth bits of a, into
 * nets. The IPv6 aliases of the IPv4 tree lead to the same nodes: their networks are found once
 * under each alias.
 */
static int walk(MMDB_s *db, unsigned int node, unsigned char *a, int depth, int bits,
		const char *list)
{
	MMDB_search_node_s n;
	char cc[3];

	if (MMDB_read_node(db, node, &n))
		return -1;
	for (int right = 0; right < 2; right++) {
		int type = right ? n.right_record_type : n.left_record_type;
		MMDB_lookup_result_s res = { .found_entry = true };

		if (right)
			a[depth / 8] |= 0x80 >> (depth % 8);
		if (bits == 128 && depth == 15 && !a[0] && !a[1])
			continue;	/* ::/16, the IPv4 tree: no packet has it as its source */
		if (type == MMDB_RECORD_TYPE_SEARCH_NODE && depth + 1 < bits) {
			unsigned int child = right ? n.right_record : n.left_record;

			if (walk(db, child, a, depth + 1, bits, list))
				return -1;
		} else if (type == MMDB_RECORD_TYPE_DATA) {
			res.entry = right ? n.right_record_entry : n.left_record_entry;
			country_of(&res, cc);
			if (!listed(list, cc))
				continue;
			if (nnets == nets_cap) {
				struct network *p;

				nets_cap = nets_cap ? 2 * nets_cap : 4096;
				p = realloc(nets, nets_cap * sizeof(*nets));
				if (!p)
					return -1;
				nets = p;
			}
			memcpy(nets[nnets].addr, a, 16);
			nets[nnets++].len = depth + 1;
		}
	}
	a[depth / 8] &= ~(0x80 >> (depth % 8));
	return 0;
}

/*
 * COUNT addresses of the countries in list: even ones from a network chosen by its share of the
 * address space, odd ones from a network chosen as likely as any other (many small networks, as
 * the world mix's random descent finds them), the bits after its prefix random.
 */
static int country_sources(MMDB_s *db, long count, int family, const char *list)
{
	int bits = family == 4 ? 32 : 128;
	unsigned char a[16] = {};
	unsigned int node = 0;
	char text[INET6_ADDRSTRLEN];
	MMDB_search_node_s n;
	double *cum, total = 0;

	if (family == 4 && db->metadata.ip_version == 6) {
		for (int i = 0; i < 96; i++) {
			if (MMDB_read_node(db, node, &n) ||
			    n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE)
				return fprintf(stderr, "mmdb_ref: no IPv4 tree\n"), 2;
			node = n.left_record;
		}
	}
	if (walk(db, node, a, 0, bits, list))
		return fprintf(stderr, "mmdb_ref: cannot walk the database\n"), 2;
	if (!nnets)
		return fprintf(stderr, "mmdb_ref: no IPv%d network of %s\n", family, list), 2;
	cum = malloc(nnets * sizeof(*cum));
	if (!cum)
		return 2;
	for (size_t i = 0; i < nnets; i++) {
		total += pow2(bits - nets[i].len);
		cum[i] = total;
	}
	for (long i = 0; i < count; i++) {
		size_t k = 0, hi = nnets - 1;
		int len;

		if (i & 1) {
			k = rnd() % nnets;
		} else {
			double x = (rnd() >> 11) * 0x1p-53 * total;

			while (k < hi) {
				size_t mid = k + (hi - k) / 2;

				if (cum[mid] > x)
					hi = mid;
				else
					k = mid + 1;
			}
		}
		memcpy(a, nets[k].addr, 16);
		len = nets[k].len;
		for (int j = len / 8; j < bits / 8; j++) {
			unsigned char mask = j == len / 8 ? 0xff >> (len % 8) : 0xff;

			a[j] = (a[j] & ~mask) | (rnd() & mask);
		}
		inet_ntop(family == 4 ? AF_INET : AF_INET6, a, text, sizeof(text));
		printf("%s\n", text);
	}
	free(cum);
	return 0;
}

/* One "ADDR CC" line per address read from stdin. */
static int lookup_stdin(MMDB_s *db)
{
	char line[256], cc[3];

	while (fgets(line, sizeof(line), stdin)) {
		MMDB_lookup_result_s res;
		int gai, err;

		line[strcspn(line, " \t\r\n")] = '\0';
		if (!*line)
			continue;
		res = MMDB_lookup_string(db, line, &gai, &err);
		if (gai || (err != MMDB_SUCCESS && err != MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)) {
			fprintf(stderr, "mmdb_ref: lookup of %s failed\n", line);
			return 2;
		}
		country_of(&res, cc);
		printf("%s %s\n", line, cc);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char text[INET6_ADDRSTRLEN], cc[3];
	MMDB_s db;
	int st;

	if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "lookup")) {
		if (argc == 4)
			field = argv[3];
		st = MMDB_open(argv[2], MMDB_MODE_MMAP, &db);
		if (st != MMDB_SUCCESS) {
			fprintf(stderr, "mmdb_ref: %s: %s\n", argv[2], MMDB_strerror(st));
			return 2;
		}
		return lookup_stdin(&db);
	}
	if (argc == 7 && (!strcmp(argv[1], "sample") || !strcmp(argv[1], "sources")))
		field = argv[6];
	else if (argc != 6 || (strcmp(argv[1], "sample") && strcmp(argv[1], "find") &&
			       strcmp(argv[1], "sources"))) {
		fprintf(stderr, "usage: mmdb_ref sample DB COUNT SEED 4|6 [FIELD] | "
			"sources DB COUNT SEED 4|6 [CC[,CC...]] | find DB CC 4|6 SEED | "
			"lookup DB [FIELD]\n");
		return 1;
	}
	st = MMDB_open(argv[2], MMDB_MODE_MMAP, &db);
	if (st != MMDB_SUCCESS) {
		fprintf(stderr, "mmdb_ref: %s: %s\n", argv[2], MMDB_strerror(st));
		return 2;
	}
	if (!strcmp(argv[1], "sample") || !strcmp(argv[1], "sources")) {
		bool sources = !strcmp(argv[1], "sources");
		long count = atol(argv[3]);
		int family = atoi(argv[5]);

		alias_samples = !sources;
		rng_state = strtoull(argv[4], NULL, 0);
		if (sources && argc == 7) {
			field = "country";
			return country_sources(&db, count, family, argv[6]);
		}
		for (long i = 0; i < count;) {
			if (lookup(&db, family, text, sizeof(text), cc))
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
	rng_state = strtoull(argv[5], NULL, 0);
	for (long i = 0; i < 50000000; i++) {
		if (lookup(&db, atoi(argv[4]), text, sizeof(text), cc))
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
