#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "prepare.h"
#include "recipe.h"
#include "util.h"

/* A template is a text file; anything bigger is a mistake or an attack. */
#define TEMPLATE_MAX (1u << 20)

/* Reads a template beneath the project (pfd): never through a symlink
 * that leaves it, never a device or fifo, never more than TEMPLATE_MAX. */
static int
read_template(int pfd, const char *path, char **ret, size_t *ret_len)
{
	int fd = open_beneath(pfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	int r;

	if (fd < 0)
		return fd;
	r = read_fd_max(fd, TEMPLATE_MAX, ret, ret_len);
	close(fd);
	return r;
}

static const char *
template_error(int r)
{
	static char buf[128];

	switch (r) {
	case -EXDEV:
		return "leaves the project directory; give a path under it "
		       "(no '..', no absolute path, no symlink out)";
	case -ELOOP:
		return "is reached through a symlink that is not allowed";
	case -EINVAL:
		return "is not a regular file";
	case -EFBIG:
		return "is larger than 1 MiB";
	default:
		snprintf(buf, sizeof(buf), "cannot be read: %s", strerror(-r));
		return buf;
	}
}

/* Lets diag_print quote the recipe line of pos (recipes are read before
 * this runs; a recipe that vanished since just loses its quote). */
static void
quote_source(struct diag_list *diags, struct srcpos pos)
{
	CLEANUP_FREE char *text = NULL;
	size_t len;

	if (pos.file != NULL && read_file(pos.file, &text, &len) == 0)
		diag_add_source(diags, pos.file, text, len);
}

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
	int pfd, perr, r = 0;

	pfd = open(set->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	perr = pfd < 0 ? -errno : 0;
	for (size_t i = 0; i < vm->nfiles; i++) {
		const struct file_spec *fs = &vm->files[i];
		size_t len;
		int rr;

		if (fs->source != FILE_TEMPLATE)
			continue;
		names[in.ntemplates] = fs->template;
		rr = pfd < 0 ? perr
			     : read_template(pfd, fs->template,
					     &texts[in.ntemplates], &len);
		if (rr < 0) {
			quote_source(diags, fs->pos);
			diag_add(diags, fs->pos, "template '%s' %s",
				 fs->template, template_error(rr));
			r = -EINVAL;
		}
		in.ntemplates++;
	}
	if (pfd >= 0)
		close(pfd);
	in.template_names = names;
	in.template_texts = (const char *const *)texts;
	if (r == 0)
		r = render_vm(&in, &files, diags);
	if (r == 0 && vm->overlay != NULL) {
		CLEANUP_FREE char *bad = NULL;

		r = overlay_scan(set->dir, vm->overlay, &ov, &bad);
		if (r < 0) {
			quote_source(diags, vm->overlay_pos);
			diag_add(diags, vm->overlay_pos, "overlay %s", bad);
		}
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
