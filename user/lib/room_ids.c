// SPDX-License-Identifier: GPL-2.0
/* Janus room id lists: parsed, compared and printed the one way (`--janus-room`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/country.h"
#include "lib/room_ids.h"

static int id_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

int parse_room_ids(const char *list, __u64 **out, size_t *n, char *err, size_t errlen)
{
	size_t cap = 1, k = 0;
	const char *p = list;
	__u64 *v;

	for (const char *c = list; *c; c++)
		cap += *c == ',';
	if (cap > GB_JANUS_ROOMS_MAX) {
		snprintf(err, errlen, "more than %d Janus rooms", GB_JANUS_ROOMS_MAX);
		return -E2BIG;
	}
	v = calloc(cap, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (;;) {
		unsigned long long id;
		char *end;

		errno = 0;
		id = strtoull(p, &end, 10);
		if (*p < '0' || *p > '9' || errno || !id || (*end && *end != ',')) {
			char shown[24 * 4 + 1];

			/* Any byte may come in: the message stays one printable line. */
			snprintf(err, errlen, "\"%s\" is not a Janus room id (a number, 1 to "
				 "18446744073709551615)", printable(p, strcspn(p, ","), 24, shown,
								    sizeof(shown)));
			free(v);
			return -EINVAL;
		}
		v[k++] = id;
		if (!*end)
			break;
		p = end + 1;
	}
	qsort(v, k, sizeof(*v), id_cmp);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (!*n || v[*n - 1] != v[i])
			v[(*n)++] = v[i];
	*out = v;
	return 0;
}

bool room_ids_equal(const __u64 *a, size_t na, const __u64 *b, size_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(*a)));
}

bool room_ids_have(const __u64 *v, size_t n, __u64 id)
{
	return n && bsearch(&id, v, n, sizeof(*v), id_cmp);
}

void print_room_ids(FILE *f, const __u64 *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)v[i]);
}
