/* sbx-build build: build the named VMs.  Also the shared part of
 * 'sbx-build all' (cmd_bake). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "bake.h"
#include "cmd.h"
#include "recipe.h"
#include "util.h"

static void
on_step(void *opaque, const char *vm, const char *step, const char *detail,
	double seconds)
{
	(void)opaque;
	if (log_get_level() < LOG_NORMAL)
		return;
	fprintf(stderr, "[%s] %s: %s ... %.0f s\n", vm, step, detail, seconds);
}

static void
on_warn(void *opaque, const char *vm, const char *msg)
{
	(void)opaque;
	if (vm != NULL)
		log_warn("[%s] %s", vm, msg);
	else
		log_warn("%s", msg);
}

int
cmd_bake(const struct cmd_entry *cmd, int argc, char **argv, bool all)
{
	static const struct option opts[] = {
		{"offline", no_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		{"accel", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	struct bake_opts o = {
		.accel = IMAGE_ACCEL_AUTO,
		.step = on_step,
		.warn = on_warn,
		.progress = globals.progress,
		.debug = log_get_level() >= LOG_DEBUG,
	};
	const struct recipe_set *set = globals.recipes;
	const struct vm **vms;
	struct bake_result res;
	CLEANUP_FREE char *out = path_join(globals.dir, "out");
	CLEANUP_FREE char *err = NULL;
	size_t n = 0;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.offline = true;
			break;
		case 'f':
			break; /* every build bakes afresh */
		case 'a':
			if (strcmp(optarg, "kvm") == 0) {
				o.accel = IMAGE_ACCEL_KVM;
			} else if (strcmp(optarg, "tcg") == 0) {
				o.accel = IMAGE_ACCEL_TCG;
			} else {
				log_error("--accel must be 'kvm' or 'tcg', not "
					  "'%s'",
					  optarg);
				cmd_usage(cmd);
				return CMD_USAGE;
			}
			break;
		default:
			return cmd_bad_option(cmd);
		}
	}
	if (!cmd_operands_ok(cmd, argc - optind))
		return CMD_USAGE;
	o.out_dir = out;
	vms = xcalloc(all ? set->nvms + 1 : (size_t)(argc - optind) + 1,
		      sizeof(*vms));
	if (all) {
		for (size_t i = 0; i < set->nvms; i++)
			vms[n++] = &set->vms[i];
	} else {
		for (int i = optind; i < argc; i++) {
			const struct vm *vm = recipe_find_vm(set, argv[i]);
			bool dup = false;

			if (vm == NULL) {
				log_error("no VM named '%s' in the recipes",
					  argv[i]);
				free(vms);
				return CMD_ERROR;
			}
			for (size_t k = 0; k < n; k++)
				dup |= vms[k] == vm;
			if (!dup)
				vms[n++] = vm;
		}
	}
	if (n == 0) {
		log_error("no VM to build");
		free(vms);
		return CMD_ERROR;
	}
	r = bake_vms(set, (const struct vm *const *)vms, n, &o, &res, &err);
	if (r < 0) {
		log_error("%s", err != NULL && *err ? err : strerror(-r));
		if (r != -ECANCELED)
			log_info("nothing in '%s' was changed", out);
		free(vms);
		return CMD_ERROR;
	}
	log_verbose("libguestfs appliance launches: %u (attempts: %u, %s)",
		    res.launches, res.attempts, res.tcg ? "TCG" : "KVM");
	for (size_t i = 0; i < n; i++)
		log_info("built %s/%s.qcow2", out, vms[i]->name);
	free(vms);
	return CMD_OK;
}

static enum cmd_status
exec_build(int argc, char **argv)
{
	return cmd_bake(&cmd_build_entry, argc, argv, false);
}

const struct cmd_entry cmd_build_entry = {
	.name = "build",
	.usage = "[--offline] [--force] [--accel kvm|tcg] VM...",
	.summary = "build the named VMs",
	.min_args = 1,
	.max_args = -1,
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_build,
};
