/* sbx-build lock: write or refresh sbx.lock. */
#include "cmd.h"

static enum cmd_status
exec_lock(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_yet("lock", "issue 4");
}

const struct cmd_entry cmd_lock_entry = {
	.name = "lock",
	.usage = "[--update] [--release N]",
	.summary = "write or refresh sbx.lock",
	.min_args = 0,
	.max_args = 0,
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_lock,
};
