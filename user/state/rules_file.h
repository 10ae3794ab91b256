/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Meetings as operators write them: the one grammar of `meeting add`, for the command line, apply
 * files and the rules file.
 */
#ifndef GEOBLOCK_STATE_RULES_FILE_H
#define GEOBLOCK_STATE_RULES_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "lib/parse.h"
#include "geoblock.h"

#define GB_REASON_LEN		(GB_REASON_MAX + 1)
#define GB_SPEC_MODE_FLAGS	(GB_MEETING_MONITOR | GB_MEETING_UDP | GB_MEETING_TCP)

/* One meeting as `meeting add` arguments describe it (rules_file.c parses and prints them). */
struct meeting_spec {
	char name[GB_MEETING_NAME_LEN];
	__u8 ports[GB_PORT_COUNT / 8];
	__u64 blocked[GB_COUNTRY_WORDS];
	__u32 flags;			/* GB_MEETING_MONITOR, GB_MEETING_UDP, GB_MEETING_TCP */
	__s64 expires;			/* unix seconds; 0: never */
	struct cidr *allow;		/* sorted, no duplicates */
	size_t n_allow;
	char **ufrags;			/* server ICE ufrags on shared ports; sorted, no duplicates */
	size_t n_ufrags;
	__u64 *janus_rooms;		/* Janus VideoRoom rooms (--janus-room); sorted, no duplicates */
	size_t n_janus_rooms;
	char reason[GB_REASON_LEN];	/* --reason: for the audit log, not kept in the maps */
	unsigned int line;		/* line of the file it came from; 0 for the command line */
};

struct spec_list {
	struct meeting_spec *v;
	size_t n, cap;
};

enum spec_parse_flags {
	SPEC_PAST_OK	= 1 << 0,	/* any expiry time is taken (restore: the clock moved) */
	SPEC_OWN_FILE	= 1 << 1,	/* rules_file_read: geoblock's own file, whose every line
					 * ends in a newline (a last one without was cut short) */
};
#define SPEC_HELP 1			/* spec_parse: -h was given */
int spec_parse(int argc, char **argv, __s64 now, unsigned int flags, struct meeting_spec *s,
	       char *err, size_t errlen);
void spec_free(struct meeting_spec *s);
int spec_copy(struct meeting_spec *dst, const struct meeting_spec *src);
/* Same meeting? ignore_mode: a difference in --monitor alone does not count. */
bool spec_equal(const struct meeting_spec *a, const struct meeting_spec *b, bool ignore_mode);
/* The `meeting add ...` line (no newline) that spec_parse reads back as s; malloc'd. */
char *spec_format(const struct meeting_spec *s, bool with_reason);
int spec_list_push(struct spec_list *l, struct meeting_spec *s);	/* takes s's allocations */
/* Whether s expires and its time has come by now (unix seconds). */
bool spec_expired(const struct meeting_spec *s, __s64 now);
/* The index of the meeting named name in l, or -1. */
ssize_t spec_list_find(const struct spec_list *l, const char *name);
/* Takes l's meeting i out of it, the others' order kept. */
void spec_list_remove(struct spec_list *l, size_t i);
void spec_list_free(struct spec_list *l);
/*
 * Refuses two meetings of one name, a port, ufrag or Janus room in two meetings, more meetings, exceptions or
 * ufrags than fit.
 */
int spec_list_check(const struct spec_list *l, char *err, size_t errlen);
/* The drop counters meeting s needs: one per country it blocks. */
size_t spec_drop_counters(const struct meeting_spec *s);
/*
 * Parses one line of a rules file in place: 0 and s, 1 for a blank or comment line, or -EINVAL
 * with the reason in err.
 */
int spec_parse_line(char *line, __s64 now, unsigned int flags, struct meeting_spec *s, char *err,
		    size_t errlen);

#endif
