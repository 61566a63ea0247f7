/* sbx-build build: build the named VMs. */
#include "cmd.h"

static enum cmd_status
exec_build(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_yet("build", "issue 5");
}

const struct cmd_entry cmd_build_entry = {
	.name = "build",
	.usage = "[--offline] [--force] [--accel kvm|tcg] VM...",
	.summary = "build the named VMs",
	.min_args = 1,
	.max_args = -1,
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_build,
};
