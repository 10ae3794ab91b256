// SPDX-License-Identifier: GPL-2.0
/*
 * The reference answers for CSV inputs, straight from the "start,end,CC" ranges (plain files):
 *   csv_ref sample COUNT SEED 4|6 FILE...  random addresses, "ADDR CC" lines ('--': no range);
 *                                          most at, next to or inside a range's bounds
 *   csv_ref within FILE... < LINES         LINES are "PREFIX CC [ADDR]": each prefix must lie
 *                                          wholly in ranges of that country (and hold ADDR);
 *                                          prints those that do not
 *   csv_ref equal FILE... < DUMP           DUMP is `geoip dump`: its networks must cover exactly
 *                                          the addresses of the ranges, with the same countries
 *   csv_ref ends < LINES                   the first and the last address of each "PREFIX ..." line
 *   csv_ref holds < LINES                  LINES are "PREFIX ADDR": prints those where ADDR is not
 *                                          in PREFIX
 * Exits 1 when a check finds a difference (printed, at most 10), 2 on bad input.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

struct range {
	int fam;
	u128 s, e;
	char cc[3];
};

struct ranges {
	struct range *v;
	size_t n, cap;
};

static unsigned long long rng_state;

static unsigned long long rnd(void)
{
	unsigned long long z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int parse(const char *s, u128 *v)
{
	unsigned char a[16];
	int fam = 0, n = 0;

	if (inet_pton(AF_INET, s, a) == 1)
		fam = 4, n = 4;
	else if (inet_pton(AF_INET6, s, a) == 1)
		fam = 6, n = 16;
	*v = 0;
	for (int i = 0; i < n; i++)
		*v = *v << 8 | a[i];
	return fam;
}

static void format(int fam, u128 v, char *out, size_t len)
{
	unsigned char a[16];
	int n = fam == 4 ? 4 : 16;

	for (int i = n; i-- > 0; v >>= 8)
		a[i] = (unsigned char)v;
	inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, out, len);
}

static void push(struct ranges *r, const struct range *x)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 65536;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		if (!r->v)
			exit(2);
	}
	r->v[r->n++] = *x;
}

static int cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->fam != y->fam)
		return x->fam - y->fam;
	return x->s < y->s ? -1 : x->s > y->s;
}

/* Sorted; runs of touching or overlapping ranges of one country joined into one. */
static void normalise(struct ranges *r)
{
	size_t k = 0;

	qsort(r->v, r->n, sizeof(*r->v), cmp);
	for (size_t i = 0; i < r->n; i++) {
		struct range *last = k ? &r->v[k - 1] : NULL;

		if (last && last->fam == r->v[i].fam && last->e != ~(u128)0 &&
		    r->v[i].s <= last->e + 1) {
			if (strcmp(last->cc, r->v[i].cc) && r->v[i].s <= last->e) {
				fprintf(stderr, "csv_ref: overlapping ranges with different countries\n");
				exit(2);
			}
			if (!strcmp(last->cc, r->v[i].cc)) {
				if (r->v[i].e > last->e)
					last->e = r->v[i].e;
				continue;
			}
		}
		r->v[k++] = r->v[i];
	}
	r->n = k;
}

static void load(struct ranges *r, int nfiles, char **files)
{
	char line[512];

	for (int f = 0; f < nfiles; f++) {
		FILE *in = fopen(files[f], "r");

		if (!in) {
			perror(files[f]);
			exit(2);
		}
		while (fgets(line, sizeof(line), in)) {
			char *a = strtok(line, ",\r\n"), *b = strtok(NULL, ",\r\n"),
			     *c = strtok(NULL, ",\r\n");
			struct range x = {};
			u128 e;

			if (!a || !b || !c || strlen(c) != 2 || !(x.fam = parse(a, &x.s)) ||
			    parse(b, &e) != x.fam) {
				fprintf(stderr, "csv_ref: %s: bad line\n", files[f]);
				exit(2);
			}
			x.e = e;
			x.cc[0] = c[0] & ~0x20;
			x.cc[1] = c[1] & ~0x20;
			push(r, &x);
		}
		fclose(in);
	}
	normalise(r);
}

/* The range holding v, or NULL. */
static const struct range *find(const struct ranges *r, int fam, u128 v)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {	/* first range after (fam, v) */
		size_t mid = lo + (hi - lo) / 2;
		const struct range *m = &r->v[mid];

		if (m->fam < fam || (m->fam == fam && m->s <= v))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || r->v[lo - 1].fam != fam || r->v[lo - 1].e < v)
		return NULL;
	return &r->v[lo - 1];
}

static u128 rnd128(void)
{
	return (u128)rnd() << 64 | rnd();
}

static u128 random_addr(const struct ranges *r, int fam, const size_t *idx, size_t nidx)
{
	u128 v = rnd128();

	if (fam == 4)
		v &= 0xffffffffu;
	if (nidx && rnd() % 4) {
		const struct range *x = &r->v[idx[rnd() % nidx]];
		u128 max = fam == 4 ? 0xffffffffu : ~(u128)0;

		switch (rnd() % 5) {
		case 0:
			return x->s;
		case 1:
			return x->e;
		case 2:
			return x->s ? x->s - 1 : x->s;
		case 3:
			return x->e < max ? x->e + 1 : x->e;
		default:
			return x->e - x->s == ~(u128)0 ? v : x->s + v % (x->e - x->s + 1);
		}
	}
	if (fam == 6 && rnd() % 4) {
		/* most IPv6 allocations are in 2000::/4 */
		v = (v & ~((u128)0xf << 124)) | (u128)2 << 124;
	}
	return v;
}

static int sample(const struct ranges *r, long count, int fam)
{
	size_t *idx = malloc(r->n * sizeof(*idx) + 1), nidx = 0;
	char text[64];

	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].fam == fam)
			idx[nidx++] = i;
	for (long i = 0; i < count; i++) {
		u128 v = random_addr(r, fam, idx, nidx);
		const struct range *x = find(r, fam, v);

		format(fam, v, text, sizeof(text));
		printf("%s %s\n", text, x ? x->cc : "--");
	}
	free(idx);
	return 0;
}

static int parse_prefix(char *s, struct range *x)
{
	char *slash = strchr(s, '/');
	int len, bits;

	if (!slash)
		return -1;
	*slash = '\0';
	len = atoi(slash + 1);
	x->fam = parse(s, &x->s);
	bits = x->fam == 4 ? 32 : 128;
	if (!x->fam || len < 0 || len > bits)
		return -1;
	x->e = x->s | (len == 0 ? (bits == 128 ? ~(u128)0 : 0xffffffffu) :
				  (((u128)1 << (bits - len)) - 1));
	return 0;
}

/* Is [x->s, x->e] wholly covered by ranges of country x->cc? */
static int within(const struct ranges *r, const struct range *x)
{
	u128 v = x->s;

	for (;;) {
		const struct range *y = find(r, x->fam, v);

		if (!y || strcmp(y->cc, x->cc))
			return 0;
		if (y->e >= x->e)
			return 1;
		v = y->e + 1;
	}
}

static int check_within(const struct ranges *r)
{
	char line[256], pfx[128], cc[8], addr[64];
	int bad = 0;

	while (fgets(line, sizeof(line), stdin)) {
		struct range x = {};
		int n = sscanf(line, "%127s %7s %63s", pfx, cc, addr);
		u128 a;

		if (n < 2 || strlen(cc) != 2 || parse_prefix(pfx, &x)) {
			fprintf(stderr, "csv_ref: bad input line: %s", line);
			return 2;
		}
		memcpy(x.cc, cc, 3);
		if (!within(r, &x) && bad++ < 10)
			printf("not within ranges of that country: %s", line);
		else if (n == 3 && (parse(addr, &a) != x.fam || a < x.s || a > x.e) && bad++ < 10)
			printf("the prefix does not hold the address: %s", line);
	}
	return bad ? 1 : 0;
}

static int check_equal(const struct ranges *r)
{
	struct ranges d = {};
	char line[256], pfx[128], cc[8];
	int bad = 0;

	while (fgets(line, sizeof(line), stdin)) {
		struct range x = {};

		if (sscanf(line, "%127s %7s", pfx, cc) != 2 || strlen(cc) != 2 ||
		    parse_prefix(pfx, &x)) {
			fprintf(stderr, "csv_ref: bad dump line: %s", line);
			return 2;
		}
		memcpy(x.cc, cc, 3);
		push(&d, &x);
	}
	normalise(&d);
	for (size_t i = 0; i < (d.n > r->n ? d.n : r->n); i++) {
		const struct range *a = i < r->n ? &r->v[i] : NULL, *b = i < d.n ? &d.v[i] : NULL;
		char as[64] = "-", ae[64] = "-", bs[64] = "-", be[64] = "-";

		if (a && b && a->fam == b->fam && a->s == b->s && a->e == b->e && !strcmp(a->cc, b->cc))
			continue;
		if (a) {
			format(a->fam, a->s, as, sizeof(as));
			format(a->fam, a->e, ae, sizeof(ae));
		}
		if (b) {
			format(b->fam, b->s, bs, sizeof(bs));
			format(b->fam, b->e, be, sizeof(be));
		}
		printf("run %zu: ranges %s-%s %s, table %s-%s %s\n", i, as, ae, a ? a->cc : "",
		       bs, be, b ? b->cc : "");
		if (++bad == 10)
			break;
	}
	printf("%zu runs in the ranges, %zu in the table\n", r->n, d.n);
	free(d.v);
	return bad ? 1 : 0;
}

static int ends(void)
{
	char line[256], pfx[128], a[64], b[64];

	while (fgets(line, sizeof(line), stdin)) {
		struct range x = {};

		if (sscanf(line, "%127s", pfx) != 1 || parse_prefix(pfx, &x)) {
			fprintf(stderr, "csv_ref: bad input line: %s", line);
			return 2;
		}
		format(x.fam, x.s, a, sizeof(a));
		format(x.fam, x.e, b, sizeof(b));
		printf("%s\n%s\n", a, b);
	}
	return 0;
}

static int holds(void)
{
	char line[256], pfx[128], addr[64];
	int bad = 0;

	while (fgets(line, sizeof(line), stdin)) {
		struct range x = {};
		u128 a;

		if (sscanf(line, "%127s %63s", pfx, addr) != 2 || parse_prefix(pfx, &x)) {
			fprintf(stderr, "csv_ref: bad input line: %s", line);
			return 2;
		}
		if ((parse(addr, &a) != x.fam || a < x.s || a > x.e) && bad++ < 10)
			printf("the prefix does not hold the address: %s", line);
	}
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct ranges r = {};

	if (argc == 2 && !strcmp(argv[1], "ends"))
		return ends();
	if (argc == 2 && !strcmp(argv[1], "holds"))
		return holds();
	int ret;

	if (argc >= 6 && !strcmp(argv[1], "sample")) {
		rng_state = strtoull(argv[3], NULL, 0);
		load(&r, argc - 5, argv + 5);
		ret = sample(&r, atol(argv[2]), atoi(argv[4]));
	} else if (argc >= 3 && !strcmp(argv[1], "within")) {
		load(&r, argc - 2, argv + 2);
		ret = check_within(&r);
	} else if (argc >= 3 && !strcmp(argv[1], "equal")) {
		load(&r, argc - 2, argv + 2);
		ret = check_equal(&r);
	} else {
		goto usage;
	}
	free(r.v);
	return ret;
usage:
	fprintf(stderr, "usage: csv_ref sample COUNT SEED 4|6 FILE... | within FILE... | "
		"equal FILE... | ends | holds\n");
	return 2;
}
