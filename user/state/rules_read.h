/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a file of `meeting add` lines: an `apply` file, or the state dir's rules file. */
#ifndef GEOBLOCK_STATE_RULES_READ_H
#define GEOBLOCK_STATE_RULES_READ_H

#include "state/rules_file.h"

/*
 * A reader of the saved rule set that salvages what it can (restore of a damaged state dir): a
 * line or logged change it cannot take, and a meeting that clashes with one before it, is left
 * out, said through left_out (the reason, naming the line) and counted, instead of refusing all.
 */
struct salvage {
	void (*left_out)(void *arg, const char *what);
	void *arg;
	unsigned int n;
};

/*
 * Reads a file of `meeting add` lines (# comments, blank lines) into l, checked as a set
 * (spec_list_check); err names the line it refuses. With sv, such a line or meeting is left out
 * instead (said through sv) and the rest read; err is then set only for a file that cannot be read
 * (or memory short).
 */
int rules_file_read(const char *path, __s64 now, unsigned int flags, struct salvage *sv,
		    struct spec_list *l, char *err, size_t errlen);
/*
 * Salvaging a set that does not pass spec_list_check: in order, each meeting whose name, ports,
 * ufrags or Janus rooms one taken before it holds, or that does not fit beside them, is left out
 * (said through sv, named by its line of file or, line 0, as a change logged in log); one pass,
 * whatever the number of clashes (a rules file appended to itself has one per meeting). The set
 * left passes the check; 0, or an error with err (memory short).
 */
int spec_list_salvage(struct spec_list *l, const char *file, const char *log, struct salvage *sv,
		      char *err, size_t errlen);
/* One line or meeting left out: counted, and said through sv's left_out. */
void salvage_left_out(struct salvage *sv, const char *what);

#endif
