/* SPDX-License-Identifier: GPL-2.0 */
/* The state dir's records besides the rules file: attachments, the GeoIP files last loaded. */
#ifndef GEOBLOCK_STATE_RECORDS_H
#define GEOBLOCK_STATE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <sys/stat.h>
#include "kern/pins.h"

#define STATE_ATTACH_FILE	"attachments"
#define STATE_GEOIP_COPY	"geoip.db"
#define STATE_GEOIP_CONF	"geoip.conf"

struct state_attachment {
	char ifname[IF_NAMESIZE];
	char mode[16];
	char lookup[16];
};

/* The attachments file ("IFACE MODE LOOKUP" lines); *out malloc'd, NULL and 0 when none. */
int state_attachments_read(const struct gb_ctx *ctx, struct state_attachment **out, size_t *n);
/*
 * Records ifname's attachment (mode NULL: forgets it); 1 if it was recorded before, 0 if not, or a
 * negative errno, unsaid (the caller says what it leaves).
 */
int state_attachment_set(const struct gb_ctx *ctx, const char *ifname, const char *mode,
			 const char *lookup);
/* 1 if ifname's attachment is recorded, 0 if not, or a negative errno. */
int state_attachment_recorded(const struct gb_ctx *ctx, const char *ifname);

/* How the kept GeoIP table was loaded. */
struct state_geoip_conf {
	char field[32];
	char source[256];
	bool with_lpm;
	int files;
	unsigned int bad_line;	/* the first line not understood (left as the default), or 0 */
	/* The table once live, if recorded: its boot and network list ids (table_networks_ids). */
	char boot[40];
	__u32 net_ids[2];
	struct geoip_info info;	/* its description, if recorded (loaded_at 0: not) */
};

/* The record of the kept table; -ENOENT if there is none. */
int state_geoip_conf_read(const struct gb_ctx *ctx, struct state_geoip_conf *c);
/* The same from the state dir's file name (a staged record, see geoip_kept.h). */
int state_geoip_conf_read_name(const struct gb_ctx *ctx, const char *name,
			       struct state_geoip_conf *c);
/* How the kept table was loaded (its --field, --with-lpm); "country" and false if unrecorded. */
int state_geoip_how(const struct gb_ctx *ctx, char *field, size_t len, bool *with_lpm);
/* Name of the kept copy of file i of the loaded table: geoip.db, geoip.db.1, ... */
void state_geoip_copy_name(char *out, size_t len, int i);

#endif
