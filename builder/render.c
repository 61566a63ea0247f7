/* Rendering entry point: collects every guest file of a VM.  The
 * per-feature renderers live in render-*.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recipe.h"
#include "render.h"
#include "util.h"

void
gfiles_release(struct gfiles *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].path);
		free(f->v[i].owner);
		free(f->v[i].group);
		free(f->v[i].data);
		free(f->v[i].target);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static struct gfile *
add(struct gfiles *f, struct srcpos pos, const char *path, const char *owner,
    const char *group, unsigned mode)
{
	struct gfile *g;

	f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
	g = &f->v[f->n++];
	memset(g, 0, sizeof(*g));
	g->pos = pos;
	g->path = xstrdup(path);
	g->owner = xstrdup(owner);
	g->group = xstrdup(group);
	g->mode = mode;
	return g;
}

static void
add_text(struct gfiles *f, struct srcpos pos, const char *path, unsigned mode,
	 const char *text)
{
	struct gfile *g = add(f, pos, path, "root", "root", mode);

	g->type = GFILE_REG;
	g->data = xstrdup(text);
	g->len = strlen(text);
}

static int
cmp_gfile(const void *a, const void *b)
{
	return strcmp(((const struct gfile *)a)->path,
		      ((const struct gfile *)b)->path);
}

int
render_vm(const struct render_input *in, struct gfiles *ret,
	  struct diag_list *diags)
{
	const struct vm *vm = in->vm;
	struct gfiles f = {0};
	CLEANUP_FREE char *hostname = xasprintf("%s\n", vm->hostname);

	(void)diags;
	add_text(&f, vm->pos, "/etc/hostname", 0644, hostname);
	add_text(&f, vm->pos, "/etc/cloud/cloud-init.disabled", 0644, "");
	for (size_t i = 0; i < vm->nfiles; i++) {
		const struct file_spec *fs = &vm->files[i];
		struct gfile *g;

		if (fs->source != FILE_INLINE)
			continue;
		g = add(&f, fs->pos, fs->path, fs->owner, fs->group, fs->mode);
		g->type = GFILE_REG;
		g->data = xstrdup(fs->content);
		g->len = strlen(fs->content);
	}
	qsort(f.v, f.n, sizeof(*f.v), cmp_gfile);
	*ret = f;
	return 0;
}
