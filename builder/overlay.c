#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "overlay.h"
#include "recipe.h"
#include "util.h"

int
overlay_symlink_inside(const char *link, const char *target)
{
	CLEANUP_FREE char *buf = NULL;
	int depth = 0;

	if (target[0] == '/')
		return 1;
	/* Depth of the link's directory below the root. */
	for (const char *p = link + 1; *p; p++)
		if (*p == '/')
			depth++;
	buf = xstrdup(target);
	for (char *save, *c = strtok_r(buf, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, "..") == 0) {
			if (--depth < 0)
				return 0;
		} else if (strcmp(c, ".") != 0) {
			depth++;
		}
	}
	return 1;
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct overlay_entry *)a)->path,
		      ((const struct overlay_entry *)b)->path);
}

struct scan {
	struct overlay *ov;
	size_t cap;
	char *bad;
	int rootfd;
};

/* True when the symlink at guest path link resolves, inside the overlay
 * (its root standing for the guest's /), to a directory of the overlay.
 * Such a link is refused: the guest would see a directory tree the
 * overlay does not list, and a later file could be written through it. */
static bool
links_to_dir(int rootfd, const char *link, const char *target)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	CLEANUP_FREE char *path = NULL;
	const char *slash = strrchr(link, '/');
	struct stat st;
	long fd;
	bool dir;

	if (target[0] == '/')
		path = xasprintf(".%s", target);
	else
		path = xasprintf(".%.*s/%s", (int)(slash - link), link, target);
	fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0)
		return false; /* dangling, or a guest path: a plain link */
	dir = fstat((int)fd, &st) == 0 && S_ISDIR(st.st_mode);
	close((int)fd);
	return dir;
}

static int
scan_dir(struct scan *s, int dfd, const char *host, const char *guest)
{
	struct dirent *de;
	DIR *d = fd_opendir(dfd);
	int r = 0;

	if (d == NULL) {
		r = -errno;
		s->bad = xasprintf("'%s': %s", host, strerror(errno));
		return r;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		struct overlay_entry e = {0};
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		e.src = path_join(host, de->d_name);
		e.path = xasprintf("%s/%s", strcmp(guest, "/") ? guest : "",
				   de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) <
		    0) {
			r = -errno;
			s->bad = xasprintf("'%s': %s", e.src, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			e.type = OV_DIR;
		} else if (S_ISREG(st.st_mode)) {
			e.type = OV_REG;
			e.size = (uint64_t)st.st_size;
		} else if (S_ISLNK(st.st_mode)) {
			char t[4096];
			ssize_t n = readlinkat(dirfd(d), de->d_name, t,
					       sizeof(t) - 1);

			e.type = OV_SYMLINK;
			if (n < 0) {
				r = -errno;
				s->bad = xasprintf("'%s': %s", e.src,
						   strerror(errno));
			} else {
				t[n] = '\0';
				e.target = xstrdup(t);
				if (!overlay_symlink_inside(e.path, t)) {
					r = -EINVAL;
					s->bad = xasprintf(
						"'%s': symlink to '%s' leaves "
						"the overlay",
						e.src, t);
				} else if (links_to_dir(s->rootfd, e.path, t)) {
					r = -EINVAL;
					s->bad = xasprintf(
						"'%s': symlink to the "
						"directory '%s'; put the files "
						"there instead",
						e.src, t);
				}
			}
		} else {
			r = -EINVAL;
			s->bad = xasprintf("'%s': only directories, regular "
					   "files and symlinks may be in an "
					   "overlay",
					   e.src);
		}
		/* Only what git keeps: the execute bit.  Host umask and
		 * checkout details must not change the image. */
		e.mode = e.type == OV_DIR || (st.st_mode & 0111) ? 0755 : 0644;
		if (r < 0) {
			free(e.src);
			free(e.path);
			free(e.target);
			break;
		}
		s->ov->v = xgrow(s->ov->v, &s->cap, s->ov->n + 1,
				 sizeof(*s->ov->v));
		s->ov->v[s->ov->n++] = e;
		if (e.type == OV_DIR) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);

			if (sub < 0) {
				r = -errno;
				s->bad = xasprintf("'%s': %s", e.src,
						   strerror(errno));
			} else {
				r = scan_dir(s, sub, e.src, e.path);
			}
		}
	}
	closedir(d);
	return r;
}

void
overlay_release(struct overlay *ov)
{
	for (size_t i = 0; i < ov->n; i++) {
		free(ov->v[i].path);
		free(ov->v[i].src);
		free(ov->v[i].target);
	}
	free(ov->v);
	ov->v = NULL;
	ov->n = 0;
}

int
overlay_scan(const char *project, const char *rel, struct overlay *ret,
	     char **ret_bad)
{
	struct overlay ov = {0};
	struct scan s = {&ov, 0, NULL, -1};
	CLEANUP_FREE char *root = path_join(project, rel);
	int pfd, r;

	pfd = open(project, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		r = -errno;
		*ret_bad = xasprintf("'%s': %s", project, strerror(errno));
		return r;
	}
	r = open_beneath(pfd, rel, O_RDONLY | O_DIRECTORY, 0);
	close(pfd);
	if (r < 0) {
		*ret_bad =
			xasprintf("'%s': %s", rel,
				  r == -EXDEV	? "leaves the project directory"
				  : r == -ELOOP ? "is reached through a symlink"
						: strerror(-r));
		return r;
	}
	s.rootfd = r;
	r = scan_dir(&s, dup(s.rootfd), root, "/");
	close(s.rootfd);
	if (r < 0) {
		overlay_release(&ov);
		*ret_bad = s.bad;
		return r;
	}
	qsort(ov.v, ov.n, sizeof(*ov.v), cmp_entry);
	*ret = ov;
	return 0;
}

void
overlay_check(const struct recipe_set *set, const struct vm *vm,
	      struct diag_list *diags)
{
	CLEANUP_FREE char *bad = NULL;
	struct overlay ov;
	struct srcpos pos = vm->overlay_pos.file ? vm->overlay_pos : vm->pos;

	if (vm->overlay == NULL)
		return;
	if (vm->overlay[0] == '/' ||
	    !overlay_symlink_inside("/x", vm->overlay)) {
		diag_add(diags, pos,
			 "overlay '%s' leaves the project directory; give a "
			 "path under it",
			 vm->overlay);
		return;
	}
	if (overlay_scan(set->dir, vm->overlay, &ov, &bad) < 0) {
		diag_add(diags, pos, "overlay %s", bad);
		return;
	}
	overlay_release(&ov);
}
