/* The file a VM starts from: its base image (a local file, or fetched and
 * pinned through the cache), and the qcow2 overlay on it that the bake
 * writes under a temporary name (bake-int.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bake-int.h"
#include "fetch.h"
#include "lock.h"
#include "run.h"
#include "util.h"

/* --- qemu-img --------------------------------------------------------- */

int
bake_create_overlay(struct bake *b, struct vmjob *j)
{
	char size[32];
	CLEANUP_FREE char *why = NULL;
	struct strbuf out = STRBUF_INIT;
	struct run_opts ro = {.out = &out, .err_to_out = true};
	const char *argv[] = {"qemu-img", "create", "-q",    "-f",
			      "qcow2",	  "-F",	    "qcow2", "-b",
			      j->base,	  j->tmp,   size,    NULL};
	int r;

	snprintf(size, sizeof(size), "%" PRIu64, j->vm->disk);
	r = run_program(argv, &ro);
	why = run_failure(argv, r, &out);
	sb_release(&out);
	if (why != NULL)
		return bake_fail(b, j->vm->pos, r < 0 ? r : -EIO,
				 "cannot create '%s' backed by '%s': %s",
				 j->tmp, j->base, why);
	return 0;
}

/* --- bases ------------------------------------------------------------ */

int
bake_base_path(struct bake *b, struct vmjob *j)
{
	const struct base *base = j->vm->base_ref;
	char real[PATH_MAX];

	if (base->path != NULL) {
		CLEANUP_FREE char *p = path_join(b->set->dir, base->path);
		struct stat st;

		if (realpath(p, real) == NULL || stat(real, &st) < 0)
			return bake_fail(b, base->pos, -errno,
					 "cannot use base image '%s': %s", p,
					 strerror(errno));
		j->base = xstrdup(real);
		/* A local base is not hashed on every build: its identity
		 * is its path, size and modification time. */
		j->base_id = xasprintf(
			"local:%s:%lld:%lld.%09ld", real, (long long)st.st_size,
			(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		return 0;
	} else {
		CLEANUP_FREE char *cache = NULL;
		struct lock *tmp = NULL, *lk = b->o->lock;
		struct fetch_ctx *ctx;
		struct fetch_pin pin = {0};
		char *path = NULL;
		int r = fetch_cache_dir(b->o->cache_dir, &cache);

		if (r < 0)
			return bake_fail(b, base->pos, r,
					 "no cache directory: %s",
					 strerror(-r));
		if (lk == NULL)
			lk = tmp = lock_new();
		ctx = fetch_ctx_new(cache, b->o->offline ? FETCH_OFFLINE : 0);
		fetch_ctx_set_dir(ctx, b->set->dir);
		r = lock_fetch_base(lk, ctx, base, &path);
		if (r < 0)
			bake_fail(b, base->pos, r, "cannot get base '%s': %s",
				  base->name,
				  *fetch_error(ctx) ? fetch_error(ctx)
						    : strerror(-r));
		else
			r = lock_pin_base(lk, ctx, base, &pin);
		if (r == 0)
			j->base_id = xstrdup(pin.checksum);
		fetch_pin_clear(&pin);
		fetch_ctx_free(ctx);
		lock_free(tmp);
		if (r < 0) {
			free(path);
			return r;
		}
		if (realpath(path, real) == NULL) {
			r = -errno;
			bake_fail(b, base->pos, r, "cannot use '%s': %s", path,
				  strerror(-r));
			free(path);
			return r;
		}
		free(path);
		j->base = xstrdup(real);
		return 0;
	}
}
