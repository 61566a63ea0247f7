/* The overlay as guest files, for 'render' and 'seed' (overlay-files.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "overlay-files.h"
#include "overlay.h"
#include "render.h"
#include "util.h"

static int
cmp_gfile_path(const void *a, const void *b)
{
	return strcmp(((const struct gfile *)a)->path,
		      ((const struct gfile *)b)->path);
}

int
overlay_add_files(struct gfiles *f, const struct overlay *ov, char **ret_bad)
{
	for (size_t i = 0; i < ov->n; i++) {
		const struct overlay_entry *e = &ov->v[i];
		struct gfile g = {.mode = e->mode};
		struct gfile *old = (struct gfile *)gfiles_find(f, e->path);
		int r;

		if (old != NULL && e->type == OV_DIR && old->type == GFILE_DIR)
			continue;
		if (e->type == OV_REG) {
			g.type = GFILE_REG;
			r = read_file(e->src, &g.data, &g.len);
			if (r < 0) {
				*ret_bad = xstrdup(e->src);
				return r;
			}
		} else if (e->type == OV_SYMLINK) {
			g.type = GFILE_SYMLINK;
			g.mode = 0777;
			g.target = xstrdup(e->target);
		} else {
			g.type = GFILE_DIR;
		}
		g.pos = old != NULL ? old->pos : g.pos;
		g.path = xstrdup(e->path);
		g.owner = xstrdup("root");
		g.group = xstrdup("root");
		if (old != NULL) {
			free(old->path);
			free(old->owner);
			free(old->group);
			free(old->data);
			free(old->target);
			*old = g;
		} else {
			f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
			f->v[f->n++] = g;
		}
	}
	qsort(f->v, f->n, sizeof(*f->v), cmp_gfile_path);
	return 0;
}
