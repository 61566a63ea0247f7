/* sbx-build pack: pack out/ into a signed, shareable bundle. */
#include "cmd.h"

static enum cmd_status
exec_pack(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_yet("pack", "issue 8");
}

const struct cmd_entry cmd_pack_entry = {
	.name = "pack",
	.usage = "[-o FILE] [--sign KEY]",
	.summary = "pack out/ into a signed, shareable bundle",
	.min_args = 0,
	.max_args = 0,
	.flags = 0,
	.exec = exec_pack,
};
