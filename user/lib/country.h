/* SPDX-License-Identifier: GPL-2.0 */
/* What operators type: country codes and lists, port lists, meeting names. */
#ifndef GEOBLOCK_LIB_COUNTRY_H
#define GEOBLOCK_LIB_COUNTRY_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <linux/types.h>
#include "geoblock.h"

__u16 country_id(const char *code);		/* GB_COUNTRY_NONE unless two letters */
void country_code(__u16 id, char out[3]);	/* "--" for none */
/* Whether id is an officially assigned ISO 3166-1 alpha-2 code. */
bool country_assigned(__u16 id);
/* The name of an assigned code ("China") or of one GeoIP databases use (XK), else NULL. */
const char *country_name(__u16 id);
/* What an operator meant by a code that is no country (UK, EU, AP, EL, ZZ): one line, or NULL. */
const char *country_hint(__u16 id);
int parse_countries(const char *list, __u64 blocked[GB_COUNTRY_WORDS], char *err, size_t errlen);
int parse_ports(const char *list, __u8 ports[GB_PORT_COUNT / 8], char *err, size_t errlen);
int format_ports(const __u8 ports[GB_PORT_COUNT / 8], char *out, size_t outlen);
/* The same list ("8801-8810,9000") written to f, whatever its length. */
void print_ports(FILE *f, const __u8 ports[GB_PORT_COUNT / 8]);
int format_countries(const __u64 blocked[GB_COUNTRY_WORDS], char *out, size_t outlen);
bool meeting_name_valid(const char *name);
/* At most max bytes of item for a message, other bytes than printable ASCII as \xNN. */
const char *printable(const char *item, size_t len, size_t max, char *buf, size_t buflen);
/* Splits LIST at commas and calls fn on each item; an empty list or item is an error ("what" names it). */
int parse_items(const char *list, const char *what,
		int (*fn)(const char *item, size_t len, void *arg, char *err, size_t errlen),
		void *arg, char *err, size_t errlen);


static inline bool port_isset(const __u8 *ports, unsigned int p)
{
	return ports[p / 8] & (1u << (p % 8));
}

/* The first port at or after p set in ports, GB_PORT_COUNT if none: empty words skipped whole. */
static inline unsigned int port_next(const __u8 *ports, unsigned int p)
{
	for (; p < GB_PORT_COUNT; p++) {
		__u64 word;

		memcpy(&word, ports + p / 64 * 8, sizeof(word));
		if (!word) {
			p |= 63;
			continue;
		}
		if (port_isset(ports, p))
			return p;
	}
	return GB_PORT_COUNT;
}

/* Country id cc is on a block list (meeting_policy.blocked). */
static inline bool country_isset(const __u64 *blocked, unsigned int cc)
{
	return blocked[cc / 64] & (1ULL << (cc % 64));
}

#endif
