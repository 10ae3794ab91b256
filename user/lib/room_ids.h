/* SPDX-License-Identifier: GPL-2.0 */
/* Janus VideoRoom room ids as operators write them: "1234[,5678...]". */
#ifndef GEOBLOCK_LIB_ROOM_IDS_H
#define GEOBLOCK_LIB_ROOM_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#define GB_JANUS_ROOMS_MAX	4096	/* rooms over all meetings */

/* Parses "ID[,ID...]" (decimal, 1 to 2^64-1): sorted, duplicates dropped, *out malloc'd. */
int parse_room_ids(const char *list, __u64 **out, size_t *n, char *err, size_t errlen);
/* Whether sorted lists a and b hold the same ids. */
bool room_ids_equal(const __u64 *a, size_t na, const __u64 *b, size_t nb);
/* Whether sorted list v holds id. */
bool room_ids_have(const __u64 *v, size_t n, __u64 id);
/* Prints "ID,ID" to f. */
void print_room_ids(FILE *f, const __u64 *v, size_t n);

#endif
