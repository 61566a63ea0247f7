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
 * of the first VM that reaches it, as a real failure there would.
 *
 * Incremental: each VM's inputs (plan with every rendered byte, overlay
 * contents, base checksum, its sbx.lock package pins, SOURCE_DATE_EPOCH,
 * sbx-build version) have one digest, kept in out/VM.inputs.  A VM whose
 * digest matches and whose image exists is not rebuilt (unless force);
 * when no VM needs building no appliance is launched.
 *
 * Layout: bake.c orchestrates (plans, overlays, the one appliance,
 * renames); each step is its own bake-*.c (files, users, units, selinux,
 * packages) sharing bake-job.c through bake-int.h; the pure parsers are
 * shadow.c, unitlinks.c, pkgfile.c, qcow2.c.
 *
 * Reproducible content: every path the bake itself wrote gets the mtime
 * epoch and is listed in out/VM.manifest (manifest.h), collected through
 * libguestfs before the appliance shuts down.  /etc/shadow is listed
 * without its content (random salts, change dates).  Files the package
 * manager installed are not listed: their package files are pinned by
 * checksum in sbx.lock instead.
 *
 * Package pins: sbx.lock's packages: section holds, per VM, the package
 * list they were made for ("for": the recipe's names) and every package
 * file (file, name, version, architecture, sha256) the first unpinned
 * install left in the guest's cache, but those the base already held.  A
 * changed package list makes the pins stale: the next online build
 * resolves and pins again.  A VM with pins installs from the host
 * cache only (apt --no-download, dnf --cacheonly), after every pinned file
 * was found there with its checksum; a missing or altered one fails the
 * build before the appliance starts, naming each. */
#ifndef SBX_BAKE_H
#define SBX_BAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

struct lock;
struct manifest;
struct recipe_set;
struct strbuf;
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
	bool progress;	   /* libguestfs progress events as a bar */
	bool debug;	   /* libguestfs debug events to the log */
	bool force;	   /* rebuild even when out/VM.inputs matches */
	struct lock *lock; /* base and package pins; updated (NULL: none) */
	int64_t epoch;	   /* SOURCE_DATE_EPOCH: mtime of written paths */
};

struct bake_result {
	unsigned launches; /* appliances that came up: 1 */
	unsigned attempts; /* launch attempts (2 after a KVM failure) */
	bool tcg;
	bool *uptodate; /* per VM: not rebuilt (inputs unchanged) */
};
void bake_result_release(struct bake_result *r);

/* Bakes vms[0..n).  On failure returns the negative errno and *ret_err
 * (allocated) says what failed, with the recipe position that asked for
 * it; out/ is left as it was.  -ECANCELED after SIGINT/SIGTERM. */
int bake_vms(const struct recipe_set *set, const struct vm *const *vms,
	     size_t n, const struct bake_opts *o, struct bake_result *ret,
	     char **ret_err);

/* Recomputes the manifest of image (read-only, one appliance) for the
 * paths want lists.  *ret_err as bake_vms. */
int bake_verify(const char *image, const struct manifest *want,
		enum image_accel accel, bool debug, struct manifest *ret,
		char **ret_err);

/* 'sbx-build all' and 'sbx-build build': options, the bake, one line per
 * step.  all: every VM of the recipes; otherwise the operands. */
struct cmd_entry;
int cmd_bake(const struct cmd_entry *cmd, int argc, char **argv, bool all);

#endif
