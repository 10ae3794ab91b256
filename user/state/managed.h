/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A rule set that a store manages (a fleet node): the mark its daemon leaves in the state dir,
 * which refuses local changes, and the drift a local change made anyway leaves until the next
 * change from the store.
 */
#ifndef GEOBLOCK_STATE_MANAGED_H
#define GEOBLOCK_STATE_MANAGED_H

#include <stdbool.h>
#include <stddef.h>
#include "kern/pins.h"
#include "state/audit.h"

#define STATE_MANAGED_FILE	"managed-by"
#define STATE_DRIFT_FILE	"drift"

/* Marks the rule set as what's (e.g. "etcd /geoblock/ as node a"); NULL: unmarks it. */
int managed_mark(const struct gb_ctx *ctx, const char *what);
/* 1 and what into out when marked, 0 when not, or a negative errno. */
int managed_by(const struct gb_ctx *ctx, char *out, size_t len);
/* --local-override: this process's changes are made on a managed rule set anyway. */
void managed_allow_local(bool allow);
/*
 * Before a change of the rule set by who (NULL: the command line): 0 if it may be made (the
 * store's own changes always; local ones with managed_allow_local, leaving the drift mark),
 * else -EPERM after one line naming the store.
 */
int managed_guard(const struct gb_ctx *ctx, const struct audit_caller *who, const char *there);
/* What managed_guard's line says to change in the store instead (its there). */
#define MANAGED_MEETINGS	"geoblock fleet put"
#define MANAGED_SHARED		"its shared-ports key"
/* Whether a local change was made since the store's last change; managed_settled forgets it. */
bool managed_drift(const struct gb_ctx *ctx);
void managed_settled(const struct gb_ctx *ctx);
/* Marks a local change again (one forgotten by a converge that then failed). */
void managed_drifted(const struct gb_ctx *ctx);

#endif
