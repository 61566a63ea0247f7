/* Between the fetch modules only (fetch.c, fetch-load.c, fetch-http.c,
 * fetch-verify.c, fetch-resolve.c, fetch-cache.c); other modules use
 * fetch.h.  Every
 * function that fails sets the context's error (fetch_error) and returns
 * a negative errno. */
#ifndef SBX_FETCH_INT_H
#define SBX_FETCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "fetch.h"
#include "module.h"
#include "util.h"

typedef void CURL; /* as <curl/curl.h> has it; only fetch-http.c uses it */
struct progress;

enum {
	SMALL_MAX = 16 << 20, /* checksum files, keyrings, releases.json */
	FPR_LEN = 40,
};

struct fetch_ctx {
	char *cache_dir;
	char *dir; /* relative key paths start here */
	unsigned flags;
	long stall_timeout;
	char err[1024];
};

/* fetch.c: the message fetch_error returns next. */
void fetch_set_err(struct fetch_ctx *ctx, const char *fmt, ...)
	PRINTF_LIKE(2, 3);

/* fetch-load.c, fetch-http.c */
/* One transfer into memory or into a file descriptor. */
struct xfer {
	struct fetch_ctx *ctx;
	CURL *h;
	const char *url;
	/* Sink: mem when not NULL, else fd. */
	struct strbuf *mem;
	int fd;
	uint64_t offset; /* bytes already there (resume) */
	struct digest *dg;
	enum digest_alg alg;
	const char *label;     /* show progress under this name */
	uint64_t size;	       /* expected total, 0 when unknown */
	uint64_t got;	       /* body bytes written by this transfer */
	struct progress *prog; /* made at the first byte */
	bool checked;	       /* status looked at, first body byte */
	bool have_range;       /* Content-Range seen in the final response */
	uint64_t range_start;
	int err; /* set by a callback that aborted */
};

/* fetch.c: may url be fetched under ctx's flags (scheme, offline)? */
int fetch_check_url(struct fetch_ctx *ctx, const char *url);
/* fetch-load.c: runs one transfer through the libcurl module (loaded the
 * first time); x->ctx, x->url and the sink are set by the caller. */
int fetch_perform(struct xfer *x);
/* A whole body of at most SMALL_MAX bytes into *ret (NUL-terminated). */
int fetch_small(struct fetch_ctx *ctx, const char *url, char **ret,
		size_t *ret_len);
/* fetch-http.c, the libcurl module: its one export. */
#define FETCH_MODULE	    "sbx-build-curl.so"
#define FETCH_MODULE_SYMBOL "sbx_fetch_http"
#define FETCH_MODULE_ABI \
	(sizeof(struct xfer) * 1009u + sizeof(struct fetch_ctx))
struct fetch_http {
	struct module_head head; /* SBX_VERSION, FETCH_MODULE_ABI */
	int (*perform)(struct xfer *x);
};

/* fetch-verify.c */
bool fetch_is_hex(const char *s, size_t n);
/* "sha256:HEX" -> alg and lower-case hex; -EINVAL otherwise. */
int fetch_parse_checksum(const char *s, enum digest_alg *ret_alg,
			 char ret_hex[DIGEST_HEX_MAX]);
/* A plain file name: not empty, no '/', not starting with '.'. */
bool fetch_valid_file_name(const char *f);
/* The last path component of a URL, without query or fragment. */
char *fetch_url_basename(const char *url);
/* Finds file in a checksum file: BSD lines "SHA256 (file) = hex" (Fedora)
 * or GNU lines "hex  file" (Debian), plus Fedora's "# file: N bytes".
 * *ret_checksum is "ALG:hex"; *ret_size 0 when not given. */
int fetch_checksum_find(const char *text, const char *file, char **ret_checksum,
			uint64_t *ret_size);
/* A fingerprint without white space, upper-case; "" when it is
 * not 40 hex digits. */
void fetch_normalize_fpr(const char *in, char out[FPR_LEN + 1]);
/* Fetches key_url, checks that text (the clear-signed checksum file from
 * what) is signed by fpr, and returns the signed part only: lines outside
 * the signature are never trusted. */
int fetch_verify_signed(struct fetch_ctx *ctx, const char *text, size_t len,
			const char *key_url, const char *fpr, const char *what,
			char **ret, size_t *ret_len);

#endif
