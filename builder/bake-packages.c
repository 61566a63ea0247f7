/* The packages step: the guest's package manager through the distro
 * table, the host package cache, sbx.lock's package pins; and the
 * container images step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bake-int.h"
#include "distro.h"
#include "fetch.h"
#include "lock.h"
#include "pkgfile.h"

/* The distribution table entry of the VM's base (check_os made sure the
 * guest holds that distribution). */
static const struct distro_info *
job_distro(const struct vmjob *j)
{
	return distro_get(j->vm->base_ref->distro);
}

static char *
pkg_cache_root(struct bake *b, struct vmjob *j)
{
	CLEANUP_FREE char *cache = NULL;
	const struct distro_info *d = job_distro(j);

	if (d == NULL || fetch_cache_dir(b->o->cache_dir, &cache) < 0)
		return NULL;
	return xasprintf("%s/packages/%s", cache, d->name);
}

/* The recipe's package list as sbx.lock records what its pins were made
 * for: the names, space-separated, in recipe order. */
static char *
bake_pkg_list(const struct vmjob *j)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < j->vm->packages.n; i++)
		sb_printf(&sb, "%s%s", i ? " " : "", j->vm->packages.v[i]);
	return sb_detach(&sb, NULL);
}

static void
free_strv(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static bool
strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* The package files the base itself keeps in its cache (debootstrap's,
 * say): not pinned, the base's checksum covers them. */
static int
base_pkg_files(struct bake *b, struct vmjob *j, const char *const *dirs,
	       char ***ret)
{
	char **all = xcalloc(1, sizeof(*all));
	size_t n = 0;

	for (size_t i = 0; dirs[i] != NULL; i++) {
		char **files = NULL;
		int r = image_find_files(b->im, dirs[i], &files);

		if (r < 0) {
			free_strv(all);
			return bake_fail(b, j->vm->packages.pos[0], r,
					 "cannot list '%s': %s", dirs[i],
					 image_error(b->im));
		}
		for (size_t k = 0; files[k] != NULL; k++) {
			all = xrealloc(all, (n + 2) * sizeof(*all));
			all[n++] = files[k];
			all[n] = NULL;
		}
		free(files);
	}
	*ret = all;
	return 0;
}

/* After an unpinned install: every package file in the guest's cache but
 * the base's own becomes a pin (recorded in sbx.lock once the image is in
 * place). */
static int
collect_pins(struct bake *b, struct vmjob *j, const char *const *dirs,
	     char *const *base_files)
{
	struct lock_pkgs seq = {0};

	for (size_t i = 0; dirs[i] != NULL; i++) {
		char **files = NULL;
		int r = image_find_files(b->im, dirs[i], &files);

		if (r < 0) {
			lock_pkgs_release(&seq);
			return bake_fail(b, j->vm->packages.pos[0], r,
					 "cannot list '%s': %s", dirs[i],
					 image_error(b->im));
		}
		for (size_t k = 0; r == 0 && files[k] != NULL; k++) {
			CLEANUP_FREE char *name = NULL, *ver = NULL,
					  *arch = NULL;
			char hex[65];

			if (strv_has(base_files, files[k]) ||
			    pkgfile_parse(files[k], &name, &ver, &arch) < 0)
				continue;
			r = image_sha256(b->im, files[k], hex);
			if (r < 0) {
				bake_fail(b, j->vm->packages.pos[0], r,
					  "cannot hash '%s': %s", files[k],
					  image_error(b->im));
				break;
			}
			lock_pkgs_add(&seq, files[k], name, ver, arch, hex);
		}
		for (size_t k = 0; files[k] != NULL; k++)
			free(files[k]);
		free(files);
		if (r < 0) {
			lock_pkgs_release(&seq);
			return r;
		}
	}
	lock_pkgs_release(&j->newpins);
	j->newpins = seq;
	j->found_pins = true;
	return 0;
}

static int
pkg_cache_in(struct bake *b, struct vmjob *j, const char *root,
	     const char *const *dirs)
{
	for (size_t i = 0; dirs[i] != NULL; i++) {
		CLEANUP_FREE char *host = xasprintf("%s%s", root, dirs[i]);
		CLEANUP_FREE char *parent = xstrdup(dirs[i]);
		struct stat st;
		int r;

		if (stat(host, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		*strrchr(parent, '/') = '\0';
		r = image_mkdir_p(b->im, parent);
		if (r == 0)
			r = image_copy_in(b->im, host, parent);
		if (r < 0)
			return bake_fail(
				b, j->vm->pos, r,
				"cannot copy cached packages into '%s': %s",
				dirs[i], image_error(b->im));
	}
	return 0;
}

static int
pkg_cache_out(struct bake *b, struct vmjob *j, const char *root,
	      const char *const *dirs)
{
	for (size_t i = 0; dirs[i] != NULL; i++) {
		CLEANUP_FREE char *host = xasprintf("%s%s", root, dirs[i]);
		CLEANUP_FREE char *parent = xstrdup(host);
		bool isdir;
		int r;

		if (image_is_dir(b->im, dirs[i], &isdir) < 0 || !isdir)
			continue;
		*strrchr(parent, '/') = '\0';
		r = mkdir_p(parent, 0755);
		if (r < 0)
			return bake_fail(b, j->vm->pos, r,
					 "cannot create '%s': %s", parent,
					 strerror(-r));
		r = image_copy_out(b->im, dirs[i], parent);
		if (r < 0)
			return bake_fail(
				b, j->vm->pos, r,
				"cannot keep the downloaded packages of "
				"'%s': %s",
				dirs[i], image_error(b->im));
	}
	return 0;
}

int
bake_step_packages(struct bake *b, struct vmjob *j)
{
	const struct strlist *p = &j->vm->packages;
	const struct distro_info *d = job_distro(j);
	const char *const *dirs = d->cache_dirs;
	CLEANUP_FREE char *root = pkg_cache_root(b, j);
	const char *const *pin_dirs = d->pin_dirs;
	const char **argv = NULL;
	char **base_files = NULL;
	CLEANUP_FREE char *update_what = xasprintf("%s update", d->tool);
	CLEANUP_FREE char *install_what = xasprintf("%s install", d->tool);
	CLEANUP_FREE char *clean_what = xasprintf("%s clean", d->tool);
	size_t n = 0, ni = 0;
	int r;

	if (root == NULL)
		return bake_fail(b, j->vm->pos, -ENOENT, "no cache directory");
	r = j->pinned ? 0 : base_pkg_files(b, j, pin_dirs, &base_files);
	if (r == 0)
		r = pkg_cache_in(b, j, root, dirs);
	if (r == 0 && d->no_start_policy) {
		static const char policy[] = "#!/bin/sh\nexit 101\n";

		/* No service starts inside the appliance. */
		r = job_write_root_file(b, j, "/usr/sbin/policy-rc.d", policy,
					0755);
	}
	if (r == 0 && d->update != NULL && !b->o->offline && !j->pinned)
		r = bake_guest_cmd(b, p->pos[0], update_what, d->update);
	/* The install argv; the offline option goes before its last word
	 * ("install"). */
	while (d->install[ni] != NULL)
		ni++;
	argv = xcalloc(ni + p->n + 2, sizeof(*argv));
	for (size_t i = 0; i + 1 < ni; i++)
		argv[n++] = d->install[i];
	if (b->o->offline || j->pinned)
		argv[n++] = d->install_offline;
	argv[n++] = d->install[ni - 1];
	for (size_t i = 0; i < p->n; i++)
		argv[n++] = p->v[i];
	argv[n] = NULL;
	if (r == 0)
		r = bake_guest_cmd(b, p->pos[0], install_what, argv);
	free(argv);
	if (r == 0)
		r = pkg_cache_out(b, j, root, dirs);
	if (r == 0 && !j->pinned)
		r = collect_pins(b, j, pin_dirs, base_files);
	free_strv(base_files);
	/* The image keeps no package files; the host cache has them. */
	if (r == 0 && d->no_start_policy)
		r = image_rm_f(b->im, "/usr/sbin/policy-rc.d");
	if (r == 0)
		r = bake_guest_cmd(b, p->pos[0], clean_what, d->clean);
	return r;
}

/* sbx.lock's pins for vm when they were made for the recipe's package
 * list: 0; -ENOENT (none) or -ESTALE (made for another list). */
static int
pins_of(struct bake *b, const struct vmjob *j, struct lock_pkgs *ret)
{
	CLEANUP_FREE char *want = bake_pkg_list(j);

	if (b->o->lock == NULL)
		return -ENOENT;
	return lock_get_pkgs(b->o->lock, j->vm->name, want, ret);
}

void
bake_pins_text(struct bake *b, const struct vmjob *j, struct strbuf *out)
{
	struct lock_pkgs pins = {0};

	if (pins_of(b, j, &pins) < 0)
		return;
	for (size_t i = 0; i < pins.n; i++)
		sb_printf(out, "pin %s %s\n",
			  pins.v[i].file ? pins.v[i].file : "",
			  pins.v[i].sha256 ? pins.v[i].sha256 : "");
	lock_pkgs_release(&pins);
}

void
bake_record_pins(struct bake *b, struct vmjob *j)
{
	CLEANUP_FREE char *list = NULL;

	if (!j->found_pins || b->o->lock == NULL)
		return;
	list = bake_pkg_list(j);
	lock_set_pkgs(b->o->lock, j->vm->name, list, &j->newpins);
}

/* Before the appliance starts: every pinned package file must be in the
 * host cache with its checksum.  All missing or altered files are named
 * in one message. */
int
bake_check_pins(struct bake *b, struct vmjob *j)
{
	struct lock_pkgs pins = {0};
	const struct strlist *pk = &j->vm->packages;
	CLEANUP_FREE char *root = NULL;
	struct strbuf bad = STRBUF_INIT;
	size_t nbad = 0;
	int had;

	if (pk->n == 0)
		return 0;
	had = pins_of(b, j, &pins);
	if (had < 0) {
		/* Unpinned, or pinned for another package list: resolved
		 * afresh online, and pinned again. */
		if (!b->o->offline)
			return 0;
		return bake_fail(
			b, pk->pos[0], -ENOENT,
			"offline, but sbx.lock pins no package file for "
			"VM '%s'%s: build it once online first",
			j->vm->name,
			had == -ESTALE ? " for this package list" : "");
	}
	j->pinned = true;
	root = pkg_cache_root(b, j);
	if (root == NULL) {
		lock_pkgs_release(&pins);
		return bake_fail(b, pk->pos[0], -ENOENT, "no cache directory");
	}
	for (size_t i = 0; i < pins.n; i++) {
		const char *file = pins.v[i].file;
		const char *sum = pins.v[i].sha256;
		char hex[DIGEST_HEX_MAX];
		CLEANUP_FREE char *host = NULL;
		int r;

		if (file == NULL || sum == NULL || *file != '/') {
			sb_printf(&bad, "\n  sbx.lock:%d:%d: malformed pin",
				  pins.v[i].line, pins.v[i].col);
			nbad++;
			continue;
		}
		host = xasprintf("%s%s", root, file);
		r = digest_file_hex(DIGEST_SHA256, host, hex);
		if (r < 0) {
			sb_printf(&bad, "\n  missing '%s': %s", host,
				  strerror(-r));
			nbad++;
		} else if (strcmp(hex, sum) != 0) {
			sb_printf(&bad,
				  "\n  '%s' has sha256:%s, sbx.lock pins "
				  "sha256:%s",
				  host, hex, sum);
			nbad++;
		}
	}
	lock_pkgs_release(&pins);
	if (nbad > 0) {
		bake_fail(
			b, pk->pos[0], -ENOENT,
			"%zu pinned package file%s of VM '%s' not in the cache "
			"as sbx.lock pins %s:%s",
			nbad, nbad == 1 ? "" : "s", j->vm->name,
			nbad == 1 ? "it" : "them", bad.buf);
		sb_release(&bad);
		return -ENOENT;
	}
	sb_release(&bad);
	return 0;
}
