/* The command table: one entry per subcommand, each in builder/cmd-<verb>.c. */
#ifndef SBX_CMD_H
#define SBX_CMD_H

#include <getopt.h>
#include <stdbool.h>

enum cmd_status {
	CMD_OK = 0,
	CMD_ERROR = 1,
	CMD_USAGE = 2,
};

enum cmd_flags {
	/* Load and validate recipes before exec; see globals.recipes. */
	CMD_NEEDS_RECIPES = 1u << 0,
};

struct cmd_entry {
	const char *name;
	const char *usage;	/* arguments, printed after the name */
	const char *summary;	/* one line for 'help' */
	int min_args, max_args; /* operands after options; -1 = no limit */
	unsigned flags;
	/* argv[0] is the command name; getopt-style options follow. */
	enum cmd_status (*exec)(int argc, char **argv);
};

struct recipe_set;

/* Options given before the command, shared by every command. */
struct globals {
	const char *dir; /* -C DIR: project directory (default ".") */
	int verbosity;	 /* -1 quiet, 0 normal, 1+ verbose */
	bool progress;	 /* false with --no-progress or -q */
	struct recipe_set *recipes; /* loaded when CMD_NEEDS_RECIPES */
};

extern struct globals globals;

/* The NULL-terminated table, sorted by name (main.c owns it). */
void cmd_set_table(const struct cmd_entry *const *table);

#include <stdio.h>

const struct cmd_entry *cmd_find(const char *name);
/* Prints "usage: sbx-build NAME USAGE" on stderr. */
void cmd_usage(const struct cmd_entry *cmd);
/* Lists every command with its summary. */
void cmd_list(FILE *f);
/* Runs the shared setup that cmd->flags asks for, then cmd->exec. */
enum cmd_status cmd_run(const struct cmd_entry *cmd, int argc, char **argv);
/* After option parsing: true when n operands fit cmd's counts; otherwise
 * prints the usage line. */
bool cmd_operands_ok(const struct cmd_entry *cmd, int n);
/* Reports an unknown option or a missing option argument (getopt's '?'
 * or ':') with the usage line; returns CMD_USAGE. */
enum cmd_status cmd_bad_option(const struct cmd_entry *cmd);
/* For commands without options: getopt_long still names an unknown one.
 * Every command takes its options anywhere among its operands (GNU
 * style); "--" ends them. */
extern const struct option cmd_no_options[];
struct lock;
/* Loads the lock file at path (missing is empty), printing every problem
 * with its position; NULL after a failure was reported. */
struct lock *cmd_lock_load(const char *path);
/* Logs "'NAME' is not available yet" and returns CMD_ERROR. */
enum cmd_status cmd_not_yet(const char *name, const char *issue);

extern const struct cmd_entry cmd_all_entry;
extern const struct cmd_entry cmd_build_entry;
extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_clean_entry;
extern const struct cmd_entry cmd_fetch_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_lock_entry;
extern const struct cmd_entry cmd_pack_entry;
extern const struct cmd_entry cmd_plan_entry;
extern const struct cmd_entry cmd_pull_entry;
extern const struct cmd_entry cmd_push_entry;
extern const struct cmd_entry cmd_render_entry;
extern const struct cmd_entry cmd_scripts_entry;
extern const struct cmd_entry cmd_seed_entry;
extern const struct cmd_entry cmd_unpack_entry;
extern const struct cmd_entry cmd_verify_entry;

#endif
