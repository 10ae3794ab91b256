/* SPDX-License-Identifier: GPL-2.0 */
/* Small MaxMind DBs for tests and fuzz seeds, with the prefix lists geoip_read should make of them. */
#ifndef GEOBLOCK_TEST_MMDB_SAMPLES_H
#define GEOBLOCK_TEST_MMDB_SAMPLES_H

#include "mmdb_writer.h"

static const char *const mmdb_maxmind_aliases[] = { "::ffff:0:0/96", "2002::/16", NULL };

static const struct mmdb_net mmdb_nets_geoip2[] = {
	{ "1.0.0.0/24", "AU" },
	{ "10.0.0.0/25", "DE" },	/* two halves of one /24: merged */
	{ "10.0.0.128/25", "de" },	/* a code in lower case is a code */
	{ "10.0.1.0/24", "FR" },
	{ "192.0.2.0/24", NULL },	/* a record without a country: no network */
	{ "203.0.113.0/24", "US" },
	{ "2001:db8:1::/48", "DE" },
	{ "2001:db8:2::/47", "JP" },
	{ "2a00::/12", "GB" },
};

static const struct mmdb_net mmdb_nets_v4_flat[] = {
	{ "1.0.0.0/24", "AU" },
	{ "8.8.8.0/24", "US" },
	{ "100.64.0.0/10", NULL },
	{ "128.0.0.0/1", "BR" },
};

/* ::/1 is one record: every IPv4 address (under ::/96) is in it too. */
static const struct mmdb_net mmdb_nets_v6_short[] = {
	{ "::/1", "US" },
	{ "8000::/2", "SE" },
	{ "c000::/3", "XX" },		/* not a country code of ours: two letters, so it is one */
};

struct mmdb_sample {
	const char *name;		/* the seed's file name */
	struct mmdb_spec spec;
	bool gzip;
	const char *v4, *v6;		/* geoip_read's lists, "prefix/len CC" (alias: "=v4") per line */
};

#define MMDB_SPEC(ver, size, is_flat, al, list)                                                  \
	{ .ip_version = (ver), .record_size = (size), .flat = (is_flat), .aliases = (al),        \
	  .nets = (list), .n = sizeof(list) / sizeof((list)[0]) }

static const struct mmdb_sample mmdb_samples[] = {
	{ "geoip2-v6-24bit.mmdb", MMDB_SPEC(6, 24, false, mmdb_maxmind_aliases, mmdb_nets_geoip2),
	  false,
	  "1.0.0.0/24 AU\n10.0.0.0/24 DE\n10.0.1.0/24 FR\n203.0.113.0/24 US\n",
	  "::/96 =v4\n::ffff:0.0.0.0/96 =v4\n2001:db8:1::/48 DE\n2001:db8:2::/47 JP\n2002::/16 =v4\n"
	  "2a00::/12 GB\n" },
	{ "geoip2-v6-24bit.mmdb.gz", MMDB_SPEC(6, 24, false, mmdb_maxmind_aliases, mmdb_nets_geoip2),
	  true,
	  "1.0.0.0/24 AU\n10.0.0.0/24 DE\n10.0.1.0/24 FR\n203.0.113.0/24 US\n",
	  "::/96 =v4\n::ffff:0.0.0.0/96 =v4\n2001:db8:1::/48 DE\n2001:db8:2::/47 JP\n2002::/16 =v4\n"
	  "2a00::/12 GB\n" },
	{ "flat-v4-28bit.mmdb", MMDB_SPEC(4, 28, true, NULL, mmdb_nets_v4_flat), false,
	  "1.0.0.0/24 AU\n8.8.8.0/24 US\n128.0.0.0/1 BR\n", "" },
	{ "flat-v6-32bit.mmdb", MMDB_SPEC(6, 32, true, NULL, mmdb_nets_v6_short), false,
	  "0.0.0.0/0 US\n", "::/1 US\n8000::/2 SE\nc000::/3 XX\n" },
};

#define MMDB_SAMPLES	(sizeof(mmdb_samples) / sizeof(mmdb_samples[0]))

#endif /* GEOBLOCK_TEST_MMDB_SAMPLES_H */
