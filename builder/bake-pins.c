/* sbx.lock's package pins, on the host side of the bake: the text they
 * add to a VM's inputs digest, the check that every pinned file is in
 * the host cache before the appliance starts, recording the pins a bake
 * found.  The packages step itself is bake-packages.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bake-int.h"
#include "distro.h"
#include "fetch.h"
#include "lock.h"

char *
bake_pkg_cache_root(struct bake *b, struct vmjob *j)
{
	CLEANUP_FREE char *cache = NULL;
	const struct distro_info *d = distro_get(j->vm->base_ref->distro);

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
	root = bake_pkg_cache_root(b, j);
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
