/* sbx-build all: fetch the bases and build every VM. */
#include "cmd.h"

static enum cmd_status
exec_all(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_yet("all", "issue 5");
}

const struct cmd_entry cmd_all_entry = {
	.name = "all",
	.usage = "[--offline] [--force] [--accel kvm|tcg]",
	.summary = "fetch the bases and build every VM",
	.min_args = 0,
	.max_args = 0,
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_all,
};
