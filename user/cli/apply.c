// SPDX-License-Identifier: GPL-2.0
/*
 * `apply FILE`: the file's `meeting add` lines become the whole rule set, all or nothing; meetings
 * that stay the same keep their counters. `--check` validates and shows the difference only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "lib/errors.h"
#include "kern/pins.h"
#include "state/audit.h"
#include "state/context.h"
#include "state/countries.h"
#include "state/converge.h"
#include "state/plan.h"
#include "state/rules.h"
#include "state/rules_file.h"
#include "cli/cmd.h"

static void print_summary(bool done, const struct rules_plan *p)
{
	if (done)
		printf("applied: %zu added, %zu changed, %zu switched mode, %zu deleted, %zu "
		       "unchanged\n", p->n_add, p->n_replace, p->n_mode, p->n_doomed, p->n_keep);
	else
		printf("check: valid; %zu to add, %zu to change, %zu to switch mode, %zu to delete, "
		       "%zu unchanged\n", p->n_add, p->n_replace, p->n_mode, p->n_doomed, p->n_keep);
}

/* One warning line per meeting that blocks a country the loaded table gives no network. */
static void warn_without_networks(const struct country_census *c, const struct spec_list *want)
{
	for (size_t i = 0; i < want->n; i++)
		countries_warn(c, want->v[i].blocked, want->v[i].name);
}

int cmd_apply(const struct cmd_args *a)
{
	static struct country_census census;
	const char *reason = a->opt[OPT_REASON], *path = a->pos[0];
	struct json_object *changes = NULL;
	bool check = a->opt[OPT_CHECK];
	struct spec_list want;
	struct rules_plan plan;
	struct gb_ctx ctx;
	struct rules r;
	char err_msg[1024];
	int err, ret = GB_EXIT_FAIL;

	/* The whole file is valid, or nothing happens. */
	err = rules_file_read(path, time(NULL), 0, &want, err_msg, sizeof(err_msg));
	if (err) {
		gb_err("%s", err_msg);
		return GB_EXIT_USAGE;
	}

	if (gb_open(&ctx, check ? GB_OPEN_READ | GB_OPEN_EMPTY_OK : GB_OPEN_LOCKED))
		goto out_want;
	if (countries_census(&ctx, &census))
		goto out_close;
	for (size_t i = 0; i < want.n; i++) {
		if (!countries_check(&census, want.v[i].blocked, err_msg, sizeof(err_msg)))
			continue;
		gb_err("%s line %u: %s", path, want.v[i].line, err_msg);
		ret = GB_EXIT_USAGE;
		goto out_close;
	}
	err = check ? rules_read(&ctx, &r) : rules_begin(&ctx, &r, true);
	if (err)
		goto out_close;
	err = rules_plan(&r, &want, &plan);
	if (err) {
		gb_err("cannot plan the change: %s", strerror(-err));
		goto out_rules;
	}
	rules_plan_print(&r, &plan, stdout, NULL);
	if (check) {
		print_summary(false, &plan);
		warn_without_networks(&census, &want);
		ret = GB_EXIT_OK;
		goto out_plan;
	}
	changes = json_object_new_array();
	err = rules_converge(&ctx, &r, &want, changes);
	if (audit_result(&ctx, reason, err, changes) && !err)
		err = -EIO;
	if (!err) {
		print_summary(true, &plan);
		ret = GB_EXIT_OK;
	}
	warn_without_networks(&census, &want);
out_plan:
	rules_plan_free(&plan);
out_rules:
	rules_free(&r);
out_close:
	gb_close(&ctx);
out_want:
	spec_list_free(&want);
	return ret;
}
