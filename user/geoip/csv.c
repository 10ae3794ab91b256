// SPDX-License-Identifier: GPL-2.0
/*
 * Reads CSV ranges, "start,end,CC" with inclusive IPv4 or IPv6 bounds as ip-location-db publishes
 * them, into prefix lists: rows taken in order of their start, overlaps checked, each range split
 * into networks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/country.h"
#include "geoip/csv.h"
#include "geoip/input.h"
#include "geoip/prefix.h"

#define CSV_LINE_MAX	1024
/* Twice what a table holds, far above any real database: an unsorted file's rows are held. */
#define CSV_ROWS_MAX	(8U << 20)
#define CSV_BUF_LEN	(256 * 1024)

typedef unsigned __int128 u128;

struct range {
	u128 start, end;
	__u32 line;
	__u32 end_line;		/* of a run: the row that reaches its end (overlaps any row after) */
	__u16 country;
	__u8 family;
};

/*
 * Sorted files (as published) stream straight into the prefix lists; the first row out of order
 * makes the reader start again, keeping every row, and sort them.
 */
struct rows {
	struct geoip_table *t;
	bool collect;		/* keeping rows to sort, rather than streaming them */
	struct range *v;
	size_t n, cap;
	struct range run[2];	/* per family: the range being built from overlapping rows */
	bool have_run[2];
	u128 last_start[2];
	bool header_allowed;	/* only before the first row */
	char *err;
	size_t errlen;
};

/* Without surrounding blanks (and, for a field, its quotes). */
static void trim(char **s, bool unquote)
{
	char *p = *s, *e = p + strlen(p);

	while (*p == ' ' || *p == '\t')
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	if (unquote && e - p >= 2 && *p == '"' && e[-1] == '"') {
		p++;
		e--;
	}
	*e = '\0';
	*s = p;
}

static u128 value_of(const __u8 *addr, int bytes)
{
	u128 v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | addr[i];
	return v;
}

static void bytes_of(u128 v, int bytes, __u8 *addr)
{
	for (int i = bytes; i-- > 0; v >>= 8)
		addr[i] = (__u8)v;
}

/* Returns 4 or 6, or 0 when s is not an address. */
static int parse_addr(const char *s, u128 *v)
{
	__u8 a[16];

	if (inet_pton(AF_INET, s, a) == 1) {
		*v = value_of(a, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*v = value_of(a, 16);
		return 6;
	}
	return 0;
}

/* A first line such as "ip_range_start,ip_range_end,country_code" names columns. */
static bool is_header(const char *field)
{
	return strpbrk(field, "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ_") && !strpbrk(field, ".:");
}

static int bad_addr(struct rows *r, __u32 line, const char *s)
{
	char shown[40 * 4 + 1];

	if (*s && strspn(s, "0123456789") == strlen(s))
		snprintf(r->err, r->errlen, "line %u: \"%.40s\" is a number, not an address (the numeric "
			 "-num.csv files are not supported: use the files with addresses)", line, s);
	else
		snprintf(r->err, r->errlen, "line %u: \"%s\" is not an IPv4 or IPv6 address", line,
			 printable(s, strlen(s), 40, shown, sizeof(shown)));
	return -EINVAL;
}

static int add_range(struct rows *r, const struct range *run)
{
	int bytes = run->family == 4 ? 4 : 16, err;
	__u8 s[16], e[16];

	bytes_of(run->start, bytes, s);
	bytes_of(run->end, bytes, e);
	err = prefix_list_add_range(run->family == 4 ? &r->t->v4 : &r->t->v6, run->family, s, e,
				    run->country);
	if (err == -E2BIG)
		snprintf(r->err, r->errlen, "line %u: more than %zu IPv%d networks, the most a "
			 "table holds", run->line, prefix_list_max(run->family), run->family);
	return err;
}

/*
 * Takes the rows of a family in order of their start. Overlapping rows with the same country are
 * one range (their union); with different countries the file contradicts itself: refused.
 */
static int accept_row(struct rows *r, const struct range *row)
{
	int f = row->family == 6;
	struct range *run = &r->run[f];
	int err;

	if (r->have_run[f] && row->start <= run->end) {
		if (row->country != run->country) {
			char a[3], b[3];

			country_code(run->country, a);
			country_code(row->country, b);
			snprintf(r->err, r->errlen, "lines %u and %u overlap with different countries "
				 "(%s, %s)", run->end_line, row->line, a, b);
			return -EINVAL;
		}
		if (row->end > run->end) {
			run->end = row->end;
			run->end_line = row->line;
		}
		return 0;
	}
	if (r->have_run[f]) {
		err = add_range(r, run);
		if (err)
			return err;
	}
	*run = *row;
	run->end_line = row->line;
	r->have_run[f] = true;
	return 0;
}

static int finish(struct rows *r)
{
	int err = 0;

	for (int f = 0; f < 2 && !err; f++)
		if (r->have_run[f])
			err = add_range(r, &r->run[f]);
	return err;
}

/* Streaming: -EAGAIN when row comes before an earlier row of its family. */
static int take_row(struct rows *r, const struct range *row)
{
	int f = row->family == 6;

	if (r->have_run[f] && row->start < r->last_start[f])
		return -EAGAIN;
	r->last_start[f] = row->start;
	return accept_row(r, row);
}

static bool is_continent(const char *s)
{
	return strlen(s) == 2 && strstr("AF AN AS EU NA OC SA", s);
}

/*
 * DB-IP's city and location layouts put the continent before the country: AS (Asia) would be read
 * as American Samoa, EU and OC as codes of no country. Their continent and country never pair as
 * a country and the continent it lies in would ("NA,AF": Namibia, Africa, a country file's extra
 * column), except where a code is both: Saudi Arabia is "AS,SA" in one, "SA,AS" in the other.
 */
static bool continent_then_country(char *const *f, int nf)
{
	static const char *const kept[] = { "AF,AS", "AS,OC", "NA,AF", "SA,AS" };
	char pair[6];

	if (nf <= 3 || !is_continent(f[2]) || strlen(f[3]) != 2 ||
	    country_id(f[3]) == GB_COUNTRY_NONE)
		return false;
	snprintf(pair, sizeof(pair), "%s,%s", f[2], f[3]);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (!strcmp(pair, kept[i]))
			return false;
	return true;
}

static int parse_line(struct rows *r, char *line, __u32 lineno)
{
	char *f[4] = {}, *p = line;
	struct range row = { .line = lineno };
	int nf = 0, fam_end;
	size_t cclen;

	trim(&p, false);
	if (!*p || *p == '#')
		return 0;
	/* Columns after the country are ignored (the one after it read, continent_then_country). */
	while (nf < 4) {
		f[nf++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	for (int i = 0; i < nf; i++)
		trim(&f[i], true);
	row.family = parse_addr(f[0], &row.start);
	if (!row.family && r->header_allowed && is_header(f[0])) {
		r->header_allowed = false;
		return 0;
	}
	r->header_allowed = false;
	if (nf < 3) {
		snprintf(r->err, r->errlen, "line %u: expected start,end,country", lineno);
		return -EINVAL;
	}
	if (continent_then_country(f, nf)) {
		snprintf(r->err, r->errlen, "line %u: a continent (%s) where the country should be, "
			 "the country (%s) after it: DB-IP's city layout? Load a country CSV "
			 "(start,end,country)", lineno, f[2], f[3]);
		return -EINVAL;
	}
	if (!row.family)
		return bad_addr(r, lineno, f[0]);
	fam_end = parse_addr(f[1], &row.end);
	if (!fam_end)
		return bad_addr(r, lineno, f[1]);
	if (fam_end != row.family) {
		snprintf(r->err, r->errlen, "line %u: %s and %s are not of the same address family",
			 lineno, f[0], f[1]);
		return -EINVAL;
	}
	if (row.start > row.end) {
		snprintf(r->err, r->errlen, "line %u: the range %s-%s ends before it starts", lineno,
			 f[0], f[1]);
		return -EINVAL;
	}
	cclen = strlen(f[2]);
	/* An empty code (or "-", "--") is a range without a country: nothing to add. */
	if (!cclen || !strcmp(f[2], "-") || !strcmp(f[2], "--"))
		return 0;
	row.country = cclen == 2 ? country_id(f[2]) : GB_COUNTRY_NONE;
	if (row.country == GB_COUNTRY_NONE) {
		char shown[16 * 4 + 1];

		snprintf(r->err, r->errlen, "line %u: \"%s\" is not a two-letter country code",
			 lineno, printable(f[2], cclen, 16, shown, sizeof(shown)));
		return -EINVAL;
	}
	if (!r->collect)
		return take_row(r, &row);
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 65536;
		struct range *v;

		if (r->n >= CSV_ROWS_MAX) {
			snprintf(r->err, r->errlen, "more than %u ranges", CSV_ROWS_MAX);
			return -E2BIG;
		}
		v = realloc(r->v, cap * sizeof(*v));
		if (!v) {
			snprintf(r->err, r->errlen, "out of memory");
			return -ENOMEM;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = row;
	return 0;
}

static int read_rows(struct input *in, struct rows *r)
{
	char *buf = malloc(CSV_BUF_LEN + 1);
	size_t len = 0;
	__u32 lineno = 0;
	int err = 0;
	bool eof = false;

	if (!buf)
		return -ENOMEM;
	while (!err && !eof) {
		ssize_t n = input_read(in, buf + len, CSV_BUF_LEN - len);
		char *p = buf, *nl;

		if (n < 0) {
			err = n;
			break;
		}
		eof = n == 0;
		len += n;
		buf[len] = '\0';
		if (!lineno && len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
			p += 3;	/* a UTF-8 byte order mark */
		while (!err && p < buf + len) {
			nl = memchr(p, '\n', buf + len - p);
			if (!nl && !eof)
				break;
			if (!nl)
				nl = buf + len;
			*nl = '\0';
			if (nl - p > CSV_LINE_MAX)
				break;
			err = parse_line(r, p, ++lineno);
			p = nl + 1;
		}
		if (err)
			break;
		if (p > buf + len)
			p = buf + len;
		len -= p - buf;
		memmove(buf, p, len);
		if (len > CSV_LINE_MAX) {
			snprintf(r->err, r->errlen, "line %u is longer than %d bytes", lineno + 1,
				 CSV_LINE_MAX);
			err = -EINVAL;
		}
	}
	free(buf);
	return err;
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Rows in any order; a file sorted by start (as published) is read in one pass, without a copy. */
int csv_read(struct input *in, struct geoip_table *t)
{
	struct rows r = { .t = t, .header_allowed = true, .err = in->err, .errlen = in->errlen };
	int err;

	memset(t, 0, sizeof(*t));
	err = read_rows(in, &r);
	if (err == -EAGAIN) {
		geoip_table_free(t);
		r = (struct rows){ .t = t, .collect = true, .header_allowed = true, .err = in->err,
				   .errlen = in->errlen };
		err = input_rewind(in);
		if (!err)
			err = read_rows(in, &r);
		if (!err)
			qsort(r.v, r.n, sizeof(*r.v), range_cmp);
		for (size_t i = 0; i < r.n && !err; i++)
			err = accept_row(&r, &r.v[i]);
	}
	if (!err)
		err = finish(&r);
	if (err == -ENOMEM)
		snprintf(in->err, in->errlen, "out of memory");
	free(r.v);
	if (err)
		geoip_table_free(t);
	snprintf(t->database_type, sizeof(t->database_type), "CSV ranges");
	return err;
}
