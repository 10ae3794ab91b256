/* SPDX-License-Identifier: GPL-2.0 */
/* The rest of what operators type: address lists, expiry times, protocols. */
#ifndef GEOBLOCK_LIB_PARSE_H
#define GEOBLOCK_LIB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct cidr {
	__u8 family;		/* 4 or 6 */
	__u8 len;
	__u8 addr[16];		/* IPv4 in the first 4 bytes; bits past len are zero */
};

/* Parses "CIDR[,CIDR...]" (a bare address is a host); sorted, duplicates dropped, *out malloc'd. */
int parse_cidrs(const char *list, struct cidr **out, size_t *n, char *err, size_t errlen);
int format_cidr(const struct cidr *c, char *out, size_t outlen);
int cidr_cmp(const struct cidr *a, const struct cidr *b);
bool cidr_contains(const struct cidr *c, int family, const __u8 *addr);
/* An ICE ufrag as a server's SDP gives it: GB_UFRAG_MIN..GB_UFRAG_MAX ice-chars (RFC 8839). */
bool ufrag_valid(const char *s, size_t len);
/* The longest reason a change is recorded with, in bytes. */
#define GB_REASON_MAX	255
/*
 * 0 if s may be a change's reason (1-GB_REASON_MAX bytes of UTF-8, no control character), else
 * -EINVAL with one line in err.
 */
int reason_check(const char *s, char *err, size_t errlen);
/* The length of the valid UTF-8 sequence at s (1-4), or 0 if it is not one (a NUL is 1). */
int gb_utf8_len(const unsigned char *s);
/*
 * s with each byte that is not UTF-8 replaced by U+FFFD (malloc'd; NULL: s NULL, or out of
 * memory). json-c copies a string's bytes as they are (a file's path may be any): its text put
 * through this is JSON any reader takes.
 */
char *gb_utf8_clean(const char *s);
/* Why item (not ufrag_valid) is refused, one line into buf: its length, else its characters. */
void ufrag_refusal(const char *item, size_t len, char *buf, size_t buflen);
/* Parses "UFRAG[,UFRAG...]": sorted, duplicates dropped; *out and each string malloc'd. */
int parse_ufrags(const char *list, char ***out, size_t *n, char *err, size_t errlen);
void ufrag_list_free(char **v, size_t n);
/* A copy of v[0..n-1], or NULL (n 0: NULL too, no error). */
char **ufrag_list_copy(char *const *v, size_t n);
/* Orders ufrags (char * elements) for qsort and bsearch, as parse_ufrags sorts them. */
int ufrag_cmp(const void *a, const void *b);
/* Whether sorted list v holds ufrag. */
bool ufrag_list_has(char *const *v, size_t n, const char *ufrag);
/* Whether sorted lists a and b hold the same ufrags. */
bool ufrag_lists_equal(char *const *a, size_t na, char *const *b, size_t nb);

/*
 * "2h", "90m", "1h30m", "1d" from now, or an RFC 3339 time; *out in unix seconds. A time more
 * than ten years from now is refused unless any_time (geoblock's own rules file: the clock may
 * have gone back since it was written).
 */
int parse_expiry(const char *s, __s64 now, bool any_time, __s64 *out, char *err, size_t errlen);
int format_rfc3339(__s64 t, char *out, size_t outlen);	/* UTC, "2026-01-02T15:04:05Z" */
/* "2026-01-30T00:00:00Z (10 months ago)" seen from now ("in 2 hours" ahead); "never" for 0. */
int format_time_age(__s64 t, __s64 now, char *out, size_t outlen);
/* "udp", "tcp", "udp,tcp" into GB_MEETING_UDP | GB_MEETING_TCP. */
int parse_protos(const char *list, __u32 *flags, char *err, size_t errlen);
const char *format_protos(__u32 flags);
/*
 * Whether getopt took the word after --name, an option itself ("--check", "-h"), as its value
 * (value the optarg, argv and optind getopt left): then err says to write --name=VALUE.
 */
bool opt_value_taken_option(const char *name, const char *value, char *const *argv, int optind,
			    char *err, size_t errlen);

#endif
