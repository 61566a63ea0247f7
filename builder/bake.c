/* The bake: prepare every plan, create the qcow2 overlays under temporary
 * names, apply each VM's steps in one libguestfs appliance, shut it down,
 * then rename the images into place.  Everything libguestfs is behind
 * image.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bake.h"
#include "fetch.h"
#include "image.h"
#include "plan.h"
#include "prepare.h"
#include "progress.h"
#include "recipe.h"
#include "secrets.h"
#include "util.h"

/* --- the session ------------------------------------------------------ */

struct vmjob {
	const struct vm *vm;
	struct plan plan;
	bool planned;
	struct secret_store secrets;
	char *base;  /* absolute path of the base image */
	char *tmp;   /* out/.VM.qcow2.tmp-PID */
	char *final; /* out/VM.qcow2 */
	struct image_os os;
	bool selinux;
	char **implicit; /* directories the bake created as parents */
	size_t nimplicit;
	bool *pending; /* per plan file: owner not in the guest yet */
};

struct bake {
	const struct recipe_set *set;
	const struct bake_opts *o;
	struct image *im;
	struct vmjob *jobs;
	size_t njobs;
	struct strbuf err;
	const char *fail_at;
	struct progress *bar;
	const char *bar_vm, *bar_step;
};

static volatile sig_atomic_t interrupted;
static struct image *volatile current_image;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	image_cancel(current_image);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(struct bake *b, struct srcpos pos, int r, const char *fmt, ...)
	PRINTF_LIKE(4, 5);

/* Records the error (first one wins) with the recipe position that asked
 * for the step; returns r. */
static int
fail(struct bake *b, struct srcpos pos, int r, const char *fmt, ...)
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

static void warn(struct bake *b, const char *vm, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void
warn(struct bake *b, const char *vm, const char *fmt, ...)
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

static void
on_progress(void *opaque, uint64_t pos, uint64_t total)
{
	struct bake *b = opaque;

	if (!b->o->progress)
		return;
	if (b->bar == NULL) {
		CLEANUP_FREE char *label =
			xasprintf("[%s] %s", b->bar_vm ? b->bar_vm : "image",
				  b->bar_step ? b->bar_step : "work");

		b->bar = progress_new(label, total);
	}
	progress_set_total(b->bar, total);
	progress_update(b->bar, pos);
}

static void
bar_done(struct bake *b)
{
	progress_done(b->bar);
	b->bar = NULL;
}

/* --- qemu-img --------------------------------------------------------- */

/* Runs argv, its stderr captured into *ret_err on failure. */
static int
run_argv(const char *const *argv, char **ret_err)
{
	int pfd[2], st;
	struct strbuf out = STRBUF_INIT;
	char buf[512];
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run '%s': %s", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			sb_add(&out, buf, (size_t)n);
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			sb_release(&out);
			return -errno;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		sb_release(&out);
		return 0;
	}
	while (out.len > 0 && out.buf[out.len - 1] == '\n')
		out.buf[--out.len] = '\0';
	*ret_err = sb_detach(&out, NULL);
	return -EIO;
}

static int
create_overlay(struct bake *b, struct vmjob *j)
{
	char size[32];
	CLEANUP_FREE char *err = NULL;
	const char *argv[] = {"qemu-img", "create", "-q",    "-f",
			      "qcow2",	  "-F",	    "qcow2", "-b",
			      j->base,	  j->tmp,   size,    NULL};
	int r;

	snprintf(size, sizeof(size), "%" PRIu64, j->vm->disk);
	r = run_argv(argv, &err);
	if (r < 0)
		return fail(b, j->vm->pos, r,
			    "cannot create '%s' backed by '%s': %s", j->tmp,
			    j->base, err ? err : strerror(-r));
	return 0;
}

/* --- bases ------------------------------------------------------------ */

static int
base_path(struct bake *b, struct vmjob *j)
{
	const struct base *base = j->vm->base_ref;
	char real[PATH_MAX];

	if (base->path != NULL) {
		CLEANUP_FREE char *p = path_join(b->set->dir, base->path);

		if (realpath(p, real) == NULL)
			return fail(b, base->pos, -errno,
				    "cannot use base image '%s': %s", p,
				    strerror(errno));
		j->base = xstrdup(real);
		return 0;
	} else {
		/* Until fetch.c exposes one call for "the verified cached
		 * path of a base": resolve the pin and make sure the image
		 * is in the cache. */
		CLEANUP_FREE char *cache = NULL;
		struct fetch_ctx *ctx;
		struct fetch_pin pin = {0};
		char *path = NULL;
		int r = fetch_cache_dir(b->o->cache_dir, &cache);

		if (r < 0)
			return fail(b, base->pos, r, "no cache directory: %s",
				    strerror(-r));
		ctx = fetch_ctx_new(cache, b->o->offline ? FETCH_OFFLINE : 0);
		r = fetch_resolve(ctx, base, &pin);
		if (r == 0)
			r = fetch_image(ctx, &pin, &path, NULL);
		if (r < 0)
			fail(b, base->pos, r, "cannot get base '%s': %s",
			     base->name, fetch_error(ctx));
		fetch_pin_clear(&pin);
		fetch_ctx_free(ctx);
		if (r < 0)
			return r;
		if (realpath(path, real) == NULL) {
			r = -errno;
			free(path);
			return fail(b, base->pos, r, "cannot use '%s': %s",
				    path, strerror(-r));
		}
		free(path);
		j->base = xstrdup(real);
		return 0;
	}
}

/* --- guest account database ------------------------------------------- */

/* Looks name up in a passwd/group style file: returns field 2 (uid or
 * gid) and, for passwd, field 3 (gid) and 5 (home). */
static int
db_lookup(const char *db, const char *name, int *ret_id, int *ret_gid,
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

struct accounts {
	char *passwd, *group;
};

static void
accounts_release(struct accounts *a)
{
	free(a->passwd);
	free(a->group);
	memset(a, 0, sizeof(*a));
}

static int
accounts_load(struct bake *b, struct vmjob *j, struct accounts *a)
{
	int r;

	accounts_release(a);
	r = image_read(b->im, "/etc/passwd", &a->passwd, NULL);
	if (r == 0)
		r = image_read(b->im, "/etc/group", &a->group, NULL);
	if (r < 0)
		return fail(b, j->vm->pos, r,
			    "cannot read the guest's accounts: %s",
			    image_error(b->im));
	return 0;
}

static int
resolve_owner(const struct accounts *a, const char *owner, const char *group,
	      int *uid, int *gid)
{
	int r = db_lookup(a->passwd, owner, uid, NULL, NULL);

	if (r == 0)
		r = db_lookup(a->group, group, gid, NULL, NULL);
	return r;
}

/* --- steps ------------------------------------------------------------ */

static int
ensure_parent(struct bake *b, struct vmjob *j, struct srcpos pos,
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
		r = ensure_parent(b, j, pos, dir);
	if (r == 0)
		r = image_mkdir(b->im, dir, 0755);
	if (r < 0)
		return fail(b, pos, r, "cannot create directory '%s': %s", dir,
			    image_error(b->im));
	j->implicit = xrealloc(j->implicit,
			       (j->nimplicit + 1) * sizeof(*j->implicit));
	j->implicit[j->nimplicit++] = xstrdup(dir);
	return 0;
}

/* Ownership of files whose owner does not exist yet (a recipe user) is
 * set once the users step ran (*pending). */
static int
chown_gfile(struct bake *b, const struct accounts *a, const struct gfile *g,
	    bool final, bool *pending)
{
	int uid, gid, r;

	*pending = false;
	if (resolve_owner(a, g->owner, g->group, &uid, &gid) < 0) {
		if (!final) {
			*pending = true;
			return 0;
		}
		return fail(b, g->pos, -ENOENT,
			    "cannot chown '%s' to %s:%s: no such user or "
			    "group in the guest",
			    g->path, g->owner, g->group);
	}
	r = image_chown(b->im, g->path, uid, gid);
	if (r < 0)
		return fail(b, g->pos, r, "cannot chown '%s': %s", g->path,
			    image_error(b->im));
	return 0;
}

static int
step_files(struct bake *b, struct vmjob *j)
{
	struct accounts a = {0};
	int r = accounts_load(b, j, &a);

	for (size_t i = 0; r == 0 && i < j->plan.files.n; i++) {
		const struct gfile *g = &j->plan.files.v[i];
		bool ex, isdir;

		r = ensure_parent(b, j, g->pos, g->path);
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
			r = fail(b, g->pos, r, "cannot write '%s': %s", g->path,
				 image_error(b->im));
			break;
		}
		r = chown_gfile(b, &a, g, false, &j->pending[i]);
	}
	accounts_release(&a);
	return r;
}

static int
step_overlay(struct bake *b, struct vmjob *j)
{
	const struct overlay *ov = &j->plan.overlay;
	struct srcpos pos = j->vm->overlay_pos;

	for (size_t i = 0; i < ov->n; i++) {
		const struct overlay_entry *e = &ov->v[i];
		bool ex, isdir;
		int r;

		r = ensure_parent(b, j, pos, e->path);
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
			bar_done(b);
			break;
		case OV_SYMLINK:
			if (!overlay_symlink_inside(e->path, e->target))
				return fail(b, pos, -EINVAL,
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
			return fail(b, pos, r, "cannot copy overlay '%s': %s",
				    e->path, image_error(b->im));
	}
	return 0;
}

static int
guest_cmd(struct bake *b, struct srcpos pos, const char *what,
	  const char *const *argv)
{
	int r = image_command(b->im, argv, NULL);

	if (r < 0)
		return fail(b, pos, r, "%s: %s", what, image_error(b->im));
	return 0;
}

/* The crypt(3) hash for a user's shadow entry, or NULL to leave the
 * account locked. */
static int
user_password_hash(struct vmjob *j, const struct user *u, char **ret)
{
	CLEANUP_FREE char *name = NULL;
	const char *pw;

	*ret = NULL;
	switch (u->password) {
	case PASSWORD_LOCKED:
		return 0;
	case PASSWORD_HASH:
		*ret = xstrdup(u->password_hash);
		return 0;
	case PASSWORD_RANDOM:
		name = xasprintf("user:%s", u->name);
		pw = secret_store_get(&j->secrets, name);
		if (pw == NULL)
			return -ENOENT;
		return password_hash(pw, ret);
	}
	return -EINVAL;
}

/* Replaces field 2 of name's line in /etc/shadow. */
static int
set_shadow(struct bake *b, struct vmjob *j, const struct user *u,
	   const char *hash)
{
	CLEANUP_FREE char *sh = NULL;
	struct strbuf out = STRBUF_INIT;
	size_t nl = strlen(u->name);
	bool found = false;
	int r = image_read(b->im, "/etc/shadow", &sh, NULL);

	if (r < 0)
		return fail(b, u->pos, r, "cannot read '/etc/shadow': %s",
			    image_error(b->im));
	for (char *l = sh; *l;) {
		char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);

		if (strncmp(l, u->name, nl) == 0 && l[nl] == ':') {
			char *rest = strchr(l + nl + 1, ':');

			found = true;
			sb_printf(&out, "%s:%s", u->name, hash);
			if (rest != NULL && rest < l + len)
				sb_add(&out, rest, (size_t)(l + len - rest));
		} else {
			sb_add(&out, l, len);
		}
		sb_putc(&out, '\n');
		l += len + (end != NULL);
	}
	if (!found) {
		sb_release(&out);
		return fail(b, u->pos, -ENOENT,
			    "user '%s' is missing from '/etc/shadow'", u->name);
	}
	r = image_write(b->im, "/etc/shadow", out.buf, out.len);
	sb_release(&out);
	if (r < 0)
		return fail(b, u->pos, r, "cannot write '/etc/shadow': %s",
			    image_error(b->im));
	(void)j;
	return 0;
}

static int
write_owned(struct bake *b, struct srcpos pos, const char *path,
	    const char *data, unsigned mode, int uid, int gid)
{
	int r = image_write(b->im, path, data, strlen(data));

	if (r == 0)
		r = image_chmod(b->im, path, mode);
	if (r == 0)
		r = image_chown(b->im, path, uid, gid);
	if (r < 0)
		return fail(b, pos, r, "cannot write '%s': %s", path,
			    image_error(b->im));
	return 0;
}

static int
user_extras(struct bake *b, struct vmjob *j, const struct user *u,
	    const struct accounts *a)
{
	CLEANUP_FREE char *home = NULL;
	int uid, gid, r;

	if (db_lookup(a->passwd, u->name, &uid, &gid, &home) < 0)
		return fail(b, u->pos, -ENOENT,
			    "user '%s' was not created in the guest", u->name);
	if (u->sudo) {
		CLEANUP_FREE char *p = xasprintf("/etc/sudoers.d/%s", u->name);
		CLEANUP_FREE char *t =
			xasprintf("%s ALL=(ALL) NOPASSWD: ALL\n", u->name);

		r = ensure_parent(b, j, u->pos, p);
		if (r == 0)
			r = write_owned(b, u->pos, p, t, 0440, 0, 0);
		if (r < 0)
			return r;
	}
	if (u->ssh_keys.n > 0 && home != NULL) {
		CLEANUP_FREE char *d = xasprintf("%s/.ssh", home);
		CLEANUP_FREE char *p = xasprintf("%s/authorized_keys", d);
		struct strbuf k = STRBUF_INIT;
		bool isdir;

		for (size_t i = 0; i < u->ssh_keys.n; i++)
			sb_printf(&k, "%s\n", u->ssh_keys.v[i]);
		r = image_is_dir(b->im, d, &isdir);
		if (r == 0 && !isdir)
			r = image_mkdir(b->im, d, 0700);
		if (r == 0)
			r = image_chown(b->im, d, uid, gid);
		if (r < 0) {
			sb_release(&k);
			return fail(b, u->pos, r, "cannot create '%s': %s", d,
				    image_error(b->im));
		}
		r = write_owned(b, u->pos, p, k.buf, 0600, uid, gid);
		sb_release(&k);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
step_users(struct bake *b, struct vmjob *j)
{
	const struct vm *vm = j->vm;
	struct accounts a = {0};
	int r = accounts_load(b, j, &a);

	for (size_t i = 0; r == 0 && i < vm->nusers; i++) {
		const struct user *u = &vm->users[i];
		CLEANUP_FREE char *hash = NULL;
		struct strbuf groups = STRBUF_INIT;
		int id;

		/* Supplementary groups the guest lacks are created. */
		for (size_t k = 0; r == 0 && k < u->groups.n; k++) {
			const char *argv[] = {"groupadd", u->groups.v[k], NULL};

			sb_printf(&groups, "%s%s", k ? "," : "",
				  u->groups.v[k]);
			if (db_lookup(a.group, u->groups.v[k], &id, NULL,
				      NULL) == 0)
				continue;
			r = guest_cmd(b, u->groups.pos[k], "groupadd", argv);
			if (r == 0)
				r = accounts_load(b, j, &a);
		}
		if (r == 0 &&
		    db_lookup(a.passwd, u->name, &id, NULL, NULL) < 0) {
			const char *argv[10];
			size_t n = 0;

			argv[n++] = "useradd";
			argv[n++] = "-m";
			if (u->shell != NULL) {
				argv[n++] = "-s";
				argv[n++] = u->shell;
			}
			if (groups.len > 0) {
				argv[n++] = "-G";
				argv[n++] = groups.buf;
			}
			argv[n++] = u->name;
			argv[n] = NULL;
			r = guest_cmd(b, u->pos, "useradd", argv);
		} else if (r == 0 && groups.len > 0) {
			const char *argv[] = {"usermod",  "-a",	   "-G",
					      groups.buf, u->name, NULL};

			r = guest_cmd(b, u->pos, "usermod", argv);
		}
		sb_release(&groups);
		if (r == 0)
			r = accounts_load(b, j, &a);
		if (r < 0)
			break;
		r = user_password_hash(j, u, &hash);
		if (r < 0) {
			r = fail(b, u->pos, r,
				 "no password hash for user '%s': %s", u->name,
				 strerror(-r));
			break;
		}
		r = set_shadow(b, j, u, hash != NULL ? hash : "!");
		if (r == 0)
			r = user_extras(b, j, u, &a);
	}
	accounts_release(&a);
	return r;
}

/* After the users exist: ownership left over from the files step, and
 * the directories the bake created inside a user's home.  final: an
 * owner still missing is an error. */
static int
finish_ownership(struct bake *b, struct vmjob *j, bool final)
{
	const struct vm *vm = j->vm;
	struct accounts a = {0};
	int r = accounts_load(b, j, &a);

	for (size_t i = 0; r == 0 && i < vm->nusers; i++) {
		CLEANUP_FREE char *home = NULL;
		int uid, gid;

		if (db_lookup(a.passwd, vm->users[i].name, &uid, &gid, &home) <
			    0 ||
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
				r = fail(b, vm->users[i].pos, r,
					 "cannot chown '%s': %s", d,
					 image_error(b->im));
		}
	}
	for (size_t i = 0; r == 0 && i < j->plan.files.n; i++)
		if (j->pending[i])
			r = chown_gfile(b, &a, &j->plan.files.v[i], final,
					&j->pending[i]);
	accounts_release(&a);
	return r;
}

static const char *const unit_dirs[] = {
	"/etc/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
};

/* Without systemctl in the guest: what 'systemctl enable' does for
 * WantedBy=, RequiredBy= and Alias= of the unit's [Install] section. */
static int
enable_by_links(struct bake *b, struct vmjob *j, struct srcpos pos,
		const char *unit, const char *file)
{
	CLEANUP_FREE char *text = NULL;
	bool install = false;
	int r = image_read(b->im, file, &text, NULL);

	if (r < 0)
		return fail(b, pos, r, "cannot read '%s': %s", file,
			    image_error(b->im));
	for (char *l = strtok(text, "\n"); l != NULL; l = strtok(NULL, "\n")) {
		const char *kind = NULL;
		char *v;

		while (*l == ' ' || *l == '\t')
			l++;
		if (*l == '[') {
			install = strncmp(l, "[Install]", 9) == 0;
			continue;
		}
		if (!install)
			continue;
		if (str_starts_with(l, "WantedBy="))
			kind = "wants";
		else if (str_starts_with(l, "RequiredBy="))
			kind = "requires";
		else if (!str_starts_with(l, "Alias="))
			continue;
		v = strchr(l, '=') + 1;
		for (char *save = NULL, *t = strtok_r(v, " \t", &save);
		     t != NULL; t = strtok_r(NULL, " \t", &save)) {
			CLEANUP_FREE char *link =
				kind != NULL
					? xasprintf("/etc/systemd/system/%s.%s/"
						    "%s",
						    t, kind, unit)
					: xasprintf("/etc/systemd/system/%s",
						    t);
			bool ex;

			r = ensure_parent(b, j, pos, link);
			if (r < 0)
				return r;
			r = image_exists(b->im, link, &ex);
			if (r == 0 && ex)
				r = image_rm_f(b->im, link);
			if (r == 0)
				r = image_symlink(b->im, file, link);
			if (r < 0)
				return fail(b, pos, r, "cannot enable '%s': %s",
					    unit, image_error(b->im));
		}
	}
	return 0;
}

static int
step_units(struct bake *b, struct vmjob *j)
{
	const struct strlist *u = &j->vm->units;
	bool have_systemctl = false, ex;

	if (image_exists(b->im, "/usr/bin/systemctl", &ex) == 0 && ex)
		have_systemctl = true;
	for (size_t i = 0; i < u->n; i++) {
		CLEANUP_FREE char *file = NULL;
		int r;

		for (size_t k = 0; file == NULL && k < ARRAY_SIZE(unit_dirs);
		     k++) {
			char *p = xasprintf("%s/%s", unit_dirs[k], u->v[i]);

			if (image_exists(b->im, p, &ex) == 0 && ex)
				file = p;
			else
				free(p);
		}
		if (file == NULL)
			return fail(b, u->pos[i], -ENOENT,
				    "unit '%s' not found in the guest",
				    u->v[i]);
		if (have_systemctl) {
			const char *argv[] = {"systemctl", "enable", u->v[i],
					      NULL};

			r = guest_cmd(b, u->pos[i], "systemctl enable", argv);
		} else {
			r = enable_by_links(b, j, u->pos[i], u->v[i], file);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int
write_root_file(struct bake *b, struct vmjob *j, const char *path,
		const char *text, unsigned mode)
{
	int r = ensure_parent(b, j, j->vm->pos, path);

	if (r < 0)
		return r;
	return write_owned(b, j->vm->pos, path, text, mode, 0, 0);
}

/* The policy's file_contexts when the guest has SELinux enabled. */
static char *
selinux_contexts(struct bake *b)
{
	CLEANUP_FREE char *cfg = NULL;
	char type[64] = "", mode[32] = "";
	char *fc;
	bool ex;

	if (image_exists(b->im, "/etc/selinux/config", &ex) < 0 || !ex ||
	    image_read(b->im, "/etc/selinux/config", &cfg, NULL) < 0)
		return NULL;
	for (char *l = strtok(cfg, "\n"); l; l = strtok(NULL, "\n")) {
		sscanf(l, "SELINUX=%31s", mode);
		sscanf(l, "SELINUXTYPE=%63s", type);
	}
	if (*type == '\0' || strcmp(mode, "disabled") == 0)
		return NULL;
	fc = xasprintf("/etc/selinux/%s/contexts/files/file_contexts", type);
	if (image_exists(b->im, fc, &ex) < 0 || !ex) {
		free(fc);
		return NULL;
	}
	return fc;
}

static int
step_selinux(struct bake *b, struct vmjob *j, struct strbuf *detail)
{
	CLEANUP_FREE char *fc = selinux_contexts(b);
	const char *setfiles = NULL;
	char **mps = NULL;
	size_t nmps = 0;
	bool ex;
	int r = 0;

	if (fc == NULL) {
		sb_puts(detail, "no policy in the guest, nothing to label");
		return 0;
	}
	j->selinux = true;
	if (image_exists(b->im, "/usr/sbin/setfiles", &ex) == 0 && ex)
		setfiles = "/usr/sbin/setfiles";
	else if (image_exists(b->im, "/sbin/setfiles", &ex) == 0 && ex)
		setfiles = "/sbin/setfiles";
	image_mountpoints(b->im, &mps, &nmps);
	for (size_t i = 0; setfiles != NULL && i < nmps; i++) {
		/* The guest's own setfiles and policy, one mount point at a
		 * time; the appliance's bind mounts are excluded. */
		const char *argv[] = {setfiles, "-F",	"-e", "/proc",
				      "-e",	"/sys", "-e", "/dev",
				      fc,	mps[i], NULL};

		r = image_command(b->im, argv, NULL);
		if (r < 0)
			break;
	}
	if (setfiles == NULL || r < 0) {
		static const char relabel[] = "";

		warn(b, j->vm->name,
		     "cannot label the written files with the guest's setfiles "
		     "(%s); the first boot relabels the whole system "
		     "(/.autorelabel)",
		     setfiles == NULL ? "not found" : image_error(b->im));
		r = write_owned(b, j->vm->pos, "/.autorelabel", relabel, 0644,
				0, 0);
		sb_puts(detail, "/.autorelabel");
	} else {
		sb_printf(&detail[0], "%s on", fc);
		for (size_t i = 0; i < nmps; i++)
			sb_printf(detail, " %s", mps[i]);
	}
	for (size_t i = 0; i < nmps; i++)
		free(mps[i]);
	free(mps);
	return r;
}

/* --- packages --------------------------------------------------------- */

/* Guest directories whose content is the package manager's download
 * cache and metadata, kept under CACHE/packages/DISTRO/ on the host so a
 * later (offline) bake installs the very same files. */
static const char *const apt_cache[] = {"/var/cache/apt/archives",
					"/var/lib/apt/lists", NULL};
static const char *const dnf_cache[] = {"/var/cache/libdnf5", "/var/cache/dnf",
					NULL};

static char *
pkg_cache_root(struct bake *b, struct vmjob *j)
{
	CLEANUP_FREE char *cache = NULL;

	if (fetch_cache_dir(b->o->cache_dir, &cache) < 0)
		return NULL;
	return xasprintf("%s/packages/%s", cache, j->os.distro);
}

static int
pkg_cache_in(struct bake *b, struct vmjob *j, const char *root,
	     const char *const *dirs)
{
	for (size_t i = 0; dirs[i] != NULL; i++) {
		CLEANUP_FREE char *host = xasprintf("%s%s", root, dirs[i]);
		CLEANUP_FREE char *parent = xstrdup(dirs[i]);
		struct stat st;
		int r;

		if (stat(host, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		*strrchr(parent, '/') = '\0';
		r = image_mkdir_p(b->im, parent);
		if (r == 0)
			r = image_copy_in(b->im, host, parent);
		if (r < 0)
			return fail(b, j->vm->pos, r,
				    "cannot copy cached packages into '%s': %s",
				    dirs[i], image_error(b->im));
	}
	return 0;
}

static int
pkg_cache_out(struct bake *b, struct vmjob *j, const char *root,
	      const char *const *dirs)
{
	for (size_t i = 0; dirs[i] != NULL; i++) {
		CLEANUP_FREE char *host = xasprintf("%s%s", root, dirs[i]);
		CLEANUP_FREE char *parent = xstrdup(host);
		bool isdir;
		int r;

		if (image_is_dir(b->im, dirs[i], &isdir) < 0 || !isdir)
			continue;
		*strrchr(parent, '/') = '\0';
		r = mkdir_p(parent, 0755);
		if (r < 0)
			return fail(b, j->vm->pos, r, "cannot create '%s': %s",
				    parent, strerror(-r));
		r = image_copy_out(b->im, dirs[i], parent);
		if (r < 0)
			return fail(b, j->vm->pos, r,
				    "cannot keep the downloaded packages of "
				    "'%s': %s",
				    dirs[i], image_error(b->im));
	}
	return 0;
}

static int
step_packages(struct bake *b, struct vmjob *j)
{
	const struct strlist *p = &j->vm->packages;
	bool apt = strcmp(j->os.pkg_mgr, "apt") == 0;
	const char *const *dirs = apt ? apt_cache : dnf_cache;
	CLEANUP_FREE char *root = pkg_cache_root(b, j);
	const char **argv = xcalloc(p->n + 16, sizeof(*argv));
	size_t n = 0;
	int r;

	if (root == NULL) {
		free(argv);
		return fail(b, j->vm->pos, -ENOENT, "no cache directory");
	}
	r = pkg_cache_in(b, j, root, dirs);
	if (r == 0 && apt) {
		static const char policy[] = "#!/bin/sh\nexit 101\n";
		const char *upd[] = {"apt-get", "-q", "update", NULL};

		/* No service starts inside the appliance. */
		r = write_root_file(b, j, "/usr/sbin/policy-rc.d", policy,
				    0755);
		if (r == 0 && !b->o->offline)
			r = guest_cmd(b, p->pos[0], "apt-get update", upd);
		argv[n++] = "env";
		argv[n++] = "DEBIAN_FRONTEND=noninteractive";
		argv[n++] = "apt-get";
		argv[n++] = "-q";
		argv[n++] = "-y";
		argv[n++] = "--no-install-recommends";
		argv[n++] = "-o";
		argv[n++] = "APT::Keep-Downloaded-Packages=true";
		if (b->o->offline)
			argv[n++] = "--no-download";
		argv[n++] = "install";
	} else if (r == 0) {
		argv[n++] = "dnf";
		argv[n++] = "-y";
		argv[n++] = "--setopt=keepcache=1";
		argv[n++] = "--setopt=install_weak_deps=False";
		if (b->o->offline)
			argv[n++] = "--cacheonly";
		argv[n++] = "install";
	}
	for (size_t i = 0; i < p->n; i++)
		argv[n++] = p->v[i];
	argv[n] = NULL;
	if (r == 0)
		r = guest_cmd(b, p->pos[0],
			      apt ? "apt-get install" : "dnf install", argv);
	free(argv);
	if (r == 0)
		r = pkg_cache_out(b, j, root, dirs);
	/* The image keeps no package files; the host cache has them. */
	if (apt && r == 0) {
		const char *clean[] = {"apt-get", "clean", NULL};

		r = image_rm_f(b->im, "/usr/sbin/policy-rc.d");
		if (r == 0)
			r = guest_cmd(b, p->pos[0], "apt-get clean", clean);
	} else if (r == 0) {
		const char *clean[] = {"dnf", "clean", "packages", NULL};

		r = guest_cmd(b, p->pos[0], "dnf clean packages", clean);
	}
	return r;
}

/* Container images the services need, baked as oci-archive files for
 * Quadlet .image units.  Without a way to pull them the build says so and
 * the units pull at first boot. */
static void
step_images(struct bake *b, struct vmjob *j, struct strbuf *detail)
{
	const struct vm *vm = j->vm;
	size_t want = 0;
	bool ex = false;
	const char *why;

	for (size_t i = 0; i < vm->nservices; i++)
		if (vm->services[i].build == NULL)
			want++;
	if (want == 0) {
		sb_puts(detail, "none to pull");
		return;
	}
	if (b->o->offline)
		why = "offline";
	else if (image_exists(b->im, "/usr/bin/podman", &ex) < 0 || !ex)
		why = "no podman in the guest to pull with";
	else
		why = NULL;
	for (size_t i = 0; i < vm->nservices; i++) {
		const struct service *s = &vm->services[i];
		const char *argv[] = {"podman", "pull", "--quiet", s->image,
				      NULL};

		if (s->build != NULL)
			continue;
		if (why == NULL && image_command(b->im, argv, NULL) < 0)
			why = image_error(b->im);
		/* Pulled images would be saved with podman save
		 * --format oci-archive; the registry is unreachable here,
		 * so nothing beyond the attempt is exercised. */
		if (why == NULL)
			why = "baking pulled images is not supported yet";
		warn(b, vm->name,
		     "container image '%s' not baked (%s); its unit pulls it "
		     "at first boot, which needs the internet",
		     s->image, why);
	}
	sb_printf(detail, "%zu not baked, pulled at first boot", want);
}

/* --- orchestration ---------------------------------------------------- */

static bool
hook(struct bake *b, const char *step)
{
	if (b->fail_at == NULL || strcmp(b->fail_at, step) != 0)
		return false;
	fail(b, (struct srcpos){0}, -EIO,
	     "SBX_TEST_FAIL_AT=%s: failing before this step (test hook)", step);
	return true;
}

static void
report(struct bake *b, struct vmjob *j, const char *step, const char *detail,
       double t0)
{
	if (b->o->step != NULL)
		b->o->step(b->o->opaque, j->vm->name, step, detail, now() - t0);
}

static int
check_os(struct bake *b, struct vmjob *j)
{
	const struct base *base = j->vm->base_ref;
	const char *want = base->distro == DISTRO_FEDORA ? "fedora" : "debian";
	const struct image_os *os = &j->os;
	int r = image_os(b->im, (size_t)(j - b->jobs), &j->os);

	if (r < 0)
		return fail(b, base->pos, r, "base '%s': %s", j->base,
			    image_error(b->im));
	if (strcmp(os->type, "linux") != 0 ||
	    !((strcmp(os->distro, "fedora") == 0 &&
	       strcmp(os->pkg_mgr, "dnf") == 0) ||
	      (strcmp(os->distro, "debian") == 0 &&
	       strcmp(os->pkg_mgr, "apt") == 0)))
		return fail(b, base->pos, -EMEDIUMTYPE,
			    "base '%s' holds %s %s '%s' with package manager "
			    "'%s': only Fedora (dnf) and Debian (apt) are "
			    "supported",
			    j->base, os->type, os->distro, os->product,
			    os->pkg_mgr);
	if (strcmp(os->distro, want) != 0)
		return fail(b, base->pos, -EMEDIUMTYPE,
			    "base '%s' holds %s, but the recipe says '%s'",
			    j->base, os->product, want);
	return 0;
}

static int
run_step(struct bake *b, struct vmjob *j, enum step_kind k)
{
	const struct vm *vm = j->vm;
	struct strbuf d = STRBUF_INIT;
	double t0 = now();
	int r = 0;

	if (interrupted)
		return fail(b, (struct srcpos){0}, -ECANCELED, "interrupted");
	if (hook(b, plan_step_name(k)))
		return -EIO;
	b->bar_step = plan_step_name(k);
	switch (k) {
	case STEP_PACKAGES:
		r = step_packages(b, j);
		for (size_t i = 0; i < vm->packages.n; i++)
			sb_printf(&d, "%s%s", i ? " " : "", vm->packages.v[i]);
		if (r == 0 && vm->nservices > 0) {
			struct strbuf di = STRBUF_INIT;
			double t1 = now();

			report(b, j, "packages", d.buf, t0);
			sb_release(&d);
			step_images(b, j, &di);
			report(b, j, "images", di.buf, t1);
			sb_release(&di);
			return 0;
		}
		break;
	case STEP_FILES:
		r = step_files(b, j);
		sb_printf(&d, "%zu files", j->plan.files.n);
		break;
	case STEP_OVERLAY:
		r = step_overlay(b, j);
		sb_printf(&d, "%s (%zu entries)", vm->overlay,
			  j->plan.overlay.n);
		break;
	case STEP_USERS:
		r = step_users(b, j);
		if (r == 0)
			r = finish_ownership(b, j, false);
		for (size_t i = 0; i < vm->nusers; i++)
			sb_printf(&d, "%s%s", i ? " " : "", vm->users[i].name);
		break;
	case STEP_HOSTNAME: {
		CLEANUP_FREE char *t = xasprintf("%s\n", vm->hostname);

		r = write_root_file(b, j, "/etc/hostname", t, 0644);
		sb_puts(&d, vm->hostname);
		break;
	}
	case STEP_UNITS:
		r = step_units(b, j);
		for (size_t i = 0; i < vm->units.n; i++)
			sb_printf(&d, "%s%s", i ? " " : "", vm->units.v[i]);
		break;
	case STEP_CLOUD_INIT:
		r = write_root_file(b, j, "/etc/cloud/cloud-init.disabled", "",
				    0644);
		sb_puts(&d, "disabled");
		break;
	case STEP_MACHINE_ID:
		r = write_root_file(b, j, "/etc/machine-id", "uninitialized\n",
				    0444);
		sb_puts(&d, "uninitialized");
		break;
	case STEP_SELINUX:
		/* Every owner is settled before labels are set: a file
		 * whose owner never appeared is an error. */
		r = finish_ownership(b, j, true);
		if (r == 0)
			r = step_selinux(b, j, &d);
		break;
	}
	bar_done(b);
	if (r == 0)
		report(b, j, plan_step_name(k), d.buf, t0);
	sb_release(&d);
	return r;
}

static int
bake_one(struct bake *b, struct vmjob *j)
{
	size_t idx = (size_t)(j - b->jobs);
	bool grown = false;
	uint64_t bytes = 0;
	double t0 = now();
	int r;

	b->bar_vm = j->vm->name;
	r = check_os(b, j);
	if (r < 0)
		return r;
	if (hook(b, "grow"))
		return -EIO;
	b->bar_step = "grow";
	r = image_grow_root(b->im, idx, &grown, &bytes);
	bar_done(b);
	if (r < 0)
		return fail(b, j->vm->pos, r,
			    "cannot grow the root filesystem: %s",
			    image_error(b->im));
	r = image_mount(b->im, idx);
	if (r < 0)
		return fail(b, j->vm->pos, r, "cannot mount '%s': %s",
			    j->os.root, image_error(b->im));
	if (grown && strcmp(j->os.root_fs, "btrfs") == 0) {
		r = image_btrfs_grow(b->im, "/");
		if (r < 0)
			return fail(b, j->vm->pos, r,
				    "cannot grow the btrfs root: %s",
				    image_error(b->im));
	}
	if (grown) {
		char h[32];
		CLEANUP_FREE char *d =
			xasprintf("%s %s %s: %s partition, filesystem grown",
				  j->os.distro, j->os.product, j->os.root_fs,
				  progress_human(bytes, h, sizeof(h)));

		report(b, j, "grow", d, t0);
	} else {
		warn(b, j->vm->name,
		     "root filesystem not grown (%s); it keeps the base's size",
		     image_error(b->im));
	}
	j->pending = xcalloc(j->plan.files.n + 1, sizeof(*j->pending));
	for (size_t i = 0; r == 0 && i < j->plan.nsteps; i++)
		r = run_step(b, j, j->plan.steps[i]);
	if (r == 0)
		r = finish_ownership(b, j, true);
	if (r == 0) {
		r = image_umount(b->im);
		if (r < 0)
			fail(b, j->vm->pos, r, "cannot unmount: %s",
			     image_error(b->im));
	}
	return r;
}

static void
jobs_release(struct bake *b)
{
	for (size_t i = 0; i < b->njobs; i++) {
		struct vmjob *j = &b->jobs[i];

		if (j->planned)
			plan_release(&j->plan);
		secret_store_release(&j->secrets);
		if (j->tmp != NULL)
			unlink(j->tmp);
		free(j->tmp);
		free(j->final);
		free(j->base);
		image_os_release(&j->os);
		for (size_t k = 0; k < j->nimplicit; k++)
			free(j->implicit[k]);
		free(j->implicit);
		free(j->pending);
	}
	free(b->jobs);
}

static int
prepare_jobs(struct bake *b)
{
	CLEANUP_FREE char *sdir = path_join(b->o->out_dir, "secrets");

	for (size_t i = 0; i < b->njobs; i++) {
		struct vmjob *j = &b->jobs[i];
		struct diag_list *diags = diag_list_new();
		CLEANUP_FREE char *bad = NULL;
		int r;

		r = secrets_load(sdir, j->vm, &j->secrets, &bad);
		if (r < 0) {
			diag_list_free(diags);
			return fail(b, j->vm->pos, r,
				    "cannot load secret '%s': %s",
				    bad ? bad : sdir, strerror(-r));
		}
		r = prepare_plan(b->set, j->vm, j->secrets.v, j->secrets.n,
				 &j->plan, diags);
		if (r < 0) {
			for (size_t k = 0; k < diag_count(diags); k++)
				sb_printf(&b->err, "%s%s", k ? "\n" : "",
					  diag_message(diags, k));
			diag_list_free(diags);
			return fail(b, j->vm->pos, r, "cannot plan VM '%s'",
				    j->vm->name);
		}
		diag_list_free(diags);
		j->planned = true;
		r = base_path(b, j);
		if (r < 0)
			return r;
		j->final = xasprintf("%s/%s.qcow2", b->o->out_dir, j->vm->name);
		j->tmp = xasprintf("%s/.%s.qcow2.tmp-%ld", b->o->out_dir,
				   j->vm->name, (long)getpid());
	}
	return 0;
}

static bool
needs_network(struct bake *b)
{
	if (b->o->offline)
		return false;
	for (size_t i = 0; i < b->njobs; i++)
		if (b->jobs[i].vm->packages.n > 0)
			return true;
	return false;
}

static int
session(struct bake *b, struct bake_result *res)
{
	struct image_opts io = {
		.accel = b->o->accel,
		.network = needs_network(b),
		.debug = b->o->debug,
		.progress = on_progress,
		.progress_opaque = b,
	};
	bool fell_back = false;
	double t0;
	int r;

	r = mkdir_p(b->o->out_dir, 0755);
	if (r < 0)
		return fail(b, (struct srcpos){0}, r, "cannot create '%s': %s",
			    b->o->out_dir, strerror(-r));
	for (size_t i = 0; i < b->njobs; i++) {
		r = create_overlay(b, &b->jobs[i]);
		if (r < 0)
			return r;
	}
	image_new(&io, &b->im);
	current_image = b->im;
	for (size_t i = 0; i < b->njobs; i++)
		image_add_drive(b->im, b->jobs[i].tmp);
	t0 = now();
	r = image_launch(b->im, &fell_back);
	res->attempts = image_launch_attempts();
	res->launches = image_launch_count();
	res->tcg = image_is_tcg(b->im);
	if (r < 0)
		return fail(b, (struct srcpos){0}, r,
			    "cannot launch the libguestfs appliance: %s",
			    image_error(b->im));
	if (fell_back)
		warn(b, NULL,
		     "the appliance did not come up with KVM (%s); running it "
		     "under TCG, which is much slower",
		     image_error(b->im));
	if (b->o->step != NULL) {
		CLEANUP_FREE char *d = xasprintf("%zu drive%s, %s%s", b->njobs,
						 b->njobs == 1 ? "" : "s",
						 res->tcg ? "TCG" : "KVM",
						 io.network ? ", network" : "");

		b->o->step(b->o->opaque, "image", "launch", d, now() - t0);
	}
	if (interrupted)
		return fail(b, (struct srcpos){0}, -ECANCELED, "interrupted");
	b->bar_step = "inspect";
	r = image_inspect(b->im);
	bar_done(b);
	if (r < 0)
		return fail(b, (struct srcpos){0}, r, "inspection failed: %s",
			    image_error(b->im));
	for (size_t i = 0; i < b->njobs && r == 0; i++)
		r = bake_one(b, &b->jobs[i]);
	if (r < 0)
		return r;
	if (interrupted)
		return fail(b, (struct srcpos){0}, -ECANCELED, "interrupted");
	if (hook(b, "shutdown"))
		return -EIO;
	r = image_shutdown(b->im);
	if (r < 0)
		return fail(b, (struct srcpos){0}, r,
			    "the appliance did not shut down cleanly, the "
			    "images may be incomplete: %s",
			    image_error(b->im));
	if (interrupted)
		return fail(b, (struct srcpos){0}, -ECANCELED, "interrupted");
	for (size_t i = 0; i < b->njobs; i++) {
		struct vmjob *j = &b->jobs[i];

		if (rename(j->tmp, j->final) < 0)
			return fail(b, (struct srcpos){0}, -errno,
				    "cannot rename '%s' to '%s': %s", j->tmp,
				    j->final, strerror(errno));
		free(j->tmp);
		j->tmp = NULL;
	}
	return 0;
}

int
bake_vms(const struct recipe_set *set, const struct vm *const *vms, size_t n,
	 const struct bake_opts *o, struct bake_result *ret, char **ret_err)
{
	struct bake b = {.set = set, .o = o, .err = STRBUF_INIT};
	struct bake_result res = {0};
	struct sigaction sa = {.sa_handler = on_signal}, oint, oterm;
	int r;

	b.fail_at = getenv("SBX_TEST_FAIL_AT");
	if (b.fail_at != NULL && *b.fail_at == '\0')
		b.fail_at = NULL;
	b.jobs = xcalloc(n, sizeof(*b.jobs));
	b.njobs = n;
	for (size_t i = 0; i < n; i++)
		b.jobs[i].vm = vms[i];
	interrupted = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	r = prepare_jobs(&b);
	if (r == 0)
		r = session(&b, &res);
	if (r < 0 && interrupted) {
		sb_release(&b.err);
		fail(&b, (struct srcpos){0}, -ECANCELED, "interrupted");
		r = -ECANCELED;
	}
	bar_done(&b);
	current_image = NULL;
	image_free(b.im);
	jobs_release(&b); /* removes any temporary image left */
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	if (r < 0) {
		*ret_err = sb_detach(&b.err, NULL);
		return r;
	}
	sb_release(&b.err);
	*ret = res;
	return 0;
}
