/* sbx-build check: validate every recipe.  The shared setup does the work
 * (CMD_NEEDS_RECIPES); reaching exec means the recipes are good. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "recipe.h"

static enum cmd_status
exec_check(int argc, char **argv)
{
	const struct recipe_set *set = globals.recipes;

	optind = 0;
	if (getopt(argc, argv, "+") != -1)
		return cmd_bad_option(&cmd_check_entry);
	if (!cmd_operands_ok(&cmd_check_entry, argc - optind))
		return CMD_USAGE;
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
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_check,
};
