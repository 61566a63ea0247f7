/* Private to the libguestfs session (image*.c, the only files that include
 * guestfs.h): the handle, the drives and the helpers every part shares.
 * image.c holds the handle and its launch, image-inspect.c finds and mounts
 * each drive's system, image-grow.c grows its root, image-fs.c works on the
 * mounted files.  None of them calls back into another but image.c. */
#ifndef SBX_IMAGE_INT_H
#define SBX_IMAGE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <guestfs.h>

#include "image.h"
#include "util.h"

struct drive {
	char *path;
	char *dev;    /* "/dev/sda" once launched */
	char **roots; /* inspection roots on this drive */
	size_t nroots;
	/* Its system and mounts, from inspection or image_adopt. */
	struct image_desc desc;
	bool described;
	bool quick; /* described by the quick inspection (inspquick.h) */
	char *why;  /* why the quick inspection gave up, or NULL */
};

struct image {
	guestfs_h *g;
	struct image_opts o;
	struct drive *drives;
	size_t ndrives, cap;
	char *err;
	bool tcg;
	int mounted; /* drive index, or -1 */
	char **mps;  /* mount points of the mounted drive */
	size_t nmps;
	/* Pairs (kernel name, libguestfs name) of btrfs devices whose names
	 * differ: see fsname.h. */
	char **bnames;
	size_t nbnames;
};

void image_set_err(struct image *im, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Records libguestfs' last error; returns the negative errno. */
int image_gfs_fail(struct image *im);
void image_free_strv(char **v);
/* Reads the guest's path (symlinks followed) whole, in messages, if it is
 * a regular file of at most max bytes: 1 with *ret (NUL-terminated, *len
 * bytes); 0 if it is larger (nothing read); < 0 on error: -ENOENT or
 * -ENOTDIR when nothing is there, -EINVAL for a FIFO, a device or a
 * directory (reading one could block the appliance or never end). */
int image_read_regular(struct image *im, const char *path, size_t max,
		       char **ret, size_t *len);
/* key's value in a libguestfs hash (key, value, ..., NULL), or NULL. */
const char *image_hash_get(char *const *h, const char *key);

/* The quick inspection of drive (image-quick.c), parts being
 * guestfs_list_partitions (one call lists every drive's: 0.3 s under TCG):
 * 0 with the drive's desc filled, or -ENOTSUP with *why when libguestfs's
 * must do it. */
int image_quick_inspect(struct image *im, size_t drive, char *const *parts,
			char **why);

#endif
