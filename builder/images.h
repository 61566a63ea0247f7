/* Container images on the build host: the ecosystem's tools do the
 * registry protocol and the builds, this module only drives them (through
 * run.c) and checks what they left.
 *
 * - A reference is normalised as podman does ("alpine:3.22" is
 *   "docker.io/library/alpine:3.22"); "NAME[:TAG]@sha256:HEX" carries its
 *   own digest.
 * - A tag is resolved to the manifest digest of its linux/amd64 image
 *   (skopeo inspect --raw; a manifest list or OCI index is looked into).
 * - A pinned image enters the cache as an OCI image layout,
 *   CACHE/containers/sha256-HEX/ (skopeo copy docker://NAME@DIGEST oci:),
 *   made under a temporary name and renamed when verified.
 * - An image built from a Containerfile (buildah build, every FROM taken
 *   from the cache by digest, never pulled; RUN steps use the build host's
 *   network) enters the cache the same way, under the digest buildah gave
 *   its manifest.
 * - Every use verifies the layout: index.json names the digest, and the
 *   manifest, its config and every layer hash (libcrypto, digest.c) to
 *   the digests and sizes that name them.  A tampered blob is an error.
 *
 * Registry trust (CA certificates, mirrors) is containers' own
 * configuration: /etc/containers/certs.d, ~/.config/containers/certs.d,
 * registries.conf. */
#ifndef SBX_IMAGES_H
#define SBX_IMAGES_H

#include <stdbool.h>
#include <stddef.h>

#define IMAGES_OS   "linux"
#define IMAGES_ARCH "amd64"

/* "sha256:" and 64 lower-case hex digits. */
bool images_digest_ok(const char *d);

/* Splits a reference: *ret_name is the normalised name with its tag and
 * without the digest ("docker.io/library/alpine:3.22"), *ret_digest the
 * digest after '@' or NULL.  -EINVAL (and *ret_err) when it is not a
 * reference or its digest is malformed. */
int images_ref_parse(const char *ref, char **ret_name, char **ret_digest,
		     char **ret_err);
/* The repository of a normalised name: without ":TAG". */
char *images_repo(const char *name);

/* The linux/amd64 manifest digest for a raw manifest (or manifest list /
 * OCI index) as a registry served it.  A single manifest is named by its
 * own bytes' digest.  -ENOENT when an index has no linux/amd64 entry,
 * -EINVAL when the text is not a manifest; *ret_err says why. */
int images_pick_manifest(const char *json, size_t len, char **ret_digest,
			 char **ret_err);
/* Asks the registry (skopeo inspect --raw) which manifest digest name
 * (with its tag) stands for now, then the platform's one (a second
 * inspect of the list's entry is not needed: the list names it). */
int images_resolve(const char *name, char **ret_digest, char **ret_err);

/* CACHE/containers/sha256-HEX (whether or not it is there). */
char *images_cache_path(const char *cache, const char *digest);
/* Verifies the OCI layout dir holds digest, every blob intact.  -ENOENT
 * when dir or index.json is missing, -EBADMSG when something does not
 * match; *ret_err names what. */
int images_verify(const char *dir, const char *digest, char **ret_err);
/* The image ID podman gives the image in the layout dir: the hex of its
 * manifest's config digest. */
int images_config_id(const char *dir, char **ret_id, char **ret_err);
/* The verified layout of name@digest in the cache; copied from the
 * registry first when absent (not when offline: -ENOENT then).  A cached
 * layout that fails verification is an error (-EBADMSG), never silently
 * downloaded again.  progress: one line per copy on stderr. */
int images_fetch(const char *cache, const char *name, const char *digest,
		 bool offline, char **ret_dir, char **ret_err);

/* One FROM of a Containerfile. */
struct images_from {
	char *ref; /* as written */
	unsigned line;
};
/* The FROM images of a Containerfile, in order, leaving out "scratch"
 * and earlier stages ("FROM base AS x" ... "FROM x").  A FROM with a
 * variable ($) is refused: it could not be pinned (-EINVAL, *ret_err with
 * its line). */
int images_froms(const char *text, struct images_from **ret, size_t *ret_n,
		 char **ret_err);
void images_froms_free(struct images_from *v, size_t n);

/* SHA-256 over the build context dir (every path beneath it, its type,
 * mode and content; symbolic links by their target) and the extra text
 * (the FROM pins): what a built image is made from. */
int images_context_digest(const char *dir, const char *extra, char **ret_digest,
			  char **ret_err);

/* Builds the context dir's Containerfile with buildah in a private,
 * temporary storage under the cache: each from_names[i] (as the FROM
 * lines write it) is first loaded from the verified layout from_dirs[i],
 * then 'buildah build --pull=never --network host' runs, and the result
 * enters the cache as a layout.  *ret_digest is its manifest digest. */
int images_build(const char *cache, const char *context, const char *tag,
		 const char *const *from_names, const char *const *from_dirs,
		 size_t nfrom, char **ret_digest, char **ret_err);

#endif
