/* sbx-build scripts [VM...]: write out/run-VM.sh, out/VM.xml, out/run-all.sh
 * and out/host/ without building any image. */
#include <getopt.h>
#include <string.h>

#include "cmd.h"
#include "outputs.h"
#include "recipe.h"
#include "util.h"

static enum cmd_status
exec_scripts(int argc, char **argv)
{
	CLEANUP_FREE char *out = path_join(globals.dir, "out");
	const struct recipe_set *set = globals.recipes;
	int r;

	optind = 0;
	if (cmd_getopt(&cmd_scripts_entry, argc, argv) != -1)
		return cmd_bad_option(&cmd_scripts_entry);
	if (!cmd_operands_ok(&cmd_scripts_entry, argc - optind))
		return CMD_USAGE;
	for (int i = optind; i < argc; i++) {
		if (recipe_find_vm(set, argv[i]) == NULL) {
			log_error("no VM named '%s' in the recipes", argv[i]);
			return CMD_ERROR;
		}
	}
	for (size_t i = 0; i < set->nvms; i++) {
		const struct vm *vm = &set->vms[i];
		bool wanted = optind == argc;

		for (int j = optind; j < argc && !wanted; j++)
			wanted = strcmp(argv[j], vm->name) == 0;
		if (!wanted)
			continue;
		r = outputs_write_vm(set, vm, out);
		if (r < 0) {
			log_error("cannot write the run script of '%s' to "
				  "'%s': %s",
				  vm->name, out, strerror(-r));
			return CMD_ERROR;
		}
		log_info("wrote '%s/run-%s.sh' and '%s/%s.xml'", out, vm->name,
			 out, vm->name);
	}
	r = outputs_write_all(set, out);
	if (r < 0) {
		log_error("cannot write '%s/run-all.sh': %s", out,
			  strerror(-r));
		return CMD_ERROR;
	}
	log_info("wrote '%s/run-all.sh'", out);
	return CMD_OK;
}

const struct cmd_entry cmd_scripts_entry = {
	.name = "scripts",
	.usage = "[VM...]",
	.summary = "write the run scripts and libvirt XML, build nothing",
	.min_args = 0,
	.max_args = -1,
	.operands = CMD_OPERAND_VM,
	.writes = "out/run-VM.sh and out/VM.xml for each VM (default: all), "
		  "out/run-all.sh, out/host/",
	.example = "sbx-build scripts\nsbx-build -q scripts dev",
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_scripts,
};
