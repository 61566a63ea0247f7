/* The container images a VM's services need, made ready on the build
 * host before any appliance starts: each pinned in sbx.lock (lock.h),
 * present and verified in the cache (images.h).
 *
 * - A service with 'image:' only: the recipe's own "@sha256:" digest wins,
 *   else the lock's pin for that reference, else (online) the registry's
 *   linux/amd64 manifest for the tag, recorded in the lock.
 * - A service with 'build:': the Containerfile in the VM's overlay at that
 *   guest path; every FROM is pinned and fetched like a pulled image, the
 *   context (directory + FROM pins) has a digest, and the lock's built
 *   image is reused when it was made from that context and is in the
 *   cache; otherwise (online) buildah builds it and the lock records it.
 * - Offline: the cache only; every image missing there is named with the
 *   recipe (or Containerfile) line that wants it, all in one error.
 *
 * Services naming one image share it. */
#ifndef SBX_CONTAINERS_H
#define SBX_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>

struct lock;
struct recipe_set;
struct strbuf;
struct vm;

enum containers_mode {
	CONTAINERS_PIN,	  /* lock: pins only (FROMs too), nothing fetched */
	CONTAINERS_READY, /* build: pinned, fetched or built, verified */
};

struct containers_opts {
	enum containers_mode mode;
	const char *cache; /* the cache directory (fetch_cache_dir) */
	bool offline;	   /* cache only, no registry, no build */
	bool update;	   /* resolve tags again even when pinned */
	/* If set: every sbx.lock key the VM wants (images, FROMs, built
	 * images) is appended, one per line, so 'lock' can forget the
	 * others. */
	struct strbuf *wanted;
};

/* One image the VM's guest gets. */
struct ctimage {
	char *ref;    /* normalised reference, the lock's key */
	char *digest; /* sha256:HEX of its manifest */
	char *dir;    /* CONTAINERS_READY: the verified layout in the cache */
	char *name;   /* the guest's directory name (render_image_name) */
};
struct ctimages {
	struct ctimage *v;
	size_t n;
};
void ctimages_release(struct ctimages *c);

/* Makes vm's images ready as o says, recording pins in lk.  Returns 0, or
 * a negative errno with every problem appended to errs, one per line,
 * each "FILE:LINE:COL: message" (the recipe position asking for it). */
int containers_vm(struct lock *lk, const struct recipe_set *set,
		  const struct vm *vm, const struct containers_opts *o,
		  struct ctimages *ret, struct strbuf *errs);

/* "image REF DIGEST" lines, for a VM's inputs digest. */
void ctimages_text(const struct ctimages *c, struct strbuf *out);

#endif
