/* SPDX-License-Identifier: GPL-2.0 */
/* Tar archives (as MaxMind ships them): the one *.mmdb member. */
#ifndef GEOBLOCK_GEOIP_TAR_H
#define GEOBLOCK_GEOIP_TAR_H

#include <stddef.h>
#include "geoip/input.h"

/* The one *.mmdb member of a tar archive, copied into a memory file; returns its fd. */
int tar_extract_mmdb(struct input *in, char *member, size_t member_len);

#endif
