// SPDX-License-Identifier: GPL-2.0
/*
 * `apply FILE`: the file's `meeting add` lines become the whole rule set, all or nothing; meetings
 * that stay the same keep their counters. `--check` validates and shows the difference only.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/errors.h"
#include "state/context.h"
#include "state/countries.h"
#include "state/ops.h"
#include "state/rules_read.h"
#include "state/shared_ports.h"
#include "cli/cmd.h"

static void print_summary(bool done, const struct ops_counts *c)
{
	if (done)
		printf("applied: %zu added, %zu changed, %zu switched mode, %zu deleted, %zu "
		       "unchanged\n", c->add, c->change, c->mode, c->deleted, c->keep);
	else
		printf("check: valid; %zu to add, %zu to change, %zu to switch mode, %zu to delete, "
		       "%zu unchanged\n", c->add, c->change, c->mode, c->deleted, c->keep);
}

/*
 * One warning line per meeting that blocks a country the loaded table gives no network; with no
 * table loaded, one for the file.
 */
static void warn_without_networks(const struct country_census *c, const char *path,
				  const struct spec_list *want)
{
	char line[PATH_MAX + 128];

	if (*countries_set_warning(c, want, path, line, sizeof(line)))
		gb_warn("%s", line);
	for (size_t i = 0; i < want->n && c->loaded; i++)
		countries_warn(c, want->v[i].blocked, want->v[i].name);
}

/* One warning line if the file gives ufrags while no port is shared. */
static void warn_unshared(const struct gb_ctx *ctx, const char *path, const struct spec_list *want)
{
	for (size_t i = 0; i < want->n; i++)
		if (want->v[i].n_ufrags) {
			shared_ports_warn_none(ctx, path);
			return;
		}
}

int cmd_apply(const struct cmd_args *a)
{
	static struct country_census census;
	const char *path = a->pos[0];
	bool check = a->opt[OPT_CHECK];
	struct ops_counts counts;
	struct spec_list want;
	struct gb_ctx ctx;
	char err_msg[1024];
	int err;

	/* The whole file is valid, or nothing happens. */
	err = rules_file_read(path, time(NULL), 0, NULL, &want, err_msg, sizeof(err_msg));
	if (err) {
		gb_err("%s", err_msg);
		return GB_EXIT_USAGE;
	}
	if (gb_open(&ctx, check ? GB_OPEN_READ | GB_OPEN_EMPTY_OK : GB_OPEN_LOCKED)) {
		spec_list_free(&want);
		return GB_EXIT_FAIL;
	}
	err = ops_apply(&ctx, NULL, path, &want, check, a->opt[OPT_REASON], stdout, &census,
			&counts);
	if (!err)
		print_summary(!check, &counts);
	/* Said after a failed change too: what the file asks for that the table cannot give. */
	if (!err || (err != -EINVAL && census.loaded))
		warn_without_networks(&census, path, &want);
	if (!err)
		warn_unshared(&ctx, path, &want);
	gb_close(&ctx);
	spec_list_free(&want);
	if (!err)
		return GB_EXIT_OK;
	return err == -EINVAL ? GB_EXIT_USAGE : GB_EXIT_FAIL;
}
