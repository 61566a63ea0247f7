/* The packages step: the guest's package manager through the distro
 * table, the host package cache (sbx.lock's pins are bake-pins.c).
 * Part of the libguestfs module (module.h). */
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
	const struct distro_info *d = distro_get(j->vm->base_ref->distro);
	const char *const *dirs = d->cache_dirs;
	CLEANUP_FREE char *root = bake_pkg_cache_root(b, j);
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
