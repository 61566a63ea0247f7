/* A VM's container images: pins from the recipe, sbx.lock or the
 * registry; the cache through images.c. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "escape.h"
#include "images.h"
#include "lock.h"
#include "recipe.h"
#include "render.h"
#include "util.h"

struct cx {
	struct lock *lk;
	const struct recipe_set *set;
	const struct containers_opts *o;
	struct strbuf *errs;
	int err;
	size_t toplen; /* strlen of the project's real path + 1 */
};

static void PRINTF_LIKE(4, 5)
	cx_error(struct cx *c, struct srcpos pos, int r, const char *fmt, ...)
{
	va_list ap;

	if (pos.file != NULL)
		sb_printf(c->errs, "%s:%d:%d: ", pos.file, pos.line, pos.col);
	va_start(ap, fmt);
	sb_vprintf(c->errs, fmt, ap);
	va_end(ap);
	sb_putc(c->errs, '\n');
	if (c->err == 0 || c->err == -ENOENT)
		c->err = r;
}

void
ctimages_release(struct ctimages *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].ref);
		free(c->v[i].digest);
		free(c->v[i].dir);
		free(c->v[i].name);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

void
ctimages_text(const struct ctimages *c, struct strbuf *out)
{
	for (size_t i = 0; i < c->n; i++)
		sb_printf(out, "image %s %s\n", c->v[i].ref, c->v[i].digest);
}

/* name is an sbx.lock key this VM uses. */
static void
want(struct cx *c, const char *name)
{
	if (c->o->wanted != NULL)
		sb_printf(c->o->wanted, "%s\n", name);
}

/* The digest ref stands for: its own, the lock's, or the registry's
 * (recorded).  NULL after reporting why not. */
static char *
pin(struct cx *c, struct srcpos pos, const char *ref, char **ret_name)
{
	CLEANUP_FREE char *why = NULL;
	char *name = NULL, *digest = NULL;
	const char *locked = NULL, *context = NULL;
	int r = images_ref_parse(ref, &name, &digest, &why);

	if (r < 0) {
		cx_error(c, pos, r, "%s", why);
		return NULL;
	}
	if (digest == NULL)
		want(c, name);
	if (digest == NULL &&
	    (c->o->update ||
	     lock_get_container(c->lk, name, &locked, &context) < 0)) {
		if (c->o->offline) {
			cx_error(c, pos, -ENOENT,
				 "container image '%s' is not pinned in "
				 "sbx.lock and the build is offline (run "
				 "'sbx-build lock' online)",
				 name);
			free(name);
			return NULL;
		}
		r = images_resolve(name, &digest, &why);
		if (r < 0) {
			cx_error(c, pos, r,
				 "cannot resolve container image '%s': %s",
				 name, why);
			free(name);
			return NULL;
		}
		if (lock_get_container(c->lk, name, &locked, &context) < 0 ||
		    strcmp(locked, digest) != 0)
			lock_set_container(c->lk, name, digest, NULL);
	} else if (digest == NULL) {
		digest = xstrdup(locked);
	}
	*ret_name = name;
	return digest;
}

/* The verified cache layout of name@digest, fetched when online. */
static char *
ready(struct cx *c, struct srcpos pos, const char *name, const char *digest)
{
	CLEANUP_FREE char *why = NULL;
	char *dir = NULL;
	int r = images_fetch(c->o->cache, name, digest, c->o->offline, &dir,
			     &why);

	if (r < 0) {
		cx_error(c, pos, r, "container image '%s': %s", name, why);
		return NULL;
	}
	return dir;
}

static void
add(struct ctimages *ret, const struct service *s, char *ref, char *digest,
    char *dir)
{
	struct ctimage *e;

	ret->v = xrealloc(ret->v, (ret->n + 1) * sizeof(*ret->v));
	e = &ret->v[ret->n++];
	e->ref = ref;
	e->digest = digest;
	e->dir = dir;
	e->name = render_image_name(s->image);
}

/* The host directory of a service's build context, inside the project. */
static char *
context_dir(struct cx *c, const struct vm *vm, const struct service *s)
{
	CLEANUP_FREE char *ov = NULL;
	CLEANUP_FREE char *dir = NULL;
	char real[PATH_MAX], top[PATH_MAX];

	if (vm->overlay == NULL) {
		cx_error(c, s->pos, -ENOENT,
			 "service '%s' builds from '%s', but VM '%s' has no "
			 "overlay directory to hold it",
			 s->name, s->build ? s->build : "", vm->name);
		return NULL;
	}
	ov = path_join(c->set->dir, vm->overlay);
	if (!esc_guest_path_ok(s->build)) {
		cx_error(c, s->pos, -EINVAL,
			 "'build' of service '%s' is not an absolute guest "
			 "path",
			 s->name);
		return NULL;
	}
	dir = xasprintf("%s%s", ov, s->build);
	if (realpath(dir, real) == NULL || realpath(c->set->dir, top) == NULL) {
		cx_error(c, s->pos, -errno,
			 "cannot use the build directory '%s' of service "
			 "'%s': %s",
			 dir, s->name, strerror(errno));
		return NULL;
	}
	c->toplen = strlen(top) + 1;
	if (!str_starts_with(real, top) || real[strlen(top)] != '/') {
		cx_error(c, s->pos, -EXDEV,
			 "the build directory '%s' of service '%s' leads "
			 "out of the project",
			 dir, s->name);
		return NULL;
	}
	return xstrdup(real);
}

struct froms {
	char **names, **digests, **dirs;
	size_t n;
};

static void
froms_release(struct froms *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->digests[i]);
		free(f->dirs[i]);
	}
	free(f->names);
	free(f->digests);
	free(f->dirs);
}

/* Pins (and when ready, fetches) every FROM of ctx's Containerfile.
 * false after reporting. */
static bool
pin_froms(struct cx *c, const struct service *s, const char *ctx,
	  struct froms *f, struct strbuf *pins)
{
	CLEANUP_FREE char *file = path_join(ctx, "Containerfile");
	CLEANUP_FREE char *text = NULL;
	CLEANUP_FREE char *why = NULL;
	struct images_from *v = NULL;
	size_t len, n = 0;
	bool ok = true;
	int r = read_file(file, &text, &len);

	if (r == 0)
		r = images_froms(text, &v, &n, &why);
	else
		why = xstrdup(strerror(-r));
	if (r < 0) {
		cx_error(c, s->pos, r, "service '%s': '%s': %s", s->name, file,
			 why);
		return false;
	}
	f->names = xcalloc(n + 1, sizeof(char *));
	f->digests = xcalloc(n + 1, sizeof(char *));
	f->dirs = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		/* Positions name the Containerfile from the project. */
		struct srcpos pos = {file + c->toplen, (int)v[i].line, 1};
		char *name = NULL, *d = pin(c, pos, v[i].ref, &name);
		char *dir = NULL;

		if (d != NULL && c->o->mode == CONTAINERS_READY)
			dir = ready(c, pos, name, d);
		if (d == NULL || (c->o->mode == CONTAINERS_READY && !dir)) {
			ok = false;
			free(name);
			free(d);
			continue;
		}
		sb_printf(pins, "from %s %s\n", v[i].ref, d);
		/* buildah resolves FROM as written: tag it so. */
		f->names[f->n] = xstrdup(v[i].ref);
		f->digests[f->n] = d;
		f->dirs[f->n++] = dir;
		free(name);
	}
	images_froms_free(v, n);
	return ok;
}

static void
built(struct cx *c, const struct vm *vm, const struct service *s,
      struct ctimages *ret)
{
	CLEANUP_FREE char *ctx = context_dir(c, vm, s);
	CLEANUP_FREE char *context = NULL;
	CLEANUP_FREE char *why = NULL;
	char *name = NULL, *digest = NULL, *dir = NULL;
	const char *locked, *lctx;
	struct froms f = {0};
	struct strbuf pins = STRBUF_INIT;
	int r;

	if (ctx == NULL)
		return;
	if (!pin_froms(c, s, ctx, &f, &pins))
		goto out;
	r = images_ref_parse(s->image, &name, &digest, &why);
	if (r == 0 && digest != NULL) {
		cx_error(c, s->pos, -EINVAL,
			 "service '%s' builds its image: its name '%s' "
			 "cannot carry a digest",
			 s->name, s->image);
		goto out;
	}
	if (r == 0) {
		want(c, name);
		if (c->o->mode == CONTAINERS_PIN)
			goto out;
		r = images_context_digest(ctx, pins.buf, &context, &why);
	}
	if (r < 0) {
		cx_error(c, s->pos, r, "service '%s': %s", s->name, why);
		goto out;
	}
	/* The lock's image, when made from this context and cached. */
	if (lock_get_container(c->lk, name, &locked, &lctx) == 0 &&
	    lctx != NULL && strcmp(lctx, context) == 0 &&
	    images_fetch(c->o->cache, name, locked, true, &dir, &why) == 0) {
		digest = xstrdup(locked);
	} else if (c->o->offline) {
		cx_error(c, s->pos, -ENOENT,
			 "service '%s': image '%s' built from '%s' is not "
			 "in the cache and the build is offline%s%s",
			 s->name, name, ctx, why ? ": " : "", why ? why : "");
		goto out;
	} else {
		free(why);
		why = NULL;
		r = images_build(
			c->o->cache, ctx, name, (const char *const *)f.names,
			(const char *const *)f.dirs, f.n, &digest, &why);
		if (r == 0)
			dir = images_cache_path(c->o->cache, digest);
		if (r < 0) {
			cx_error(c, s->pos, r,
				 "service '%s': cannot build '%s': %s", s->name,
				 name, why);
			goto out;
		}
		lock_set_container(c->lk, name, digest, context);
	}
	add(ret, s, name, digest, dir);
	name = NULL;
out:
	free(name);
	sb_release(&pins);
	froms_release(&f);
}

static void
pulled(struct cx *c, const struct service *s, struct ctimages *ret)
{
	char *name = NULL, *digest = pin(c, s->pos, s->image, &name);
	char *dir = NULL;

	if (digest == NULL)
		return;
	if (c->o->mode == CONTAINERS_READY) {
		dir = ready(c, s->pos, name, digest);
		if (dir == NULL) {
			free(name);
			free(digest);
			return;
		}
	}
	add(ret, s, name, digest, dir);
}

int
containers_vm(struct lock *lk, const struct recipe_set *set,
	      const struct vm *vm, const struct containers_opts *o,
	      struct ctimages *ret, struct strbuf *errs)
{
	struct cx c = {.lk = lk, .set = set, .o = o, .errs = errs};
	struct ctimages got = {0};

	for (size_t i = 0; i < vm->nservices; i++) {
		const struct service *s = &vm->services[i];
		bool seen = false;

		/* Services naming one image share it (the render checks
		 * they agree on how it is made). */
		for (size_t k = 0; k < i; k++)
			seen |= strcmp(vm->services[k].image, s->image) == 0;
		if (seen)
			continue;
		if (s->build != NULL)
			built(&c, vm, s, &got);
		else
			pulled(&c, s, &got);
	}
	if (c.err < 0) {
		ctimages_release(&got);
		return c.err;
	}
	*ret = got;
	return 0;
}
