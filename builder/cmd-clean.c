/* sbx-build clean [--all]: remove what the build generated in out/. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "util.h"

static enum cmd_status
exec_clean(int argc, char **argv)
{
	static const struct option opts[] = {
		{"all", no_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	CLEANUP_FREE char *out = path_join(globals.dir, "out");
	bool all = false;
	struct dirent *de;
	DIR *d;
	int c, r = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c != 'a')
			return cmd_bad_option(&cmd_clean_entry);
		all = true;
	}
	if (!cmd_operands_ok(&cmd_clean_entry, argc - optind))
		return CMD_USAGE;
	d = opendir(out);
	if (d == NULL) {
		if (errno == ENOENT)
			return CMD_OK;
		log_error("cannot open '%s': %s", out, strerror(errno));
		return CMD_ERROR;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		CLEANUP_FREE char *p = NULL;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/* Generated passwords survive unless asked: losing them
		 * locks the user out of images already handed out. */
		if (!all && strcmp(de->d_name, "secrets") == 0)
			continue;
		p = path_join(out, de->d_name);
		r = rm_rf(p);
		if (r < 0)
			log_error("cannot remove '%s': %s", p, strerror(-r));
	}
	closedir(d);
	if (r == 0 && all && rmdir(out) < 0 && errno != ENOENT) {
		log_error("cannot remove '%s': %s", out, strerror(errno));
		r = -errno;
	}
	return r < 0 ? CMD_ERROR : CMD_OK;
}

const struct cmd_entry cmd_clean_entry = {
	.name = "clean",
	.usage = "[--all]",
	.summary = "remove generated files from out/ (--all: secrets too)",
	.min_args = 0,
	.max_args = 0,
	.flags = 0,
	.exec = exec_clean,
};
