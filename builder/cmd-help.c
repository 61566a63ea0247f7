/* sbx-build help [COMMAND] */
#include <stdio.h>

#include "cmd.h"
#include "util.h"

static enum cmd_status
exec_help(int argc, char **argv)
{
	const struct cmd_entry *cmd;

	if (!cmd_operands_ok(&cmd_help_entry, argc - 1))
		return CMD_USAGE;
	if (argc == 1) {
		printf("usage: sbx-build [-C DIR] [-q|-v] [--no-progress] "
		       "<command> [args]\n");
		cmd_list(stdout);
		return CMD_OK;
	}
	cmd = cmd_find(argv[1]);
	if (cmd == NULL) {
		log_error("'%s' is not a command; see 'sbx-build help'",
			  argv[1]);
		return CMD_USAGE;
	}
	printf("usage: sbx-build %s%s%s\n\n%s\n", cmd->name,
	       *cmd->usage ? " " : "", cmd->usage, cmd->summary);
	return CMD_OK;
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "[COMMAND]",
	.summary = "show the commands, or one command's usage",
	.min_args = 0,
	.max_args = 1,
	.flags = 0,
	.exec = exec_help,
};
