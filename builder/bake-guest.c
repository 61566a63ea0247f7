/* The guest side of what every step shares, inside the appliance: the
 * guest's accounts database, parent directories, guest commands, owned
 * files.  Part of the libguestfs module (module.h). */
#include <errno.h>
#include <string.h>

#include "bake-int.h"

int
acct_load(struct bake *b, struct vmjob *j, struct accounts *a)
{
	int r;

	acct_release(a);
	if (j->acct.passwd == NULL) {
		r = image_read(b->im, "/etc/passwd", &j->acct.passwd, NULL);
		if (r == 0)
			r = image_read(b->im, "/etc/group", &j->acct.group,
				       NULL);
		if (r < 0) {
			acct_release(&j->acct);
			return bake_fail(b, j->vm->pos, r,
					 "cannot read the guest's accounts: %s",
					 image_error(b->im));
		}
	}
	a->passwd = xstrdup(j->acct.passwd);
	a->group = xstrdup(j->acct.group);
	return 0;
}

int
job_ensure_parent(struct bake *b, struct vmjob *j, struct srcpos pos,
		  const char *path)
{
	CLEANUP_FREE char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	bool ex;
	int r;

	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	r = image_exists(b->im, dir, &ex);
	if (r == 0 && ex)
		return 0;
	if (r == 0)
		r = job_ensure_parent(b, j, pos, dir);
	if (r == 0)
		r = image_mkdir(b->im, dir, 0755);
	if (r < 0)
		return bake_fail(b, pos, r, "cannot create directory '%s': %s",
				 dir, image_error(b->im));
	j->implicit = xrealloc(j->implicit,
			       (j->nimplicit + 1) * sizeof(*j->implicit));
	j->implicit[j->nimplicit++] = xstrdup(dir);
	job_wrote(j, dir, true);
	return 0;
}

int
bake_guest_cmd(struct bake *b, struct srcpos pos, const char *what,
	       const char *const *argv)
{
	int r = image_command(b->im, argv, NULL);

	/* Whatever ran (a package's scripts) may have added accounts. */
	for (size_t i = 0; i < b->njobs; i++)
		acct_release(&b->jobs[i].acct);
	if (r < 0)
		return bake_fail(b, pos, r, "%s: %s", what, image_error(b->im));
	return 0;
}

int
bake_write_owned(struct bake *b, struct srcpos pos, const char *path,
		 const char *data, unsigned mode, int uid, int gid)
{
	int r = image_write(b->im, path, data, strlen(data));

	if (r == 0)
		r = image_chmod(b->im, path, mode);
	if (r == 0)
		r = image_chown(b->im, path, uid, gid);
	if (r < 0)
		return bake_fail(b, pos, r, "cannot write '%s': %s", path,
				 image_error(b->im));
	return 0;
}

int
job_write_root_file(struct bake *b, struct vmjob *j, const char *path,
		    const char *text, unsigned mode)
{
	int r = job_ensure_parent(b, j, j->vm->pos, path);

	if (r == 0)
		r = bake_write_owned(b, j->vm->pos, path, text, mode, 0, 0);
	if (r == 0)
		job_wrote(j, path, true);
	return r;
}
