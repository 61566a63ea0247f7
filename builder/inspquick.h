/* The quick inspection (issue 14): what libguestfs's inspection finds on a
 * drive holding one Linux system of a distribution sbx-build builds, from
 * a few facts the bake reads in the appliance (the drive's filesystems,
 * /etc/os-release and /etc/fstab of each candidate root) instead of
 * libguestfs probing every filesystem of every drive, which takes half a
 * minute under TCG.  Pure: image-inspect.c gathers the facts, and falls
 * back to libguestfs's full inspection whenever a function here gives up
 * (-ENOTSUP, with the reason in *why): anything it does not recognise
 * with certainty is left to the library. */
#ifndef SBX_INSPQUICK_H
#define SBX_INSPQUICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

/* One partition of the drive (or the whole disk), as the appliance names
 * it, with what blkid says of it. */
struct inspquick_fs {
	const char *dev;      /* "/dev/sdb2" */
	const char *type;     /* "btrfs", "ext4", "vfat"; "": no filesystem */
	const char *uuid;     /* "" when none */
	const char *label;    /* "" when none */
	const char *partuuid; /* the GPT partition GUID; "" or NULL: none */
	char *const *subvols; /* btrfs: subvolume paths ("root"), NULL-ended */
	/* The partition: table ("gpt", "dos"; NULL: not a partition), its
	 * number, first sector and length in sectors. */
	const char *scheme;
	int number;
	uint64_t start, size;
};

/* Is part ("/dev/sda12") a partition of the whole disk dev ("/dev/sda")? */
bool inspquick_part_of(const char *part, const char *dev);

/* Can a filesystem of this type hold a root (ext2/3/4, xfs, btrfs)? */
bool inspquick_root_type(const char *type);
/* Is it one of those, vfat, swap or none (blkid's TYPE "")?  Anything
 * else (an LVM volume group, LUKS, RAID) may hide another system. */
bool inspquick_known_type(const char *type);

/* The system that os-release (the text of /etc/os-release) describes, as
 * libguestfs reports it: type "linux", distro (os-release's ID), product
 * (PRETTY_NAME; for a distribution with a version file, such as Debian's
 * /etc/debian_version, its first line, version_file: that text or NULL),
 * the package manager and the major version.  root and root_fs are left
 * NULL.  -ENOTSUP when ID is not a distribution sbx-build builds, or the
 * text lacks what libguestfs would take from it. */
int inspquick_os(const char *os_release, const char *version_file,
		 struct image_os *ret, char **why);

/* The mount pairs ("/", root, "/home", "btrfsvol:/dev/sdb2/home", ...:
 * mount point, filesystem) that fstab (the root's /etc/fstab) names,
 * resolved among the drive's filesystems fs[0..n) exactly as blkid has
 * them.  Lines of pseudo filesystems (proc, tmpfs, swap, ...) are
 * skipped.  -ENOTSUP when a line names a filesystem other than by UUID=,
 * LABEL= or PARTUUID= (or their /dev/disk/by-* links), matches no
 * filesystem or several, mounts a btrfs without exactly one subvol=, is
 * noauto, is not 3 to 6 fields, mounts on a path that is not plain or
 * that libguestfs leaves out (/dev, /proc, /sys, /selinux, /media), or
 * when there is no "/" or it is not root.
 *
 * Where it answers, the answer is libguestfs's, with two differences a
 * newer libguestfs shares (and which the guest's own boot makes too):
 * PARTUUID= lines are resolved (libguestfs 1.48 leaves them out, 1.53.5
 * and later resolve them), and a /dev/disk/by-* link is resolved on the
 * drive rather than kept as written. */
int inspquick_mounts(const char *fstab, const char *root,
		     const struct inspquick_fs *fs, size_t n, char ***ret_mps,
		     size_t *ret_n, char **why);

/* The partition facts of the root's device dev among fs[0..n) (every
 * partition of the drive) into d: ptable ("gpt", "msdos"; "none" for a
 * filesystem on the whole disk), partnum and whether it is the last
 * partition.  -ENOTSUP when blkid did not describe the partitions. */
int inspquick_partition(const struct inspquick_fs *fs, size_t n,
			const char *dev, struct image_desc *d, char **why);

#endif
