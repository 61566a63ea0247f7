/* Where each member of an uncompressed tar begins: the boundaries push
 * cuts a bundle at, so that one member's bytes never share a chunk with
 * another's.  tarindex.c reads tar headers through libarchive (the only
 * other file besides pack.c that includes its headers); it writes nothing. */
#ifndef SBX_TARINDEX_H
#define SBX_TARINDEX_H

#include <stddef.h>
#include <stdint.h>

struct tar_member {
	char *name;
	uint64_t offset; /* of its first header block (pax header included) */
};

/* Lists the members of the uncompressed tar at path in stream order; a
 * compressed file is not one (-EIO).  On failure returns a negative
 * errno and sets *ret_err (caller frees) when not NULL. */
int tar_index(const char *path, struct tar_member **ret, size_t *ret_n,
	      char **ret_err);
void tar_index_free(struct tar_member *v, size_t n);

#endif
