// SPDX-License-Identifier: GPL-2.0
/* The stable names of the verdict reasons, in `stats --json`, `explain` and the metrics. */
#include "kern/verdicts.h"

const char *const verdict_names[GB_REASON_COUNT] = {
	[GB_PASS_NOT_IP] = "not_ip",
	[GB_PASS_OTHER_PROTO] = "other_proto",
	[GB_PASS_FRAGMENT] = "fragment",
	[GB_PASS_PARSE_ERROR] = "parse_error",
	[GB_PASS_NO_MEETING] = "no_meeting",
	[GB_PASS_NOT_COVERED] = "not_covered",
	[GB_PASS_EXPIRED] = "expired",
	[GB_PASS_NO_COUNTRY] = "no_country",
	[GB_PASS_NOT_BLOCKED] = "not_blocked",
	[GB_PASS_ALLOWED] = "allowed",
	[GB_PASS_MONITOR] = "monitor",
	[GB_DROP] = "dropped",
};

const char *verdict_name(unsigned int reason)
{
	return reason < GB_REASON_COUNT ? verdict_names[reason] : "unknown";
}
