#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "digest.h"
#include "util.h"

struct digest {
	EVP_MD_CTX *ctx;
};

int
digest_alg_from_name(const char *name, enum digest_alg *ret)
{
	if (strcasecmp(name, "sha256") == 0)
		*ret = DIGEST_SHA256;
	else if (strcasecmp(name, "sha512") == 0)
		*ret = DIGEST_SHA512;
	else
		return -EINVAL;
	return 0;
}

const char *
digest_alg_name(enum digest_alg alg)
{
	return alg == DIGEST_SHA512 ? "sha512" : "sha256";
}

size_t
digest_hex_len(enum digest_alg alg)
{
	return alg == DIGEST_SHA512 ? 128 : 64;
}

struct digest *
digest_new(enum digest_alg alg)
{
	struct digest *d = xcalloc(1, sizeof(*d));

	d->ctx = EVP_MD_CTX_new();
	if (d->ctx == NULL ||
	    !EVP_DigestInit_ex(
		    d->ctx, alg == DIGEST_SHA512 ? EVP_sha512() : EVP_sha256(),
		    NULL)) {
		fputs("sbx-build: cannot initialise libcrypto digest\n",
		      stderr);
		abort();
	}
	return d;
}

void
digest_update(struct digest *d, const void *data, size_t len)
{
	EVP_DigestUpdate(d->ctx, data, len);
}

void
digest_final_hex(struct digest *d, char hex[DIGEST_HEX_MAX])
{
	static const char xd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(d->ctx, md, &n);
	for (unsigned int i = 0; i < n; i++) {
		hex[2 * i] = xd[md[i] >> 4];
		hex[2 * i + 1] = xd[md[i] & 15];
	}
	hex[2 * n] = '\0';
}

void
digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

void
digest_buffer_hex(enum digest_alg alg, const void *data, size_t len,
		  char hex[DIGEST_HEX_MAX])
{
	struct digest *d = digest_new(alg);

	digest_update(d, data, len);
	digest_final_hex(d, hex);
	digest_free(d);
}

int
digest_file_hex(enum digest_alg alg, const char *path, char hex[DIGEST_HEX_MAX])
{
	enum { BUFSZ = 1 << 20 };
	unsigned char *buf;
	struct digest *d;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = digest_new(alg);
	buf = xmalloc(BUFSZ);
	while ((n = read(fd, buf, BUFSZ)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		digest_update(d, buf, (size_t)n);
	}
	close(fd);
	free(buf);
	if (r == 0)
		digest_final_hex(d, hex);
	digest_free(d);
	return r;
}
