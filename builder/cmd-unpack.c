/* sbx-build unpack: verify and unpack a bundle. */
#include "cmd.h"

static enum cmd_status
exec_unpack(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_yet("unpack", "issue 8");
}

const struct cmd_entry cmd_unpack_entry = {
	.name = "unpack",
	.usage = "[-C DIR] [--allowed-signers FILE] FILE",
	.summary = "verify and unpack a bundle",
	.min_args = 1,
	.max_args = 1,
	.flags = 0,
	.exec = exec_unpack,
};
