/* The cloud-init route: a NoCloud seed (volume id "cidata": user-data,
 * meta-data, network-config) made from the same rendered files, for users
 * who boot the stock image with cloud-init instead of baking it. */
#ifndef SBX_SEED_H
#define SBX_SEED_H

#include <stdbool.h>

struct gfiles;
struct vm;

struct seed_docs {
	char *user_data, *meta_data, *network_config;
};

/* True for the rendered files a seed leaves out: cloud-init's own
 * disable flag, /etc/machine-id (already set when cloud-init runs) and
 * the NetworkManager keyfiles (network-config replaces them). */
bool seed_skips(const char *path);
/* Pure.  user-data holds the users, the recipe's packages (cloud-init's
 * 'packages:'), every file of files (the rendered ones and, as 'seed'
 * passes them, the overlay's) and the commands that make directories and
 * symlinks and enable the units.  hashes[i] is the crypt(3) hash of
 * vm->users[i]'s password, NULL for a locked account. */
void seed_build(const struct vm *vm, const struct gfiles *files,
		const char *const *hashes, struct seed_docs *ret);
void seed_docs_release(struct seed_docs *d);
/* Base64 (RFC 4648, padded); for the seed and its tests. */
char *base64_encode(const void *data, size_t len);

/* Writes the documents into the ISO 9660 image iso (Rock Ridge + Joliet,
 * volume id cidata, mode 0600: it holds password hashes) through xorriso,
 * under a temporary name renamed on success.  On failure *ret_err (if
 * not NULL) says what failed: the file at fault, or xorriso's message. */
int seed_write_iso(const char *iso, const struct seed_docs *d, char **ret_err);

#endif
