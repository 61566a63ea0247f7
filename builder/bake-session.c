/* The bake inside the appliance: launch one libguestfs appliance for
 * every VM to build, inspect, run each VM's steps (bake-*.c), read back
 * the manifest, shut down.  The libguestfs module (module.h): bake.c
 * reaches it only through sbx_bake_appliance, below. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bake-int.h"
#include "distro.h"
#include "image.h"
#include "manifest.h"
#include "plan.h"
#include "progress.h"
#include "recipe.h"
#include "util.h"

/* The running appliance, for a signal to cancel its call. */
static struct image *volatile current_image;

static void
cancel(void)
{
	image_cancel(current_image);
}

static bool
hook(struct bake *b, const char *step)
{
	if (b->fail_at == NULL || strcmp(b->fail_at, step) != 0)
		return false;
	bake_fail(b, (struct srcpos){0}, -EIO,
		  "SBX_TEST_FAIL_AT=%s: failing before this step (test hook)",
		  step);
	return true;
}

static void
report(struct bake *b, struct vmjob *j, const char *step, const char *detail,
       double t0)
{
	if (b->o->step != NULL)
		b->o->step(b->o->opaque, j->vm->name, step, detail,
			   bake_now() - t0);
}

static int
check_os(struct bake *b, struct vmjob *j)
{
	const struct base *base = j->vm->base_ref;
	const struct distro_info *want = distro_get(base->distro);
	const struct distro_info *got;
	const struct image_os *os = &j->os;
	int r = image_os(b->im, j->drive, &j->os);

	if (r < 0)
		return bake_fail(b, base->pos, r, "base '%s': %s", j->base,
				 image_error(b->im));
	if (want == NULL)
		return bake_fail(b, base->pos, -EINVAL,
				 "base '%s' has an unknown distribution",
				 base->name);
	got = distro_find(os->distro);
	if (strcmp(os->type, "linux") != 0 || got == NULL ||
	    strcmp(os->pkg_mgr, got->pkg_mgr) != 0)
		return bake_fail(
			b, base->pos, -EMEDIUMTYPE,
			"base '%s' holds %s %s '%s' with package manager "
			"'%s': only Fedora (dnf) and Debian (apt) are "
			"supported",
			j->base, os->type, os->distro, os->product,
			os->pkg_mgr);
	if (got != want)
		return bake_fail(b, base->pos, -EMEDIUMTYPE,
				 "base '%s' holds %s, but the recipe says '%s'",
				 j->base, os->product, want->name);
	return 0;
}

static int
run_step(struct bake *b, struct vmjob *j, enum step_kind k)
{
	const struct vm *vm = j->vm;
	struct strbuf d = STRBUF_INIT;
	double t0 = bake_now();
	int r = 0;

	if (bake_interrupted())
		return bake_fail(b, (struct srcpos){0}, -ECANCELED,
				 "interrupted");
	if (hook(b, plan_step_name(k)))
		return -EIO;
	b->bar_step = plan_step_name(k);
	/* A step that writes files it does not list (a package manager):
	 * SELinux then labels whole filesystems. */
	if (k != STEP_FILES && k != STEP_OVERLAY && k != STEP_USERS &&
	    k != STEP_UNITS && k != STEP_SELINUX)
		j->unlisted = true;
	switch (k) {
	case STEP_PACKAGES:
		/* Also the images' step: planned for services alone. */
		if (vm->packages.n > 0)
			r = bake_step_packages(b, j);
		for (size_t i = 0; i < vm->packages.n; i++)
			sb_printf(&d, "%s%s", i ? " " : "", vm->packages.v[i]);
		if (r == 0 && vm->nservices > 0) {
			struct strbuf di = STRBUF_INIT;
			double t1 = bake_now();

			if (vm->packages.n > 0)
				report(b, j, "packages", d.buf, t0);
			sb_release(&d);
			r = bake_step_images(b, j, &di);
			if (r == 0)
				report(b, j, "images", di.buf, t1);
			sb_release(&di);
			return r;
		}
		break;
	case STEP_FILES:
		r = bake_step_files(b, j);
		sb_printf(&d, "%zu files", j->plan.files.n);
		break;
	case STEP_OVERLAY:
		r = bake_step_overlay(b, j);
		sb_printf(&d, "%s (%zu entries)", vm->overlay,
			  j->plan.overlay.n);
		break;
	case STEP_USERS:
		r = bake_step_users(b, j);
		if (r == 0)
			r = bake_finish_ownership(b, j, false);
		for (size_t i = 0; i < vm->nusers; i++)
			sb_printf(&d, "%s%s", i ? " " : "", vm->users[i].name);
		break;
	case STEP_UNITS:
		r = bake_step_units(b, j);
		for (size_t i = 0; i < vm->units.n; i++)
			sb_printf(&d, "%s%s", i ? " " : "", vm->units.v[i]);
		break;
	case STEP_SELINUX:
		/* Every owner is settled before labels are set: a file
		 * whose owner never appeared is an error. */
		r = bake_finish_ownership(b, j, true);
		if (r == 0)
			r = bake_step_selinux(b, j, &d);
		break;
	}
	bake_bar_done(b);
	if (r == 0)
		report(b, j, plan_step_name(k), d.buf, t0);
	sb_release(&d);
	return r;
}

/* Every path the bake wrote gets the mtime SOURCE_DATE_EPOCH, then goes
 * into the VM's manifest, read back through libguestfs. */
static int
stamp_and_list(struct bake *b, struct vmjob *j)
{
	double t0 = bake_now();
	struct strbuf d = STRBUF_INIT;
	int r = 0;

	manifest_release(&j->man);
	j->man.vm = xstrdup(j->vm->name);
	/* Written, then removed (policy-rc.d): left out. */
	r = image_manifest_many(b->im, j->written, j->content, j->nwritten,
				b->o->epoch, &j->man);
	if (r < 0)
		return bake_fail(b, j->vm->pos, r,
				 "cannot read back the written paths: %s",
				 image_error(b->im));
	manifest_finish(&j->man);
	sb_printf(&d, "%zu paths, sha256:%.16s", j->man.n, j->man.digest);
	report(b, j, "manifest", d.buf, t0);
	sb_release(&d);
	return 0;
}

static int
bake_one(struct bake *b, struct vmjob *j)
{
	size_t idx = j->drive;
	bool grown = false;
	uint64_t bytes = 0;
	double t0 = bake_now();
	int r;

	b->bar_vm = j->vm->name;
	r = check_os(b, j);
	if (r < 0)
		return r;
	if (hook(b, "grow"))
		return -EIO;
	b->bar_step = "grow";
	r = image_grow_root(b->im, idx, &grown);
	bake_bar_done(b);
	if (r < 0)
		return bake_fail(b, j->vm->pos, r,
				 "cannot grow the root filesystem: %s",
				 image_error(b->im));
	r = image_mount(b->im, idx);
	if (r < 0)
		return bake_fail(b, j->vm->pos, r, "cannot mount '%s': %s",
				 j->os.root, image_error(b->im));
	if (grown) {
		r = image_grow_fs(b->im, idx, &bytes);
		if (r < 0)
			return bake_fail(b, j->vm->pos, r,
					 "cannot grow the root filesystem: %s",
					 image_error(b->im));
	}
	if (grown) {
		char h[32];
		CLEANUP_FREE char *d = xasprintf(
			"%s %s %s: filesystem grown%s%s", j->os.distro,
			j->os.product, j->os.root_fs, bytes > 0 ? " to " : "",
			bytes > 0 ? progress_human(bytes, h, sizeof(h)) : "");

		report(b, j, "grow", d, t0);
	} else {
		bake_warn(b, j->vm->name,
			  "root filesystem not grown (%s); it keeps the base's "
			  "size",
			  image_error(b->im));
	}
	j->pending = xcalloc(j->plan.files.n + 1, sizeof(*j->pending));
	for (size_t i = 0; r == 0 && i < j->plan.nsteps; i++)
		r = run_step(b, j, j->plan.steps[i]);
	if (r == 0)
		r = bake_finish_ownership(b, j, true);
	if (r == 0)
		r = stamp_and_list(b, j);
	if (r == 0) {
		r = image_umount(b->im);
		if (r < 0)
			bake_fail(b, j->vm->pos, r, "cannot unmount: %s",
				  image_error(b->im));
	}
	return r;
}

static bool
needs_network(struct bake *b)
{
	if (b->o->offline)
		return false;
	for (size_t i = 0; i < b->njobs; i++)
		if (!b->jobs[i].skip && !b->jobs[i].pinned &&
		    b->jobs[i].vm->packages.n > 0)
			return true;
	return false;
}

static int
appliance(struct bake *b, struct bake_result *res)
{
	struct image_opts io = {
		.accel = b->o->accel,
		.network = needs_network(b),
		.debug = b->o->debug,
		.progress = bake_on_progress,
		.progress_opaque = b,
	};
	bool fell_back = false;
	size_t ndrives = 0;
	double t0;
	int r;

	for (size_t i = 0; i < b->njobs; i++)
		ndrives += !b->jobs[i].skip;
	image_new(&io, &b->im);
	current_image = b->im;
	bake_on_interrupt(cancel);
	for (size_t i = 0; i < b->njobs; i++)
		if (!b->jobs[i].skip)
			image_add_drive(b->im, b->jobs[i].tmp);
	t0 = bake_now();
	r = image_launch(b->im, &fell_back);
	res->attempts = image_launch_attempts();
	res->launches = image_launch_count();
	res->tcg = image_is_tcg(b->im);
	if (r < 0)
		return bake_fail(b, (struct srcpos){0}, r,
				 "cannot launch the libguestfs appliance: %s",
				 image_error(b->im));
	if (fell_back)
		bake_warn(b, NULL,
			  "the appliance did not come up with KVM (%s); "
			  "running it "
			  "under TCG, which is much slower",
			  image_error(b->im));
	if (b->o->step != NULL) {
		CLEANUP_FREE char *d = xasprintf("%zu drive%s, %s%s", ndrives,
						 ndrives == 1 ? "" : "s",
						 res->tcg ? "TCG" : "KVM",
						 io.network ? ", network" : "");

		b->o->step(b->o->opaque, "image", "launch", d, bake_now() - t0);
	}
	if (bake_interrupted())
		return bake_fail(b, (struct srcpos){0}, -ECANCELED,
				 "interrupted");
	r = bake_inspect(b);
	if (r < 0)
		return r;
	for (size_t i = 0; i < b->njobs && r == 0; i++)
		if (!b->jobs[i].skip)
			r = bake_one(b, &b->jobs[i]);
	if (r < 0)
		return r;
	if (bake_interrupted())
		return bake_fail(b, (struct srcpos){0}, -ECANCELED,
				 "interrupted");
	if (hook(b, "shutdown"))
		return -EIO;
	t0 = bake_now();
	r = image_shutdown(b->im);
	if (r == 0 && b->o->step != NULL)
		b->o->step(b->o->opaque, "image", "shutdown", "sync, stop",
			   bake_now() - t0);
	if (r < 0)
		return bake_fail(b, (struct srcpos){0}, r,
				 "the appliance did not shut down cleanly, the "
				 "images may be incomplete: %s",
				 image_error(b->im));
	if (bake_interrupted())
		return bake_fail(b, (struct srcpos){0}, -ECANCELED,
				 "interrupted");
	return 0;
}

static int
run(struct bake *b, struct bake_result *res)
{
	int r = appliance(b, res);

	bake_on_interrupt(NULL);
	current_image = NULL;
	image_free(b->im);
	b->im = NULL;
	return r;
}

static int
verify(const char *path, const struct manifest *want, enum image_accel accel,
       bool debug, struct manifest *ret, char **ret_err)
{
	struct image_opts io = {
		.accel = accel, .readonly = true, .debug = debug};
	struct manifest m = {0};
	struct image *im = NULL;
	bool fell_back;
	CLEANUP_FREE char *what = xstrdup("launch the libguestfs appliance");
	int r;

	image_new(&io, &im);
	image_add_drive(im, path);
	r = image_launch(im, &fell_back);
	if (r == 0) {
		free(what);
		what = xasprintf("find an operating system in '%s'", path);
		r = image_inspect(im);
	}
	if (r == 0)
		r = image_mount(im, 0);
	for (size_t i = 0; r == 0 && i < want->n; i++) {
		const struct mentry *e = &want->v[i];

		r = image_manifest_add(im, e->path,
				       strcmp(e->sha256, "excluded") != 0, &m);
		if (r == -ENOENT) {
			r = 0; /* manifest_diff says "missing" */
		} else if (r < 0) {
			free(what);
			what = xasprintf("read '%s'", e->path);
		}
	}
	if (r == 0) {
		free(what);
		what = xstrdup("shut the appliance down");
		r = image_umount(im);
		if (r == 0)
			r = image_shutdown(im);
	}
	if (r < 0) {
		*ret_err = xasprintf("cannot %s: %s", what, image_error(im));
		image_free(im);
		manifest_release(&m);
		return r;
	}
	image_free(im);
	m.vm = xstrdup(want->vm ? want->vm : "");
	manifest_finish(&m);
	*ret = m;
	return 0;
}

/* What bake.c loads (module.h): not declared in a header, bake.c
 * declares it weak. */
const struct bake_appliance sbx_bake_appliance = {
	.head = {.version = SBX_VERSION, .abi = BAKE_MODULE_ABI},
	.run = run,
	.verify = verify,
};
