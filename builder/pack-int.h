/* Between the bundle modules only (pack.c, pack-unpack.c, pack-util.c,
 * pack-tools.c, pack-sums.c); other modules use pack.h.  Functions that
 * fail return a negative errno (or a program's exit status, where said)
 * and, when ret_err is not NULL, set *ret_err to an allocated message. */
#ifndef SBX_PACK_INT_H
#define SBX_PACK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "module.h"
#include "util.h"

#define IO_CHUNK     (1024 * 1024)
#define SUMS_MAX     (1024 * 1024)
#define SIG_MAX	     (64 * 1024)
#define NAME_MAX_LEN 128
#define SHA256_HEX   64
/* "# size <bytes>  <name>" lines in SHA256SUMS. */
#define SIZE_PREFIX "# size "

/* pack-util.c */
/* Trailing whitespace off, for one-line messages from tools. */
char *pack_chomp(char *s);
/* A bundle member name: 1..128 of [A-Za-z0-9._+-], not starting with '.'
 * or '-'.  No '/', so every member sits at the bundle's top level. */
bool pack_name_ok(const char *s, size_t n);
/* Run scripts are executable, nothing else is.  Unpack derives the mode
 * from the name, not from the (unauthenticated) tar header. */
mode_t pack_member_mode(const char *name);

/* pack-tools.c */
/* qemu-img convert src_path (qcow2, size bytes) to a compressed qcow2
 * dst_path, showing progress under label. */
int pack_convert_image(const char *src_path, const char *dst_path,
		       const char *label, uint64_t size, char **ret_err);
/* ssh-keygen -Y sign -f key file: writes file.sig. */
int pack_ssh_sign(const char *key, const char *file, char **ret_err);
/* Verifies sig over the file msg; sets *ret_signer to the principal. */
int pack_ssh_verify(const char *allowed, const char *identity, const char *msg,
		    const char *sig, char **ret_signer, char **ret_err);
/* Without allowed signers: at least a well-formed signature, in our
 * namespace, by the key it names, over exactly msg. */
int pack_ssh_check(const char *msg, const char *sig, char **ret_err);

/* pack-sums.c */
struct sum {
	char *name;
	char hex[SHA256_HEX + 1];
	uint64_t size;
	bool sized; /* a "# size" line gave size */
	bool seen;
};

struct sums {
	struct sum *v;
	size_t n, cap;
};

void pack_sums_free(struct sums *s);
struct sum *pack_sums_find(struct sums *s, const char *name);
/* Strict: "<64 lower-case hex>  <name>\n" lines, names unique and valid,
 * and for each name a "# size <bytes>  <name>\n" line; other lines that
 * start with '#' are comments.  -EINVAL with *ret_err otherwise. */
int pack_sums_parse(const char *text, size_t len, struct sums *s,
		    char **ret_err);

/* The libarchive module (pack.c, pack-unpack.c, tarindex.c; module.h):
 * its one export, which pack-load.c loads the first time a bundle or a
 * tar is read or written.  The la_ functions are pack.h's and
 * tarindex.h's, which pack-load.c defines. */
struct pack_options;
struct unpack_options;
struct unpack_info;
struct tar_member;
#define ARCHIVE_MODULE	      "sbx-build-archive.so"
#define ARCHIVE_MODULE_SYMBOL "sbx_archive_module"
#define ARCHIVE_MODULE_ABI    1u
struct archive_module {
	struct module_head head; /* SBX_VERSION, ARCHIVE_MODULE_ABI */
	int (*pack_bundle)(const char *out_dir, const char *lock_path,
			   const char *bundle, const struct pack_options *opts,
			   char **ret_err);
	int (*unpack_bundle)(const char *bundle, const char *target,
			     const struct unpack_options *opts,
			     struct unpack_info *ret_info, char **ret_err);
	int (*tar_index)(const char *path, struct tar_member **ret,
			 size_t *ret_n, char **ret_err);
};
int la_pack_bundle(const char *out_dir, const char *lock_path,
		   const char *bundle, const struct pack_options *opts,
		   char **ret_err);
int la_unpack_bundle(const char *bundle, const char *target,
		     const struct unpack_options *opts,
		     struct unpack_info *ret_info, char **ret_err);
int la_tar_index(const char *path, struct tar_member **ret, size_t *ret_n,
		 char **ret_err);

#endif
