/* The files and overlay steps: the rendered files and the overlay tree
 * written into the guest, owners resolved in the guest's own accounts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bake-int.h"

/* Ownership of files whose owner does not exist yet (a recipe user) is
 * set once the users step ran (*pending). */
static int
chown_gfile(struct bake *b, const struct accounts *a, const struct gfile *g,
	    bool final, bool *pending)
{
	int uid, gid, r;

	*pending = false;
	if (acct_owner(a, g->owner, g->group, &uid, &gid) < 0) {
		if (!final) {
			*pending = true;
			return 0;
		}
		return bake_fail(b, g->pos, -ENOENT,
				 "cannot chown '%s' to %s:%s: no such user or "
				 "group in the guest",
				 g->path, g->owner, g->group);
	}
	r = image_chown(b->im, g->path, uid, gid);
	if (r < 0)
		return bake_fail(b, g->pos, r, "cannot chown '%s': %s", g->path,
				 image_error(b->im));
	return 0;
}

int
bake_step_files(struct bake *b, struct vmjob *j)
{
	struct accounts a = {0};
	int r = acct_load(b, j, &a);

	for (size_t i = 0; r == 0 && i < j->plan.files.n; i++) {
		const struct gfile *g = &j->plan.files.v[i];
		bool ex, isdir;

		r = job_ensure_parent(b, j, g->pos, g->path);
		if (r < 0)
			break;
		switch (g->type) {
		case GFILE_REG:
			r = image_write(b->im, g->path, g->data, g->len);
			break;
		case GFILE_DIR:
			r = image_is_dir(b->im, g->path, &isdir);
			if (r == 0 && !isdir)
				r = image_mkdir(b->im, g->path, g->mode);
			break;
		case GFILE_SYMLINK:
			r = image_exists(b->im, g->path, &ex);
			if (r == 0 && ex)
				r = image_rm_f(b->im, g->path);
			if (r == 0)
				r = image_symlink(b->im, g->target, g->path);
			break;
		}
		if (r == 0 && g->type != GFILE_SYMLINK)
			r = image_chmod(b->im, g->path, g->mode);
		if (r < 0) {
			r = bake_fail(b, g->pos, r, "cannot write '%s': %s",
				      g->path, image_error(b->im));
			break;
		}
		job_wrote(j, g->path, true);
		r = chown_gfile(b, &a, g, false, &j->pending[i]);
	}
	acct_release(&a);
	return r;
}

int
bake_step_overlay(struct bake *b, struct vmjob *j)
{
	const struct overlay *ov = &j->plan.overlay;
	struct srcpos pos = j->vm->overlay_pos;

	for (size_t i = 0; i < ov->n; i++) {
		const struct overlay_entry *e = &ov->v[i];
		bool ex, isdir;
		int r;

		r = job_ensure_parent(b, j, pos, e->path);
		if (r < 0)
			return r;
		switch (e->type) {
		case OV_DIR:
			/* A directory the guest has keeps its owner and
			 * mode: the host's umask must not loosen or lock
			 * /etc. */
			r = image_is_dir(b->im, e->path, &isdir);
			if (r == 0 && isdir)
				continue;
			if (r == 0)
				r = image_mkdir(b->im, e->path, e->mode);
			break;
		case OV_REG:
			b->bar_step = "overlay";
			r = image_upload(b->im, e->src, e->path);
			bake_bar_done(b);
			break;
		case OV_SYMLINK:
			if (!overlay_symlink_inside(e->path, e->target))
				return bake_fail(b, pos, -EINVAL,
						 "overlay symlink '%s' -> '%s' "
						 "leads outside the guest root",
						 e->path, e->target);
			r = image_exists(b->im, e->path, &ex);
			if (r == 0 && ex)
				r = image_rm_f(b->im, e->path);
			if (r == 0)
				r = image_symlink(b->im, e->target, e->path);
			break;
		}
		if (r == 0 && e->type != OV_SYMLINK)
			r = image_chmod(b->im, e->path, e->mode);
		if (r == 0)
			r = image_chown(b->im, e->path, 0, 0);
		if (r < 0)
			return bake_fail(b, pos, r,
					 "cannot copy overlay '%s': %s",
					 e->path, image_error(b->im));
		job_wrote(j, e->path, true);
	}
	return 0;
}

/* After the users exist: ownership left over from the files step, and
 * the directories the bake created inside a user's home.  final: an
 * owner still missing is an error. */
int
bake_finish_ownership(struct bake *b, struct vmjob *j, bool final)
{
	const struct vm *vm = j->vm;
	struct accounts a = {0};
	int r = acct_load(b, j, &a);

	for (size_t i = 0; r == 0 && i < vm->nusers; i++) {
		CLEANUP_FREE char *home = NULL;
		int uid, gid;

		if (acct_lookup(a.passwd, vm->users[i].name, &uid, &gid,
				&home) < 0 ||
		    home == NULL)
			continue;
		for (size_t k = 0; r == 0 && k < j->nimplicit; k++) {
			const char *d = j->implicit[k];
			size_t hl = strlen(home);

			if (strncmp(d, home, hl) != 0 ||
			    (d[hl] != '\0' && d[hl] != '/'))
				continue;
			r = image_chown(b->im, d, uid, gid);
			if (r == 0 && d[hl] == '\0')
				r = image_chmod(b->im, d, 0700);
			if (r < 0)
				r = bake_fail(b, vm->users[i].pos, r,
					      "cannot chown '%s': %s", d,
					      image_error(b->im));
		}
	}
	for (size_t i = 0; r == 0 && i < j->plan.files.n; i++)
		if (j->pending[i])
			r = chown_gfile(b, &a, &j->plan.files.v[i], final,
					&j->pending[i]);
	acct_release(&a);
	return r;
}
