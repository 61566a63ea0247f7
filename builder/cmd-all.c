/* sbx-build all: fetch the bases and build every VM, in one libguestfs
 * appliance. */
#include "bake.h"
#include "cmd.h"

static enum cmd_status
exec_all(int argc, char **argv)
{
	return cmd_bake(&cmd_all_entry, argc, argv, true);
}

const struct cmd_entry cmd_all_entry = {
	.name = "all",
	.usage = "[--offline] [--force] [--accel kvm|tcg]",
	.summary = "fetch the bases and build every VM",
	.min_args = 0,
	.max_args = 0,
	.flags = CMD_NEEDS_RECIPES,
	.options = cmd_bake_options,
	.writes = "as 'build', for every VM; the bases into the cache",
	.example = "sbx-build all\nsbx-build all --offline --force",
	.exec = exec_all,
};
