/* The bake: every VM's plan applied to a fresh qcow2 overlay of its base,
 * all VMs in ONE libguestfs appliance, each image renamed into out/ only
 * once the appliance shut down cleanly.
 *
 * out/VM.qcow2 is a qcow2 overlay whose backing file is recorded as the
 * absolute path of the cached, verified base (format qcow2).  When the
 * cache moves: qemu-img rebase -u -F qcow2 -b NEWPATH out/VM.qcow2.
 *
 * Test hook: with SBX_TEST_FAIL_AT=STEP in the environment the bake fails
 * just before STEP ("packages", "files", ..., "selinux", or "shutdown")
 * of the first VM that reaches it, as a real failure there would. */
#ifndef SBX_BAKE_H
#define SBX_BAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "image.h"

struct recipe_set;
struct vm;

struct bake_opts {
	enum image_accel accel;
	bool offline;	       /* no appliance network: cached packages only */
	const char *out_dir;   /* images, secrets/ */
	const char *cache_dir; /* bases and packages (NULL: fetch's default) */
	/* One line per finished step: vm, step name, detail, seconds. */
	void (*step)(void *opaque, const char *vm, const char *step,
		     const char *detail, double seconds);
	/* Something the user must know that did not stop the bake. */
	void (*warn)(void *opaque, const char *vm, const char *msg);
	void *opaque;
	bool progress; /* libguestfs progress events as a bar */
	bool debug;    /* libguestfs debug events to the log */
};

struct bake_result {
	unsigned launches; /* appliances that came up: 1 */
	unsigned attempts; /* launch attempts (2 after a KVM failure) */
	bool tcg;
};

/* Bakes vms[0..n).  On failure returns the negative errno and *ret_err
 * (allocated) says what failed, with the recipe position that asked for
 * it; out/ is left as it was.  -ECANCELED after SIGINT/SIGTERM. */
int bake_vms(const struct recipe_set *set, const struct vm *const *vms,
	     size_t n, const struct bake_opts *o, struct bake_result *ret,
	     char **ret_err);

/* 'sbx-build all' and 'sbx-build build': options, the bake, one line per
 * step.  all: every VM of the recipes; otherwise the operands. */
struct cmd_entry;
int cmd_bake(const struct cmd_entry *cmd, int argc, char **argv, bool all);

#endif
