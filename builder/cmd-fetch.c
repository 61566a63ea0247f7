/* sbx-build fetch: download and verify base images into the cache. */
#include "cmd.h"

static enum cmd_status
exec_fetch(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_not_yet("fetch", "issue 4");
}

const struct cmd_entry cmd_fetch_entry = {
	.name = "fetch",
	.usage = "[--offline] [--cache DIR] [--from FILE] [BASE...]",
	.summary = "download and verify base images into the cache",
	.min_args = 0,
	.max_args = -1,
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_fetch,
};
