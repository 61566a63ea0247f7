/* The plan: for one VM, the ordered steps the bake takes, with every
 * input it depends on.  Pure: built from values, formatted to text.
 *
 * The render is the single source of guest files: /etc/hostname,
 * /etc/machine-id ("uninitialized") and /etc/cloud/cloud-init.disabled are
 * rendered files (render-base.c) written by STEP_FILES, so a recipe's own
 * 'files:' entry for one of them is what the image gets. */
#ifndef SBX_PLAN_H
#define SBX_PLAN_H

#include "overlay.h"
#include "render.h"
#include "util.h"

struct vm;

enum step_kind {
	STEP_PACKAGES, /* install vm->packages with the guest's manager */
	STEP_USERS,    /* create vm->users, set passwords, groups */
	STEP_FILES,    /* write plan->files */
	STEP_OVERLAY,  /* copy plan->overlay */
	STEP_UNITS,    /* enable vm->units */
	STEP_SELINUX,  /* relabel what was written (when the guest has it) */
};

struct plan {
	const struct vm *vm;
	struct gfiles files;	/* owned */
	struct overlay overlay; /* owned */
	enum step_kind *steps;
	size_t nsteps;
};

/* Takes ownership of files and overlay (left empty). */
void plan_build(const struct vm *vm, struct gfiles *files,
		struct overlay *overlay, struct plan *ret);
void plan_release(struct plan *p);
const char *plan_step_name(enum step_kind k);
/* The stable text 'sbx-build plan' prints. */
void plan_format(const struct plan *p, struct strbuf *out);
/* The same without the run-time settings (memory, CPUs, vsock CID, host
 * forwards): what the image depends on, for inputs.c.  Those settings
 * only change the run scripts, never the guest's files. */
void plan_format_image(const struct plan *p, struct strbuf *out);

#endif
