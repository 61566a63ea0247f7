/* Files of the mounted drive: reading, writing, owners, labels, and the
 * manifest entries read back from them. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "image-int.h"
#include "manifest.h"

/* One lstat, quiet when there is nothing (a dangling symlink still takes
 * the name): 1 with *st, 0 when nothing is there, < 0 on error.  Cheaper
 * under TCG than guestfs_exists and guestfs_is_symlink together (1 ms
 * against 2 and 11). */
static int
lstat_quiet(struct image *im, const char *path, struct guestfs_statns **st)
{
	int e;

	guestfs_push_error_handler(im->g, NULL, NULL);
	*st = guestfs_lstatns(im->g, path);
	guestfs_pop_error_handler(im->g);
	if (*st != NULL)
		return 1;
	e = guestfs_last_errno(im->g);
	if (e == ENOENT || e == ENOTDIR)
		return 0;
	return image_gfs_fail(im);
}

/* The file type bits of path's lstat, 0 when nothing is there. */
static int
lstat_type(struct image *im, const char *path, unsigned *ret)
{
	struct guestfs_statns *st;
	int r = lstat_quiet(im, path, &st);

	if (r < 0)
		return r;
	*ret = r == 1 ? (unsigned)st->st_mode & 0170000 : 0;
	if (st != NULL)
		guestfs_free_statns(st);
	return 0;
}

int
image_exists(struct image *im, const char *path, bool *ret)
{
	unsigned type;
	int r = lstat_type(im, path, &type);

	*ret = r == 0 && type != 0;
	return r;
}

int
image_is_dir(struct image *im, const char *path, bool *ret)
{
	unsigned type;
	int r = lstat_type(im, path, &type);

	*ret = r == 0 && type == 0040000;
	return r;
}

/* guestfs_read_file, guestfs_upload and guestfs_checksum cost about
 * 0.15 s, 0.15 s and 0.05 s a call under TCG (a file transfer through a
 * temporary file, a program run in the appliance); statns, pread and write
 * are one message each, 1-2 ms.  Files are read in messages of MSG_CHUNK
 * bytes, well under the protocol's 4 MiB; one of at most MSG_CHUNK is
 * written in one message and hashed here. */
#define MSG_CHUNK (1024 * 1024)

/* The most image_read takes: the guest is untrusted, and what sbx-build
 * reads (accounts, unit files, configuration) is small. */
#define READ_MAX (64 * 1024 * 1024)

/* One statns, then a pread per MSG_CHUNK (image-int.h). */
int
image_read_regular(struct image *im, const char *path, size_t max, char **ret,
		   size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	struct guestfs_statns *st;
	size_t size;

	guestfs_push_error_handler(im->g, NULL, NULL);
	st = guestfs_statns(im->g, path);
	guestfs_pop_error_handler(im->g);
	if (st == NULL)
		return image_gfs_fail(im);
	size = st->st_size > 0 ? (size_t)st->st_size : 0;
	if ((st->st_mode & 0170000) != 0100000) {
		guestfs_free_statns(st);
		image_set_err(im, "'%s' is not a regular file", path);
		return -EINVAL;
	}
	guestfs_free_statns(st);
	if (size > max)
		return 0;
	while (sb.len < size) {
		size_t n, want = size - sb.len;
		char *d;

		if (want > MSG_CHUNK)
			want = MSG_CHUNK;
		d = guestfs_pread(im->g, path, (int)want, (int64_t)sb.len, &n);
		if (d == NULL) {
			sb_release(&sb);
			return image_gfs_fail(im);
		}
		sb_add(&sb, d, n);
		free(d);
		if (n == 0) /* shorter than its stat said */
			break;
	}
	*ret = sb_detach(&sb, len);
	return 1;
}

int
image_read(struct image *im, const char *path, char **ret, size_t *len)
{
	int r = image_read_regular(im, path, READ_MAX, ret, len);

	if (r == 0) {
		image_set_err(im, "'%s' is larger than %d MiB", path,
			      READ_MAX >> 20);
		return -EFBIG;
	}
	return r < 0 ? r : 0;
}

int
image_write(struct image *im, const char *path, const void *data, size_t len)
{
	if (guestfs_write(im->g, path, data, len) == -1)
		return image_gfs_fail(im);
	return 0;
}

int
image_mkdir_p(struct image *im, const char *path)
{
	if (guestfs_mkdir_p(im->g, path) == -1)
		return image_gfs_fail(im);
	return 0;
}

int
image_mkdir(struct image *im, const char *path, unsigned mode)
{
	if (guestfs_mkdir_mode(im->g, path, (int)mode) == -1)
		return image_gfs_fail(im);
	return 0;
}

int
image_chmod(struct image *im, const char *path, unsigned mode)
{
	if (guestfs_chmod(im->g, (int)mode, path) == -1)
		return image_gfs_fail(im);
	return 0;
}

int
image_chown(struct image *im, const char *path, int uid, int gid)
{
	if (guestfs_lchown(im->g, uid, gid, path) == -1)
		return image_gfs_fail(im);
	return 0;
}

int
image_symlink(struct image *im, const char *target, const char *link)
{
	if (guestfs_ln_s(im->g, target, link) == -1)
		return image_gfs_fail(im);
	return 0;
}

int
image_rm_f(struct image *im, const char *path)
{
	if (guestfs_rm_f(im->g, path) == -1)
		return image_gfs_fail(im);
	return 0;
}

/* A host file of at most MSG_CHUNK bytes is written in one message;
 * larger ones are transferred.  Both create or truncate the guest file. */
int
image_upload(struct image *im, const char *host, const char *guest)
{
	FILE *f = fopen(host, "rbe");
	char *buf;
	size_t n;
	int r = 0;

	if (f == NULL) {
		int e = errno;

		image_set_err(im, "%s: %s", host, strerror(e));
		return -e;
	}
	buf = xmalloc(MSG_CHUNK + 1);
	n = fread(buf, 1, MSG_CHUNK + 1, f);
	if (ferror(f)) {
		image_set_err(im, "%s: read error", host);
		r = -EIO;
	} else if (n <= MSG_CHUNK) {
		if (guestfs_write(im->g, guest, buf, n) == -1)
			r = image_gfs_fail(im);
	} else if (guestfs_upload(im->g, host, guest) == -1) {
		r = image_gfs_fail(im);
	}
	free(buf);
	fclose(f);
	return r;
}

int
image_copy_out(struct image *im, const char *guest, const char *host)
{
	if (guestfs_copy_out(im->g, guest, host) == -1)
		return image_gfs_fail(im);
	return 0;
}

int
image_copy_in(struct image *im, const char *host, const char *guest)
{
	if (guestfs_copy_in(im->g, host, guest) == -1)
		return image_gfs_fail(im);
	return 0;
}

int
image_command(struct image *im, const char *const *argv, char **ret_out)
{
	char *out = guestfs_command(im->g, (char *const *)argv);

	if (out == NULL)
		return image_gfs_fail(im);
	if (ret_out != NULL)
		*ret_out = out;
	else
		free(out);
	return 0;
}

int
image_selinux_label(struct image *im, const char *path, char **ret)
{
	size_t n;
	char *v;

	guestfs_push_error_handler(im->g, NULL, NULL);
	v = guestfs_lgetxattr(im->g, path, "security.selinux", &n);
	guestfs_pop_error_handler(im->g);
	if (v == NULL) {
		*ret = NULL;
		return 0;
	}
	*ret = xstrndup(v, n);
	free(v);
	return 0;
}

/* A file of at most MSG_CHUNK bytes is read and hashed here; a larger one
 * by sha256sum in the appliance. */
int
image_sha256(struct image *im, const char *path, char hex[65])
{
	CLEANUP_FREE char *data = NULL;
	char dh[DIGEST_HEX_MAX];
	size_t len;
	int r = image_read_regular(im, path, MSG_CHUNK, &data, &len);
	char *c;

	if (r < 0)
		return r;
	if (r == 1) {
		digest_buffer_hex(DIGEST_SHA256, data, len, dh);
		memcpy(hex, dh, 65); /* 64 hex digits and the NUL */
		return 0;
	}
	c = guestfs_checksum(im->g, "sha256", path);
	if (c == NULL)
		return image_gfs_fail(im);
	snprintf(hex, 65, "%s", c);
	free(c);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
image_find_files(struct image *im, const char *dir, char ***ret)
{
	char **names, **v;
	size_t n = 0, k = 0;
	int d = guestfs_is_dir_opts(im->g, dir,
				    GUESTFS_IS_DIR_OPTS_FOLLOWSYMLINKS, 0, -1);

	if (d == -1)
		return image_gfs_fail(im);
	if (d == 0) {
		*ret = xcalloc(1, sizeof(**ret));
		return 0;
	}
	names = guestfs_find(im->g, dir);
	if (names == NULL)
		return image_gfs_fail(im);
	while (names[n] != NULL)
		n++;
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		/* guestfs_find names start with '/'. */
		CLEANUP_FREE char *p = xasprintf(
			"%s%s%s", dir, names[i][0] == '/' ? "" : "/", names[i]);
		int f = guestfs_is_file_opts(
			im->g, p, GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, 0, -1);

		if (f == -1) {
			image_free_strv(names);
			image_free_strv(v);
			return image_gfs_fail(im);
		}
		if (f == 1) {
			v[k++] = p;
			p = NULL;
		}
	}
	image_free_strv(names);
	qsort(v, k, sizeof(*v), cmp_str);
	*ret = v;
	return 0;
}

/* path's entry from its lstat: type, mode, owner, size and SHA-256 (a
 * regular file, unless !content), symlink target (*target_wanted: the
 * caller reads it). */
static struct mentry *
add_entry(struct image *im, const char *path, const struct guestfs_statns *st,
	  bool content, struct manifest *m, int *r)
{
	unsigned fmt = (unsigned)st->st_mode & 0170000;
	char type = fmt == 0040000 ? 'd' : fmt == 0120000 ? 'l' : 'f';
	struct mentry *e = manifest_add(m, path, type);

	e->mode = (unsigned)st->st_mode & 07777;
	e->uid = (unsigned)st->st_uid;
	e->gid = (unsigned)st->st_gid;
	*r = 0;
	if (type == 'f' && fmt == 0100000) {
		/* Content left out: size 0, sha256 "excluded". */
		e->size = content ? (uint64_t)st->st_size : 0;
		if (content)
			*r = image_sha256(im, path, e->sha256);
		else
			snprintf(e->sha256, sizeof(e->sha256), "excluded");
	}
	return e;
}

static void
set_label(struct mentry *e, const char *v, size_t n)
{
	CLEANUP_FREE char *label = xstrndup(v, n);

	/* The attribute holds a trailing NUL. */
	label[strcspn(label, "\n")] = '\0';
	if (*label != '\0')
		manifest_entry_set_label(e, label);
}

int
image_manifest_add(struct image *im, const char *path, bool content,
		   struct manifest *m)
{
	struct guestfs_statns *st;
	struct mentry *e;
	char *label;
	int r = 0;

	r = lstat_quiet(im, path, &st);
	if (r < 0)
		return r;
	if (r == 0) {
		image_set_err(im, "'%s' does not exist", path);
		return -ENOENT;
	}
	r = 0;
	e = add_entry(im, path, st, content, m, &r);
	if (r == 0 && e->type == 'l') {
		char *t = guestfs_readlink(im->g, path);

		if (t == NULL)
			r = image_gfs_fail(im);
		manifest_entry_set_target(e, t);
		free(t);
	}
	guestfs_free_statns(st);
	if (r < 0)
		return r;
	r = image_selinux_label(im, path, &label);
	if (r == 0 && label != NULL)
		set_label(e, label, strlen(label));
	free(label);
	return r;
}

/* Paths by parent directory: the length of their parent, then its name. */
static size_t
parent_len(const char *p)
{
	return (size_t)(strrchr(p, '/') - p);
}

static int
cmp_parent(const void *a, const void *b, void *arg)
{
	char *const *paths = arg;
	const char *x = paths[*(const size_t *)a],
		   *y = paths[*(const size_t *)b];
	size_t lx = parent_len(x), ly = parent_len(y);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strncmp(x, y, lx);
}

/* The entries of names (all in dir) from one lstat, one xattr and, when
 * one is a symlink, one readlink call. */
static int
manifest_dir(struct image *im, const char *dir, char **names,
	     const bool *content, int64_t stamp, struct manifest *m)
{
	struct guestfs_statns_list *st = guestfs_lstatnslist(im->g, dir, names);
	struct guestfs_xattr_list *xa = guestfs_lxattrlist(im->g, dir, names);
	char **links = NULL;
	size_t x = 0;
	int r = 0;

	if (st == NULL || xa == NULL)
		r = image_gfs_fail(im);
	for (size_t i = 0; r == 0 && i < st->len; i++)
		if ((st->val[i].st_mode & 0170000) == 0120000 &&
		    st->val[i].st_ino != -1 && links == NULL &&
		    (links = guestfs_readlinklist(im->g, dir, names)) == NULL)
			r = image_gfs_fail(im);
	for (size_t i = 0; r == 0 && i < st->len; i++) {
		CLEANUP_FREE char *path = xasprintf(
			"%s/%s", strcmp(dir, "/") == 0 ? "" : dir, names[i]);
		struct mentry *e = NULL;
		size_t nattr = 0;

		/* lxattrlist: a ("", count) entry before each name's. */
		if (x < xa->len && xa->val[x].attrname[0] == '\0')
			nattr = strtoul(xa->val[x++].attrval, NULL, 10);
		if (st->val[i].st_ino != -1) {
			e = add_entry(im, path, &st->val[i], content[i], m, &r);
			if (r == 0 && e->type != 'l' && stamp >= 0 &&
			    guestfs_utimens(im->g, path, stamp, 0, stamp, 0) ==
				    -1)
				r = image_gfs_fail(im);
			if (e->type == 'l')
				manifest_entry_set_target(e, links[i]);
		}
		for (size_t k = 0; k < nattr && x < xa->len; k++, x++)
			if (e != NULL && strcmp(xa->val[x].attrname,
						"security.selinux") == 0)
				set_label(e, xa->val[x].attrval,
					  xa->val[x].attrval_len);
	}
	image_free_strv(links);
	if (st != NULL)
		guestfs_free_statns_list(st);
	if (xa != NULL)
		guestfs_free_xattr_list(xa);
	return r;
}

int
image_manifest_many(struct image *im, char *const *paths, const bool *content,
		    size_t n, int64_t stamp, struct manifest *m)
{
	size_t *idx = xcalloc(n + 1, sizeof(*idx));
	char **names = xcalloc(n + 1, sizeof(*names));
	bool *cont = xcalloc(n + 1, sizeof(*cont));
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		idx[i] = i;
		if (paths[i][0] != '/' || strcmp(paths[i], "/") == 0) {
			image_set_err(im, "'%s' is no path below /", paths[i]);
			r = -EINVAL;
		}
	}
	qsort_r(idx, n, sizeof(*idx), cmp_parent, (void *)paths);
	for (size_t i = 0, k; r == 0 && i < n; i = k) {
		size_t dl = parent_len(paths[idx[i]]), nn = 0;
		CLEANUP_FREE char *dir =
			dl ? xstrndup(paths[idx[i]], dl) : xstrdup("/");

		for (k = i;
		     k < n && cmp_parent(&idx[i], &idx[k], (void *)paths) == 0;
		     k++) {
			cont[nn] = content[idx[k]];
			names[nn++] = paths[idx[k]] + dl + 1;
		}
		names[nn] = NULL;
		r = manifest_dir(im, dir, names, cont, stamp, m);
	}
	free(idx);
	free(names);
	free(cont);
	return r;
}
