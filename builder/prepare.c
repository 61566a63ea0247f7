#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "prepare.h"
#include "recipe.h"
#include "util.h"

int
prepare_plan(const struct recipe_set *set, const struct vm *vm,
	     const struct render_secret *secrets, size_t nsecrets,
	     struct plan *ret, struct diag_list *diags)
{
	struct render_input in = {
		.set = set,
		.vm = vm,
		.secrets = secrets,
		.nsecrets = nsecrets,
		.placeholder_secrets = secrets == NULL,
	};
	const char **names = xcalloc(vm->nfiles + 1, sizeof(*names));
	char **texts = xcalloc(vm->nfiles + 1, sizeof(*texts));
	struct gfiles files = {0};
	struct overlay ov = {0};
	int r = 0;

	for (size_t i = 0; i < vm->nfiles; i++) {
		const struct file_spec *fs = &vm->files[i];
		CLEANUP_FREE char *p = NULL;
		size_t len;
		int rr;

		if (fs->source != FILE_TEMPLATE)
			continue;
		p = path_join(set->dir, fs->template);
		names[in.ntemplates] = fs->template;
		rr = read_file(p, &texts[in.ntemplates], &len);
		if (rr < 0) {
			diag_add(diags, fs->pos,
				 "cannot read template '%s': "
				 "%s",
				 fs->template, strerror(-rr));
			r = -EINVAL;
		}
		in.ntemplates++;
	}
	in.template_names = names;
	in.template_texts = (const char *const *)texts;
	if (r == 0)
		r = render_vm(&in, &files, diags);
	if (r == 0 && vm->overlay != NULL) {
		CLEANUP_FREE char *root = path_join(set->dir, vm->overlay);
		CLEANUP_FREE char *bad = NULL;

		r = overlay_scan(root, &ov, &bad);
		if (r < 0)
			diag_add(diags, vm->overlay_pos, "overlay %s", bad);
	}
	for (size_t i = 0; i < in.ntemplates; i++)
		free(texts[i]);
	free(texts);
	free(names);
	if (r < 0) {
		gfiles_release(&files);
		return r;
	}
	plan_build(vm, &files, &ov, ret);
	return 0;
}
