/* sbx-build render [--secrets] VM DIR: write every rendered guest file of
 * VM into DIR, modes applied, owners listed in DIR/.owners, so what goes
 * into the image can be audited.  Secrets show as "(secret NAME)" unless
 * --secrets uses (or generates) the ones under out/secrets/. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "prepare.h"
#include "recipe.h"
#include "secrets.h"

static int
write_tree(const char *dir, const struct gfiles *f, char **ret_bad)
{
	struct strbuf owners = STRBUF_INIT;
	CLEANUP_FREE char *op = path_join(dir, ".owners");
	int r = mkdir_p(dir, 0755);

	if (r < 0) {
		*ret_bad = xstrdup(dir);
		return r;
	}
	for (size_t i = 0; i < f->n && r == 0; i++) {
		const struct gfile *g = &f->v[i];
		char *p = xasprintf("%s%s", dir, g->path);
		char *slash = strrchr(p, '/');

		*slash = '\0';
		r = mkdir_p(p, 0755);
		*slash = '/';
		if (r < 0) {
		} else if (g->type == GFILE_DIR) {
			if (mkdir(p, g->mode) < 0 && errno != EEXIST)
				r = -errno;
			else if (chmod(p, g->mode) < 0)
				r = -errno;
		} else if (g->type == GFILE_SYMLINK) {
			if (unlink(p) < 0 && errno != ENOENT)
				r = -errno;
			else if (symlink(g->target, p) < 0)
				r = -errno;
		} else {
			r = write_file_atomic(p, g->data, g->len, g->mode);
		}
		if (r < 0)
			*ret_bad = p;
		else
			free(p);
	}
	if (r < 0)
		return r;
	gfiles_format_owners(f, &owners);
	r = write_file_atomic(op, owners.buf ? owners.buf : "", owners.len,
			      0644);
	sb_release(&owners);
	if (r < 0)
		*ret_bad = xstrdup(op);
	return r;
}

static enum cmd_status
exec_render(int argc, char **argv)
{
	static const struct option opts[] = {
		{"secrets", no_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	struct secret_store secrets = {0};
	struct diag_list *diags;
	struct plan plan;
	const struct vm *vm;
	bool with_secrets = false;
	char *bad = NULL;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+s", opts, NULL)) != -1) {
		if (c != 's')
			return cmd_bad_option(&cmd_render_entry);
		with_secrets = true;
	}
	if (!cmd_operands_ok(&cmd_render_entry, argc - optind))
		return CMD_USAGE;
	vm = recipe_find_vm(globals.recipes, argv[optind]);
	if (vm == NULL) {
		log_error("no VM named '%s' in the recipes", argv[optind]);
		return CMD_ERROR;
	}
	if (with_secrets) {
		CLEANUP_FREE char *sd = path_join(globals.dir, "out/secrets");

		r = secrets_load(sd, vm, &secrets, &bad);
		if (r < 0) {
			log_error("cannot use the secret '%s': %s", bad,
				  r == -EPERM ? "readable by others (chmod "
						"600 it, or remove it)"
					      : strerror(-r));
			free(bad);
			return CMD_ERROR;
		}
	}
	diags = diag_list_new();
	r = prepare_plan(globals.recipes, vm, with_secrets ? secrets.v : NULL,
			 secrets.n, &plan, diags);
	secret_store_release(&secrets);
	if (r < 0) {
		diag_print(diags, stderr);
		diag_list_free(diags);
		return CMD_ERROR;
	}
	diag_list_free(diags);
	r = write_tree(argv[optind + 1], &plan.files, &bad);
	plan_release(&plan);
	if (r < 0) {
		log_error("cannot write '%s': %s", bad, strerror(-r));
		free(bad);
		return CMD_ERROR;
	}
	return CMD_OK;
}

const struct cmd_entry cmd_render_entry = {
	.name = "render",
	.usage = "[--secrets] VM DIR",
	.summary = "write every rendered guest file of VM into DIR",
	.min_args = 2,
	.max_args = 2,
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_render,
};
