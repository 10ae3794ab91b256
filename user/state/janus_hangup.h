/* SPDX-License-Identifier: GPL-2.0 */
/* Hanging up the participants a handle's meeting blocks (--janus-hangup), through Janus. */
#ifndef GEOBLOCK_STATE_JANUS_HANGUP_H
#define GEOBLOCK_STATE_JANUS_HANGUP_H

#include <linux/types.h>
#include "state/janus_members.h"

/*
 * Asks hangup(cls, session, handle) (0 done; -ETIMEDOUT no answer, which stops the pass's others)
 * of each handle whose client address its room's meeting blocks, as `check` answers: once per
 * handle, audited.
 */
void janus_members_hangup_blocked(struct janus_members *m,
				  int (*hangup)(void *cls, __u64 session, __u64 handle), void *cls);

#endif
