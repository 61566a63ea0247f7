/* push and pull: bundles through an OCI registry.  push packs out/ as an
 * uncompressed bundle (pack.c, same members, same signature), cuts it into
 * chunk blobs of an OCI layout (oci.h says how) and copies that to the
 * registry with skopeo; pull copies a reference into a layout kept in the
 * cache (blobs already there are not fetched again, so an interrupted
 * pull resumes), checks every blob against its digest while joining the
 * chunks back into the bundle, and unpacks that with unpack_bundle (its
 * signature and checksum rules, temporary directory and rename).  The
 * target then holds SHARE_RECORD, the digest it was pulled from.
 *
 * The signature (SHA256SUMS.sig, pack --sign) travels as a layer of the
 * artifact, not as an OCI referrer: the manifest digest then covers it, a
 * plain 'skopeo copy' or registry mirror carries it along, and registries
 * without the referrers API (distribution 2.8, Debian's) hold it too. */
#ifndef SBX_SHARE_H
#define SBX_SHARE_H

#include <stdbool.h>
#include <stdint.h>

#include "oci.h"
#include "pack.h"

#define SHARE_RECORD ".sbx-pulled"

struct share_opts {
	const char *cache_dir; /* the sbx-build cache (fetch_cache_dir) */
	bool no_tls_verify;
	void (*on_line)(void *opaque, const char *line); /* skopeo progress */
	void *opaque;
};

/* --tls-verify ARG: "true" or "false" into so; -EINVAL for anything else. */
int share_opts_tls_verify(struct share_opts *so, const char *arg);

struct push_info {
	unsigned n_layers;
	uint64_t bytes; /* the bundle: all layers */
};

/* Checks that ref is a registry reference "HOST/REPO[:TAG][@sha256:HEX]"
 * made of safe characters; sets ret_digest to its digest, or "" when it
 * has none.  -EINVAL otherwise. */
int share_ref_parse(const char *ref, char ret_digest[OCI_DIGEST_MAX]);

/* The digest recorded in target by an earlier pull; -ENOENT when none, or
 * when its SHA256SUMS is gone ('clean' removed what was pulled). */
int share_pulled(const char *target, char ret_digest[OCI_DIGEST_MAX]);

int share_push(const char *out_dir, const char *lock_path, const char *ref,
	       const struct pack_options *po, const struct share_opts *so,
	       char ret_digest[OCI_DIGEST_MAX], struct push_info *ret_info,
	       char **ret_err);

/* Pulls ref into target (missing or empty).  When target already holds
 * the pulled digest, returns 1 and touches nothing. */
int share_pull(const char *ref, const char *target,
	       const struct unpack_options *uo, const struct share_opts *so,
	       char ret_digest[OCI_DIGEST_MAX], struct unpack_info *ret_info,
	       char **ret_err);

#endif
