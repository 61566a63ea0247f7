/* sbx-build build: build the named VMs.  Also the shared part of
 * 'sbx-build all' (cmd_bake). */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "bake.h"
#include "cmd.h"
#include "lock.h"
#include "outputs.h"
#include "phases.h"
#include "recipe.h"
#include "schema.h"
#include "util.h"

static void
on_step(void *opaque, const char *vm, const char *step, const char *detail,
	double seconds)
{
	phases_add(opaque, vm, step, seconds);
	if (log_get_level() < LOG_NORMAL)
		return;
	fprintf(stderr, "[%s] %s: %s ... %.0f s\n", vm, step, detail, seconds);
}

/* -v: where the time went, and the peak memory of this process and of
 * its largest child (the appliance's qemu). */
static void
report_phases(const struct phases *ph)
{
	CLEANUP_FREE char *t = phases_table(ph);
	struct rusage self, kids;

	if (log_get_level() < LOG_VERBOSE)
		return;
	if (t != NULL)
		fprintf(stderr, "%s", t);
	if (getrusage(RUSAGE_SELF, &self) == 0 &&
	    getrusage(RUSAGE_CHILDREN, &kids) == 0)
		log_verbose("peak resident memory: sbx-build %ld MiB, largest "
			    "child (the appliance) %ld MiB",
			    self.ru_maxrss / 1024, kids.ru_maxrss / 1024);
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

/* The bake's error, one line per problem: each once, even when several
 * VMs met it (two VMs on one missing base). */
static void
log_error_lines(const char *err)
{
	const char *p = err;

	while (*p) {
		size_t n = strcspn(p, "\n");
		bool seen = false;

		for (const char *q = err; q < p && !seen;) {
			size_t m = strcspn(q, "\n");

			seen = m == n && memcmp(q, p, n) == 0;
			q += m + (q[m] == '\n');
		}
		if (!seen && n > 0)
			log_error("%.*s", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

/* SOURCE_DATE_EPOCH (reproducible-builds.org), default 0: the mtime of
 * every path the bake writes.  false when it is set but not a number. */
static bool
source_date_epoch(int64_t *ret)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;

	*ret = 0;
	if (e == NULL || *e == '\0')
		return true;
	if (!parse_u64(e, &v) || v > INT64_MAX)
		return false;
	*ret = (int64_t)v;
	return true;
}

/* The run scripts and libvirt XML of the VMs just built, and run-all.sh:
 * cheap and pure, so written every time. */
static enum cmd_status
write_scripts(const struct recipe_set *set, const struct vm **vms, size_t n,
	      const char *out)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		r = outputs_write_vm(set, vms[i], out);
		if (r < 0)
			log_error("cannot write the run script of '%s' in "
				  "'%s': %s",
				  vms[i]->name, out, strerror(-r));
	}
	if (r == 0) {
		r = outputs_write_all(set, out);
		if (r < 0)
			log_error("cannot write '%s/run-all.sh': %s", out,
				  strerror(-r));
	}
	return r < 0 ? CMD_ERROR : CMD_OK;
}

/* The options into *o; CMD_OK, or what the command returns. */
static enum cmd_status
parse_bake_options(const struct cmd_entry *cmd, int argc, char **argv,
		   struct bake_opts *o)
{
	int c;

	optind = 0;
	while ((c = cmd_getopt(cmd, argc, argv)) != -1) {
		switch (c) {
		case 'o':
			o->offline = true;
			break;
		case 'f':
			o->force = true;
			break;
		case 'a':
			if (strcmp(optarg, "kvm") == 0) {
				o->accel = IMAGE_ACCEL_KVM;
			} else if (strcmp(optarg, "tcg") == 0) {
				o->accel = IMAGE_ACCEL_TCG;
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
	if (!source_date_epoch(&o->epoch)) {
		log_error("SOURCE_DATE_EPOCH must be seconds since 1970, not "
			  "'%s'",
			  getenv("SOURCE_DATE_EPOCH"));
		return CMD_ERROR;
	}
	return CMD_OK;
}

/* The VMs named by the operands (each once), or all; NULL after saying
 * why. */
static const struct vm **
select_vms(const struct recipe_set *set, int argc, char **argv, bool all,
	   size_t *ret_n)
{
	const struct vm **vms;
	size_t n = 0;

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
				return NULL;
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
		return NULL;
	}
	*ret_n = n;
	return vms;
}

int
cmd_bake(const struct cmd_entry *cmd, int argc, char **argv, bool all)
{
	struct bake_opts o = {
		.accel = IMAGE_ACCEL_AUTO,
		.step = on_step,
		.warn = on_warn,
		.progress = globals.progress,
		.debug = log_get_level() >= LOG_DEBUG,
	};
	const struct recipe_set *set = globals.recipes;
	const struct vm **vms;
	struct bake_result res = {0};
	CLEANUP_FREE char *out = path_join(globals.dir, "out");
	CLEANUP_FREE char *lock_path = path_join(globals.dir, LOCK_FILE);
	CLEANUP_FREE char *err = NULL;
	struct lock *lk = NULL;
	enum cmd_status st;
	size_t n = 0;
	int r;

	st = parse_bake_options(cmd, argc, argv, &o);
	if (st != CMD_OK)
		return st;
	o.out_dir = out;
	vms = select_vms(set, argc, argv, all, &n);
	if (vms == NULL)
		return CMD_ERROR;
	lk = cmd_lock_load(lock_path);
	if (lk == NULL) {
		free(vms);
		return CMD_ERROR;
	}
	o.lock = lk;
	o.opaque = phases_new();
	r = bake_vms(set, (const struct vm *const *)vms, n, &o, &res, &err);
	if (r < 0) {
		log_error_lines(err != NULL && *err ? err : strerror(-r));
		if (r != -ECANCELED)
			log_info("nothing in '%s' was changed", out);
		st = CMD_ERROR;
	} else {
		report_phases(o.opaque);
		log_verbose("libguestfs appliance launches: %u (attempts: %u, "
			    "%s)",
			    res.launches, res.attempts,
			    res.launches == 0 ? "none needed"
			    : res.tcg	      ? "TCG"
					      : "KVM");
		for (size_t i = 0; i < n; i++) {
			if (res.uptodate[i]) {
				log_info("%s/%s.qcow2 is up to date", out,
					 vms[i]->name);
			} else {
				log_info("built %s/%s.qcow2", out,
					 vms[i]->name);
			}
		}
		st = write_scripts(set, vms, n, out);
	}
	/* Pins resolved on the way are kept even when the bake failed. */
	if (lock_changed(lk)) {
		r = lock_save(lk, lock_path);
		if (r < 0) {
			log_error("cannot write '%s': %s", lock_path,
				  strerror(-r));
			st = CMD_ERROR;
		} else {
			log_verbose("recorded the pins in '%s'", lock_path);
		}
	}
	bake_result_release(&res);
	lock_free(lk);
	free(vms);
	phases_free(o.opaque);
	return st;
}

const struct cmd_option cmd_bake_options[] = {
	{"offline", 'o', false, NULL,
	 "open no connection: bases and packages come from the cache as "
	 "sbx.lock pins them"},
	{"force", 'f', false, NULL, "rebuild even a VM that is up to date"},
	{"accel", 'a', false, "kvm|tcg",
	 "the appliance's accelerator (default: KVM, then TCG if it fails)"},
	{NULL, 0, false, NULL, NULL},
};

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
	.options = cmd_bake_options,
	.operands = CMD_OPERAND_VM,
	.writes = "out/VM.qcow2 (an overlay on the cached base), "
		  "out/VM.manifest, out/VM.inputs, out/run-VM.sh, out/VM.xml, "
		  "out/run-all.sh, out/host/; generated passwords in "
		  "out/secrets/; package pins in sbx.lock",
	.example = "sbx-build build dev --accel tcg",
	.exec = exec_build,
};
