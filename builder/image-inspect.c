/* Which system each drive holds and how its filesystems mount: the quick
 * inspection (inspquick.h), libguestfs's inspection where it gives up, or
 * an earlier inspection's result adopted after a cheap check
 * (image_adopt). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsname.h"
#include "image-int.h"
#include "inspquick.h"

/* Records the btrfs device names libguestfs mixes up (fsname.h). */
static void
btrfs_names(struct image *im)
{
	char **fss;

	for (size_t i = 0; i < im->nbnames; i++)
		free(im->bnames[i]);
	free(im->bnames);
	guestfs_push_error_handler(im->g, NULL, NULL);
	fss = guestfs_list_filesystems(im->g);
	guestfs_pop_error_handler(im->g);
	im->nbnames = fsname_btrfs_pairs(fss, &im->bnames);
	for (size_t k = 0; k < im->nbnames; k += 2)
		log_debug("libguestfs: btrfs subvolumes of '%s' are named "
			  "after '%s'",
			  im->bnames[k + 1], im->bnames[k]);
	image_free_strv(fss);
}

static char *
fix_name(const struct image *im, const char *fs)
{
	return fsname_fix(im->bnames, im->nbnames, fs);
}

/* The drive index holding filesystem fs, or -1. */
static int
fs_drive(struct image *im, const char *fs)
{
	CLEANUP_FREE char *dev = fsname_device(fs);
	char *parent;
	int idx;

	guestfs_push_error_handler(im->g, NULL, NULL);
	parent = guestfs_part_to_dev(im->g, dev);
	idx = guestfs_device_index(im->g, parent != NULL ? parent : dev);
	guestfs_pop_error_handler(im->g);
	free(parent);
	return idx;
}

static void
drop_roots(struct image *im)
{
	for (size_t i = 0; i < im->ndrives; i++) {
		struct drive *dr = &im->drives[i];

		for (size_t k = 0; k < dr->nroots; k++)
			free(dr->roots[k]);
		free(dr->roots);
		dr->roots = NULL;
		dr->nroots = 0;
	}
}

/* Lists why drive shows no single operating system (image_os). */
static int
no_os(struct image *im, size_t drive)
{
	struct drive *dr = &im->drives[drive];
	struct strbuf sb = STRBUF_INIT;
	char **fss;

	if (dr->nroots > 1) {
		image_set_err(im, "%zu operating systems found on '%s'",
			      dr->nroots, dr->path);
		return -EMLINK;
	}
	fss = guestfs_list_filesystems(im->g);
	for (size_t i = 0; fss != NULL && fss[i] != NULL; i += 2) {
		struct guestfs_btrfssubvolume_list *sv;

		if (fs_drive(im, fss[i]) != (int)drive)
			continue;
		sb_printf(&sb, "%s%s (%s)", sb.len ? ", " : "", fss[i],
			  fss[i + 1]);
		if (strcmp(fss[i + 1], "btrfs") != 0 ||
		    str_starts_with(fss[i], "btrfsvol:"))
			continue;
		/* Why its subvolumes were not listed. */
		sv = guestfs_btrfs_subvolume_list(im->g, fss[i]);
		if (sv == NULL)
			sb_printf(&sb, " [subvolumes: %s]",
				  guestfs_last_error(im->g)
					  ? guestfs_last_error(im->g)
					  : "error");
		else
			guestfs_free_btrfssubvolume_list(sv);
	}
	image_free_strv(fss);
	image_set_err(im, "no operating system found on '%s' (filesystems: %s)",
		      dr->path, sb.len ? sb.buf : "none");
	sb_release(&sb);
	return -ENOENT;
}

static char *
str_or_empty(char *s)
{
	return s != NULL ? s : xstrdup("");
}

static char *repoint(struct image *im, const char *fs, size_t drive);

/* Fills the description of a drive with one inspection root. */
static int
describe(struct image *im, size_t drive)
{
	struct drive *dr = &im->drives[drive];
	struct image_desc *d = &dr->desc;
	const char *root = dr->roots[0];
	CLEANUP_FREE char *dev = fsname_device(root);
	char **h;
	size_t n = 0;
	int r;

	image_desc_release(d);
	d->os.root = xstrdup(root);
	d->os.type = str_or_empty(guestfs_inspect_get_type(im->g, root));
	d->os.distro = str_or_empty(guestfs_inspect_get_distro(im->g, root));
	d->os.product =
		str_or_empty(guestfs_inspect_get_product_name(im->g, root));
	d->os.pkg_mgr = str_or_empty(
		guestfs_inspect_get_package_management(im->g, root));
	d->os.major = guestfs_inspect_get_major_version(im->g, root);
	d->os.root_fs = str_or_empty(guestfs_vfs_type(im->g, dev));
	guestfs_push_error_handler(im->g, NULL, NULL);
	d->uuid = str_or_empty(guestfs_vfs_uuid(im->g, dev));
	guestfs_pop_error_handler(im->g);
	h = guestfs_inspect_get_mountpoints(im->g, root);
	if (h == NULL)
		return image_gfs_fail(im);
	while (h[n] != NULL)
		n += 2;
	image_desc_sort_mounts(h, n);
	d->mps = xcalloc(n + 1, sizeof(*d->mps));
	for (size_t i = 0; i < n; i += 2) {
		CLEANUP_FREE char *named = fix_name(im, h[i + 1]);

		d->mps[i] = xstrdup(h[i]);
		d->mps[i + 1] = repoint(im, named, drive);
	}
	d->nmps = n;
	image_free_strv(h);
	r = image_root_partition(im, d);
	if (r < 0)
		return r;
	dr->described = true;
	return 0;
}

/* inspect_os over every drive; roots kept for those not described. */
static int
inspect_os(struct image *im)
{
	/* Inspection has been seen, rarely and only on a loaded host, to
	 * miss the btrfs subvolumes of a Fedora-shaped drive (they are then
	 * listed as the bare device): a drive with no root is inspected
	 * once more before image_os reports it. */
	for (int attempt = 0; attempt < 2; attempt++) {
		char **roots = guestfs_inspect_os(im->g);
		bool missing = false;

		if (roots == NULL)
			return image_gfs_fail(im);
		drop_roots(im);
		btrfs_names(im);
		for (size_t i = 0; roots[i] != NULL; i++) {
			/* The fixed name is the one libguestfs reads back:
			 * inspect_get_* and mount translate what they get. */
			char *fixed = fix_name(im, roots[i]);
			int d = fs_drive(im, fixed);
			struct drive *dr;

			if (d < 0 || (size_t)d >= im->ndrives ||
			    im->drives[d].described) {
				free(fixed);
				continue;
			}
			dr = &im->drives[d];
			dr->roots =
				xrealloc(dr->roots,
					 (dr->nroots + 1) * sizeof(*dr->roots));
			dr->roots[dr->nroots++] = fixed;
		}
		image_free_strv(roots);
		for (size_t i = 0; i < im->ndrives; i++)
			missing |= !im->drives[i].described &&
				   im->drives[i].nroots == 0;
		if (!missing)
			break;
		log_debug("libguestfs: a drive shows no operating system, "
			  "inspecting again");
	}
	return 0;
}

int
image_inspect(struct image *im)
{
	bool all = true, listed = false;
	char **parts = NULL;
	int r;

	for (size_t i = 0; i < im->ndrives; i++) {
		struct drive *dr = &im->drives[i];

		if (!dr->described && !listed) {
			listed = true;
			guestfs_push_error_handler(im->g, NULL, NULL);
			parts = guestfs_list_partitions(im->g);
			guestfs_pop_error_handler(im->g);
		}
		if (!dr->described && parts == NULL)
			ret_errf(&dr->why, 0, "cannot list the partitions");
		else if (!dr->described &&
			 image_quick_inspect(im, i, parts, &dr->why) == 0)
			dr->quick = dr->described = true;
		if (!dr->described)
			log_debug("'%s': the quick inspection gave up (%s), "
				  "libguestfs inspects it",
				  dr->path, dr->why);
		all &= dr->described;
	}
	image_free_strv(parts);
	if (all)
		return 0;
	r = inspect_os(im);
	for (size_t i = 0; r == 0 && i < im->ndrives; i++)
		if (!im->drives[i].described && im->drives[i].nroots == 1)
			r = describe(im, i);
	return r;
}

bool
image_inspected_quick(struct image *im, size_t drive, const char **why)
{
	*why = im->drives[drive].why;
	return im->drives[drive].quick;
}

int
image_os(struct image *im, size_t drive, struct image_os *ret)
{
	struct image_desc d = {0};
	int r = image_describe(im, drive, &d);

	if (r < 0)
		return r;
	*ret = d.os;
	d.os = (struct image_os){0};
	image_desc_release(&d);
	return 0;
}

int
image_describe(struct image *im, size_t drive, struct image_desc *ret)
{
	struct drive *dr = &im->drives[drive];

	if (!dr->described)
		return no_os(im, drive);
	image_desc_copy(&dr->desc, ret);
	return 0;
}

/* One blkid (a program run in the appliance, 0.15 s under TCG) checks
 * that the kept root is still there: on this drive, in the same
 * partition, the same filesystem. */
int
image_adopt(struct image *im, size_t drive, const struct image_desc *d)
{
	struct drive *dr = &im->drives[drive];
	CLEANUP_FREE char *dev = fsname_device(d->os.root);
	const char *type, *uuid, *num;
	char **h = NULL;
	bool same;

	if (dr->dev == NULL ||
	    (strcmp(dev, dr->dev) != 0 && !inspquick_part_of(dev, dr->dev))) {
		image_set_err(im, "'%s' is not on '%s'", d->os.root, dr->path);
		return -ESTALE;
	}
	guestfs_push_error_handler(im->g, NULL, NULL);
	h = guestfs_blkid(im->g, dev);
	guestfs_pop_error_handler(im->g);
	type = image_hash_get(h, "TYPE");
	uuid = image_hash_get(h, "UUID");
	num = image_hash_get(h, "PART_ENTRY_NUMBER");
	if (uuid == NULL)
		uuid = ""; /* as the quick inspection keeps it */
	same = type != NULL && strcmp(type, d->os.root_fs) == 0 &&
	       strcmp(uuid, d->uuid) == 0 &&
	       (d->partnum > 0 ? num != NULL && atoi(num) == d->partnum
			       : num == NULL);
	if (!same)
		image_set_err(im,
			      "'%s' holds %s %s (partition %s), not %s %s "
			      "(partition %d)",
			      dev, type ? type : "?", uuid, num ? num : "none",
			      d->os.root_fs, d->uuid, d->partnum);
	image_free_strv(h);
	if (!same)
		return -ESTALE;
	image_desc_release(&dr->desc);
	image_desc_copy(d, &dr->desc);
	dr->described = true;
	return 0;
}

/* Rewrites the drive part of fs to this drive's device: when two drives
 * come from one base their filesystems share labels and UUIDs, so an
 * fstab naming 'LABEL=fedora' may resolve to the other drive. */
static char *
repoint(struct image *im, const char *fs, size_t drive)
{
	int d = fs_drive(im, fs);
	const char *from, *p;
	size_t flen;

	if (d < 0 || (size_t)d == drive || im->drives[d].dev == NULL)
		return xstrdup(fs);
	from = im->drives[d].dev;
	flen = strlen(from);
	p = strstr(fs, from);
	if (p == NULL)
		return xstrdup(fs);
	return xasprintf("%.*s%s%s", (int)(p - fs), fs, im->drives[drive].dev,
			 p + flen);
}

int
image_mount(struct image *im, size_t drive)
{
	struct drive *dr = &im->drives[drive];
	char **h = dr->desc.mps;
	int r = 0;

	if (!dr->described) {
		image_set_err(im, "no single operating system on '%s'",
			      dr->path);
		return -ENOENT;
	}
	for (size_t i = 0; i < dr->desc.nmps; i += 2) {
		const char *fs = h[i + 1];
		CLEANUP_FREE char *dev = fsname_device(fs);
		CLEANUP_FREE char *opts = NULL;
		int rr;

		if (str_starts_with(fs, "btrfsvol:"))
			opts = xasprintf(
				"%ssubvol=%s", im->o.readonly ? "ro," : "",
				fs + strlen("btrfsvol:") + strlen(dev) + 1);
		else if (im->o.readonly)
			opts = xstrdup("ro");
		if (strcmp(h[i], "/") != 0 && !im->o.readonly) {
			int isdir = guestfs_is_dir(im->g, h[i]);

			if (isdir == 0 && guestfs_mkdir_p(im->g, h[i]) == -1) {
				r = image_gfs_fail(im);
				break;
			}
		}
		rr = guestfs_mount_options(im->g, opts != NULL ? opts : "", dev,
					   h[i]);
		if (rr == -1) {
			r = image_gfs_fail(im);
			image_set_err(im, "cannot mount '%s' on '%s': %s", fs,
				      h[i], image_error(im));
			break;
		}
		im->mps = xrealloc(im->mps, (im->nmps + 1) * sizeof(*im->mps));
		im->mps[im->nmps++] = xstrdup(h[i]);
	}
	im->mounted = (int)drive;
	if (r < 0)
		image_umount(im);
	return r;
}

int
image_umount(struct image *im)
{
	for (size_t i = 0; i < im->nmps; i++)
		free(im->mps[i]);
	free(im->mps);
	im->mps = NULL;
	im->nmps = 0;
	im->mounted = -1;
	if (guestfs_umount_all(im->g) == -1)
		return image_gfs_fail(im);
	return 0;
}

int
image_mountpoints(struct image *im, char ***ret, size_t *ret_n)
{
	char **v = xcalloc(im->nmps + 1, sizeof(*v));

	for (size_t i = 0; i < im->nmps; i++)
		v[i] = xstrdup(im->mps[i]);
	*ret = v;
	*ret_n = im->nmps;
	return 0;
}
