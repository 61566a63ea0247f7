/* The bake, host side: prepare every plan, decide which VMs are up to
 * date, create the qcow2 overlays under temporary names, hand them to
 * the appliance (bake-session.c, in the libguestfs module), then rename
 * the images into place.  Nothing here needs libguestfs: a bake with
 * nothing to build never loads it. */
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
#include "module.h"
#include "outputs.h"
#include "plan.h"
#include "prepare.h"
#include "progress.h"
#include "recipe.h"
#include "run.h"
#include "secrets.h"
#include "util.h"
#include "qcow2.h"

/* The libguestfs half of the bake (bake-session.c): linked into a test
 * binary, else loaded from the module on first use (module.h).  Weak:
 * sbx-build itself does not link it, so a command that launches no
 * appliance never loads libguestfs. */
extern const struct bake_appliance sbx_bake_appliance __attribute__((weak));

static int
load_appliance(const struct bake_appliance **ret, char **ret_err)
{
	const void *m;
	int r = module_load(BAKE_MODULE, BAKE_MODULE_SYMBOL,
			    &sbx_bake_appliance, BAKE_MODULE_ABI, &m, ret_err);

	if (r == 0)
		*ret = m;
	return r;
}

/* --- orchestration ---------------------------------------------------- */

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
		acct_release(&j->acct);
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

static int
session(struct bake *b, struct bake_result *res)
{
	const struct bake_appliance *m = NULL;
	CLEANUP_FREE char *err = NULL;
	size_t ndrives = 0;
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
		return 0; /* nothing to build: no appliance, no libguestfs */
	r = load_appliance(&m, &err);
	if (r < 0)
		return bake_fail(b, (struct srcpos){0}, r, "%s", err);
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
	r = m->run(b, res);
	if (r < 0)
		return r;
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
	struct bake_signals sig;
	int r;

	b.fail_at = getenv("SBX_TEST_FAIL_AT");
	if (b.fail_at != NULL && *b.fail_at == '\0')
		b.fail_at = NULL;
	b.jobs = xcalloc(n, sizeof(*b.jobs));
	b.njobs = n;
	for (size_t i = 0; i < n; i++)
		b.jobs[i].vm = vms[i];
	bake_signals_catch(&sig);
	r = prepare_jobs(&b);
	if (r == 0)
		r = session(&b, &res);
	if (r == 0) {
		res.uptodate = xcalloc(n + 1, sizeof(*res.uptodate));
		for (size_t i = 0; i < n; i++)
			res.uptodate[i] = b.jobs[i].skip;
	}
	if (r < 0 && bake_interrupted()) {
		sb_release(&b.err);
		bake_fail(&b, (struct srcpos){0}, -ECANCELED, "interrupted");
		r = -ECANCELED;
	}
	bake_bar_done(&b);
	jobs_release(&b); /* removes any temporary image left */
	bake_signals_restore(&sig);
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
	const struct bake_appliance *m = NULL;
	int r = load_appliance(&m, ret_err);

	if (r < 0)
		return r;
	return m->verify(path, want, accel, debug, ret, ret_err);
}
