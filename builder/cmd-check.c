/* sbx-build check: validate every recipe.  The shared setup loads and
 * validates them (CMD_NEEDS_RECIPES); exec adds what needs the files
 * beside the recipes: local base images exist and look like disk images,
 * and each VM's plan can be made (templates and overlay read, every file
 * rendered), so that check exit 0 means plan, render and build accept the
 * recipes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "diag.h"
#include "plan.h"
#include "prepare.h"
#include "recipe.h"

static enum cmd_status
exec_check(int argc, char **argv)
{
	const struct recipe_set *set = globals.recipes;
	struct diag_list *diags;
	int r;

	optind = 0;
	if (cmd_getopt(&cmd_check_entry, argc, argv) != -1)
		return cmd_bad_option(&cmd_check_entry);
	if (!cmd_operands_ok(&cmd_check_entry, argc - optind))
		return CMD_USAGE;
	diags = diag_list_new();
	r = recipe_check_base_files(set, diags);
	for (size_t i = 0; i < set->nvms; i++) {
		struct plan plan;

		if (prepare_plan(set, &set->vms[i], NULL, 0, &plan, diags) < 0)
			r = -EINVAL;
		else
			plan_release(&plan);
	}
	if (r < 0) {
		diag_print(diags, stderr);
		diag_list_free(diags);
		return CMD_ERROR;
	}
	diag_list_free(diags);
	if (globals.verbosity >= 0)
		printf("%zu recipe file%s, %zu VM%s, %zu base%s: ok\n",
		       set->nfiles, set->nfiles == 1 ? "" : "s", set->nvms,
		       set->nvms == 1 ? "" : "s", set->nbases,
		       set->nbases == 1 ? "" : "s");
	return CMD_OK;
}

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "",
	.summary = "validate every recipe",
	.min_args = 0,
	.max_args = 0,
	.writes = "nothing; every problem goes to stderr",
	.example = "sbx-build check\nsbx-build -C ~/sandbox check",
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_check,
};
