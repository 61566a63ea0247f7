/* The setup every command shares; the table itself is in main.c. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "diag.h"
#include "lock.h"
#include "recipe.h"
#include "util.h"

struct globals globals;

/* The table main.c hands over (cmd_set_table): cmd.c never names the
 * commands, so no cmd-<verb>.c module and cmd.c import each other. */
static const struct cmd_entry *const *cmd_table;

void
cmd_set_table(const struct cmd_entry *const *table)
{
	cmd_table = table;
}

const struct cmd_entry *
cmd_find(const char *name)
{
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

void
cmd_usage(const struct cmd_entry *cmd)
{
	fprintf(stderr, "usage: sbx-build %s%s%s\n", cmd->name,
		*cmd->usage ? " " : "", cmd->usage);
}

void
cmd_list(FILE *f)
{
	fputs("\ncommands:\n", f);
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %-8s %s\n", cmd_table[i]->name,
			cmd_table[i]->summary);
	fputs("\nsee 'sbx-build help COMMAND' or sbx-build(1)\n", f);
}

bool
cmd_operands_ok(const struct cmd_entry *cmd, int n)
{
	if (n < cmd->min_args) {
		log_error("%s: missing operand", cmd->name);
	} else if (cmd->max_args >= 0 && n > cmd->max_args) {
		log_error("%s: too many operands", cmd->name);
	} else {
		return true;
	}
	cmd_usage(cmd);
	return false;
}

const struct cmd_entry *const *
cmd_get_table(void)
{
	return cmd_table;
}

/* The option named NAME (n bytes), or, when n is 0, the short option
 * -C; NULL when cmd has none. */
static const struct cmd_option *
find_option(const struct cmd_entry *cmd, const char *name, size_t n, char c)
{
	for (const struct cmd_option *o = cmd->options; o && o->name; o++)
		if (n > 0 ? strlen(o->name) == n &&
				    strncmp(o->name, name, n) == 0
			  : o->short_too && o->val == c)
			return o;
	return NULL;
}

/* getopt_long takes any unambiguous prefix of a long option ("fetch
 * --all" would be --allow-http): refuse a long option that is not
 * spelled out.  true (after saying so) when argv has one. */
static bool
abbreviated(const struct cmd_entry *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i];
		size_t n = strcspn(a, "=");
		const struct cmd_option *o;

		if (a[0] != '-' || a[1] == '\0') {
			continue;
		} else if (a[1] != '-') {
			/* "-o FILE": FILE may start with "--". */
			o = a[2] == '\0' ? find_option(cmd, NULL, 0, a[1])
					 : NULL;
			i += o != NULL && o->arg != NULL;
			continue;
		}
		o = find_option(cmd, a + 2, n - 2, 0);
		if (o == NULL || n == 2) {
			/* getopt's own words: every unknown option reads
			 * alike. */
			fprintf(stderr, "%s: unrecognized option '%s'\n",
				argv[0], a);
			return true;
		}
		/* "--from FILE": FILE may start with "--". */
		i += o->arg != NULL && a[n] == '\0';
	}
	return false;
}

int
cmd_getopt(const struct cmd_entry *cmd, int argc, char **argv)
{
	struct option lo[CMD_MAX_OPTIONS + 1] = {{0}};
	char so[3 * CMD_MAX_OPTIONS + 1] = "";
	size_t n = 0, k = 0;

	if (optind == 0 && abbreviated(cmd, argc, argv)) {
		optind = argc;
		return '?';
	}
	for (const struct cmd_option *o = cmd->options; o && o->name; o++) {
		if (n == CMD_MAX_OPTIONS)
			abort(); /* a programming error: raise the limit */
		lo[n++] = (struct option){
			o->name, o->arg ? required_argument : no_argument, NULL,
			o->val};
		if (o->short_too) {
			so[k++] = (char)o->val;
			if (o->arg)
				so[k++] = ':';
		}
	}
	so[k] = '\0';
	return getopt_long(argc, argv, so, lo, NULL);
}

enum cmd_status
cmd_bad_option(const struct cmd_entry *cmd)
{
	/* getopt has already named the option. */
	cmd_usage(cmd);
	return CMD_USAGE;
}

struct lock *
cmd_lock_load(const char *path)
{
	struct diag_list *diags = diag_list_new();
	struct lock *lk = NULL;
	int r = lock_load(path, diags, &lk);

	if (r < 0 && diag_count(diags) > 0)
		diag_print(diags, stderr);
	else if (r < 0)
		log_error("cannot read '%s': %s", path, strerror(-r));
	diag_list_free(diags);
	return r < 0 ? NULL : lk;
}

enum cmd_status
cmd_not_yet(const char *name, const char *issue)
{
	log_error("'%s' is not available yet (%s)", name, issue);
	return CMD_ERROR;
}

/* The project's recipes, or the installed defaults when the project has
 * none (outputs still go to the project's out/). */
static const char *
recipes_dir(void)
{
	CLEANUP_FREE char *mine = path_join(globals.dir, "recipes");
	CLEANUP_FREE char *shipped = path_join(SBX_DATADIR, "recipes");
	struct stat st;

	if (stat(mine, &st) == 0 || stat(shipped, &st) < 0)
		return globals.dir;
	log_verbose("no recipes in '%s'; using the defaults in '%s'",
		    globals.dir, SBX_DATADIR);
	return SBX_DATADIR;
}

enum cmd_status
cmd_run(const struct cmd_entry *cmd, int argc, char **argv)
{
	enum cmd_status st;

	if (cmd->flags & CMD_NEEDS_RECIPES) {
		struct diag_list *diags = NULL;
		const char *from = recipes_dir();
		int r = recipe_set_load(from, &globals.recipes, &diags);

		if (r < 0) {
			if (diags != NULL && diag_count(diags) > 0)
				diag_print(diags, stderr);
			else
				log_error(
					"cannot read recipes in '%s/recipes': "
					"%s",
					from, strerror(-r));
			diag_list_free(diags);
			return CMD_ERROR;
		}
		diag_list_free(diags);
	}
	st = cmd->exec(argc, argv);
	recipe_set_free(globals.recipes);
	globals.recipes = NULL;
	return st;
}
