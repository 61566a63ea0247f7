/* One libguestfs appliance for every VM being baked.  image*.c are the
 * only files that include guestfs.h; everyone else sees struct image.
 *
 * Order: image_new → image_add_drive (one per VM) → image_launch →
 * image_adopt (drives whose base was inspected before) → image_inspect
 * (the others) → per drive: image_grow_root, image_mount, image_grow_fs,
 * operations, image_umount → image_shutdown (write errors surface there)
 * → image_free.
 *
 * Every function returns 0 or a negative errno; on failure image_error()
 * holds libguestfs' message for the last failed call.  Paths are guest
 * paths in the filesystems mounted by image_mount. */
#ifndef SBX_IMAGE_H
#define SBX_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct image;

enum image_accel {
	IMAGE_ACCEL_AUTO, /* KVM, and TCG once when KVM fails to launch */
	IMAGE_ACCEL_KVM,
	IMAGE_ACCEL_TCG,
};

/* Progress of a long libguestfs call: position and total in any unit. */
typedef void (*image_progress_fn)(void *opaque, uint64_t pos, uint64_t total);

struct image_opts {
	enum image_accel accel;
	bool network;  /* the appliance gets a NIC (package installs) */
	bool debug;    /* libguestfs debug and trace events to the log */
	bool readonly; /* drives added read-only, filesystems mounted ro */
	image_progress_fn progress;
	void *progress_opaque;
};

int image_new(const struct image_opts *o, struct image **ret);
/* Adds a qcow2 disk read-write; drives are numbered from 0. */
int image_add_drive(struct image *im, const char *path);
/* Launches the appliance.  With IMAGE_ACCEL_AUTO a failed KVM launch is
 * retried once under TCG; *ret_fell_back says so. */
int image_launch(struct image *im, bool *ret_fell_back);
/* Appliance launches attempted / succeeded by this process. */
unsigned image_launch_attempts(void);
unsigned image_launch_count(void);
/* drive's device in the appliance ("/dev/sda"), once launched. */
const char *image_drive_dev(const struct image *im, size_t drive);
/* True when the appliance runs under TCG. */
bool image_is_tcg(const struct image *im);
const char *image_error(const struct image *im);
/* Asynchronous-signal-safe: makes the running call fail soon. */
void image_cancel(struct image *im);

/* What inspection found on one drive. */
struct image_os {
	char *type;    /* "linux", "windows", ... */
	char *distro;  /* "fedora", "debian", ... */
	char *product; /* "Fedora Linux 44 (Cloud Edition)" */
	char *pkg_mgr; /* "dnf", "apt", ... */
	char *root; /* root filesystem: "/dev/sda1", "btrfsvol:/dev/sda4/root"
		     */
	char *root_fs; /* filesystem type of the root device: "ext4" */
	int major;
};
void image_os_release(struct image_os *os);

/* A drive's system and how its filesystems mount: what inspection found.
 * Device names are the appliance's ("/dev/sda1", "btrfsvol:/dev/sdb4/root");
 * inspcache.h keeps them relative to the drive. */
struct image_desc {
	struct image_os os;
	char *uuid; /* of the root filesystem, "" when it has none */
	/* The root's partition table ("gpt", "msdos"; "none": the root is
	 * a whole disk), its partition number and whether it is the last. */
	char *ptable;
	int partnum;
	bool last;
	char **mps;  /* mount point, filesystem, ...: parents first */
	size_t nmps; /* strings in mps: two per mount */
};
void image_desc_copy(const struct image_desc *from, struct image_desc *to);
void image_desc_release(struct image_desc *d);
/* Mount pairs (mount point, filesystem: n strings) sorted parents first. */
void image_desc_sort_mounts(char **mps, size_t n);

/* The libguestfs version ("1.48.6"), once launched: inspection results
 * are kept per version. */
char *image_gfs_version(struct image *im);

/* Inspects every drive not adopted (none: no call at all): first quickly
 * (inspquick.h: its filesystems, and /etc/os-release and /etc/fstab of
 * each that may be a root), then libguestfs's full inspection of those
 * the quick one gave up on.  A drive with no operating system (or more
 * than one) is an error when image_os() asks for it. */
int image_inspect(struct image *im);
/* Whether image_inspect described drive quickly; if not, *why (borrowed,
 * may be NULL) says why the quick inspection gave up. */
bool image_inspected_quick(struct image *im, size_t drive, const char **why);
/* What was found on drive; -ENOENT when nothing was (image_error says what
 * the drive holds). */
int image_os(struct image *im, size_t drive, struct image_os *ret);
int image_describe(struct image *im, size_t drive, struct image_desc *ret);
/* Takes d, an earlier inspection of the same base, as drive's description
 * instead of inspecting it, after a cheap check that its root filesystem
 * is on the drive, in d's partition, with d's type and UUID; -ESTALE when
 * it is not. */
int image_adopt(struct image *im, size_t drive, const struct image_desc *d);

/* Fills d's partition facts (ptable, partnum, last) from the drive:
 * inspection does, for image_grow_root. */
int image_root_partition(struct image *im, struct image_desc *d);
/* Grows the last partition of drive to the end of the disk.  *ret_grown
 * is false when there was nothing to grow.  Call before image_mount, then
 * image_grow_fs. */
int image_grow_root(struct image *im, size_t drive, bool *ret_grown);
/* Grows the mounted drive's root filesystem to its partition, online
 * (ext2/3/4, btrfs, xfs); *ret_bytes (may be NULL) is its size then, 0
 * when unknown. */
int image_grow_fs(struct image *im, size_t drive, uint64_t *ret_bytes);

/* Mounts drive's filesystems as its /etc/fstab says, at "/".  Only one
 * drive is mounted at a time: image_umount before the next. */
int image_mount(struct image *im, size_t drive);
int image_umount(struct image *im);
/* The mount points of the mounted drive ("/", "/home", ...), sorted. */
int image_mountpoints(struct image *im, char ***ret, size_t *ret_n);

int image_exists(struct image *im, const char *path, bool *ret);
int image_is_dir(struct image *im, const char *path, bool *ret);
/* A regular file (symlinks followed) of at most 64 MiB, whole and
 * NUL-terminated; a FIFO, a device, a directory or a larger file is an
 * error (the guest is untrusted). */
int image_read(struct image *im, const char *path, char **ret, size_t *len);
int image_write(struct image *im, const char *path, const void *data,
		size_t len);
/* Creates path and its missing parents (0755, root). */
int image_mkdir_p(struct image *im, const char *path);
int image_mkdir(struct image *im, const char *path, unsigned mode);
int image_chmod(struct image *im, const char *path, unsigned mode);
/* lchown: never follows a symlink. */
int image_chown(struct image *im, const char *path, int uid, int gid);
int image_symlink(struct image *im, const char *target, const char *link);
int image_rm_f(struct image *im, const char *path);
int image_upload(struct image *im, const char *host, const char *guest);
/* Copies a guest directory tree out into a host directory / a host
 * directory's contents into a guest directory (tar). */
int image_copy_out(struct image *im, const char *guest, const char *host);
int image_copy_in(struct image *im, const char *host, const char *guest);
/* Runs argv inside the mounted guest (chroot).  *ret_out is its standard
 * output (optional). */
int image_command(struct image *im, const char *const *argv, char **ret_out);
/* The security.selinux label of path, or NULL (not an error) when none. */
int image_selinux_label(struct image *im, const char *path, char **ret);

/* The SHA-256 of a guest file, lower-case hex. */
int image_sha256(struct image *im, const char *path, char hex[65]);
/* Every regular file under dir, as guest paths, sorted; NULL-terminated.
 * A missing dir gives an empty list. */
int image_find_files(struct image *im, const char *dir, char ***ret);

struct manifest;
/* Appends path's manifest entry (type, mode, owner, size, SHA-256 unless
 * !content, symlink target, SELinux label) to m; -ENOENT (nothing added)
 * when path does not exist. */
int image_manifest_add(struct image *im, const char *path, bool content,
		       struct manifest *m);

/* The manifest entries of paths[0..n) (content[i] as above) in a few
 * calls per directory, missing paths left out; stamp >= 0 also sets the
 * access and modification times of each (but symlinks) to it. */
int image_manifest_many(struct image *im, char *const *paths,
			const bool *content, size_t n, int64_t stamp,
			struct manifest *m);

/* Syncs and stops the appliance; a failure here means the images may be
 * incomplete. */
int image_shutdown(struct image *im);
void image_free(struct image *im);

#endif
