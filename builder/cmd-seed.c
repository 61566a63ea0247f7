/* sbx-build seed: write a cloud-init NoCloud seed ISO for VM. */
#include "cmd.h"

static enum cmd_status
exec_seed(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_yet("seed", "issue 3");
}

const struct cmd_entry cmd_seed_entry = {
	.name = "seed",
	.usage = "VM",
	.summary = "write a cloud-init NoCloud seed ISO for VM",
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_seed,
};
