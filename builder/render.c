/* Rendering entry point: collects every guest file of a VM from the
 * per-feature renderers in render-*.c, then sorts them by path.  The
 * helpers they share are in render-util.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "render-int.h"

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
	struct gfiles f = {0};
	struct rctx c = {
		.in = in,
		.vm = in->vm,
		.f = &f,
		.diags = diags,
	};

	/* The VM's name and recipe file go into the header comment of
	 * every file: one line each. */
	if (!esc_filename_ok(in->vm->name))
		r_refuse(&c, in->vm->pos, "VM name", in->vm->name,
			 "is not a name ([A-Za-z0-9._@+-])");
	if (in->vm->file == NULL || esc_has_ctl(in->vm->file))
		r_refuse(&c, in->vm->pos, "recipe file",
			 in->vm->file ? in->vm->file : "",
			 "has a control character in its name");
	if (c.err < 0)
		return c.err;
	render_base(&c);
	render_users(&c);
	render_net(&c);
	render_firewall(&c);
	render_proxy(&c);
	render_egress(&c);
	render_dev(&c);
	render_recipe_files(&c);
	qsort(f.v, f.n, sizeof(*f.v), cmp_gfile);
	for (size_t i = 1; i < f.n; i++)
		if (strcmp(f.v[i - 1].path, f.v[i].path) == 0)
			r_error(&c, f.v[i].pos,
				"two generated files share the path '%s'",
				f.v[i].path);
	if (c.err < 0) {
		gfiles_release(&f);
		return c.err;
	}
	*ret = f;
	return 0;
}
