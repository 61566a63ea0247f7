/* Private to the bake: the session and per-VM job every bake-*.c step
 * works on, and the helpers they share (bake-job.c, bake-guest.c).
 * bake.c orchestrates on the host; bake-session.c runs the appliance and
 * the steps, each in its own file, calling only bake-job.c,
 * bake-guest.c, image.h and pure modules, never back into bake.c.
 *
 * Two halves: the host side (bake.c, bake-job.c, bake-base.c,
 * bake-pins.c) is in sbx-build; the appliance side (bake-session.c,
 * bake-guest.c, bake-inspect.c and the steps, with image*.c) is the
 * libguestfs module, loaded only when a VM must be built (module.h).
 * The host calls the appliance side only through struct bake_appliance.
 *
 * Errors: a step records its failure once with bake_fail (the recipe
 * position that asked for it first, "FILE:LINE:COL: "), which keeps the
 * first message and returns the negative errno it was given; bake_vms
 * hands that message to its caller as *ret_err. */
#ifndef SBX_BAKE_INT_H
#define SBX_BAKE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "bake.h"
#include "containers.h"
#include "digest.h"
#include "image.h"
#include "lock.h"
#include "manifest.h"
#include "module.h"
#include "plan.h"
#include "recipe.h"
#include "secrets.h"
#include "util.h"

/* Recorded per VM by a bake: the guest's accounts database. */
struct accounts {
	char *passwd, *group;
};

struct vmjob {
	const struct vm *vm;
	struct plan plan;
	bool planned;
	struct secret_store secrets;
	char *base;  /* absolute path of the base image */
	char *tmp;   /* out/.VM.qcow2.tmp-PID */
	char *final; /* out/VM.qcow2 */
	struct image_os os;
	bool selinux;
	bool unlisted;	 /* a step wrote paths not in written (packages) */
	char **implicit; /* directories the bake created as parents */
	size_t nimplicit;
	bool *pending; /* per plan file: owner not in the guest yet */
	size_t drive;  /* index of its drive in the appliance */
	char *base_id; /* "sha256:HEX" of the base, or its local identity */
	char inputs[DIGEST_HEX_MAX];
	bool skip;	/* inputs unchanged: not rebuilt */
	bool pinned;	/* packages come from sbx.lock's pins */
	char **written; /* paths the bake wrote, in order */
	bool *content;	/* per written path: content in the manifest */
	size_t nwritten;
	struct lock_pkgs newpins; /* package pins found by this bake */
	bool found_pins;	  /* newpins is the new list (maybe empty) */
	struct manifest man;
	struct ctimages images; /* the services' images, verified */
	/* The guest's accounts as last read (acct_load); passwd NULL: read
	 * them again (a guest command ran, or a step wrote one of them). */
	struct accounts acct;
};

struct bake {
	const struct recipe_set *set;
	const struct bake_opts *o;
	struct image *im;
	struct vmjob *jobs;
	size_t njobs;
	struct strbuf err;
	const char *fail_at;
	struct progress *bar;
	const char *bar_vm, *bar_step;
};

/* The libguestfs module's one export (bake-session.c).  version and abi
 * must be the program's: the module works on the program's structures. */
#define BAKE_MODULE	   "sbx-build-guestfs.so"
#define BAKE_MODULE_SYMBOL "sbx_bake_appliance"
#define BAKE_MODULE_ABI                                                  \
	(sizeof(struct bake) * 1000003u + sizeof(struct vmjob) * 1009u + \
	 sizeof(struct bake_opts))
struct bake_appliance {
	struct module_head head; /* SBX_VERSION, BAKE_MODULE_ABI */
	/* One appliance for every job not skipped (j->drive numbers them,
	 * j->tmp their overlays): launch, inspect, each VM's steps,
	 * shutdown.  Errors through bake_fail. */
	int (*run)(struct bake *b, struct bake_result *res);
	/* bake_verify's work (bake.h). */
	int (*verify)(const char *image, const struct manifest *want,
		      enum image_accel accel, bool debug, struct manifest *ret,
		      char **ret_err);
};

/* bake-job.c: shared by the host side and the steps. */
double bake_now(void);
/* Records the error (first one wins) with the recipe position that asked
 * for the step; returns r. */
int bake_fail(struct bake *b, struct srcpos pos, int r, const char *fmt, ...)
	PRINTF_LIKE(4, 5);
void bake_warn(struct bake *b, const char *vm, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
void bake_on_progress(void *opaque, uint64_t pos, uint64_t total);
void bake_bar_done(struct bake *b);
/* SIGINT and SIGTERM during a bake: bake_interrupted() turns true and the
 * function bake_on_interrupt set (async-signal-safe: the appliance's
 * cancel) runs. */
struct bake_signals {
	struct sigaction oint, oterm;
};
void bake_signals_catch(struct bake_signals *saved);
void bake_signals_restore(const struct bake_signals *saved);
bool bake_interrupted(void);
void bake_on_interrupt(void (*fn)(void));
/* Records a path the bake wrote, for its mtime and the manifest. */
void job_wrote(struct vmjob *j, const char *path, bool content);
int acct_lookup(const char *db, const char *name, int *ret_id, int *ret_gid,
		char **ret_home);
void acct_release(struct accounts *a);
int acct_owner(const struct accounts *a, const char *owner, const char *group,
	       int *uid, int *gid);
/* bake-guest.c: the same, inside the appliance. */
int acct_load(struct bake *b, struct vmjob *j, struct accounts *a);
int job_ensure_parent(struct bake *b, struct vmjob *j, struct srcpos pos,
		      const char *path);
int bake_guest_cmd(struct bake *b, struct srcpos pos, const char *what,
		   const char *const *argv);
int bake_write_owned(struct bake *b, struct srcpos pos, const char *path,
		     const char *data, unsigned mode, int uid, int gid);
int job_write_root_file(struct bake *b, struct vmjob *j, const char *path,
			const char *text, unsigned mode);

/* bake-base.c: j->base and j->base_id from the VM's base (a local file,
 * or the cache's copy as sbx.lock pins it), then j->tmp, the qcow2
 * overlay on it at the recipe's disk size. */
int bake_base_path(struct bake *b, struct vmjob *j);
int bake_create_overlay(struct bake *b, struct vmjob *j);

/* The steps, one file each. */
/* Every drive's system, kept ones first (bake-inspect.c). */
int bake_inspect(struct bake *b);
int bake_step_files(struct bake *b, struct vmjob *j);	/* bake-files.c */
int bake_step_overlay(struct bake *b, struct vmjob *j); /* bake-files.c */
/* After the users exist: ownership left over from the files step, and
 * the directories the bake created inside a user's home.  final: an
 * owner still missing is an error. */
int bake_finish_ownership(struct bake *b, struct vmjob *j, bool final);
int bake_step_users(struct bake *b, struct vmjob *j); /* bake-users.c */
int bake_step_units(struct bake *b, struct vmjob *j); /* bake-units.c */
int bake_step_selinux(struct bake *b, struct vmjob *j,
		      struct strbuf *detail); /* bake-selinux.c */
/* bake-packages.c */
int bake_step_packages(struct bake *b, struct vmjob *j);
/* bake-images.c: the container images into RENDER_IMAGE_DIR. */
int bake_step_images(struct bake *b, struct vmjob *j, struct strbuf *detail);
/* bake-pins.c.  Before the appliance starts: every pinned package file must be
 * in the host cache with its checksum (all that are not named in one message).
 */
int bake_check_pins(struct bake *b, struct vmjob *j);
/* "pin FILE SHA256" lines of vm's current pins, for its inputs digest. */
void bake_pins_text(struct bake *b, const struct vmjob *j, struct strbuf *out);
/* Once the image is in place: the pins this bake found go to sbx.lock. */
void bake_record_pins(struct bake *b, struct vmjob *j);
/* The host cache of the VM's distribution's package files (NULL without
 * a cache directory). */
char *bake_pkg_cache_root(struct bake *b, struct vmjob *j);

#endif
