/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the controller's modules: context, errors, and each module's entry points. */
#ifndef GEOBLOCK_COMMON_H
#define GEOBLOCK_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "geoblock.h"

#define GB_DEFAULT_PIN_DIR	"/sys/fs/bpf/geoblock"
#define GB_DEFAULT_STATE_DIR	"/var/lib/geoblock"

/* Exit codes (geoblock(8)): 1 for a usage error, 2 for a failure while doing the work. */
enum { GB_EXIT_OK = 0, GB_EXIT_USAGE = 1, GB_EXIT_FAIL = 2 };

struct geoblock;	/* the libbpf skeleton */

struct gb_ctx {
	char pin_dir[256];
	char state_dir[256];
	struct geoblock *skel;
	int lock_fd;
};

enum gb_open_flags {
	GB_OPEN_PROGRAM	= 1 << 0,	/* load the XDP program too (attach) */
	GB_OPEN_LOCKED	= 1 << 1,	/* take the state lock first (every change) */
	GB_OPEN_LPM	= 1 << 2,	/* with GB_OPEN_PROGRAM: a program that looks up the LPM tries */
};

/* errors.c */
void gb_set_command(const char *name);
void gb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *gb_last_error(void);	/* the last gb_err message, "" if none */

/* pins.c */
int gb_open(struct gb_ctx *ctx, unsigned int flags);
void gb_close(struct gb_ctx *ctx);
int gb_write_file_atomic(const char *dir, const char *name, const char *data, size_t len);
/* Takes the state lock on a new fd (returned; close it to release), waiting for other holders. */
int gb_lock(const char *state_dir);
int gb_sync_dir(const char *dir);
/*
 * 0 if the maps pinned in the pin dir are the ones ctx opened; -ENOENT if they were removed,
 * -ESTALE if made anew since (a long-running process then holds maps nothing else sees).
 */
int gb_pins_current(const struct gb_ctx *ctx);

/* audit.c */
/*
 * Puts right a record cut short at the end of the audit log (its writer killed in mid-write), if
 * there is one; the caller holds the state lock. gb_open does it for every locked command.
 */
int audit_repair(const struct gb_ctx *ctx);

/* country.c */
__u16 country_id(const char *code);		/* GB_COUNTRY_NONE unless two letters */
void country_code(__u16 id, char out[3]);	/* "--" for none */
int parse_countries(const char *list, __u64 blocked[GB_COUNTRY_WORDS], char *err, size_t errlen);
int parse_ports(const char *list, __u8 ports[GB_PORT_COUNT / 8], char *err, size_t errlen);
int format_ports(const __u8 ports[GB_PORT_COUNT / 8], char *out, size_t outlen);
int format_countries(const __u64 blocked[GB_COUNTRY_WORDS], char *out, size_t outlen);
bool meeting_name_valid(const char *name);
/* At most max bytes of item for a message, other bytes than printable ASCII as \xNN. */
const char *printable(const char *item, size_t len, size_t max, char *buf, size_t buflen);
/* Splits LIST at commas and calls fn on each item; an empty list or item is an error ("what" names it). */
int parse_items(const char *list, const char *what,
		int (*fn)(const char *item, size_t len, void *arg, char *err, size_t errlen),
		void *arg, char *err, size_t errlen);

/* parse.c: the rest of what operators type: address lists, expiry times, protocols */
struct cidr {
	__u8 family;		/* 4 or 6 */
	__u8 len;
	__u8 addr[16];		/* IPv4 in the first 4 bytes; bits past len are zero */
};

/* Parses "CIDR[,CIDR...]" (a bare address is a host); sorted, duplicates dropped, *out malloc'd. */
int parse_cidrs(const char *list, struct cidr **out, size_t *n, char *err, size_t errlen);
int format_cidr(const struct cidr *c, char *out, size_t outlen);
int cidr_cmp(const struct cidr *a, const struct cidr *b);
bool cidr_contains(const struct cidr *c, int family, const __u8 *addr);
/*
 * "2h", "90m", "1h30m", "1d" from now, or an RFC 3339 time; *out in unix seconds. A time more
 * than ten years from now is refused unless any_time (geoblock's own rules file: the clock may
 * have gone back since it was written).
 */
int parse_expiry(const char *s, __s64 now, bool any_time, __s64 *out, char *err, size_t errlen);
int format_rfc3339(__s64 t, char *out, size_t outlen);	/* UTC, "2026-01-02T15:04:05Z" */
/* "udp", "tcp", "udp,tcp" into GB_MEETING_UDP | GB_MEETING_TCP. */
int parse_protos(const char *list, __u32 *flags, char *err, size_t errlen);
const char *format_protos(__u32 flags);

static inline bool port_isset(const __u8 *ports, unsigned int p)
{
	return ports[p / 8] & (1u << (p % 8));
}

/* Country id cc is on a block list (meeting_policy.blocked). */
static inline bool country_isset(const __u64 *blocked, unsigned int cc)
{
	return blocked[cc / 64] & (1ULL << (cc % 64));
}

/* prefix.c: country-tagged prefix lists, kept in address order and merged as they grow */
struct prefix {
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
	__u8 len;
	__u8 pad;
	__u16 country;
};

struct prefix_list {
	struct prefix *v;
	size_t n, cap;
	size_t added;		/* networks added, before merging */
};

/* The most networks a list of family (4 or 6) holds; adding past it fails with -E2BIG. */
size_t prefix_list_max(int family);
int prefix_list_add(struct prefix_list *l, int family, const __u8 *addr, unsigned int len,
		    __u16 country);
int prefix_list_add_range(struct prefix_list *l, int family, const __u8 *start, const __u8 *end,
			  __u16 country);
/* Two networks of different lists that overlap with different countries. */
struct prefix_conflict {
	size_t list_a, list_b;
	struct prefix a, b;
};
int prefix_list_union(struct prefix_list *out, int family, const struct prefix_list *in, size_t n,
		      struct prefix_conflict *c);
void prefix_list_free(struct prefix_list *l);

/* geoip.c: reading GeoIP databases into prefix lists */
struct geoip_table {
	struct prefix_list v4, v6;
	__u64 build_epoch;
	char database_type[64];
};

int geoip_read(const char *path, const char *field, struct geoip_table *t, char *err, size_t errlen);
/* Several files (any mix of formats) into one table; overlapping networks must agree. */
int geoip_read_files(char *const *paths, int n, const char *field, struct geoip_table *t,
		     char *err, size_t errlen);
void geoip_table_free(struct geoip_table *t);

/* table.c: the kernel side of the GeoIP table */
int table_install(const struct gb_ctx *ctx, const struct geoip_table *t, const char *source,
		  bool with_lpm);
/*
 * table_install with a check that runs while the new maps are built, under the caller's lock:
 * nonzero refuses the table (nothing is swapped, nothing printed here) and is returned.
 */
typedef int (*table_check_fn)(void *arg);
int table_install_checked(const struct gb_ctx *ctx, const struct geoip_table *t,
			  const char *source, bool with_lpm, table_check_fn check, void *arg);
struct table_match {
	__u16 country;
	__u8 prefixlen;		/* of the network that answered (0 with family 0: not known) */
	__u8 family;		/* of the table that answered: an IPv6 alias answers from IPv4 */
	__u8 addr[16];		/* the address that table was asked for */
};
/* The live tables, mapped read-only: compiled tables, network lists, LPM tries if loaded. */
struct table_view {
	const void *tab[2], *net[2];
	size_t tab_len[2], net_len[2], tab_entries[2], net_n[2];
	int lpm[2];
};
int table_open(const struct gb_ctx *ctx, struct table_view *v);
void table_close(struct table_view *v);
/* The structures of a loaded table, and the kernel memory of each per family ([0] IPv4). */
enum { TABLE_COMPILED, TABLE_LPM, TABLE_NETWORKS, TABLE_KINDS };
void table_memory(const struct gb_ctx *ctx, __u64 bytes[TABLE_KINDS][2]);
/* Country of addr (IPv4 in the first 4 bytes) from the compiled table, or the LPM tries. */
int table_lookup(const struct table_view *v, bool lpm, int family, const __u8 *addr,
		 struct table_match *m);

/* links.c: the pinned links (link_IFNAME in the pin dir), one per interface attached to */
#define GB_LINK_PREFIX "link_"

struct link_state {
	char name[16];		/* the interface's name when it was attached (IF_NAMESIZE) */
	__u32 ifindex;		/* 0 once that interface is gone */
	__u32 prog_id;
};
/* Every pinned link, sorted by name; *links is NULL when there are none. */
int links_read(const struct gb_ctx *ctx, struct link_state **links, size_t *n);
/* The ifindex a pinned link's fd is attached to: 0 once its interface is gone, <0 if unreadable. */
int link_ifindex(int fd, __u32 *prog_id);
/* counters.c: the stable name of an enum verdict_reason, as in `stats --json` */
const char *verdict_name(unsigned int reason);

/* geoip_sanity.c: whether a compiled table may replace the loaded one */
bool geoip_table_empty(const struct geoip_table *t);
int geoip_check_shrink(const struct gb_ctx *ctx, const struct geoip_table *t, double max_shrink,
		       char *err, size_t errlen);

/*
 * geoip_cmd.c: `geoip load PATH...` as the last load was made (--field, --with-lpm), for the
 * daemon's --watch; 0 when loaded
 */
int geoip_reload(const struct gb_ctx *ctx, char *const *paths, int n);

/* command entry points */
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_geoip(int argc, char **argv);
int cmd_meeting(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_restore(int argc, char **argv);

/* shared by the commands: a bpftool-style dispatch table */
struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
};
int cmd_select(const struct cmd *cmds, int argc, char **argv, void (*help)(void),
	       const char *object);

#endif /* GEOBLOCK_COMMON_H */
