/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule set's changes as the CLI and the control API both make them: one validation, one
 * journal, one audit. Each returns 0 or -errno: -EINVAL bad input, -ENOENT no such meeting,
 * -EEXIST a name or port taken, anything else a failure; the one line saying why is printed by
 * gb_err and kept by gb_last_error().
 */
#ifndef GEOBLOCK_STATE_OPS_H
#define GEOBLOCK_STATE_OPS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "kern/pins.h"
#include "state/audit.h"
#include "state/countries.h"
#include "state/rules_file.h"

/* What apply did (or, checking, would do). */
struct ops_counts {
	size_t add, change, mode, deleted, keep;
};

/* What a change of a meeting's ports did. */
struct ops_ports {
	unsigned int changed;			/* ports gained or lost */
	__u8 before[GB_PORT_COUNT / 8];		/* in the maps, its handles' (Janus) ports too */
	__u8 after[GB_PORT_COUNT / 8];
	__u8 claimed[GB_PORT_COUNT / 8];	/* its handles' ports added: the operator's now */
	__u8 handles[GB_PORT_COUNT / 8];	/* of after, those its Janus handles hold */
};

int ops_meeting_add(const struct gb_ctx *ctx, const struct audit_caller *who,
		    const struct meeting_spec *s, struct country_census *census);
int ops_meeting_put(const struct gb_ctx *ctx, const struct audit_caller *who,
		    const struct meeting_spec *s, struct country_census *census, bool *created);
int ops_meeting_set(const struct gb_ctx *ctx, const struct audit_caller *who, const char *name,
		    bool monitor, const char *reason, bool *already);
int ops_meeting_del(const struct gb_ctx *ctx, const struct audit_caller *who, const char *name,
		    const char *reason);
int ops_meeting_ports(const struct gb_ctx *ctx, const struct audit_caller *who, const char *name,
		      const __u8 *add, const __u8 *remove, const char *reason, struct ops_ports *out);
/* where: the file the specs came from, named in errors with their lines (NULL: none). */
int ops_apply(const struct gb_ctx *ctx, const struct audit_caller *who, const char *where,
	      const struct spec_list *want, bool check, const char *reason, FILE *plan_out,
	      struct country_census *census, struct ops_counts *counts);

#endif
