/* SPDX-License-Identifier: GPL-2.0 */
/* What decides one packet, over the live maps: for `explain` and the API's /v1/explain. */
#ifndef GEOBLOCK_STATE_EXPLAIN_H
#define GEOBLOCK_STATE_EXPLAIN_H

#include <stdbool.h>
#include <linux/types.h>
#include "kern/pins.h"
#include "state/countries.h"
#include "geoblock.h"

struct json_object;

struct explanation {
	char address[64];
	int port;
	bool tcp;
	const char *verdict;
	char meeting[GB_MEETING_NAME_LEN];
	char country[3];		/* "" when the address has none */
	char network[64];		/* the GeoIP network that answered, "" if none */
	char rule[96];			/* "block DE", "allow 203.0.113.0/24", "" */
	char why[GB_COUNTRY_COUNT * 3 + 512];
	bool has_meeting;
	__u64 blocked[GB_COUNTRY_WORDS];	/* the meeting's, when has_meeting */
	struct country_census census;		/* of the table that answered */
};

/* ctx NULL: the input checked only (-EINVAL after one error line). */
int explain_packet(const struct gb_ctx *ctx, const char *address, const char *port,
		   const char *proto, struct explanation *e);
struct json_object *explanation_json(const struct explanation *e);

#endif
