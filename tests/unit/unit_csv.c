// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/geoip/csv.c through geoip_read: the CSV forms real files take, unsorted and
 * overlapping rows, and every malformed row refused with its line number.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include "lib/country.h"
#include "geoip/geoip.h"
#include "geoip/prefix.h"
#include "check.h"

static char path[64], err[512];
static struct geoip_table t;

/* Writes text (gzipped when gz) to a memory file; path names it. */
static int file_of(const char *text, bool gz)
{
	int fd = memfd_create("unit_csv", 0);

	if (gz) {
		gzFile g = gzdopen(dup(fd), "wb");

		gzwrite(g, text, strlen(text));
		gzclose(g);
	} else if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return fd;
}

/* Reads text; returns geoip_read's result, err holding its message. */
static int read_text(const char *text, bool gz)
{
	int fd = file_of(text, gz), ret;

	err[0] = '\0';
	ret = geoip_read(path, "country", &t, err, sizeof(err));
	close(fd);
	return ret;
}

static const char *net(const struct prefix_list *l, size_t i, int family)
{
	static char buf[96];
	char a[INET6_ADDRSTRLEN], cc[3];

	if (i >= l->n)
		return "(none)";
	inet_ntop(family == 4 ? AF_INET : AF_INET6, l->v[i].addr, a, sizeof(a));
	country_code(l->v[i].country, cc);
	snprintf(buf, sizeof(buf), "%s/%d %s", a, l->v[i].len, cc);
	return buf;
}

/* The text is refused with a message containing part. */
static void refused(const char *name, const char *text, const char *part)
{
	int ret = read_text(text, false);

	CHECK(name, ret < 0 && strstr(err, part));
	if (ret >= 0 || !strstr(err, part))
		fprintf(stderr, "  %s: got %d \"%s\", wanted \"%s\"\n", name, ret, err, part);
	if (!ret)
		geoip_table_free(&t);
}

int main(void)
{
	/* The ip-location-db form. */
	CHECK_INT("plain_ok", 0, read_text("1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n", false));
	CHECK_INT("plain_v4_networks", 3, t.v4.n);
	CHECK_STR("plain_first", "1.0.0.0/24 AU", net(&t.v4, 0, 4));
	CHECK_STR("plain_range_splits", "1.0.1.0/24 CN", net(&t.v4, 1, 4));
	CHECK_STR("plain_range_splits_minimal", "1.0.2.0/23 CN", net(&t.v4, 2, 4));
	geoip_table_free(&t);
	CHECK_INT("one_line_without_newline", 0, read_text("10.0.0.0,10.0.0.255,fr", false));
	CHECK_STR("one_line_read", "10.0.0.0/24 FR", net(&t.v4, 0, 4));
	CHECK_INT("one_line_alone", 1, t.v4.n);
	geoip_table_free(&t);

	/* Header, byte order mark, CRLF, quotes, spaces, comments, blank lines, extra columns. */
	CHECK_INT("forms_ok", 0,
		  read_text("\xEF\xBB\xBFip_range_start,ip_range_end,country_code\r\n"
			    "# a comment\r\n"
			    "\r\n"
			    "\"2001:db8::\", \"2001:db8::ffff\" , \"de\",Germany,extra\r\n"
			    "10.0.0.0,10.0.0.255,fr", false));
	CHECK_STR("forms_v6_lower_case_country", "2001:db8::/112 DE", net(&t.v6, 0, 6));
	CHECK_STR("forms_last_line_without_newline", "10.0.0.0/24 FR", net(&t.v4, 0, 4));
	CHECK_STR("forms_type", "CSV ranges", t.database_type);
	geoip_table_free(&t);

	CHECK_INT("all_quoted_ok", 0, read_text("\"10.0.0.0\",\"10.0.0.255\",\"DE\"\n", false));
	CHECK_STR("all_quoted", "10.0.0.0/24 DE", net(&t.v4, 0, 4));
	geoip_table_free(&t);

	/* Rows in any order; overlapping rows of one country are their union. */
	CHECK_INT("unsorted_ok", 0,
		  read_text("10.0.2.0,10.0.2.255,DE\n2001:db8::,2001:db8::ff,FR\n"
			    "10.0.0.0,10.0.1.255,DE\n10.0.1.128,10.0.3.255,DE\n", true));
	CHECK_INT("unsorted_merged_to_one", 1, t.v4.n);
	CHECK_STR("unsorted_union", "10.0.0.0/22 DE", net(&t.v4, 0, 4));
	CHECK_STR("mixed_families_in_one_file", "2001:db8::/120 FR", net(&t.v6, 0, 6));
	geoip_table_free(&t);

	/* No country: nothing added. */
	CHECK_INT("empty_country_ok", 0,
		  read_text("10.0.0.0,10.0.0.255,\n10.0.1.0,10.0.1.255,-\n10.0.2.0,10.0.2.255,DE\n",
			    false));
	CHECK_INT("empty_country_skipped", 1, t.v4.n);
	geoip_table_free(&t);

	refused("overlap_other_country", "10.0.0.0,10.0.0.255,DE\n10.0.0.128,10.0.1.0,FR\n",
		"lines 1 and 2 overlap with different countries (DE, FR)");
	refused("overlap_unsorted_reports_lines", "10.0.5.0,10.0.5.9,FR\n10.0.0.0,10.0.9.0,DE\n",
		"lines 2 and 1 overlap");
	refused("backwards", "10.0.0.0,10.0.0.255,DE\n10.0.1.9,10.0.1.0,DE\n",
		"line 2: the range 10.0.1.9-10.0.1.0 ends before it starts");
	refused("bad_address", "10.0.0.0,10.0.0.256,DE\n", "line 1: \"10.0.0.256\" is not an IPv4");
	refused("numeric", "16777216,16777471,AU\n", "is a number, not an address");
	refused("bad_country", "10.0.0.0,10.0.0.255,DEU\n", "line 1: \"DEU\" is not a two-letter");
	refused("overlap_names_the_row_overlapped",
		"1.0.0.0,1.0.0.10,US\n1.0.0.5,1.0.0.255,US\n1.0.0.200,1.0.1.0,FR\n",
		"lines 2 and 3 overlap with different countries (US, FR)");
	refused("digit_country", "10.0.0.0,10.0.0.255,D1\n", "is not a two-letter");
	refused("dbip_city_layout", "1.0.0.0,1.0.0.255,OC,AU,Queensland,South Brisbane\n",
		"line 1: a continent (OC) where the country should be, the country (AU) after it");
	CHECK_INT("country_then_continent_ok", 0,
		  read_text("10.0.0.0,10.0.0.255,NA,AF\n10.0.1.0,10.0.1.255,AS,OC\n", false));
	CHECK_STR("country_then_continent_country", "10.0.0.0/24 NA", net(&t.v4, 0, 4));
	geoip_table_free(&t);
	refused("dbip_city_layout_saudi_arabia", "2.88.0.0,2.88.0.255,AS,SA,Riyadh\n",
		"a continent (AS) where the country should be, the country (SA) after it");
	refused("dbip_city_layout_quoted", "\"1.0.1.0\",\"1.0.3.255\",\"AS\",\"CN\",\"Fujian\"\n",
		"a continent (AS) where the country should be");
	refused("mixed_family_row", "10.0.0.0,2001:db8::,DE\n", "not of the same address family");
	refused("missing_column", "10.0.0.0,10.0.0.255\n", "line 1: expected start,end,country");
	refused("header_only_once", "start,end,cc\nstart,end,cc\n", "line 2: \"start\" is not");
	{
		char long_line[3000];

		memset(long_line, ' ', sizeof(long_line) - 1);
		long_line[sizeof(long_line) - 1] = '\0';
		memcpy(long_line, "10.0.0.0,", 9);
		refused("long_line", long_line, "line 1 is longer than");
	}
	refused("empty_file", "", "it is empty");
	refused("binary", "\x01\x02\x03 not text", "not a readable MaxMind DB, tar.gz or CSV file");
	return check_summary();
}
