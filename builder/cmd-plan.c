/* sbx-build plan VM: print the ordered steps the build will take for VM,
 * without touching any image. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "prepare.h"
#include "recipe.h"

static enum cmd_status
exec_plan(int argc, char **argv)
{
	struct strbuf out = STRBUF_INIT;
	struct diag_list *diags;
	struct plan plan;
	const struct vm *vm;
	int r;

	optind = 0;
	if (cmd_getopt(&cmd_plan_entry, argc, argv) != -1)
		return cmd_bad_option(&cmd_plan_entry);
	if (!cmd_operands_ok(&cmd_plan_entry, argc - optind))
		return CMD_USAGE;
	vm = recipe_find_vm(globals.recipes, argv[optind]);
	if (vm == NULL) {
		log_error("no VM named '%s' in the recipes", argv[optind]);
		return CMD_ERROR;
	}
	diags = diag_list_new();
	r = prepare_plan(globals.recipes, vm, NULL, 0, &plan, diags);
	if (r < 0) {
		diag_print(diags, stderr);
		diag_list_free(diags);
		return CMD_ERROR;
	}
	diag_list_free(diags);
	plan_format(&plan, &out);
	fwrite(out.buf, 1, out.len, stdout);
	sb_release(&out);
	plan_release(&plan);
	return CMD_OK;
}

const struct cmd_entry cmd_plan_entry = {
	.name = "plan",
	.usage = "VM",
	.summary = "print the steps the build will take for VM",
	.min_args = 1,
	.max_args = 1,
	.operands = CMD_OPERAND_VM,
	.writes = "nothing; the plan goes to stdout",
	.example = "sbx-build plan dev | less",
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_plan,
};
