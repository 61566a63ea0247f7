/* The inspect step: which system each drive holds and how it mounts,
 * quickly where it can (image_inspect, inspquick.h), by libguestfs's full
 * inspection where not.  Inspection is a pure function of the base's
 * bytes, so its result is kept in the cache directory (inspcache.h) and
 * the next bake on the same base only checks the root filesystem is there
 * (image_adopt). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bake-int.h"
#include "fetch.h"
#include "inspcache.h"

/* The cache file of j's base, or NULL when there is no cache directory. */
static char *
cache_file(struct bake *b, const struct vmjob *j, const char *ver)
{
	CLEANUP_FREE char *cache = NULL;
	char hex[DIGEST_HEX_MAX];

	if (j->base_id == NULL || fetch_cache_dir(b->o->cache_dir, &cache) < 0)
		return NULL;
	inspcache_key(ver, j->base_id, hex);
	return xasprintf("%s/inspect/%s", cache, hex);
}

static bool
adopt(struct bake *b, struct vmjob *j, const char *file)
{
	const char *dev = image_drive_dev(b->im, j->drive);
	CLEANUP_FREE char *text = NULL;
	struct image_desc d = {0};
	size_t len;
	int r;

	if (file == NULL || dev == NULL || read_file(file, &text, &len) < 0)
		return false;
	r = inspcache_parse(text, dev, &d);
	if (r == 0)
		r = image_adopt(b->im, j->drive, &d);
	image_desc_release(&d);
	if (r < 0)
		log_debug("[%s] kept inspection '%s' not used: %s", j->vm->name,
			  file, r == -ESTALE ? image_error(b->im) : "invalid");
	return r == 0;
}

static void
keep(struct bake *b, struct vmjob *j, const char *file)
{
	const char *dev = image_drive_dev(b->im, j->drive);
	CLEANUP_FREE char *text = NULL, *dir = NULL;
	struct image_desc d = {0};
	char *slash;
	int r;

	if (file == NULL || dev == NULL ||
	    image_describe(b->im, j->drive, &d) < 0)
		return;
	r = inspcache_format(&d, dev, &text);
	image_desc_release(&d);
	dir = xstrdup(file);
	slash = strrchr(dir, '/');
	*slash = '\0';
	if (r == 0)
		r = mkdir_p(dir, 0755);
	if (r == 0)
		r = write_file_atomic(file, text, strlen(text), 0644);
	if (r < 0)
		log_debug("[%s] cannot keep the inspection in '%s': %s",
			  j->vm->name, file, strerror(-r));
}

/* How the drives not kept were inspected: quickly (image.h), or by
 * libguestfs, with why the quick inspection gave up. */
static char *
how(struct bake *b, const bool *cached)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	for (size_t i = 0; i < b->njobs; i++) {
		const struct vmjob *j = &b->jobs[i];
		const char *why;

		if (j->skip || cached[i] ||
		    image_inspected_quick(b->im, j->drive, &why))
			continue;
		sb_printf(&sb, "%s%s: %s", sb.len ? "; " : "", j->vm->name,
			  why != NULL ? why : "?");
	}
	if (sb.len == 0) {
		sb_release(&sb);
		return xstrdup("quick: /etc/os-release and /etc/fstab read");
	}
	s = xasprintf("libguestfs inspection (the quick one gave up: %s)",
		      sb.buf);
	sb_release(&sb);
	return s;
}

int
bake_inspect(struct bake *b)
{
	CLEANUP_FREE char *ver = image_gfs_version(b->im);
	char **files = xcalloc(b->njobs + 1, sizeof(*files));
	bool *cached = xcalloc(b->njobs + 1, sizeof(*cached));
	size_t left = 0;
	double t0 = bake_now();
	int r = 0;

	for (size_t i = 0; i < b->njobs; i++) {
		struct vmjob *j = &b->jobs[i];
		double t1 = bake_now();

		if (j->skip)
			continue;
		files[i] = cache_file(b, j, ver);
		cached[i] = adopt(b, j, files[i]);
		if (cached[i] && b->o->step != NULL)
			b->o->step(b->o->opaque, j->vm->name, "inspect",
				   "kept from an earlier bake of this base",
				   bake_now() - t1);
		left += !cached[i];
	}
	if (left > 0) {
		b->bar_step = "inspect";
		r = image_inspect(b->im);
		bake_bar_done(b);
		if (r < 0)
			bake_fail(b, (struct srcpos){0}, r,
				  "inspection failed: %s", image_error(b->im));
		else if (b->o->step != NULL) {
			CLEANUP_FREE char *d = how(b, cached);

			b->o->step(b->o->opaque, "image", "inspect", d,
				   bake_now() - t0);
		}
	}
	for (size_t i = 0; r == 0 && i < b->njobs; i++)
		if (!b->jobs[i].skip && !cached[i])
			keep(b, &b->jobs[i], files[i]);
	for (size_t i = 0; i < b->njobs; i++)
		free(files[i]);
	free(files);
	free(cached);
	return r;
}
