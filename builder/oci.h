/* OCI image layouts (image-spec "image-layout"): the directory push hands
 * to skopeo and pull receives from it.  A bundle travels as one OCI
 * artifact: an image manifest whose config and layers carry sbx-build's
 * own media types, so no tool mistakes it for a container image (skopeo
 * 1.9 copies such artifacts as they are with --preserve-digests):
 *
 *	config   OCI_CONFIG_TYPE   {"format":"tar","chunkSize":N}
 *	layers   OCI_CHUNK_TYPE    the bundle's uncompressed tar, cut at
 *	                           every member's first header and then every
 *	                           OCI_CHUNK_SIZE bytes; concatenated in order
 *	                           they are the tar again
 *
 * Cutting at members makes a chunk depend only on its member: an image
 * that did not change yields the same blobs, which the registry already
 * has.  oci.c writes and reads layouts and checks every blob it reads
 * against its digest (digest.c); JSON is read through ytree.c (JSON is
 * YAML) and written here. */
#ifndef SBX_OCI_H
#define SBX_OCI_H

#include <stdint.h>
#include <stddef.h>

#include "digest.h"

#define OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define OCI_ARTIFACT_TYPE "application/vnd.sbx-build.bundle.v1"
#define OCI_CONFIG_TYPE	  "application/vnd.sbx-build.bundle.config.v1+json"
#define OCI_CHUNK_TYPE	  "application/vnd.sbx-build.bundle.chunk.v1"
#define OCI_CHUNK_SIZE	  ((uint64_t)64 << 20)
/* "sha256:" and 64 hex digits, and its NUL. */
#define OCI_DIGEST_MAX (7 + DIGEST_HEX_MAX)
/* What a manifest read from a registry may hold at most. */
#define OCI_MAX_LAYERS	 65536
#define OCI_MAX_MANIFEST (4u << 20)

struct oci_desc {
	char digest[OCI_DIGEST_MAX];
	uint64_t size;
	char *title; /* org.opencontainers.image.title, or NULL */
};

struct oci_manifest {
	struct oci_desc config;
	struct oci_desc *layers;
	size_t n_layers;
};

/* True for "sha256:" followed by 64 lower-case hex digits. */
int oci_digest_ok(const char *s);

/* Creates dir (missing or empty) as a layout: oci-layout, blobs/sha256. */
int oci_layout_init(const char *dir, char **ret_err);
/* Stores len bytes of fd from offset off as a blob and describes it (title
 * copied when not NULL). */
int oci_put_range(const char *dir, int fd, uint64_t off, uint64_t len,
		  const char *title, struct oci_desc *ret, char **ret_err);
int oci_put_buffer(const char *dir, const void *buf, size_t len,
		   struct oci_desc *ret, char **ret_err);
/* Writes m's manifest blob and an index.json naming it ref_name; returns
 * the manifest's digest. */
int oci_write_manifest(const char *dir, const struct oci_manifest *m,
		       const char *ref_name, char ret_digest[OCI_DIGEST_MAX],
		       char **ret_err);

/* The digest of the manifest index.json names ref_name. */
int oci_read_index(const char *dir, const char *ref_name,
		   char ret_digest[OCI_DIGEST_MAX], char **ret_err);
/* Reads the manifest blob digest, checks its bytes against the digest, its
 * media types against the ones above and its shape (at most OCI_MAX_LAYERS,
 * sizes > 0 for chunks), then the config blob (digest and content). */
int oci_read_manifest(const char *dir, const char *digest,
		      struct oci_manifest *ret, char **ret_err);
void oci_manifest_clear(struct oci_manifest *m);
/* blobs/sha256/HEX of dir for a valid digest. */
char *oci_blob_path(const char *dir, const char *digest);

#endif
