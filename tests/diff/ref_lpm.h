/* SPDX-License-Identifier: GPL-2.0 */
/* A plain longest-prefix-match table for the reference classifier: a hash set per length. */
#ifndef GEOBLOCK_REF_LPM_H
#define GEOBLOCK_REF_LPM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct ref_lpm_slot {
	__u8 addr[16];		/* host bits cleared */
	__u16 value;
	__u8 used;
};

struct ref_lpm {
	unsigned int bits;	/* 32 or 128 */
	struct {
		struct ref_lpm_slot *slot;
		size_t cap, n;
	} by_len[129];
	unsigned int lens[129];	/* the lengths in use, longest first */
	unsigned int nlens;
};

int ref_lpm_init(struct ref_lpm *t, unsigned int bits);
/* Adds addr/len with value; adding a prefix again replaces its value. */
int ref_lpm_add(struct ref_lpm *t, const __u8 *addr, unsigned int len, __u16 value);
/* The value of the longest prefix that holds addr; false when none does. */
bool ref_lpm_find(const struct ref_lpm *t, const __u8 *addr, unsigned int *len, __u16 *value);
void ref_lpm_free(struct ref_lpm *t);

#endif /* GEOBLOCK_REF_LPM_H */
