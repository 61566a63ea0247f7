/* SHA-256/512 through OpenSSL's libcrypto (EVP).  digest.c is the only
 * file that includes OpenSSL headers. */
#ifndef SBX_DIGEST_H
#define SBX_DIGEST_H

#include <stddef.h>

enum digest_alg {
	DIGEST_SHA256,
	DIGEST_SHA512,
};

/* Room for the longest hex digest and its NUL. */
#define DIGEST_HEX_MAX 129

struct digest;

/* "sha256" / "sha512" (case-insensitive); -EINVAL otherwise. */
int digest_alg_from_name(const char *name, enum digest_alg *ret);
const char *digest_alg_name(enum digest_alg alg);
size_t digest_hex_len(enum digest_alg alg);

struct digest *digest_new(enum digest_alg alg);
void digest_update(struct digest *d, const void *data, size_t len);
/* Writes the lower-case hex digest; the context can then be freed only. */
void digest_final_hex(struct digest *d, char hex[DIGEST_HEX_MAX]);
void digest_free(struct digest *d);

/* One-shot helpers. */
void digest_buffer_hex(enum digest_alg alg, const void *data, size_t len,
		       char hex[DIGEST_HEX_MAX]);
int digest_file_hex(enum digest_alg alg, const char *path,
		    char hex[DIGEST_HEX_MAX]);

#endif
