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
#include <time.h>
#include <unistd.h>

#include "bake.h"
#include "digest.h"
#include "distro.h"
#include "fetch.h"
#include "image.h"
#include "inputs.h"
#include "lock.h"
#include "manifest.h"
#include "plan.h"
#include "prepare.h"
#include "progress.h"
#include "recipe.h"
#include "run.h"
#include "secrets.h"
#include "util.h"
#include "ytree.h"

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
	size_t drive;  /* index of its drive in the appliance */
	char *base_id; /* "sha256:HEX" of the base, or its local identity */
	char inputs[DIGEST_HEX_MAX];
	bool skip;	/* inputs unchanged: not rebuilt */
	bool pinned;	/* packages come from sbx.lock's pins */
	char **written; /* paths the bake wrote, in order */
	bool *content;	/* per written path: content in the manifest */
	size_t nwritten;
	struct ynode *newpins; /* package pins found by this bake */
	struct manifest man;
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

static int
create_overlay(struct bake *b, struct vmjob *j)
{
	char size[32];
	CLEANUP_FREE char *why = NULL;
	struct strbuf out = STRBUF_INIT;
	struct run_opts ro = {.out = &out, .err_to_out = true};
	const char *argv[] = {"qemu-img", "create", "-q",    "-f",
			      "qcow2",	  "-F",	    "qcow2", "-b",
			      j->base,	  j->tmp,   size,    NULL};
	int r;

	snprintf(size, sizeof(size), "%" PRIu64, j->vm->disk);
	r = run_program(argv, &ro);
	why = run_failure(argv, r, &out);
	sb_release(&out);
	if (why != NULL)
		return fail(b, j->vm->pos, r < 0 ? r : -EIO,
			    "cannot create '%s' backed by '%s': %s", j->tmp,
			    j->base, why);
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
		struct stat st;

		if (realpath(p, real) == NULL || stat(real, &st) < 0)
			return fail(b, base->pos, -errno,
				    "cannot use base image '%s': %s", p,
				    strerror(errno));
		j->base = xstrdup(real);
		/* A local base is not hashed on every build: its identity
		 * is its path, size and modification time. */
		j->base_id = xasprintf(
			"local:%s:%lld:%lld.%09ld", real, (long long)st.st_size,
			(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		return 0;
	} else {
		CLEANUP_FREE char *cache = NULL;
		struct lock *tmp = NULL, *lk = b->o->lock;
		struct fetch_ctx *ctx;
		struct fetch_pin pin = {0};
		char *path = NULL;
		int r = fetch_cache_dir(b->o->cache_dir, &cache);

		if (r < 0)
			return fail(b, base->pos, r, "no cache directory: %s",
				    strerror(-r));
		if (lk == NULL)
			lk = tmp = lock_new();
		ctx = fetch_ctx_new(cache, b->o->offline ? FETCH_OFFLINE : 0);
		fetch_ctx_set_dir(ctx, b->set->dir);
		r = lock_fetch_base(lk, ctx, base, &path);
		if (r < 0)
			fail(b, base->pos, r, "cannot get base '%s': %s",
			     base->name,
			     *fetch_error(ctx) ? fetch_error(ctx)
					       : strerror(-r));
		else
			r = lock_pin_base(lk, ctx, base, &pin);
		if (r == 0)
			j->base_id = xstrdup(pin.checksum);
		fetch_pin_clear(&pin);
		fetch_ctx_free(ctx);
		lock_free(tmp);
		if (r < 0) {
			free(path);
			return r;
		}
		if (realpath(path, real) == NULL) {
			r = -errno;
			fail(b, base->pos, r, "cannot use '%s': %s", path,
			     strerror(-r));
			free(path);
			return r;
		}
		free(path);
		j->base = xstrdup(real);
		return 0;
	}
}

/* --- what the bake wrote ---------------------------------------------- */

/* Records a path the bake wrote, for its mtime and the manifest. */
static void
wrote(struct vmjob *j, const char *path, bool content)
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
	wrote(j, dir, true);
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
		wrote(j, g->path, true);
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
		wrote(j, e->path, true);
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

int
bake_shadow_set(const char *shadow, const char *user, const char *hash,
		char **ret)
{
	struct strbuf out = STRBUF_INIT;
	size_t nl = strlen(user);
	bool found = false;

	for (const char *l = shadow; *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);

		if (strncmp(l, user, nl) == 0 && l[nl] == ':') {
			const char *rest =
				memchr(l + nl + 1, ':', len - nl - 1);

			found = true;
			sb_printf(&out, "%s:%s", user, hash);
			if (rest != NULL)
				sb_add(&out, rest, (size_t)(l + len - rest));
		} else {
			sb_add(&out, l, len);
		}
		sb_putc(&out, '\n');
		l += len + (end != NULL);
	}
	if (!found) {
		sb_release(&out);
		return -ENOENT;
	}
	*ret = sb_detach(&out, NULL);
	return 0;
}

/* Replaces field 2 of name's line in /etc/shadow. */
static int
set_shadow(struct bake *b, struct vmjob *j, const struct user *u,
	   const char *hash)
{
	CLEANUP_FREE char *sh = NULL, *out = NULL;
	int r = image_read(b->im, "/etc/shadow", &sh, NULL);

	if (r < 0)
		return fail(b, u->pos, r, "cannot read '/etc/shadow': %s",
			    image_error(b->im));
	if (bake_shadow_set(sh, u->name, hash, &out) < 0)
		return fail(b, u->pos, -ENOENT,
			    "user '%s' is missing from '/etc/shadow'", u->name);
	r = image_write(b->im, "/etc/shadow", out, strlen(out));
	if (r < 0)
		return fail(b, u->pos, r, "cannot write '/etc/shadow': %s",
			    image_error(b->im));
	/* Random salts and change dates: listed, content left out. */
	wrote(j, "/etc/shadow", false);
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

/* The user's sudoers entry and baked keys are rendered files (render-users.c),
 * written by the files step; here only check the account exists. */
static int
user_check(struct bake *b, const struct user *u, const struct accounts *a)
{
	CLEANUP_FREE char *home = NULL;
	int uid, gid;

	if (db_lookup(a->passwd, u->name, &uid, &gid, &home) < 0)
		return fail(b, u->pos, -ENOENT,
			    "user '%s' was not created in the guest", u->name);
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
		wrote(j, "/etc/passwd", true);
		wrote(j, "/etc/group", true);
		{
			CLEANUP_FREE char *home = NULL;

			if (db_lookup(a.passwd, u->name, &id, NULL, &home) ==
				    0 &&
			    home != NULL && *home == '/')
				wrote(j, home, true);
		}
		r = user_password_hash(j, u, &hash);
		if (r < 0) {
			r = fail(b, u->pos, r,
				 "no password hash for user '%s': %s", u->name,
				 strerror(-r));
			break;
		}
		r = set_shadow(b, j, u, hash != NULL ? hash : "!");
		if (r == 0)
			r = user_check(b, u, &a);
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

size_t
bake_unit_links(const char *text, const char *unit, const char *file,
		struct strbuf *out)
{
	CLEANUP_FREE char *copy = xstrdup(text);
	bool install = false;
	size_t n = 0;
	char *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		const char *kind = NULL;
		char *v, *vsave = NULL;

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
		for (char *t = strtok_r(v, " \t\r", &vsave); t != NULL;
		     t = strtok_r(NULL, " \t\r", &vsave)) {
			if (kind != NULL)
				sb_printf(out, "/etc/systemd/system/%s.%s/%s",
					  t, kind, unit);
			else
				sb_printf(out, "/etc/systemd/system/%s", t);
			sb_putc(out, '\0');
			sb_puts(out, file);
			sb_putc(out, '\0');
			n++;
		}
	}
	return n;
}

/* The links of a unit's [Install] section: made here without systemctl
 * in the guest, only recorded (for mtimes and the manifest) with it. */
static int
enable_by_links(struct bake *b, struct vmjob *j, struct srcpos pos,
		const char *unit, const char *file, bool make)
{
	CLEANUP_FREE char *text = NULL;
	struct strbuf links = STRBUF_INIT;
	const char *p;
	size_t n;
	int r = image_read(b->im, file, &text, NULL);

	if (r < 0)
		return fail(b, pos, r, "cannot read '%s': %s", file,
			    image_error(b->im));
	n = bake_unit_links(text, unit, file, &links);
	p = links.buf;
	for (size_t i = 0; i < n; i++) {
		const char *link = p, *target = p + strlen(p) + 1;
		bool ex;

		p = target + strlen(target) + 1;
		if (!make) {
			if (image_exists(b->im, link, &ex) == 0 && ex)
				wrote(j, link, true);
			continue;
		}
		r = ensure_parent(b, j, pos, link);
		if (r < 0)
			break;
		r = image_exists(b->im, link, &ex);
		if (r == 0 && ex)
			r = image_rm_f(b->im, link);
		if (r == 0)
			r = image_symlink(b->im, target, link);
		if (r < 0) {
			r = fail(b, pos, r, "cannot enable '%s': %s", unit,
				 image_error(b->im));
			break;
		}
		wrote(j, link, true);
	}
	sb_release(&links);
	return r;
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
		int r = 0;

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
		}
		if (r == 0)
			r = enable_by_links(b, j, u->pos[i], u->v[i], file,
					    !have_systemctl);
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

	if (r == 0)
		r = write_owned(b, j->vm->pos, path, text, mode, 0, 0);
	if (r == 0)
		wrote(j, path, true);
	return r;
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
		if (r == 0)
			wrote(j, "/.autorelabel", true);
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

/* The distribution table entry of the VM's base (check_os made sure the
 * guest holds that distribution). */
static const struct distro_info *
job_distro(const struct vmjob *j)
{
	return distro_get(j->vm->base_ref->distro);
}

static char *
pkg_cache_root(struct bake *b, struct vmjob *j)
{
	CLEANUP_FREE char *cache = NULL;

	if (fetch_cache_dir(b->o->cache_dir, &cache) < 0)
		return NULL;
	return xasprintf("%s/packages/%s", cache, job_distro(j)->name);
}

int
bake_pkg_parse(const char *file, char **ret_name, char **ret_version,
	       char **ret_arch)
{
	const char *base = strrchr(file, '/');
	CLEANUP_FREE char *s = NULL;
	char *name, *ver, *arch;

	base = base != NULL ? base + 1 : file;
	s = xstrdup(base);
	if (str_ends_with(s, ".deb")) {
		s[strlen(s) - 4] = '\0';
		name = s;
		ver = strchr(name, '_');
		arch = ver != NULL ? strchr(ver + 1, '_') : NULL;
		if (arch == NULL || strchr(arch + 1, '_') != NULL)
			return -EINVAL;
		*ver++ = '\0';
		*arch++ = '\0';
	} else if (str_ends_with(s, ".rpm")) {
		char *rel;

		s[strlen(s) - 4] = '\0';
		name = s;
		arch = strrchr(name, '.');
		if (arch == NULL)
			return -EINVAL;
		*arch++ = '\0';
		rel = strrchr(name, '-');
		if (rel == NULL)
			return -EINVAL;
		*rel = '\0';
		ver = strrchr(name, '-');
		*rel = '-';
		if (ver == NULL)
			return -EINVAL;
		*ver++ = '\0';
	} else {
		return -EINVAL;
	}
	if (*name == '\0' || *ver == '\0' || *arch == '\0')
		return -EINVAL;
	*ret_name = xstrdup(name);
	*ret_version = xstrdup(ver);
	*ret_arch = xstrdup(arch);
	/* Debian writes an epoch's ':' as "%3a" in file names. */
	for (char *p; (p = strstr(*ret_version, "%3a")) != NULL;)
		memmove(p + 1, p + 3, strlen(p + 3) + 1), *p = ':';
	return 0;
}

/* The recipe's package list as sbx.lock records what its pins were made
 * for: the names, space-separated, in recipe order. */
static char *
pkg_list(const struct vmjob *j)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < j->vm->packages.n; i++)
		sb_printf(&sb, "%s%s", i ? " " : "", j->vm->packages.v[i]);
	return sb_detach(&sb, NULL);
}

/* sbx.lock's entry for vm: {for: PACKAGES, files: [...]}, or NULL. */
static const struct ynode *
pin_entry(struct bake *b, const struct vmjob *j)
{
	const struct ynode *sec, *e;

	if (b->o->lock == NULL)
		return NULL;
	sec = lock_section(b->o->lock, "packages", false);
	e = sec != NULL ? ynode_get(sec, j->vm->name) : NULL;
	return e != NULL && e->kind == YNODE_MAP ? e : NULL;
}

/* sbx.lock's pins for vm, a list of {file, name, version, arch, sha256},
 * when they were made for the recipe's package list; otherwise NULL. */
static const struct ynode *
pins_of(struct bake *b, const struct vmjob *j)
{
	const struct ynode *e = pin_entry(b, j), *f, *l;
	CLEANUP_FREE char *want = pkg_list(j);

	if (e == NULL)
		return NULL;
	f = ynode_get(e, "for");
	l = ynode_get(e, "files");
	if (f == NULL || f->kind != YNODE_SCALAR || strcmp(f->str, want) != 0)
		return NULL;
	return l != NULL && l->kind == YNODE_SEQ ? l : NULL;
}

static const char *
pin_str(const struct ynode *pin, const char *key)
{
	const struct ynode *v = ynode_get(pin, key);

	return v != NULL && v->kind == YNODE_SCALAR ? v->str : NULL;
}

/* Before the appliance starts: every pinned package file must be in the
 * host cache with its checksum.  All missing or altered files are named
 * in one message. */
static int
check_pins(struct bake *b, struct vmjob *j)
{
	const struct ynode *pins = pins_of(b, j);
	const struct strlist *pk = &j->vm->packages;
	CLEANUP_FREE char *root = NULL;
	struct strbuf bad = STRBUF_INIT;
	size_t nbad = 0;

	if (pk->n == 0)
		return 0;
	if (pins == NULL) {
		/* Unpinned, or pinned for another package list: resolved
		 * afresh online, and pinned again. */
		if (!b->o->offline)
			return 0;
		return fail(b, pk->pos[0], -ENOENT,
			    "offline, but sbx.lock pins no package file for "
			    "VM '%s'%s: build it once online first",
			    j->vm->name,
			    pin_entry(b, j) != NULL ? " for this package list"
						    : "");
	}
	j->pinned = true;
	root = pkg_cache_root(b, j);
	if (root == NULL)
		return fail(b, pk->pos[0], -ENOENT, "no cache directory");
	for (size_t i = 0; i < pins->n; i++) {
		const char *file = pin_str(pins->items[i], "file");
		const char *sum = pin_str(pins->items[i], "sha256");
		char hex[DIGEST_HEX_MAX];
		CLEANUP_FREE char *host = NULL;
		int r;

		if (file == NULL || sum == NULL || *file != '/') {
			sb_printf(&bad, "\n  sbx.lock:%d:%d: malformed pin",
				  pins->items[i]->pos.line,
				  pins->items[i]->pos.col);
			nbad++;
			continue;
		}
		host = xasprintf("%s%s", root, file);
		r = digest_file_hex(DIGEST_SHA256, host, hex);
		if (r < 0) {
			sb_printf(&bad, "\n  missing '%s': %s", host,
				  strerror(-r));
			nbad++;
		} else if (strcmp(hex, sum) != 0) {
			sb_printf(&bad,
				  "\n  '%s' has sha256:%s, sbx.lock pins "
				  "sha256:%s",
				  host, hex, sum);
			nbad++;
		}
	}
	if (nbad > 0) {
		fail(b, pk->pos[0], -ENOENT,
		     "%zu pinned package file%s of VM '%s' not in the cache "
		     "as sbx.lock pins %s:%s",
		     nbad, nbad == 1 ? "" : "s", j->vm->name,
		     nbad == 1 ? "it" : "them", bad.buf);
		sb_release(&bad);
		return -ENOENT;
	}
	sb_release(&bad);
	return 0;
}

static void
free_strv(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static bool
strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* The package files the base itself keeps in its cache (debootstrap's,
 * say): not pinned, the base's checksum covers them. */
static int
base_pkg_files(struct bake *b, struct vmjob *j, const char *const *dirs,
	       char ***ret)
{
	char **all = xcalloc(1, sizeof(*all));
	size_t n = 0;

	for (size_t i = 0; dirs[i] != NULL; i++) {
		char **files = NULL;
		int r = image_find_files(b->im, dirs[i], &files);

		if (r < 0) {
			free_strv(all);
			return fail(b, j->vm->packages.pos[0], r,
				    "cannot list '%s': %s", dirs[i],
				    image_error(b->im));
		}
		for (size_t k = 0; files[k] != NULL; k++) {
			all = xrealloc(all, (n + 2) * sizeof(*all));
			all[n++] = files[k];
			all[n] = NULL;
		}
		free(files);
	}
	*ret = all;
	return 0;
}

/* After an unpinned install: every package file in the guest's cache but
 * the base's own becomes a pin (recorded in sbx.lock once the image is in
 * place). */
static int
collect_pins(struct bake *b, struct vmjob *j, const char *const *dirs,
	     char *const *base_files)
{
	struct ynode *seq = ynode_new_seq();

	for (size_t i = 0; dirs[i] != NULL; i++) {
		char **files = NULL;
		int r = image_find_files(b->im, dirs[i], &files);

		if (r < 0) {
			ynode_free(seq);
			return fail(b, j->vm->packages.pos[0], r,
				    "cannot list '%s': %s", dirs[i],
				    image_error(b->im));
		}
		for (size_t k = 0; r == 0 && files[k] != NULL; k++) {
			CLEANUP_FREE char *name = NULL, *ver = NULL,
					  *arch = NULL;
			char hex[65];
			struct ynode *pin;

			if (strv_has(base_files, files[k]) ||
			    bake_pkg_parse(files[k], &name, &ver, &arch) < 0)
				continue;
			r = image_sha256(b->im, files[k], hex);
			if (r < 0) {
				fail(b, j->vm->packages.pos[0], r,
				     "cannot hash '%s': %s", files[k],
				     image_error(b->im));
				break;
			}
			pin = ynode_seq_push(seq, ynode_new_map());
			ynode_map_put_str(pin, "file", files[k]);
			ynode_map_put_str(pin, "name", name);
			ynode_map_put_str(pin, "version", ver)->quoted = true;
			ynode_map_put_str(pin, "arch", arch);
			ynode_map_put_str(pin, "sha256", hex);
		}
		for (size_t k = 0; files[k] != NULL; k++)
			free(files[k]);
		free(files);
		if (r < 0) {
			ynode_free(seq);
			return r;
		}
	}
	j->newpins = seq;
	return 0;
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
	const struct distro_info *d = job_distro(j);
	const char *const *dirs = d->cache_dirs;
	CLEANUP_FREE char *root = pkg_cache_root(b, j);
	const char *const *pin_dirs = d->pin_dirs;
	const char **argv = NULL;
	char **base_files = NULL;
	CLEANUP_FREE char *update_what = xasprintf("%s update", d->tool);
	CLEANUP_FREE char *install_what = xasprintf("%s install", d->tool);
	CLEANUP_FREE char *clean_what = xasprintf("%s clean", d->tool);
	size_t n = 0, ni = 0;
	int r;

	if (root == NULL)
		return fail(b, j->vm->pos, -ENOENT, "no cache directory");
	r = j->pinned ? 0 : base_pkg_files(b, j, pin_dirs, &base_files);
	if (r == 0)
		r = pkg_cache_in(b, j, root, dirs);
	if (r == 0 && d->no_start_policy) {
		static const char policy[] = "#!/bin/sh\nexit 101\n";

		/* No service starts inside the appliance. */
		r = write_root_file(b, j, "/usr/sbin/policy-rc.d", policy,
				    0755);
	}
	if (r == 0 && d->update != NULL && !b->o->offline && !j->pinned)
		r = guest_cmd(b, p->pos[0], update_what, d->update);
	/* The install argv; the offline option goes before its last word
	 * ("install"). */
	while (d->install[ni] != NULL)
		ni++;
	argv = xcalloc(ni + p->n + 2, sizeof(*argv));
	for (size_t i = 0; i + 1 < ni; i++)
		argv[n++] = d->install[i];
	if (b->o->offline || j->pinned)
		argv[n++] = d->install_offline;
	argv[n++] = d->install[ni - 1];
	for (size_t i = 0; i < p->n; i++)
		argv[n++] = p->v[i];
	argv[n] = NULL;
	if (r == 0)
		r = guest_cmd(b, p->pos[0], install_what, argv);
	free(argv);
	if (r == 0)
		r = pkg_cache_out(b, j, root, dirs);
	if (r == 0 && !j->pinned)
		r = collect_pins(b, j, pin_dirs, base_files);
	free_strv(base_files);
	/* The image keeps no package files; the host cache has them. */
	if (r == 0 && d->no_start_policy)
		r = image_rm_f(b->im, "/usr/sbin/policy-rc.d");
	if (r == 0)
		r = guest_cmd(b, p->pos[0], clean_what, d->clean);
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
	const struct distro_info *want = distro_get(base->distro);
	const struct distro_info *got;
	const struct image_os *os = &j->os;
	int r = image_os(b->im, j->drive, &j->os);

	if (r < 0)
		return fail(b, base->pos, r, "base '%s': %s", j->base,
			    image_error(b->im));
	if (want == NULL)
		return fail(b, base->pos, -EINVAL,
			    "base '%s' has an unknown distribution",
			    base->name);
	got = distro_find(os->distro);
	if (strcmp(os->type, "linux") != 0 || got == NULL ||
	    strcmp(os->pkg_mgr, got->pkg_mgr) != 0)
		return fail(b, base->pos, -EMEDIUMTYPE,
			    "base '%s' holds %s %s '%s' with package manager "
			    "'%s': only Fedora (dnf) and Debian (apt) are "
			    "supported",
			    j->base, os->type, os->distro, os->product,
			    os->pkg_mgr);
	if (got != want)
		return fail(b, base->pos, -EMEDIUMTYPE,
			    "base '%s' holds %s, but the recipe says '%s'",
			    j->base, os->product, want->name);
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
	case STEP_UNITS:
		r = step_units(b, j);
		for (size_t i = 0; i < vm->units.n; i++)
			sb_printf(&d, "%s%s", i ? " " : "", vm->units.v[i]);
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

/* Every path the bake wrote gets the mtime SOURCE_DATE_EPOCH, then goes
 * into the VM's manifest, read back through libguestfs. */
static int
stamp_and_list(struct bake *b, struct vmjob *j)
{
	double t0 = now();
	struct strbuf d = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0; r == 0 && i < j->nwritten; i++) {
		bool ex;

		r = image_exists(b->im, j->written[i], &ex);
		if (r == 0 && ex)
			r = image_set_mtime(b->im, j->written[i], b->o->epoch);
		if (r < 0)
			return fail(b, j->vm->pos, r,
				    "cannot set the time of '%s': %s",
				    j->written[i], image_error(b->im));
	}
	manifest_release(&j->man);
	j->man.vm = xstrdup(j->vm->name);
	for (size_t i = 0; r == 0 && i < j->nwritten; i++) {
		r = image_manifest_add(b->im, j->written[i], j->content[i],
				       &j->man);
		if (r == -ENOENT) /* written, then removed (policy-rc.d) */
			r = 0;
		else if (r < 0)
			return fail(b, j->vm->pos, r,
				    "cannot read back '%s': %s", j->written[i],
				    image_error(b->im));
	}
	manifest_finish(&j->man);
	sb_printf(&d, "%zu paths, sha256:%.16s", j->man.n, j->man.digest);
	report(b, j, "manifest", d.buf, t0);
	sb_release(&d);
	return 0;
}

static int
bake_one(struct bake *b, struct vmjob *j)
{
	size_t idx = j->drive;
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
	if (r == 0)
		r = stamp_and_list(b, j);
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
		free(j->base_id);
		for (size_t k = 0; k < j->nwritten; k++)
			free(j->written[k]);
		free(j->written);
		free(j->content);
		ynode_free(j->newpins);
		manifest_release(&j->man);
	}
	free(b->jobs);
}

static char *
out_file(struct bake *b, const struct vmjob *j, const char *ext)
{
	return xasprintf("%s/%s.%s", b->o->out_dir, j->vm->name, ext);
}

/* The digest out/VM.inputs holds: inputs.h over the plan, overlay and
 * base, plus the VM's package pins and SOURCE_DATE_EPOCH. */
static int
job_inputs(struct bake *b, struct vmjob *j, char hex[DIGEST_HEX_MAX])
{
	const struct ynode *pins = pins_of(b, j);
	struct strbuf extra = STRBUF_INIT;
	int r;

	sb_printf(&extra, "epoch %lld\n", (long long)b->o->epoch);
	for (size_t i = 0; pins != NULL && i < pins->n; i++) {
		const char *f = pin_str(pins->items[i], "file");
		const char *c = pin_str(pins->items[i], "sha256");

		sb_printf(&extra, "pin %s %s\n", f ? f : "", c ? c : "");
	}
	r = inputs_digest(&j->plan, j->base_id, extra.buf, hex);
	sb_release(&extra);
	return r;
}

/* True when the qcow2 image at path records backing as its backing file
 * (header: magic, version, backing file offset u64, size u32; big-endian). */
static bool
backed_by(const char *path, const char *backing)
{
	unsigned char h[20];
	uint64_t off = 0;
	uint32_t len = 0;
	size_t want = strlen(backing);
	char *name;
	bool same = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    memcmp(h, "QFI\xfb", 4) == 0) {
		for (int i = 8; i < 16; i++)
			off = off << 8 | h[i];
		for (int i = 16; i < 20; i++)
			len = len << 8 | h[i];
	}
	if (len == want && want > 0) {
		name = xmalloc(want);
		same = pread(fd, name, want, (off_t)off) == (ssize_t)want &&
		       memcmp(name, backing, want) == 0;
		free(name);
	}
	close(fd);
	return same;
}

static bool
up_to_date(struct bake *b, struct vmjob *j)
{
	CLEANUP_FREE char *in = out_file(b, j, "inputs");
	CLEANUP_FREE char *man = out_file(b, j, "manifest");
	CLEANUP_FREE char *text = NULL;
	struct stat st;
	size_t len;

	/* The image must still sit on this base (a moved cache rebuilds). */
	if (stat(man, &st) < 0 || !backed_by(j->final, j->base) ||
	    read_file(in, &text, &len) < 0)
		return false;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	return strcmp(text, j->inputs) == 0;
}

/* Once out/VM.qcow2 is in place: its manifest, the package pins it
 * found, then its inputs digest (last: it claims the image is current). */
static int
finish_job(struct bake *b, struct vmjob *j)
{
	CLEANUP_FREE char *in = out_file(b, j, "inputs");
	CLEANUP_FREE char *man = out_file(b, j, "manifest");
	CLEANUP_FREE char *text = NULL, *line = NULL;
	size_t len;
	int r;

	r = manifest_to_text(&j->man, &text, &len);
	if (r == 0)
		r = write_file_atomic(man, text, len, 0644);
	if (r < 0)
		return fail(b, (struct srcpos){0}, r, "cannot write '%s': %s",
			    man, strerror(-r));
	if (j->newpins != NULL && b->o->lock != NULL) {
		struct ynode *sec = lock_section(b->o->lock, "packages", true);
		struct ynode *e = ynode_new_map();
		CLEANUP_FREE char *list = pkg_list(j);
		bool replaced = false;

		ynode_map_put_str(e, "for", list)->quoted = true;
		ynode_map_put(e, "files", j->newpins);
		j->newpins = NULL;
		/* A stale entry (another package list) is replaced. */
		for (size_t k = 0; k + 1 < sec->n; k += 2)
			if (strcmp(sec->items[k]->str, j->vm->name) == 0) {
				ynode_free(sec->items[k + 1]);
				sec->items[k + 1] = e;
				replaced = true;
			}
		if (!replaced)
			ynode_map_put(sec, j->vm->name, e);
		lock_mark_changed(b->o->lock);
	}
	r = job_inputs(b, j, j->inputs);
	if (r == 0) {
		line = xasprintf("%s\n", j->inputs);
		r = write_file_atomic(in, line, strlen(line), 0644);
	}
	if (r < 0)
		return fail(b, (struct srcpos){0}, r, "cannot write '%s': %s",
			    in, strerror(-r));
	return 0;
}

/* Moves the error recorded so far to the end of all. */
static void
keep_err(struct bake *b, struct strbuf *all)
{
	sb_printf(all, "%s%s", all->len > 0 ? "\n" : "",
		  b->err.buf != NULL ? b->err.buf : "");
	sb_release(&b->err);
	b->err = (struct strbuf)STRBUF_INIT;
}

static int
prepare_jobs(struct bake *b)
{
	CLEANUP_FREE char *sdir = path_join(b->o->out_dir, "secrets");
	struct strbuf all = STRBUF_INIT;
	int missing = 0;

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
		if (r < 0) {
			/* Gather every missing input, then fail once. */
			keep_err(b, &all);
			missing = r;
			continue;
		}
		j->final = xasprintf("%s/%s.qcow2", b->o->out_dir, j->vm->name);
		r = job_inputs(b, j, j->inputs);
		if (r < 0)
			return fail(b, j->vm->pos, r,
				    "cannot read the inputs of VM '%s': %s",
				    j->vm->name, strerror(-r));
		j->skip = !b->o->force && up_to_date(b, j);
		if (j->skip)
			continue;
		j->tmp = xasprintf("%s/.%s.qcow2.tmp-%ld", b->o->out_dir,
				   j->vm->name, (long)getpid());
	}
	/* Every missing pinned package of every VM, before any work. */
	for (size_t i = 0; i < b->njobs; i++) {
		if (b->jobs[i].skip || check_pins(b, &b->jobs[i]) == 0)
			continue;
		keep_err(b, &all);
		if (missing == 0)
			missing = -ENOENT;
	}
	if (missing < 0) {
		b->err = all;
		return missing;
	}
	return 0;
}

static bool
needs_network(struct bake *b)
{
	if (b->o->offline)
		return false;
	for (size_t i = 0; i < b->njobs; i++)
		if (!b->jobs[i].skip && !b->jobs[i].pinned &&
		    b->jobs[i].vm->packages.n > 0)
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
	size_t ndrives = 0;
	double t0;
	int r;

	for (size_t i = 0; i < b->njobs; i++) {
		struct vmjob *j = &b->jobs[i];

		if (j->skip && b->o->step != NULL) {
			CLEANUP_FREE char *d = xasprintf(
				"inputs sha256:%.16s unchanged", j->inputs);

			b->o->step(b->o->opaque, j->vm->name, "up to date", d,
				   0);
		}
		if (!j->skip)
			j->drive = ndrives++;
	}
	if (ndrives == 0)
		return 0; /* nothing to build: no appliance */
	r = mkdir_p(b->o->out_dir, 0755);
	if (r < 0)
		return fail(b, (struct srcpos){0}, r, "cannot create '%s': %s",
			    b->o->out_dir, strerror(-r));
	for (size_t i = 0; i < b->njobs; i++) {
		if (b->jobs[i].skip)
			continue;
		r = create_overlay(b, &b->jobs[i]);
		if (r < 0)
			return r;
	}
	image_new(&io, &b->im);
	current_image = b->im;
	for (size_t i = 0; i < b->njobs; i++)
		if (!b->jobs[i].skip)
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
		CLEANUP_FREE char *d = xasprintf("%zu drive%s, %s%s", ndrives,
						 ndrives == 1 ? "" : "s",
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
		if (!b->jobs[i].skip)
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
		CLEANUP_FREE char *in = NULL;

		if (j->skip)
			continue;
		/* The old digest must not vouch for the new image. */
		in = out_file(b, j, "inputs");
		if (unlink(in) < 0 && errno != ENOENT)
			return fail(b, (struct srcpos){0}, -errno,
				    "cannot remove '%s': %s", in,
				    strerror(errno));
		if (rename(j->tmp, j->final) < 0)
			return fail(b, (struct srcpos){0}, -errno,
				    "cannot rename '%s' to '%s': %s", j->tmp,
				    j->final, strerror(errno));
		free(j->tmp);
		j->tmp = NULL;
		r = finish_job(b, j);
		if (r < 0)
			return r;
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
	if (r == 0) {
		res.uptodate = xcalloc(n + 1, sizeof(*res.uptodate));
		for (size_t i = 0; i < n; i++)
			res.uptodate[i] = b.jobs[i].skip;
	}
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

void
bake_result_release(struct bake_result *r)
{
	free(r->uptodate);
	r->uptodate = NULL;
}

int
bake_verify(const char *path, const struct manifest *want,
	    enum image_accel accel, bool debug, struct manifest *ret,
	    char **ret_err)
{
	struct image_opts io = {
		.accel = accel, .readonly = true, .debug = debug};
	struct manifest m = {0};
	struct image *im = NULL;
	bool fell_back;
	CLEANUP_FREE char *what = xstrdup("launch the libguestfs appliance");
	int r;

	image_new(&io, &im);
	image_add_drive(im, path);
	r = image_launch(im, &fell_back);
	if (r == 0) {
		free(what);
		what = xasprintf("find an operating system in '%s'", path);
		r = image_inspect(im);
	}
	if (r == 0)
		r = image_mount(im, 0);
	for (size_t i = 0; r == 0 && i < want->n; i++) {
		const struct mentry *e = &want->v[i];

		r = image_manifest_add(im, e->path,
				       strcmp(e->sha256, "excluded") != 0, &m);
		if (r == -ENOENT) {
			r = 0; /* manifest_diff says "missing" */
		} else if (r < 0) {
			free(what);
			what = xasprintf("read '%s'", e->path);
		}
	}
	if (r == 0) {
		free(what);
		what = xstrdup("shut the appliance down");
		r = image_umount(im);
		if (r == 0)
			r = image_shutdown(im);
	}
	if (r < 0) {
		*ret_err = xasprintf("cannot %s: %s", what, image_error(im));
		image_free(im);
		manifest_release(&m);
		return r;
	}
	image_free(im);
	m.vm = xstrdup(want->vm ? want->vm : "");
	manifest_finish(&m);
	*ret = m;
	return 0;
}
