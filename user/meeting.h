/* SPDX-License-Identifier: GPL-2.0 */
/* The rule set: meetings as operators write them (specs) and as the maps hold them (struct rules). */
#ifndef GEOBLOCK_MEETING_H
#define GEOBLOCK_MEETING_H

#include <stdio.h>
#include <sys/stat.h>
#include "common.h"

struct json_object;

#define GB_REASON_LEN		256
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
	char reason[GB_REASON_LEN];	/* --reason: for the audit log, not kept in the maps */
	unsigned int line;		/* line of the file it came from; 0 for the command line */
};

struct spec_list {
	struct meeting_spec *v;
	size_t n, cap;
};

/* rules_file.c: the one grammar of `meeting add`, for the command line, apply and restore */
enum spec_parse_flags {
	SPEC_PAST_OK	= 1 << 0,	/* any expiry time is taken (restore: the clock moved) */
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
void spec_list_free(struct spec_list *l);
/* Refuses two meetings of one name, shared ports, more meetings or exceptions than fit. */
int spec_list_check(const struct spec_list *l, char *err, size_t errlen);
/* Reads a file of `meeting add` lines (# comments, blank lines); err names the line. */
int rules_file_read(const char *path, __s64 now, unsigned int flags, struct spec_list *l,
		    char *err, size_t errlen);

/* rules.c: the rule set in the maps */
struct rules {
	struct meeting_policy *policies;	/* GB_MAX_MEETINGS slots, index = meeting id */
	struct port_owner *owners;		/* GB_PORT_COUNT entries, index = port */
	struct allow_v4_key *allow4;		/* every allow exception, all meetings */
	struct allow_v6_key *allow6;
	size_t n_allow4, n_allow6;
	struct drop_slots *slots;		/* drop_slot: GB_MAX_MEETINGS, index = id */
	__u64 *counter_used;			/* bit per drop counter a meeting holds */
	size_t counters_free;			/* drop counters no meeting holds */
};

/* What apply (or a rollback, or restore) changes to make the maps hold a given set. */
enum plan_action { PLAN_KEEP, PLAN_MODE, PLAN_ADD, PLAN_REPLACE };
struct rules_plan {
	const struct spec_list *want;
	enum plan_action *action;	/* per wanted meeting */
	__u32 *old_id;			/* per wanted meeting: the live meeting of that name, or 0 */
	__u32 *doomed;			/* live meetings of no wanted name: removed */
	size_t n_doomed;
	size_t n_keep, n_mode, n_add, n_replace;
};

int rules_read(const struct gb_ctx *ctx, struct rules *r);
void rules_free(struct rules *r);
__u32 rules_find(const struct rules *r, const char *name);
void rules_ports_of(const struct rules *r, __u32 id, __u8 ports[GB_PORT_COUNT / 8]);
/*
 * Finishes what an interrupted change left: inactive slots, ports and exceptions of no meeting;
 * and converts expiries for the data path again when the TAI offset has changed since.
 */
int rules_repair(const struct gb_ctx *ctx, struct rules *r);
/*
 * Takes the rule set for a change (the caller holds the lock): reads it, repairs it, rolls back
 * an interrupted change, with lost_back puts the rules file back into maps that were made anew
 * (they hold no meeting while the file lists some: audited), and removes expired meetings
 * (audited).
 */
int rules_begin(const struct gb_ctx *ctx, struct rules *r, bool lost_back);
/* Deletes the meetings whose expiry has passed, audited; returns how many, or -errno. Locks. */
int rules_expire(const struct gb_ctx *ctx);
bool rules_expired(const struct meeting_policy *p);
__s64 rules_expires_unix(const struct meeting_policy *p);
int rules_spec(const struct rules *r, __u32 id, struct meeting_spec *s);
int rules_specs(const struct rules *r, struct spec_list *l);	/* every active meeting */
/* Adds one meeting; the data path sees it only once it is complete. */
int rules_add(const struct gb_ctx *ctx, struct rules *r, const struct meeting_spec *s, __u32 *id);
int rules_remove(const struct gb_ctx *ctx, struct rules *r, __u32 id);
int rules_set_monitor(const struct gb_ctx *ctx, struct rules *r, __u32 id, bool monitor);
int rules_plan(const struct rules *r, const struct spec_list *want, struct rules_plan *p);
void rules_plan_free(struct rules_plan *p);
/* Prints the plan as "- old" / "+ new" lines; appends the same lines to changes if not NULL. */
void rules_plan_print(const struct rules *r, const struct rules_plan *p, FILE *out,
		      struct json_object *changes);
/*
 * Makes the maps hold exactly want, all or nothing: a journal in the state dir makes the next
 * change roll back a run that died midway; a failed step rolls back at once. The planned changes
 * are appended to changes (a JSON array) if not NULL.
 */
int rules_converge(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *want,
		   struct json_object *changes);
/* Makes the maps hold the state dir's rules file (restore); changes as in rules_plan_print. */
int rules_recover(const struct gb_ctx *ctx, struct rules *r, struct json_object *changes);
/* Writes the state dir's rules file from the maps. */
int rules_save(const struct gb_ctx *ctx, const struct rules *r);
/*
 * A single change runs under the journal (as rules_converge does): rules_change_begin writes it
 * before the maps change (one error line if it cannot: nothing changed); the three functions
 * below remove it once the maps and the rules file agree again, rules_change_end where the change
 * failed before it reached the rules file.
 */
int rules_change_begin(const struct gb_ctx *ctx);
void rules_change_end(const struct gb_ctx *ctx);
/*
 * The rules file after meeting id was added or switched (rules_set_monitor); if it cannot be
 * written, the change is undone in the maps and one error line says so.
 */
int rules_save_added(const struct gb_ctx *ctx, struct rules *r, __u32 id);
int rules_save_switched(const struct gb_ctx *ctx, struct rules *r, __u32 id);
/* Removes meeting id, rules file first: if it cannot be written, the maps are left as they were. */
int rules_remove_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id);

/* audit.c: the append-only audit log in the state dir */
/*
 * Appends one JSON line: time, uid, SUDO_USER, command (NULL: this process's command line),
 * reason, result, and the changes (a JSON array of lines, taken over; may be NULL).
 */
int audit_log(const struct gb_ctx *ctx, const char *command, const char *reason, const char *result,
	      struct json_object *changes);
/*
 * Appends the record of a finished command: result "ok" if ret is 0, else the last error. If the
 * record cannot be written after a change that was made (ret 0), the error line begins "done,
 * but not audited:" (the command still fails: nothing may change unrecorded without a word).
 */
int audit_result(const struct gb_ctx *ctx, const char *reason, int ret, struct json_object *changes);

/* restore.c: what `restore` needs besides the rules file */
/* Records ifname's attachment (mode NULL: forgets it); 1 if it was recorded before, 0 if not. */
int state_attachment_set(const struct gb_ctx *ctx, const char *ifname, const char *mode,
			 const char *lookup);
/* 1 if ifname's attachment is recorded, 0 if not, or a negative errno. */
int state_attachment_recorded(const struct gb_ctx *ctx, const char *ifname);
/* The most files one table is loaded from (and restore loads again). */
#define GEOIP_MAX_FILES 16
/*
 * Keeps copies of the n files of a table just loaded, and how to load them again; ids: each
 * file's stat when the load began (a file changed since is not copied: an error line says so).
 */
int state_geoip_loaded(const struct gb_ctx *ctx, char *const *paths, const struct stat *ids, int n,
		       const char *source, const char *field, bool with_lpm);
/* How the kept table was loaded (its --field, --with-lpm); "country" and false if unrecorded. */
int state_geoip_how(const struct gb_ctx *ctx, char *field, size_t len, bool *with_lpm);

/* attach.c, for restore */
bool attach_live(const struct gb_ctx *ctx, const char *ifname);
/* Attaches; the caller holds the lock when `locked`. Returns an exit code. */
int attach_iface(const char *ifname, const char *mode, const char *lookup, bool locked);

#endif
