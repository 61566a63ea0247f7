/* The quick inspection of one drive: the facts gathered through
 * libguestfs (one blkid per partition, one read-only mount per filesystem
 * that may hold a root), the judgement left to the pure inspquick.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "distro.h"
#include "fsname.h"
#include "image-int.h"
#include "inspquick.h"

struct facts {
	struct inspquick_fs *fs; /* strings owned (freed by facts_release) */
	size_t n;
};

static void
facts_release(struct facts *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct inspquick_fs *q = &f->fs[i];

		free((char *)q->dev);
		free((char *)q->type);
		free((char *)q->uuid);
		free((char *)q->label);
		free((char *)q->partuuid);
		free((char *)q->scheme);
		image_free_strv((char **)q->subvols);
	}
	free(f->fs);
}

/* A copy of key's value, or of dflt (may be NULL) when there is none. */
static char *
hdup(char **h, const char *key, const char *dflt)
{
	const char *v = image_hash_get(h, key);

	if (v == NULL)
		v = dflt;
	return v != NULL ? xstrdup(v) : NULL;
}

static uint64_t
num(const char *s)
{
	return s != NULL ? strtoull(s, NULL, 10) : 0;
}

/* The most read of a file (os-release, fstab): the image is untrusted. */
#define TEXT_MAX (1 << 20)

/* A text file of the mounted filesystem: 0 with *ret NULL when there is
 * none, 0 with its text, or -ENOTSUP (with *why) when path is there but
 * is no regular file, is larger than TEXT_MAX, holds a NUL or cannot be
 * read: libguestfs decides then.  Never opens anything but a regular
 * file (a FIFO would block the appliance). */
static int
read_text(struct image *im, const char *path, char **ret, char **why)
{
	char *s = NULL;
	size_t len = 0;
	int r = image_read_regular(im, path, TEXT_MAX, &s, &len);

	*ret = NULL;
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r != 1 || memchr(s, '\0', len) != NULL) {
		free(s);
		return ret_errf(why, -ENOTSUP,
				"'%s' is not a regular text file of at most "
				"1 MiB",
				path);
	}
	*ret = s;
	return 0;
}

/* The subvolume paths of the btrfs mounted at /, NULL-ended. */
static char **
subvolumes(struct image *im)
{
	struct guestfs_btrfssubvolume_list *l;
	char **v;

	guestfs_push_error_handler(im->g, NULL, NULL);
	l = guestfs_btrfs_subvolume_list(im->g, "/");
	guestfs_pop_error_handler(im->g);
	v = xcalloc((l != NULL ? l->len : 0) + 1, sizeof(*v));
	for (size_t i = 0; l != NULL && i < l->len; i++)
		v[i] = xstrdup(l->val[i].btrfssubvolume_path);
	if (l != NULL)
		guestfs_free_btrfssubvolume_list(l);
	return v;
}

/* The partitions of drive (or the whole disk), each described by one
 * blkid: its filesystem and its place in the partition table.  parts:
 * every drive's partitions. */
static int
gather(struct image *im, size_t drive, char *const *parts, struct facts *f,
       char **why)
{
	const char *disk = im->drives[drive].dev;
	char *whole[] = {(char *)disk, NULL};
	char *const *devs = whole;
	int r = 0;

	for (size_t i = 0; parts[i] != NULL; i++)
		if (inspquick_part_of(parts[i], disk))
			devs = parts;
	for (size_t i = 0; r == 0 && devs[i] != NULL; i++) {
		struct inspquick_fs *q;
		char **h;

		if (devs == parts && !inspquick_part_of(devs[i], disk))
			continue;
		guestfs_push_error_handler(im->g, NULL, NULL);
		h = guestfs_blkid(im->g, devs[i]);
		guestfs_pop_error_handler(im->g);
		if (h == NULL) {
			r = ret_errf(why, -ENOTSUP,
				     "blkid knows nothing of '%s'", devs[i]);
			break;
		}
		f->fs = xrealloc(f->fs, (f->n + 1) * sizeof(*f->fs));
		q = &f->fs[f->n++];
		*q = (struct inspquick_fs){
			.dev = xstrdup(devs[i]),
			.type = hdup(h, "TYPE", ""),
			.uuid = hdup(h, "UUID", ""),
			.label = hdup(h, "LABEL", ""),
			.partuuid = hdup(h, "PART_ENTRY_UUID", NULL),
			.scheme = hdup(h, "PART_ENTRY_SCHEME", NULL),
			.number = (int)num(
				image_hash_get(h, "PART_ENTRY_NUMBER")),
			.start = num(image_hash_get(h, "PART_ENTRY_OFFSET")),
			.size = num(image_hash_get(h, "PART_ENTRY_SIZE")),
		};
		image_free_strv(h);
		/* A volume group, an encrypted or RAID member, anything
		 * else may hide another system: libguestfs looks inside. */
		if (!inspquick_known_type(q->type))
			r = ret_errf(why, -ENOTSUP, "'%s' holds '%s'", q->dev,
				     q->type);
	}
	return r;
}

/* What the drive holds. */
struct root {
	char *fs; /* "btrfsvol:/dev/sdb2/root" */
	struct image_os os;
	char *fstab;
	size_t found; /* filesystems holding a system */
};

/* Whether path exists under dir: -ENOTSUP with *why when it does. */
static int
absent(struct image *im, const char *dir, const char *path, char **why)
{
	CLEANUP_FREE char *p = xasprintf("%s%s", dir, path);
	int there;

	guestfs_push_error_handler(im->g, NULL, NULL);
	there = guestfs_exists(im->g, p);
	guestfs_pop_error_handler(im->g);
	if (there != 0)
		return ret_errf(why, -ENOTSUP,
				"'%s' is there: libguestfs reads it first", p);
	return 0;
}

/* Reads the system under dir ("" or "/root": a btrfs subvolume seen from
 * the top level) of the mounted fs, if it holds one. */
static int
try_root(struct image *im, const char *fs, const char *dir, struct root *root,
	 char **why)
{
	CLEANUP_FREE char *p = xasprintf("%s/etc/os-release", dir);
	CLEANUP_FREE char *osr = NULL, *fstab = NULL, *vf = NULL;
	const struct distro_info *di;
	struct image_os os = {0};
	int r = read_text(im, p, &osr, why);

	if (r < 0 || osr == NULL)
		return r;
	if (root->found++ > 0)
		return ret_errf(why, -ENOTSUP,
				"more than one system on the drive");
	free(p);
	p = xasprintf("%s/etc/fstab", dir);
	r = read_text(im, p, &fstab, why);
	if (r == 0 && fstab == NULL)
		r = ret_errf(why, -ENOTSUP, "'%s' has no /etc/fstab", fs);
	if (r == 0)
		r = inspquick_os(osr, NULL, &os, why);
	di = r == 0 ? distro_find(os.distro) : NULL;
	/* Debian's os-release has no point release: libguestfs reads
	 * lsb-release and redhat-release before its version file. */
	if (di != NULL && di->version_file != NULL) {
		r = absent(im, dir, "/etc/lsb-release", why);
		if (r == 0)
			r = absent(im, dir, "/etc/redhat-release", why);
		free(p);
		p = xasprintf("%s%s", dir, di->version_file);
		if (r == 0)
			r = read_text(im, p, &vf, why);
		image_os_release(&os);
		if (r == 0)
			r = inspquick_os(osr, vf, &os, why);
	}
	if (r < 0) {
		image_os_release(&os);
		return -ENOTSUP;
	}
	root->fs = xstrdup(fs);
	root->os = os;
	root->fstab = fstab;
	fstab = NULL;
	return 0;
}

/* Mounts q read-only (a btrfs at its top level, every subvolume seen as
 * a directory) and reads each system on it. */
static int
try_fs(struct image *im, struct inspquick_fs *q, struct root *root, char **why)
{
	bool btrfs = strcmp(q->type, "btrfs") == 0;
	int r;

	guestfs_push_error_handler(im->g, NULL, NULL);
	r = guestfs_mount_options(im->g, btrfs ? "ro,subvolid=5" : "ro", q->dev,
				  "/");
	guestfs_pop_error_handler(im->g);
	if (r == -1)
		return 0; /* not mountable: no root */
	r = try_root(im, q->dev, "", root, why);
	if (btrfs)
		q->subvols = subvolumes(im);
	for (size_t k = 0; r == 0 && btrfs && q->subvols[k] != NULL; k++) {
		CLEANUP_FREE char *fs =
			xasprintf("btrfsvol:%s/%s", q->dev, q->subvols[k]);
		CLEANUP_FREE char *dir = xasprintf("/%s", q->subvols[k]);

		r = try_root(im, fs, dir, root, why);
	}
	if (guestfs_umount_all(im->g) == -1 && r == 0)
		r = image_gfs_fail(im);
	return r;
}

static int
find_root(struct image *im, struct facts *f, struct root *root, char **why)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < f->n; i++)
		if (inspquick_root_type(f->fs[i].type))
			r = try_fs(im, &f->fs[i], root, why);
	if (r == 0 && root->fs == NULL)
		r = ret_errf(why, -ENOTSUP, "no /etc/os-release on the drive");
	return r;
}

/* The facts of the root's device. */
static const struct inspquick_fs *
fs_of(const struct facts *f, const char *fs)
{
	CLEANUP_FREE char *dev = fsname_device(fs);

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->fs[i].dev, dev) == 0)
			return &f->fs[i];
	return NULL;
}

int
image_quick_inspect(struct image *im, size_t drive, char *const *parts,
		    char **why)
{
	struct drive *dr = &im->drives[drive];
	struct facts f = {0};
	struct root root = {0};
	struct image_desc d = {0};
	const struct inspquick_fs *rq = NULL;
	int r = gather(im, drive, parts, &f, why);

	if (r == 0)
		r = find_root(im, &f, &root, why);
	if (r == 0)
		r = inspquick_mounts(root.fstab, root.fs, f.fs, f.n, &d.mps,
				     &d.nmps, why);
	if (r == 0)
		rq = fs_of(&f, root.fs);
	if (r == 0 && rq == NULL)
		r = ret_errf(why, -ENOTSUP, "'%s' is not on the drive",
			     root.fs);
	if (r == 0)
		r = inspquick_partition(f.fs, f.n, rq->dev, &d, why);
	if (r == 0) {
		d.os = root.os;
		root.os = (struct image_os){0};
		d.os.root = root.fs;
		root.fs = NULL;
		d.os.root_fs = xstrdup(rq->type);
		d.uuid = xstrdup(rq->uuid);
		image_desc_sort_mounts(d.mps, d.nmps);
		image_desc_release(&dr->desc);
		dr->desc = d;
	} else {
		image_desc_release(&d);
		if (*why == NULL)
			ret_errf(why, -ENOTSUP, "%s", image_error(im));
		r = -ENOTSUP;
	}
	image_os_release(&root.os);
	free(root.fs);
	free(root.fstab);
	facts_release(&f);
	return r;
}
