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

/* One option of a command.  The command's cmd_option array is the only
 * list of its options: cmd_getopt parses with it, and 'help CMD', the bash
 * completion and the README and man page tables are printed from it
 * (cmd-doc.c), so they cannot drift. */
struct cmd_option {
	const char *name; /* long name, without "--" */
	int val;	  /* what cmd_getopt returns for it */
	bool short_too;	  /* "-VAL" is accepted as well */
	const char *arg;  /* its argument (FILE, DIR, kvm|tcg); NULL: none */
	const char *help; /* one line */
};

#define CMD_MAX_OPTIONS 16

/* What a command's operands are, for the completion. */
enum cmd_operand {
	CMD_OPERAND_NONE = 0,
	CMD_OPERAND_VM,
	CMD_OPERAND_BASE,
	CMD_OPERAND_VM_DIR, /* a VM, then a directory */
	CMD_OPERAND_FILE,
	CMD_OPERAND_IMAGE, /* a .qcow2 file */
	CMD_OPERAND_COMMAND,
};

struct cmd_entry {
	const char *name;
	const char *usage;	/* arguments, printed after the name */
	const char *summary;	/* one line for 'help' */
	int min_args, max_args; /* operands after options; -1 = no limit */
	unsigned flags;
	/* Terminated by a NULL name; NULL when the command has none. */
	const struct cmd_option *options;
	enum cmd_operand operands;
	const char *writes;  /* what the command writes, for 'help CMD' */
	const char *example; /* one or more command lines, '\n'-separated */
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
/* getopt_long over cmd->options (none when NULL): every command takes
 * its options anywhere among its operands (GNU style); "--" ends them.
 * A long option must be spelled out (no abbreviations).  The caller sets
 * optind = 0 before the first call. */
int cmd_getopt(const struct cmd_entry *cmd, int argc, char **argv);
/* The table main.c handed over, for cmd-doc.c. */
const struct cmd_entry *const *cmd_get_table(void);
struct lock;
/* Loads the lock file at path (missing is empty), printing every problem
 * with its position; NULL after a failure was reported. */
struct lock *cmd_lock_load(const char *path);
/* Logs "'NAME' is not available yet" and returns CMD_ERROR. */
enum cmd_status cmd_not_yet(const char *name, const char *issue);

/* --offline, --force, --accel: 'all' and 'build' (cmd-build.c). */
extern const struct cmd_option cmd_bake_options[];

/* -C DIR, --allowed-signers FILE, --identity NAME: 'unpack' and 'pull'
 * (cmd-unpack.c).  The rows of their option tables, the parsing of one
 * (1 when c was one of them), and the check that --identity comes with
 * --allowed-signers (false: the usage was printed). */
/* clang-format off */
#define CMD_UNPACK_OPTION_ROWS						\
	{"directory", 'C', true, "DIR",					\
	 "unpack into DIR (default out/; missing or empty)"},		\
	{"allowed-signers", 'a', false, "FILE",				\
	 "require a signature by a key in FILE (ssh-keygen format)"},	\
	{"identity", 'I', true, "NAME",					\
	 "the signer's identity in the allowed-signers FILE"}
/* clang-format on */
struct unpack_options;
int cmd_unpack_option(int c, const char *arg, const char **dir,
		      struct unpack_options *uo);
bool cmd_unpack_options_ok(const struct cmd_entry *e,
			   const struct unpack_options *uo);

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
