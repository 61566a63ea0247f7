/* sbx-build render: write every rendered guest file of VM into DIR. */
#include "cmd.h"

static enum cmd_status
exec_render(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_yet("render", "issue 3");
}

const struct cmd_entry cmd_render_entry = {
	.name = "render",
	.usage = "VM DIR",
	.summary = "write every rendered guest file of VM into DIR",
	.min_args = 2,
	.max_args = 2,
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_render,
};
