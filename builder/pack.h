/* Bundles of prebuilt images: pack out/ into one signed tar.zst, verify and
 * unpack it elsewhere.  Only pack*.c and tarindex.c (member offsets, for
 * push) include libarchive's headers.
 *
 * A bundle is a zstd-compressed POSIX tar (pax, restricted) of regular files
 * only, all at its top level, in this order:
 *
 *	SHA256SUMS          "# size <bytes>  <name>" for every member
 *	                    below, then "<sha256 hex>  <name>" for each
 *	                    (sha256sum -c skips the '#' lines; unpack
 *	                    refuses a member without a size, and never
 *	                    writes more than its size)
 *	SHA256SUMS.sig      ssh-keygen -Y sign -n sbx-build over SHA256SUMS
 *	                    (present only when signed)
 *	README              the recipient's steps
 *	<every other member, sorted by name>:
 *	  <vm>.qcow2        standalone, compressed (qemu-img convert -c)
 *	  run-<vm>.sh       <vm>.xml  <vm>.manifest   (when present)
 *	  sbx.lock          (when present)
 *
 * Members are owned by 0:0 with no user or group names, modes 0644 or
 * 0755 (run scripts), and all carry the same mtime, so one out/ always
 * packs to the same bytes.  Nothing under out/secrets/ is ever packed. */
#ifndef SBX_PACK_H
#define SBX_PACK_H

#include <stdbool.h>
#include <stdint.h>

/* The signature namespace (ssh-keygen -n). */
#define PACK_SIG_NAMESPACE "sbx-build"
#define PACK_SUMS_NAME	   "SHA256SUMS"
#define PACK_SIG_NAME	   "SHA256SUMS.sig"

struct pack_options {
	/* ssh-keygen -Y sign -f KEY (a private key, or a public key whose
	 * private half is in ssh-agent); NULL for an unsigned bundle. */
	const char *sign_key;
	/* The mtime of every member (SOURCE_DATE_EPOCH). */
	int64_t mtime;
	/* An uncompressed tar (push chunks it; unpack_bundle reads both). */
	bool plain_tar;
};

struct unpack_options {
	/* When set, the bundle must carry a signature that verifies against
	 * this allowed_signers file (ssh-keygen(1) ALLOWED SIGNERS). */
	const char *allowed_signers;
	/* The principal to verify as; NULL picks the first principal that
	 * 'ssh-keygen -Y find-principals' reports for the signature. */
	const char *identity;
};

struct unpack_info {
	bool is_signed; /* the bundle carries SHA256SUMS.sig */
	char *signer;	/* the verified principal, or NULL */
	unsigned n_vms; /* <vm>.qcow2 members unpacked */
	unsigned n_files;
};

/* Parses SOURCE_DATE_EPOCH (decimal seconds, >= 0); NULL or "" give 0, the
 * default.  -EINVAL on anything else. */
int pack_parse_epoch(const char *s, int64_t *ret);

/* Packs out_dir into bundle (written as bundle.tmp-XXXXXX, renamed on
 * success); an existing bundle that is not a regular file (a device, fifo,
 * directory, or a symlink to one) is refused with -EEXIST.  lock_path (may be
 * NULL or missing) is packed as sbx.lock. On failure returns a negative errno
 * and, when ret_err is not NULL, sets *ret_err to a detailed reason (caller
 * frees) or NULL. */
int pack_bundle(const char *out_dir, const char *lock_path, const char *bundle,
		const struct pack_options *opts, char **ret_err);

/* Streams bundle, checks the signature (before any other member is
 * read: against opts->allowed_signers, or without them at least that it
 * is a well-formed signature over SHA256SUMS), that the sizes listed in
 * SHA256SUMS fit in the free space beside target, each member's size
 * (stopping as soon as one exceeds it) and every checksum, writes into a
 * temporary directory beside target and renames it to target, which must be
 * missing or an empty directory.  On failure nothing is left behind; errors as
 * above.  On success fills *ret_info (release with unpack_info_clear) when not
 * NULL. */
int unpack_bundle(const char *bundle, const char *target,
		  const struct unpack_options *opts,
		  struct unpack_info *ret_info, char **ret_err);

void unpack_info_clear(struct unpack_info *info);

#endif
