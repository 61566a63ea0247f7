/* What every step of the bake shares: recording the first error and
 * what was written, parent directories, guest commands, the guest's
 * accounts database. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bake-int.h"
#include "progress.h"

double
bake_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Records the error (first one wins) with the recipe position that asked
 * for the step; returns r. */
int
bake_fail(struct bake *b, struct srcpos pos, int r, const char *fmt, ...)
{
	va_list ap;

	if (b->err.len > 0)
		return r;
	if (pos.file != NULL)
		sb_printf(&b->err, "%s:%d:%d: ", pos.file, pos.line, pos.col);
	va_start(ap, fmt);
	sb_vprintf(&b->err, fmt, ap);
	va_end(ap);
	return r;
}

void
bake_warn(struct bake *b, const char *vm, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (b->o->warn != NULL)
		b->o->warn(b->o->opaque, vm, sb.buf);
	sb_release(&sb);
}

void
bake_on_progress(void *opaque, uint64_t pos, uint64_t total)
{
	struct bake *b = opaque;

	/* Progress outside a named step (the appliance's launch) counts
	 * libguestfs's own ticks, not bytes: nothing a user can read. */
	if (!b->o->progress || b->bar_step == NULL)
		return;
	if (b->bar == NULL) {
		CLEANUP_FREE char *label =
			xasprintf("[%s] %s", b->bar_vm ? b->bar_vm : "image",
				  b->bar_step);

		b->bar = progress_new(label, total);
	}
	progress_set_total(b->bar, total);
	progress_update(b->bar, pos);
}

void
bake_bar_done(struct bake *b)
{
	progress_done(b->bar);
	b->bar = NULL;
}

/* Records a path the bake wrote, for its mtime and the manifest. */
void
job_wrote(struct vmjob *j, const char *path, bool content)
{
	for (size_t i = 0; i < j->nwritten; i++)
		if (strcmp(j->written[i], path) == 0) {
			j->content[i] &= content;
			return;
		}
	j->written =
		xrealloc(j->written, (j->nwritten + 1) * sizeof(*j->written));
	j->content =
		xrealloc(j->content, (j->nwritten + 1) * sizeof(*j->content));
	j->written[j->nwritten] = xstrdup(path);
	j->content[j->nwritten++] = content;
}

/* Looks name up in a passwd/group style file: returns field 2 (uid or
 * gid) and, for passwd, field 3 (gid) and 5 (home). */
int
acct_lookup(const char *db, const char *name, int *ret_id, int *ret_gid,
	    char **ret_home)
{
	size_t nl = strlen(name);

	for (const char *l = db; l != NULL && *l; l = strchr(l, '\n')) {
		const char *f[7] = {0};
		size_t nf = 0;

		if (*l == '\n')
			l++;
		if (strncmp(l, name, nl) != 0 || l[nl] != ':')
			continue;
		for (const char *p = l; nf < 7 && p != NULL && *p != '\n';) {
			f[nf++] = p;
			p = strpbrk(p, ":\n");
			if (p == NULL || *p == '\n')
				break;
			p++;
		}
		if (nf < 3)
			return -EINVAL;
		*ret_id = atoi(f[2]);
		if (ret_gid != NULL)
			*ret_gid = nf > 3 ? atoi(f[3]) : -1;
		if (ret_home != NULL && nf > 5)
			*ret_home = xstrndup(f[5], strcspn(f[5], ":\n"));
		return 0;
	}
	return -ENOENT;
}

void
acct_release(struct accounts *a)
{
	free(a->passwd);
	free(a->group);
	memset(a, 0, sizeof(*a));
}

int
acct_load(struct bake *b, struct vmjob *j, struct accounts *a)
{
	int r;

	acct_release(a);
	r = image_read(b->im, "/etc/passwd", &a->passwd, NULL);
	if (r == 0)
		r = image_read(b->im, "/etc/group", &a->group, NULL);
	if (r < 0)
		return bake_fail(b, j->vm->pos, r,
				 "cannot read the guest's accounts: %s",
				 image_error(b->im));
	return 0;
}

int
acct_owner(const struct accounts *a, const char *owner, const char *group,
	   int *uid, int *gid)
{
	int r = acct_lookup(a->passwd, owner, uid, NULL, NULL);

	if (r == 0)
		r = acct_lookup(a->group, group, gid, NULL, NULL);
	return r;
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
