/* sbx-build verify: compare an image with its manifest. */
#include "cmd.h"

static enum cmd_status
exec_verify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_yet("verify", "issue 7");
}

const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.usage = "IMAGE",
	.summary = "compare an image with its manifest",
	.min_args = 1,
	.max_args = 1,
	.flags = 0,
	.exec = exec_verify,
};
