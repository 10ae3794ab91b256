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
	[GB_PASS_ICE_NOT_REQUEST] = "ice_not_request",
	[GB_PASS_ICE_MALFORMED] = "ice_malformed",
	[GB_PASS_ICE_NO_USERNAME] = "ice_no_username",
	[GB_PASS_ICE_UNKNOWN_UFRAG] = "ice_unknown_ufrag",
	[GB_PASS_ICE_UNKNOWN_SENDER] = "ice_unknown_sender",
};

const char *verdict_name(unsigned int reason)
{
	return reason < GB_REASON_COUNT ? verdict_names[reason] : "unknown";
}
