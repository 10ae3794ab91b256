/* SPDX-License-Identifier: GPL-2.0 */
/* The officially assigned ISO 3166-1 alpha-2 codes and their names, sorted by code. */
#ifndef GEOBLOCK_LIB_ISO3166_H
#define GEOBLOCK_LIB_ISO3166_H

struct iso3166_country {
	char code[3];
	const char *name;
};

extern const struct iso3166_country iso3166_countries[];
extern const unsigned int iso3166_count;

#endif
