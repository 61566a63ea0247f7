/* The bake: prepare every plan, create the qcow2 overlays under temporary
 * names, apply each VM's steps in one libguestfs appliance, shut it down,
 * then rename the images into place.  Everything libguestfs is behind
 * image.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bake-int.h"
#include "digest.h"
#include "distro.h"
#include "fetch.h"
#include "image.h"
#include "inputs.h"
#include "lock.h"
#include "manifest.h"
#include "outputs.h"
#include "plan.h"
#include "prepare.h"
#include "progress.h"
#include "recipe.h"
#include "run.h"
#include "secrets.h"
#include "util.h"
#include "qcow2.h"

/* --- the session ------------------------------------------------------ */

static volatile sig_atomic_t interrupted;
static struct image *volatile current_image;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	image_cancel(current_image);
}

/* --- orchestration ---------------------------------------------------- */

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

	if (interrupted)
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
	r = image_grow_root(b->im, idx, &grown, &bytes);
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
		r = image_grow_fs(b->im, idx);
		if (r < 0)
			return bake_fail(b, j->vm->pos, r,
					 "cannot grow the root filesystem: %s",
					 image_error(b->im));
	}
	if (grown) {
		char h[32];
		CLEANUP_FREE char *d =
			xasprintf("%s %s %s: %s partition, filesystem grown",
				  j->os.distro, j->os.product, j->os.root_fs,
				  progress_human(bytes, h, sizeof(h)));

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

static void
jobs_release(struct bake *b)
{
	for (size_t i = 0; i < b->njobs; i++) {
		struct vmjob *j = &b->jobs[i];

		if (j->planned)
			plan_release(&j->plan);
		secret_store_release(&j->secrets);
		if (j->tmp != NULL)
			unlink(j->tmp);
		free(j->tmp);
		free(j->final);
		free(j->base);
		image_os_release(&j->os);
		for (size_t k = 0; k < j->nimplicit; k++)
			free(j->implicit[k]);
		free(j->implicit);
		free(j->pending);
		free(j->base_id);
		for (size_t k = 0; k < j->nwritten; k++)
			free(j->written[k]);
		free(j->written);
		free(j->content);
		lock_pkgs_release(&j->newpins);
		manifest_release(&j->man);
		ctimages_release(&j->images);
	}
	free(b->jobs);
}

static char *
out_file(struct bake *b, const struct vmjob *j, const char *ext)
{
	return xasprintf("%s/%s.%s", b->o->out_dir, j->vm->name, ext);
}

/* The digest out/VM.inputs holds: inputs.h over the plan, overlay and
 * base, plus the VM's package pins and SOURCE_DATE_EPOCH. */
static int
job_inputs(struct bake *b, struct vmjob *j, char hex[DIGEST_HEX_MAX])
{
	struct strbuf extra = STRBUF_INIT;
	int r;

	sb_printf(&extra, "epoch %lld\n", (long long)b->o->epoch);
	bake_pins_text(b, j, &extra);
	ctimages_text(&j->images, &extra);
	r = inputs_digest(&j->plan, j->base_id, extra.buf, hex);
	sb_release(&extra);
	return r;
}

static bool
up_to_date(struct bake *b, struct vmjob *j)
{
	CLEANUP_FREE char *in = out_file(b, j, "inputs");
	CLEANUP_FREE char *man = out_file(b, j, "manifest");
	CLEANUP_FREE char *text = NULL;
	struct stat st;
	size_t len;

	/* The image must still sit on this base (a moved cache rebuilds). */
	if (stat(man, &st) < 0 || !qcow2_backed_by(j->final, j->base) ||
	    read_file(in, &text, &len) < 0)
		return false;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	return strcmp(text, j->inputs) == 0;
}

/* Once out/VM.qcow2 is in place: its manifest, the package pins it
 * found, then its inputs digest (last: it claims the image is current). */
static int
finish_job(struct bake *b, struct vmjob *j)
{
	CLEANUP_FREE char *in = out_file(b, j, "inputs");
	CLEANUP_FREE char *man = out_file(b, j, "manifest");
	CLEANUP_FREE char *text = NULL, *line = NULL;
	size_t len;
	int r;

	r = manifest_to_text(&j->man, &text, &len);
	if (r == 0)
		r = write_file_atomic(man, text, len, 0644);
	if (r < 0)
		return bake_fail(b, (struct srcpos){0}, r,
				 "cannot write '%s': %s", man, strerror(-r));
	bake_record_pins(b, j);
	r = job_inputs(b, j, j->inputs);
	if (r == 0) {
		line = xasprintf("%s\n", j->inputs);
		r = write_file_atomic(in, line, strlen(line), 0644);
	}
	if (r < 0)
		return bake_fail(b, (struct srcpos){0}, r,
				 "cannot write '%s': %s", in, strerror(-r));
	return 0;
}

/* Moves the error recorded so far to the end of all. */
static void
keep_err(struct bake *b, struct strbuf *all)
{
	sb_printf(all, "%s%s", all->len > 0 ? "\n" : "",
		  b->err.buf != NULL ? b->err.buf : "");
	sb_release(&b->err);
	b->err = (struct strbuf)STRBUF_INIT;
}

/* The services' images, pinned and verified in the cache (containers.h);
 * every one missing is named in b->err. */
static int
job_images(struct bake *b, struct vmjob *j)
{
	CLEANUP_FREE char *cache = NULL;
	struct containers_opts co = {.mode = CONTAINERS_READY,
				     .offline = b->o->offline};
	struct lock *tmp = NULL, *lk = b->o->lock;
	struct strbuf errs = STRBUF_INIT;
	int r;

	if (j->vm->nservices == 0)
		return 0;
	r = fetch_cache_dir(b->o->cache_dir, &cache);
	if (r < 0)
		return bake_fail(b, j->vm->pos, r, "no cache directory: %s",
				 strerror(-r));
	co.cache = cache;
	if (lk == NULL)
		lk = tmp = lock_new();
	r = containers_vm(lk, b->set, j->vm, &co, &j->images, &errs);
	if (r < 0 && b->err.len == 0) {
		while (errs.len > 0 && errs.buf[errs.len - 1] == '\n')
			errs.buf[--errs.len] = '\0';
		sb_puts(&b->err, errs.buf);
	}
	sb_release(&errs);
	lock_free(tmp);
	return r;
}

static int
prepare_jobs(struct bake *b)
{
	CLEANUP_FREE char *sdir = path_join(b->o->out_dir, "secrets");
	struct strbuf all = STRBUF_INIT;
	int missing = 0;

	for (size_t i = 0; i < b->njobs; i++) {
		struct vmjob *j = &b->jobs[i];
		struct diag_list *diags = diag_list_new();
		CLEANUP_FREE char *bad = NULL;
		int r;

		r = secrets_load(sdir, j->vm, &j->secrets, &bad);
		if (r < 0) {
			diag_list_free(diags);
			return bake_fail(b, j->vm->pos, r,
					 "cannot load secret '%s': %s",
					 bad ? bad : sdir, strerror(-r));
		}
		r = prepare_plan(b->set, j->vm, j->secrets.v, j->secrets.n,
				 &j->plan, diags);
		if (r < 0) {
			for (size_t k = 0; k < diag_count(diags); k++)
				sb_printf(&b->err, "%s%s", k ? "\n" : "",
					  diag_message(diags, k));
			diag_list_free(diags);
			return bake_fail(b, j->vm->pos, r,
					 "cannot plan VM '%s'", j->vm->name);
		}
		diag_list_free(diags);
		j->planned = true;
		r = bake_base_path(b, j);
		if (r < 0) {
			/* Gather every missing input, then fail once. */
			keep_err(b, &all);
			missing = r;
		}
		if (job_images(b, j) < 0) {
			keep_err(b, &all);
			missing = missing < 0 ? missing : -ENOENT;
		}
		if (missing < 0)
			continue;
		j->final = xasprintf("%s/%s.qcow2", b->o->out_dir, j->vm->name);
		r = job_inputs(b, j, j->inputs);
		if (r < 0)
			return bake_fail(
				b, j->vm->pos, r,
				"cannot read the inputs of VM '%s': %s",
				j->vm->name, strerror(-r));
		j->skip = !b->o->force && up_to_date(b, j);
		if (j->skip)
			continue;
		/* What a killed build of this VM left (its PID is gone). */
		(void)outputs_remove_stale(b->o->out_dir, j->vm->name);
		j->tmp = xasprintf("%s/.%s.qcow2.tmp-%ld", b->o->out_dir,
				   j->vm->name, (long)getpid());
	}
	/* Every missing pinned package of every VM, before any work. */
	for (size_t i = 0; i < b->njobs; i++) {
		if (b->jobs[i].skip || bake_check_pins(b, &b->jobs[i]) == 0)
			continue;
		keep_err(b, &all);
		if (missing == 0)
			missing = -ENOENT;
	}
	if (missing < 0) {
		b->err = all;
		return missing;
	}
	return 0;
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
session(struct bake *b, struct bake_result *res)
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

	for (size_t i = 0; i < b->njobs; i++) {
		struct vmjob *j = &b->jobs[i];

		if (j->skip && b->o->step != NULL) {
			CLEANUP_FREE char *d = xasprintf(
				"inputs sha256:%.16s unchanged", j->inputs);

			b->o->step(b->o->opaque, j->vm->name, "up to date", d,
				   0);
		}
		if (!j->skip)
			j->drive = ndrives++;
	}
	if (ndrives == 0)
		return 0; /* nothing to build: no appliance */
	r = mkdir_p(b->o->out_dir, 0755);
	if (r < 0)
		return bake_fail(b, (struct srcpos){0}, r,
				 "cannot create '%s': %s", b->o->out_dir,
				 strerror(-r));
	for (size_t i = 0; i < b->njobs; i++) {
		if (b->jobs[i].skip)
			continue;
		r = bake_create_overlay(b, &b->jobs[i]);
		if (r < 0)
			return r;
	}
	image_new(&io, &b->im);
	current_image = b->im;
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
	if (interrupted)
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
	if (interrupted)
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
	if (interrupted)
		return bake_fail(b, (struct srcpos){0}, -ECANCELED,
				 "interrupted");
	for (size_t i = 0; i < b->njobs; i++) {
		struct vmjob *j = &b->jobs[i];
		CLEANUP_FREE char *in = NULL;

		if (j->skip)
			continue;
		/* The old digest must not vouch for the new image. */
		in = out_file(b, j, "inputs");
		if (unlink(in) < 0 && errno != ENOENT)
			return bake_fail(b, (struct srcpos){0}, -errno,
					 "cannot remove '%s': %s", in,
					 strerror(errno));
		if (rename(j->tmp, j->final) < 0)
			return bake_fail(b, (struct srcpos){0}, -errno,
					 "cannot rename '%s' to '%s': %s",
					 j->tmp, j->final, strerror(errno));
		free(j->tmp);
		j->tmp = NULL;
		r = finish_job(b, j);
		if (r < 0)
			return r;
	}
	return 0;
}

int
bake_vms(const struct recipe_set *set, const struct vm *const *vms, size_t n,
	 const struct bake_opts *o, struct bake_result *ret, char **ret_err)
{
	struct bake b = {.set = set, .o = o, .err = STRBUF_INIT};
	struct bake_result res = {0};
	struct sigaction sa = {.sa_handler = on_signal}, oint, oterm;
	int r;

	b.fail_at = getenv("SBX_TEST_FAIL_AT");
	if (b.fail_at != NULL && *b.fail_at == '\0')
		b.fail_at = NULL;
	b.jobs = xcalloc(n, sizeof(*b.jobs));
	b.njobs = n;
	for (size_t i = 0; i < n; i++)
		b.jobs[i].vm = vms[i];
	interrupted = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	r = prepare_jobs(&b);
	if (r == 0)
		r = session(&b, &res);
	if (r == 0) {
		res.uptodate = xcalloc(n + 1, sizeof(*res.uptodate));
		for (size_t i = 0; i < n; i++)
			res.uptodate[i] = b.jobs[i].skip;
	}
	if (r < 0 && interrupted) {
		sb_release(&b.err);
		bake_fail(&b, (struct srcpos){0}, -ECANCELED, "interrupted");
		r = -ECANCELED;
	}
	bake_bar_done(&b);
	current_image = NULL;
	image_free(b.im);
	jobs_release(&b); /* removes any temporary image left */
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	if (r < 0) {
		*ret_err = sb_detach(&b.err, NULL);
		return r;
	}
	sb_release(&b.err);
	*ret = res;
	return 0;
}

void
bake_result_release(struct bake_result *r)
{
	free(r->uptodate);
	r->uptodate = NULL;
}

int
bake_verify(const char *path, const struct manifest *want,
	    enum image_accel accel, bool debug, struct manifest *ret,
	    char **ret_err)
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
