/* SPDX-License-Identifier: GPL-2.0 */
/* The journal: present in the state dir while a change of the rule set is under way. */
#ifndef GEOBLOCK_STATE_JOURNAL_H
#define GEOBLOCK_STATE_JOURNAL_H

#include <stdbool.h>
#include "kern/pins.h"

#define GB_JOURNAL_FILE	"rules.journal"

int rules_journal_write(const struct gb_ctx *ctx);
int rules_journal_remove(const struct gb_ctx *ctx);
bool rules_journal_exists(const struct gb_ctx *ctx);
/*
 * A single change runs under the journal (as rules_converge does): rules_change_begin writes it
 * before the maps change (one error line if it cannot: nothing changed); rules_change_end removes
 * it once the maps and the rules file agree again, or where the change failed before it reached
 * the rules file.
 */
int rules_change_begin(const struct gb_ctx *ctx);
void rules_change_end(const struct gb_ctx *ctx);

#endif
