// SPDX-License-Identifier: GPL-2.0
/*
 * A longest-prefix-match table built the plainest way there is (a hash set of the prefixes of each
 * length, probed from the longest length down), so that it shares nothing with the kernel's LPM
 * trie or the compiled tables it checks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ref_lpm.h"

/* The first len bits of addr, zero after them (addr holds at least that many bits). */
static void mask(const __u8 *addr, unsigned int len, __u8 out[16])
{
	memset(out, 0, 16);
	memcpy(out, addr, (len + 7) / 8);
	if (len % 8)
		out[len / 8] &= (__u8)(0xff << (8 - len % 8));
}

static size_t hash(const __u8 addr[16])
{
	__u64 h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

int ref_lpm_init(struct ref_lpm *t, unsigned int bits)
{
	memset(t, 0, sizeof(*t));
	t->bits = bits;
	return bits == 32 || bits == 128 ? 0 : -EINVAL;
}

static struct ref_lpm_slot *probe(struct ref_lpm_slot *slot, size_t cap, const __u8 key[16])
{
	size_t i = hash(key) & (cap - 1);

	while (slot[i].used && memcmp(slot[i].addr, key, 16))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

static int grow(struct ref_lpm *t, unsigned int len)
{
	size_t cap = t->by_len[len].cap ? t->by_len[len].cap * 2 : 64;
	struct ref_lpm_slot *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < t->by_len[len].cap; i++)
		if (t->by_len[len].slot[i].used)
			*probe(slot, cap, t->by_len[len].slot[i].addr) = t->by_len[len].slot[i];
	free(t->by_len[len].slot);
	t->by_len[len].slot = slot;
	t->by_len[len].cap = cap;
	return 0;
}

int ref_lpm_add(struct ref_lpm *t, const __u8 *addr, unsigned int len, __u16 value)
{
	struct ref_lpm_slot *s;
	__u8 key[16];
	int err;

	if (len > t->bits)
		return -EINVAL;
	if (2 * (t->by_len[len].n + 1) > t->by_len[len].cap) {
		err = grow(t, len);
		if (err)
			return err;
	}
	mask(addr, len, key);
	s = probe(t->by_len[len].slot, t->by_len[len].cap, key);
	if (!s->used) {
		memcpy(s->addr, key, 16);
		s->used = 1;
		t->by_len[len].n++;
	}
	s->value = value;
	if (t->by_len[len].n > 1)
		return 0;
	/* A length in use for the first time. */
	t->nlens = 0;
	for (int l = t->bits; l >= 0; l--)
		if (t->by_len[l].n)
			t->lens[t->nlens++] = l;
	return 0;
}

bool ref_lpm_find(const struct ref_lpm *t, const __u8 *addr, unsigned int *len, __u16 *value)
{
	for (unsigned int i = 0; i < t->nlens; i++) {
		unsigned int l = t->lens[i];
		const struct ref_lpm_slot *s;
		__u8 key[16];

		mask(addr, l, key);
		s = probe(t->by_len[l].slot, t->by_len[l].cap, key);
		if (s->used) {
			*len = l;
			*value = s->value;
			return true;
		}
	}
	return false;
}

void ref_lpm_free(struct ref_lpm *t)
{
	for (int l = 0; l <= 128; l++)
		free(t->by_len[l].slot);
	memset(t, 0, sizeof(*t));
}
