// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: calls rules_expire() as the daemon does, on a context opened without the lock (the
 * function takes it), and prints how many expired meetings it deleted.
 */
#include <stdio.h>
#include "lib/errors.h"
#include "kern/pins.h"
#include "state/context.h"
#include "state/converge.h"

int main(void)
{
	struct gb_ctx ctx;
	int n;

	gb_set_command("expire_pass");
	if (gb_open(&ctx, 0))
		return 2;
	n = rules_expire(&ctx);
	gb_close(&ctx);
	if (n < 0)
		return 2;
	printf("%d\n", n);
	return 0;
}
