/* Growing a drive's root partition and filesystem to the disk. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsname.h"
#include "image-int.h"
#include "inspquick.h"

int
image_root_partition(struct image *im, struct image_desc *d)
{
	CLEANUP_FREE char *dev = fsname_device(d->os.root);
	struct guestfs_partition_list *pl;
	char *parent;
	uint64_t end = 0;

	free(d->ptable);
	d->ptable = xstrdup("none");
	d->partnum = 0;
	d->last = false;
	guestfs_push_error_handler(im->g, NULL, NULL);
	parent = guestfs_part_to_dev(im->g, dev);
	guestfs_pop_error_handler(im->g);
	if (parent == NULL)
		return 0; /* a filesystem on the whole disk */
	free(d->ptable);
	d->partnum = guestfs_part_to_partnum(im->g, dev);
	d->ptable = guestfs_part_get_parttype(im->g, parent);
	pl = guestfs_part_list(im->g, parent);
	free(parent);
	if (d->partnum < 0 || d->ptable == NULL || pl == NULL) {
		if (pl != NULL)
			guestfs_free_partition_list(pl);
		if (d->ptable == NULL)
			d->ptable = xstrdup("none");
		return image_gfs_fail(im);
	}
	for (size_t i = 0; i < pl->len; i++)
		if (pl->val[i].part_num == d->partnum)
			end = pl->val[i].part_end;
	d->last = true;
	for (size_t i = 0; i < pl->len; i++)
		if (pl->val[i].part_end > end)
			d->last = false;
	guestfs_free_partition_list(pl);
	return 0;
}

int
image_grow_root(struct image *im, size_t drive, bool *ret_grown)
{
	struct drive *dr = &im->drives[drive];
	const struct image_desc *d = &dr->desc;
	const char *fstype = d->os.root_fs;
	CLEANUP_FREE char *dev = NULL;
	bool gpt;

	*ret_grown = false;
	if (!dr->described)
		return 0;
	gpt = strcmp(d->ptable, "gpt") == 0;
	dev = fsname_device(d->os.root);
	if (strcmp(d->ptable, "none") != 0) {
		if (!d->last) {
			image_set_err(im, "'%s' is not the last partition",
				      dev);
			return 0;
		}
		/* The root is a partition of this drive (inspection). */
		if (dr->dev == NULL || !inspquick_part_of(dev, dr->dev)) {
			image_set_err(im, "'%s' is not a partition of '%s'",
				      dev, dr->path);
			return -EINVAL;
		}
		if (gpt && guestfs_part_expand_gpt(im->g, dr->dev) == -1)
			return image_gfs_fail(im);
		/* parted counts negative sectors from the end of the disk:
		 * GPT keeps its backup table in the last 33. */
		if (guestfs_part_resize(im->g, dr->dev, d->partnum,
					gpt ? -34 : -1) == -1)
			return image_gfs_fail(im);
	}
	if (!str_starts_with(fstype, "ext") && strcmp(fstype, "btrfs") != 0 &&
	    strcmp(fstype, "xfs") != 0) {
		image_set_err(im, "cannot grow a '%s' filesystem", fstype);
		return -EOPNOTSUPP;
	}
	/* The filesystem grows once mounted: image_grow_fs. */
	*ret_grown = true;
	return 0;
}

/* Online, all three: ext4 through resize2fs on the mounted device (no
 * e2fsck pass over the whole filesystem first, as an offline resize2fs
 * wants), btrfs and xfs through their mount point.  The size after is the
 * root's statvfs (cheaper than blockdev on the partition, a program run in
 * the appliance). */
int
image_grow_fs(struct image *im, size_t drive, uint64_t *ret_bytes)
{
	struct drive *dr = &im->drives[drive];
	CLEANUP_FREE char *dev = fsname_device(dr->desc.os.root);
	const char *fs = dr->desc.os.root_fs;
	struct guestfs_statvfs *sv;
	int r = 0;

	if (!dr->described || im->mounted != (int)drive) {
		image_set_err(im, "'%s' is not mounted", dr->path);
		return -EINVAL;
	}
	if (str_starts_with(fs, "ext"))
		r = guestfs_resize2fs(im->g, dev);
	else if (strcmp(fs, "btrfs") == 0)
		r = guestfs_btrfs_filesystem_resize(im->g, "/", -1);
	else if (strcmp(fs, "xfs") == 0)
		r = guestfs_xfs_growfs(im->g, "/", -1);
	if (r == -1)
		return image_gfs_fail(im);
	if (ret_bytes == NULL)
		return 0;
	/* Only for the report: 0 when unknown. */
	guestfs_push_error_handler(im->g, NULL, NULL);
	sv = guestfs_statvfs(im->g, "/");
	guestfs_pop_error_handler(im->g);
	*ret_bytes =
		sv != NULL ? (uint64_t)sv->blocks * (uint64_t)sv->frsize : 0;
	if (sv != NULL)
		guestfs_free_statvfs(sv);
	return 0;
}
