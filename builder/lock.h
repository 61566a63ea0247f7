/* sbx.lock: what exactly a build uses, meant to be committed.  A YAML map
 * read and written through ytree.h:
 *
 *   version: 1
 *   bases:
 *     fedora-44:
 *       url: https://...
 *       file: Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2
 *       size: 123456
 *       checksum: sha256:HEX
 *       key-fingerprint: 36F6...
 *       recipe-url: https://...   (only when it differs from url: a
 *                                  release chosen by 'lock --release')
 *
 *   packages:
 *     VM:
 *       for: "hello podman"    (the recipe's package list they were made
 *                               for, space-separated, in recipe order)
 *       files:
 *         - {file: /var/cache/..., name: N, version: "V", arch: A,
 *            sha256: HEX}
 *
 *   containers:           (the services' images, by reference as the
 *                          recipe writes it, normalised)
 *     docker.io/pihole/pihole:2025.08.0:
 *       digest: sha256:HEX    (the linux/amd64 manifest)
 *     localhost/sbx-tinyproxy:latest:
 *       digest: sha256:HEX    (the image buildah made)
 *       context: sha256:HEX   (what it was made from: the build
 *                              directory and its FROM pins)
 *
 * Sections this module does not know are kept as they are when the file
 * is written back. */
#ifndef SBX_LOCK_H
#define SBX_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "fetch.h"

#define LOCK_FILE "sbx.lock"

struct lock;
struct ynode;
struct base;

/* An empty lock. */
struct lock *lock_new(void);
/* Reads path; a missing file gives an empty lock.  A malformed file
 * returns -EINVAL with every problem in diags; I/O errors the negative
 * errno. */
int lock_load(const char *path, struct diag_list *diags, struct lock **ret);
void lock_free(struct lock *lk);

/* The pin recorded for a base: 0, or -ENOENT when there is none. */
int lock_get_base(const struct lock *lk, const char *name,
		  struct fetch_pin *ret);
/* Records (or replaces) a base's pin, made for the recipe's url
 * recipe_url (NULL: pin->url). */
void lock_set_base(struct lock *lk, const char *name,
		   const struct fetch_pin *pin, const char *recipe_url);
/* The recipe URL a base's pin was made for, or NULL when none. */
const char *lock_base_recipe_url(const struct lock *lk, const char *name);
/* Removes a base's pin; false when there was none. */
bool lock_remove_base(struct lock *lk, const char *name);
/* The names of the bases recorded, in file order. */
size_t lock_nbases(const struct lock *lk);
const char *lock_base_name(const struct lock *lk, size_t i);

/* A top-level section (a map) for other modules, NULL when absent unless
 * create; marks the lock changed when create adds it. */
struct ynode *lock_section(struct lock *lk, const char *key, bool create);
/* Drops a top-level section (e.g. "packages"); false when absent. */
bool lock_remove_section(struct lock *lk, const char *key);
/* Set by every change; lock_save clears it. */
bool lock_changed(const struct lock *lk);
void lock_mark_changed(struct lock *lk);

/* One package file pinned for a VM (packages: section). */
struct lock_pkg {
	char *file, *name, *version, *arch, *sha256; /* NULL when missing */
	int line, col; /* its position in sbx.lock (0 for new pins) */
};
struct lock_pkgs {
	struct lock_pkg *v;
	size_t n;
};
void lock_pkgs_release(struct lock_pkgs *p);
/* Appends a pin (copies of the strings). */
void lock_pkgs_add(struct lock_pkgs *p, const char *file, const char *name,
		   const char *version, const char *arch, const char *sha256);
/* vm's package pins (copies) when they were made for the package list
 * list: 0.  -ENOENT when vm has none, -ESTALE when they were made for
 * another list (*ret left empty then). */
int lock_get_pkgs(const struct lock *lk, const char *vm, const char *list,
		  struct lock_pkgs *ret);
/* Records (or replaces) vm's package pins, made for list. */
void lock_set_pkgs(struct lock *lk, const char *vm, const char *list,
		   const struct lock_pkgs *p);

/* A container image's pin: 0 with *ret_digest (and *ret_context, NULL
 * for a pulled image) pointing into the lock, or -ENOENT. */
int lock_get_container(const struct lock *lk, const char *ref,
		       const char **ret_digest, const char **ret_context);
/* Records (or replaces) one; context NULL for a pulled image. */
void lock_set_container(struct lock *lk, const char *ref, const char *digest,
			const char *context);
/* The references recorded, in file order, and removing one. */
size_t lock_ncontainers(const struct lock *lk);
const char *lock_container_ref(const struct lock *lk, size_t i);
bool lock_remove_container(struct lock *lk, const char *ref);

/* Writes the lock atomically. */
int lock_save(struct lock *lk, const char *path);

/* The pin to build base b with: the lock's when it was made for the
 * recipe's URL (and checksum), otherwise resolved now (fetch_resolve) and
 * recorded in lk (not when offline: an offline pin is the recipe's
 * checksum alone).
 * Then the image is made present in the cache (fetch_image); a size the
 * lock did not know yet is recorded.  Errors as fetch_resolve and
 * fetch_image, with fetch_error(ctx) saying why. */
int lock_fetch_base(struct lock *lk, struct fetch_ctx *ctx,
		    const struct base *b, char **ret_path);
/* The pin for base b as lock_fetch_base chooses it, without fetching the
 * image (resolving it if the lock has none and ctx is online). */
int lock_pin_base(struct lock *lk, struct fetch_ctx *ctx, const struct base *b,
		  struct fetch_pin *ret);

#endif
