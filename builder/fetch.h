/* Downloads and verifies base images into the cache.  fetch-http.c is the
 * only file that includes libcurl's header: the libcurl module, loaded at
 * the first download (module.h).
 *
 * A base is first resolved to a pin (URL, file name, size, checksum, key
 * fingerprint): from sbx.lock, or by reading its published checksum file
 * whose OpenPGP clear-signature gpgv checks against the pinned key.  The
 * pinned image is then kept in the cache as CACHE/ALG/HEX/FILE: it enters
 * under that name only once its digest, computed while the bytes streamed
 * in, matched.  An interrupted download resumes from FILE.part. */
#ifndef SBX_FETCH_H
#define SBX_FETCH_H

#include <stdbool.h>
#include <stdint.h>

struct base;

enum fetch_flags {
	/* Never open a network connection (file:// still works). */
	FETCH_OFFLINE = 1u << 0,
	/* Accept plain http:// URLs and redirects to them. */
	FETCH_ALLOW_HTTP = 1u << 1,
};

/* What sbx.lock records for one base. */
struct fetch_pin {
	char *url;
	char *file;	       /* the image's file name in the cache */
	uint64_t size;	       /* bytes; 0 when unknown */
	char *checksum;	       /* "sha256:HEX" or "sha512:HEX", lower-case */
	char *key_fingerprint; /* 40 upper-case hex, NULL when unsigned */
};

void fetch_pin_clear(struct fetch_pin *pin);
void fetch_pin_copy(struct fetch_pin *dst, const struct fetch_pin *src);

struct fetch_ctx;

/* The cache directory: dir when not NULL, else $XDG_CACHE_HOME/sbx-build,
 * else ~/.cache/sbx-build. */
int fetch_cache_dir(const char *dir, char **ret);

struct fetch_ctx *fetch_ctx_new(const char *cache_dir, unsigned flags);
void fetch_ctx_free(struct fetch_ctx *ctx);
unsigned fetch_ctx_flags(const struct fetch_ctx *ctx);
/* A key_url without "scheme://" is a file path, relative to dir (the
 * project directory) when not absolute. */
void fetch_ctx_set_dir(struct fetch_ctx *ctx, const char *dir);
/* Abort a transfer that moves fewer than 1 byte/s for this long (default
 * 60 s). */
void fetch_ctx_set_stall_timeout(struct fetch_ctx *ctx, long seconds);
/* Why the last call failed, in words ("server answered HTTP 404 for
 * 'URL'"); "" after a success. */
const char *fetch_error(const struct fetch_ctx *ctx);

/* Resolves a downloadable base to a pin: fetches its checksum file, checks
 * the clear-signature against base->key_fingerprint (required for
 * "fedora" and whenever a fingerprint is given), finds the image's line.
 * A checksum pinned in the recipe must agree; with no checksum_url, or
 * offline, it is used alone.  Fails with -EKEYREJECTED (bad or unpinned
 * signature), -EBADMSG (checksums disagree), -ENOENT (404, no line for the
 * file), -ENETUNREACH (offline), -EPERM (plain http refused), -EINVAL (base
 * unusable: local path, no checksum). */
int fetch_resolve(struct fetch_ctx *ctx, const struct base *b,
		  struct fetch_pin *ret);

/* Makes sure the pinned image is in the cache, downloading (or resuming)
 * it when missing; *ret_path is the verified file.  *ret_downloaded
 * (optional) says whether bytes were transferred.  Two processes on one
 * cache serialize on a lock file; the second reuses the first's file.
 * -EBADMSG: wrong digest or size (nothing enters the cache, the .part is
 * removed); -ENOENT: missing on the server, or offline and not cached;
 * -ECONNRESET/-ETIMEDOUT/...: transfer failed (the .part stays for a
 * resume). */
int fetch_image(struct fetch_ctx *ctx, const struct fetch_pin *pin,
		char **ret_path, bool *ret_downloaded);

/* Imports an image copied by hand: hashes src while copying it into the
 * cache, under the pin's name only when it matches. */
int fetch_import(struct fetch_ctx *ctx, const struct fetch_pin *pin,
		 const char *src, char **ret_path);

/* Where the pinned image lives in the cache (whether or not it is there). */
int fetch_cache_path(const struct fetch_ctx *ctx, const struct fetch_pin *pin,
		     char **ret);

/* Fedora's releases.json: the Cloud_Base qcow2 of version (NULL: the
 * highest numeric version) and arch.  Pure; -ENOENT when absent, -EINVAL
 * when the text is not the expected JSON. */
int fedora_release_find(const char *json, size_t len, const char *version,
			const char *arch, char **ret_version, char **ret_link,
			char **ret_sha256);

#define FEDORA_RELEASES_URL "https://fedoraproject.org/releases.json"

/* Resolves Fedora release version (NULL: the newest) through releases_url,
 * then through the release's signed CHECKSUM file like fetch_resolve,
 * trusting key_fingerprint (the key of that release) from key_url.  The
 * sha256 releases.json gives must agree with the signed one. */
int fetch_fedora_release(struct fetch_ctx *ctx, const char *releases_url,
			 const char *version, const char *arch,
			 const char *key_url, const char *key_fingerprint,
			 struct fetch_pin *ret);

#endif
