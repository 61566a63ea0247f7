/* sbx-build help [COMMAND]; help --completion|--markdown|--man print what
 * scripts/gen-docs writes into contrib/, README.md and doc/sbx-build.1. */
#include <stdio.h>

#include "cmd-doc.h"
#include "cmd.h"
#include "util.h"

static const struct cmd_option help_options[] = {
	{"completion", 'c', false, NULL,
	 "print the bash completion script (contrib/sbx-build.bash)"},
	{"markdown", 'm', false, NULL,
	 "print the README's command and option tables"},
	{"man", 'M', false, NULL,
	 "print the man page's COMMAND OPTIONS section"},
	{NULL, 0, false, NULL, NULL},
};

static enum cmd_status
exec_help(int argc, char **argv)
{
	const struct cmd_entry *cmd;
	void (*print)(FILE *) = NULL;
	int c;

	optind = 0;
	while ((c = cmd_getopt(&cmd_help_entry, argc, argv)) != -1) {
		if (c == 'c')
			print = cmd_doc_completion;
		else if (c == 'm')
			print = cmd_doc_markdown;
		else if (c == 'M')
			print = cmd_doc_man;
		else
			return cmd_bad_option(&cmd_help_entry);
	}
	if (!cmd_operands_ok(&cmd_help_entry, argc - optind))
		return CMD_USAGE;
	if (print != NULL) {
		if (optind < argc) {
			log_error("help: --%s takes no COMMAND",
				  print == cmd_doc_completion ? "completion"
				  : print == cmd_doc_markdown ? "markdown"
							      : "man");
			cmd_usage(&cmd_help_entry);
			return CMD_USAGE;
		}
		print(stdout);
		return CMD_OK;
	}
	if (optind == argc) {
		printf("usage: sbx-build [-C DIR] [-q|-v] [--no-progress] "
		       "<command> [args]\n");
		cmd_list(stdout);
		return CMD_OK;
	}
	cmd = cmd_find(argv[optind]);
	if (cmd == NULL) {
		log_error("'%s' is not a command; see 'sbx-build help'",
			  argv[optind]);
		return CMD_USAGE;
	}
	cmd_doc_help(stdout, cmd);
	return CMD_OK;
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "[--completion|--markdown|--man] [COMMAND]",
	.summary = "show the commands, or one command's options, what it "
		   "writes and an example",
	.min_args = 0,
	.max_args = 1,
	.flags = 0,
	.options = help_options,
	.operands = CMD_OPERAND_COMMAND,
	.writes = "nothing; the help goes to stdout",
	.example = "sbx-build help build\nsbx-build build --help",
	.exec = exec_help,
};
