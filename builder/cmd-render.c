/* sbx-build render [--force] [--secrets] VM DIR: write every rendered guest
 * file of VM into DIR, modes applied, owners listed in DIR/.owners, so what
 * goes into the image can be audited.  DIR must be empty unless --force;
 * nothing is written outside it (no symlink inside DIR is followed).  Secrets
 * show as "(secret NAME)" unless
 * --secrets uses (or generates) the ones under out/secrets/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "overlay-files.h"
#include "plan.h"
#include "prepare.h"
#include "recipe.h"
#include "secrets.h"

/* Creates name in dfd with data (via a temporary name and renameat, so an
 * existing file is replaced, never written through).  An existing symlink
 * there is refused (-ELOOP). */
static int
put_file(int dfd, const char *name, const void *data, size_t len, mode_t mode)
{
	CLEANUP_FREE char *tmp = xasprintf(".%s.sbx-tmp", name);
	struct stat st;
	int fd, r;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return -ELOOP;
	(void)unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dfd, tmp, 0);
	return r;
}

/* Opens the directory name in dfd, creating it when missing; a symlink
 * (or anything not a directory) there is refused, never followed. */
static int
open_subdir(int dfd, const char *name, mode_t mode)
{
	int fd;

	if (mkdirat(dfd, name, mode) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ELOOP : -errno;
	return fd;
}

static bool
component_ok(const char *c)
{
	return *c != '\0' && strcmp(c, ".") != 0 && strcmp(c, "..") != 0;
}

/* Writes g beneath root: every directory on the way opened with
 * O_NOFOLLOW, so nothing lands outside root.  On failure *ret_bad is the
 * host path that failed. */
static int
put_gfile(int root, const char *dir, const struct gfile *g, char **ret_bad)
{
	CLEANUP_FREE char *buf = NULL;
	char *c, *next, *save = NULL;
	int dfd = dup(root), r = 0;
	size_t done = 0;

	if (dfd < 0)
		return -errno;
	if (g->path[0] != '/') {
		*ret_bad = xasprintf("%s/%s", dir, g->path);
		close(dfd);
		return -EINVAL;
	}
	buf = xstrdup(g->path + 1);
	c = strtok_r(buf, "/", &save);
	for (; r == 0 && c != NULL; c = next) {
		next = strtok_r(NULL, "/", &save);
		done = (size_t)(c - buf) + strlen(c);
		if (!component_ok(c)) {
			r = -EINVAL;
		} else if (next != NULL) {
			int sub = open_subdir(dfd, c, 0755);

			if (sub < 0)
				r = sub;
			else {
				close(dfd);
				dfd = sub;
			}
		} else if (g->type == GFILE_DIR) {
			int sub = open_subdir(dfd, c, g->mode);

			if (sub < 0)
				r = sub;
			else {
				if (fchmod(sub, g->mode) < 0)
					r = -errno;
				close(sub);
			}
		} else if (g->type == GFILE_SYMLINK) {
			if (unlinkat(dfd, c, 0) < 0 && errno != ENOENT)
				r = -errno;
			else if (symlinkat(g->target, dfd, c) < 0)
				r = -errno;
		} else {
			r = put_file(dfd, c, g->data, g->len, g->mode);
		}
	}
	if (r < 0)
		*ret_bad = xasprintf("%s/%.*s", dir, (int)done, g->path + 1);
	close(dfd);
	return r;
}

/* 0 when dir has no entry, -ENOTEMPTY when it has one. */
static int
dir_empty(int dfd)
{
	int fd = dup(dfd);
	DIR *d;
	int r = 0;

	if (fd < 0 || (d = fd_opendir(fd)) == NULL)
		return -errno;
	r = dir_no_entries(d);
	closedir(d);
	return r;
}

static int
write_tree(const char *dir, const struct gfiles *f, bool force, char **ret_bad)
{
	struct strbuf owners = STRBUF_INIT;
	int root, r = mkdir_p(dir, 0755);

	if (r < 0) {
		*ret_bad = xstrdup(dir);
		return r;
	}
	/* DIR itself is the user's choice (it may be a symlink); nothing
	 * inside it is followed. */
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		*ret_bad = xstrdup(dir);
		return -errno;
	}
	if (!force)
		r = dir_empty(root);
	if (r < 0)
		*ret_bad = xstrdup(dir);
	for (size_t i = 0; i < f->n && r == 0; i++)
		r = put_gfile(root, dir, &f->v[i], ret_bad);
	if (r == 0) {
		gfiles_format_owners(f, &owners);
		r = put_file(root, ".owners", owners.buf ? owners.buf : "",
			     owners.len, 0644);
		sb_release(&owners);
		if (r < 0)
			*ret_bad = path_join(dir, ".owners");
	}
	close(root);
	return r;
}

static const struct cmd_option render_options[] = {
	{"force", 'f', true, NULL, "write into a DIR that is not empty"},
	{"secrets", 's', true, NULL,
	 "show the secrets of out/secrets/ (generating them), not "
	 "\"(secret NAME)\""},
	{NULL, 0, false, NULL, NULL},
};

static enum cmd_status
exec_render(int argc, char **argv)
{
	struct secret_store secrets = {0};
	struct diag_list *diags;
	struct plan plan;
	const struct vm *vm;
	bool with_secrets = false, force = false;
	char *bad = NULL;
	int c, r;

	optind = 0;
	while ((c = cmd_getopt(&cmd_render_entry, argc, argv)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 's')
			with_secrets = true;
		else
			return cmd_bad_option(&cmd_render_entry);
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
	r = overlay_add_files(&plan.files, &plan.overlay, &bad);
	if (r < 0) {
		log_error("cannot read the overlay file '%s': %s", bad,
			  strerror(-r));
		free(bad);
		plan_release(&plan);
		return CMD_ERROR;
	}
	r = write_tree(argv[optind + 1], &plan.files, force, &bad);
	plan_release(&plan);
	if (r == -ENOTEMPTY) {
		log_error("'%s' is not empty; use --force to write into it "
			  "anyway",
			  bad);
		free(bad);
		return CMD_ERROR;
	} else if (r == -ELOOP) {
		log_error("cannot write '%s': a symbolic link or not a "
			  "directory; not following it",
			  bad);
		free(bad);
		return CMD_ERROR;
	} else if (r == -EINVAL) {
		log_error("cannot write '%s': unsafe guest path", bad);
		free(bad);
		return CMD_ERROR;
	} else if (r < 0) {
		log_error("cannot write '%s': %s", bad, strerror(-r));
		free(bad);
		return CMD_ERROR;
	}
	return CMD_OK;
}

const struct cmd_entry cmd_render_entry = {
	.name = "render",
	.usage = "[--force] [--secrets] VM DIR",
	.summary = "write every rendered guest file of VM into DIR",
	.min_args = 2,
	.max_args = 2,
	.flags = CMD_NEEDS_RECIPES,
	.options = render_options,
	.operands = CMD_OPERAND_VM_DIR,
	.writes = "DIR: each rendered guest file, and DIR/.owners",
	.example = "sbx-build render proxy /tmp/proxy-files",
	.exec = exec_render,
};
