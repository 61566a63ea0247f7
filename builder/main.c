/* sbx-build: parse global options, dispatch, map the result to an exit
 * code.  Everything else lives in cmd-*.c and the engine modules. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-doc.h"
#include "cmd.h"
#include "progress.h"
#include "util.h"

/* The command table, sorted by name: one entry per cmd-<verb>.c.  A new
 * command: write builder/cmd-<verb>.c with its cmd_entry (options, operand
 * kind, what it writes, an example), declare the entry in cmd.h, add it
 * here, then run scripts/gen-docs: 'help', '--help', the completion and
 * the README and man page tables all come from the entry. */
static const struct cmd_entry *const cmd_table[] = {
	&cmd_all_entry,
	&cmd_build_entry,
	&cmd_check_entry,
	&cmd_clean_entry,
	&cmd_fetch_entry,
	&cmd_help_entry,
	&cmd_lock_entry,
	&cmd_pack_entry,
	&cmd_plan_entry,
	&cmd_pull_entry,
	&cmd_push_entry,
	&cmd_render_entry,
	&cmd_scripts_entry,
	&cmd_seed_entry,
	&cmd_unpack_entry,
	&cmd_verify_entry,
	NULL,
};

static void
usage(FILE *f)
{
	fputs("usage: sbx-build [-C DIR] [-q|-v] [--no-progress] "
	      "<command> [args]\n"
	      "       sbx-build --version | --help\n",
	      f);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"directory", required_argument, NULL, 'C'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"no-progress", no_argument, NULL, 'P'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const struct cmd_entry *cmd;
	int c, status;

	cmd_set_table(cmd_table);

	globals.dir = ".";
	globals.progress = true;
	while ((c = getopt_long(argc, argv, "+C:qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			globals.dir = optarg;
			break;
		case 'q':
			globals.verbosity = -1;
			globals.progress = false;
			break;
		case 'v':
			if (globals.verbosity >= 0)
				globals.verbosity++;
			break;
		case 'P':
			globals.progress = false;
			break;
		case 'V':
			printf("sbx-build %s\n", SBX_VERSION);
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
		case 'h':
			usage(stdout);
			cmd_list(stdout);
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
		default:
			usage(stderr);
			return CMD_USAGE;
		}
	}
	log_set_level(globals.verbosity);
	progress_enable(globals.progress);
	if (optind >= argc) {
		usage(stderr);
		return CMD_USAGE;
	}
	cmd = cmd_find(argv[optind]);
	if (cmd == NULL) {
		log_error("'%s' is not a command; see 'sbx-build help'",
			  argv[optind]);
		usage(stderr);
		return CMD_USAGE;
	}
	/* "CMD --help" anywhere before "--": the command's help, without
	 * loading any recipe. */
	for (int i = optind + 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0) {
			cmd_doc_help(stdout, cmd);
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
		}
	status = cmd_run(cmd, argc - optind, argv + optind);
	/* A full disk must not look like success (git's run_builtin). */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("cannot write to standard output");
		return CMD_ERROR;
	}
	return status;
}
