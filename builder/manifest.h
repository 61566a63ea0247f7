/* Manifests: what a build wrote into an image, one entry per path, and one
 * digest over all of it.  Two clean builds from the same inputs give equal
 * manifests even though the qcow2 bytes differ.  Pure: the entries are
 * collected from the image by image-fs.c. */
#ifndef SBX_MANIFEST_H
#define SBX_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "digest.h"
#include "util.h"

struct mentry {
	char *path;
	char type;     /* 'f' file, 'd' directory, 'l' symlink */
	unsigned mode; /* permission bits */
	unsigned uid, gid;
	uint64_t size;	 /* files */
	char sha256[65]; /* files; "" otherwise */
	char *target;	 /* symlinks */
	char *label;	 /* SELinux label, or NULL */
};

struct manifest {
	char *vm;
	struct mentry *v; /* sorted by path after manifest_finish */
	size_t n, cap;
	char digest[DIGEST_HEX_MAX]; /* sha256 over the canonical lines */
};

/* Appends an entry (strings are copied). */
struct mentry *manifest_add(struct manifest *m, const char *path, char type);
void manifest_entry_set_target(struct mentry *e, const char *target);
void manifest_entry_set_label(struct mentry *e, const char *label);
/* Sorts by path, drops duplicate paths (the last one wins) and computes
 * the digest. */
void manifest_finish(struct manifest *m);
void manifest_release(struct manifest *m);

/* The YAML text of out/VM.manifest. */
int manifest_to_text(const struct manifest *m, char **ret, size_t *ret_len);
/* Parses it back; problems go to diags with positions. */
int manifest_parse(const char *file, const char *text, size_t len,
		   struct manifest *ret, struct diag_list *diags);
/* Appends one line per difference ("changed /etc/x: sha256 ...",
 * "missing /etc/y", "unexpected /etc/z") and returns their count. */
size_t manifest_diff(const struct manifest *want, const struct manifest *got,
		     struct strbuf *out);

#endif
