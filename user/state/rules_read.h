/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a file of `meeting add` lines: an `apply` file, or the state dir's rules file. */
#ifndef GEOBLOCK_STATE_RULES_READ_H
#define GEOBLOCK_STATE_RULES_READ_H

#include "state/rules_file.h"

/*
 * Reads a file of `meeting add` lines (# comments, blank lines) into l, checked as a set
 * (spec_list_check); err names the line it refuses. With sv, such a line or meeting is left out
 * instead (said through sv) and the rest read; err is then set only for a file that cannot be read.
 */
int rules_file_read(const char *path, __s64 now, unsigned int flags, struct salvage *sv,
		    struct spec_list *l, char *err, size_t errlen);
/* One line or meeting left out: counted, and said through sv's left_out. */
void salvage_left_out(struct salvage *sv, const char *what);

#endif
