/* SPDX-License-Identifier: GPL-2.0 */
/* The stable names of enum verdict_reason (bpf/geoblock.h), used in JSON and metrics. */
#ifndef GEOBLOCK_KERN_VERDICTS_H
#define GEOBLOCK_KERN_VERDICTS_H

#include "geoblock.h"

extern const char *const verdict_names[GB_REASON_COUNT];
/* The name of a verdict reason, "unknown" for a number out of range. */
const char *verdict_name(unsigned int reason);

#endif
