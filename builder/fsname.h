/* Names of filesystems as libguestfs gives them ("/dev/sda1",
 * "btrfsvol:/dev/sdb2/root"): pure helpers for image-inspect.c. */
#ifndef SBX_FSNAME_H
#define SBX_FSNAME_H

#include <stddef.h>

/* "btrfsvol:/dev/sda4/root" -> "/dev/sda4"; others unchanged (a copy). */
char *fsname_device(const char *fs);

/* libguestfs (1.48) names a btrfs subvolume after the appliance kernel's
 * device name, untranslated, while it names every plain device, and reads
 * every name it is given, in its own (drive order) naming.  The kernel
 * probes disks asynchronously, so on a loaded host the two namings differ
 * and a subvolume points at another drive, or at none.  list_filesystems
 * (fss: name, type, name, type, ..., NULL) lists each btrfs device right
 * before its subvolumes, which pairs the two names.  Returns the number of
 * strings in *ret_pairs: (kernel name, libguestfs name) for each pair that
 * differs; *ret_pairs is NULL when none does. */
size_t fsname_btrfs_pairs(char *const *fss, char ***ret_pairs);

/* fs with its btrfsvol device renamed by pairs (a copy). */
char *fsname_fix(char *const *pairs, size_t npairs, const char *fs);

#endif
