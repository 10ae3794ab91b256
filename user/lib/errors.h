/* SPDX-License-Identifier: GPL-2.0 */
/* One-line errors and warnings, prefixed with the command that failed; the exit codes. */
#ifndef GEOBLOCK_LIB_ERRORS_H
#define GEOBLOCK_LIB_ERRORS_H

/* Exit codes (geoblock(8)): 1 for a usage error, 2 for a failure while doing the work. */
enum { GB_EXIT_OK = 0, GB_EXIT_USAGE = 1, GB_EXIT_FAIL = 2 };

void gb_set_command(const char *name);
void gb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *gb_last_error(void);	/* the last gb_err message, "" if none */
void gb_clear_error(void);		/* before a request: its failure's line, not an older one */
/* -v (1): libbpf's warnings and information (a verifier rejection readable); -vv (2): debug too. */
void gb_set_verbosity(int level);
int gb_verbosity(void);

#endif
