/* libcurl in: base images, checksum files and keyrings into the cache,
 * verified while they stream.  The only file that includes <curl/curl.h>. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "digest.h"
#include "distro.h"
#include "fetch.h"
#include "run.h"
#include "progress.h"
#include "recipe.h"
#include "util.h"
#include "ytree.h"

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

static void set_err(struct fetch_ctx *ctx, const char *fmt, ...)
	PRINTF_LIKE(2, 3);

static void
set_err(struct fetch_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
}

void
fetch_pin_clear(struct fetch_pin *pin)
{
	if (pin == NULL)
		return;
	free(pin->url);
	free(pin->file);
	free(pin->checksum);
	free(pin->key_fingerprint);
	memset(pin, 0, sizeof(*pin));
}

static char *
strdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
fetch_pin_copy(struct fetch_pin *dst, const struct fetch_pin *src)
{
	dst->url = strdup_or_null(src->url);
	dst->file = strdup_or_null(src->file);
	dst->size = src->size;
	dst->checksum = strdup_or_null(src->checksum);
	dst->key_fingerprint = strdup_or_null(src->key_fingerprint);
}

int
fetch_cache_dir(const char *dir, char **ret)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (dir != NULL && *dir != '\0')
		*ret = xstrdup(dir);
	else if (xdg != NULL && xdg[0] == '/')
		*ret = path_join(xdg, "sbx-build");
	else if (home != NULL && home[0] == '/')
		*ret = xasprintf("%s/.cache/sbx-build", home);
	else
		return -ENOENT;
	return 0;
}

struct fetch_ctx *
fetch_ctx_new(const char *cache_dir, unsigned flags)
{
	struct fetch_ctx *ctx = xcalloc(1, sizeof(*ctx));

	/* Thread-safe and idempotent since curl 7.84. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ctx->cache_dir = xstrdup(cache_dir);
	ctx->flags = flags;
	ctx->stall_timeout = 60;
	return ctx;
}

void
fetch_ctx_free(struct fetch_ctx *ctx)
{
	if (ctx == NULL)
		return;
	free(ctx->cache_dir);
	free(ctx->dir);
	free(ctx);
}

void
fetch_ctx_set_dir(struct fetch_ctx *ctx, const char *dir)
{
	free(ctx->dir);
	ctx->dir = xstrdup(dir);
}

unsigned
fetch_ctx_flags(const struct fetch_ctx *ctx)
{
	return ctx->flags;
}

void
fetch_ctx_set_stall_timeout(struct fetch_ctx *ctx, long seconds)
{
	ctx->stall_timeout = seconds;
}

const char *
fetch_error(const struct fetch_ctx *ctx)
{
	return ctx->err;
}

/* Checks that url may be fetched under ctx's flags. */
static int
check_url(struct fetch_ctx *ctx, const char *url)
{
	if (str_starts_with(url, "file://"))
		return 0;
	if (str_starts_with(url, "http://")) {
		if (!(ctx->flags & FETCH_ALLOW_HTTP)) {
			set_err(ctx,
				"refusing plain http URL '%s' (use https, or "
				"--allow-http)",
				url);
			return -EPERM;
		}
	} else if (!str_starts_with(url, "https://")) {
		set_err(ctx, "unsupported URL '%s' (https:// or file://)", url);
		return -EPROTONOSUPPORT;
	}
	if (ctx->flags & FETCH_OFFLINE) {
		set_err(ctx, "offline: not downloading '%s'", url);
		return -ENETUNREACH;
	}
	return 0;
}

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

static size_t
header_cb(char *buf, size_t size, size_t n, void *data)
{
	struct xfer *x = data;
	size_t len = size * n;
	unsigned long long start;
	char line[256];

	if (len >= sizeof(line))
		return len;
	memcpy(line, buf, len);
	line[len] = '\0';
	if (str_starts_with(line, "HTTP/"))
		x->have_range = false; /* a new response (redirect) */
	else if (strncasecmp(line, "content-range:", 14) == 0 &&
		 sscanf(line + 14, " bytes %llu-", &start) == 1) {
		x->have_range = true;
		x->range_start = start;
	}
	return len;
}

/* Looks at the answer before the first body byte: a server that ignored
 * the Range request sends the whole file again, so start over. */
static int
check_answer(struct xfer *x)
{
	long code = 0;

	x->checked = true;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 300)
		return -EIO;		 /* reported after perform */
	if (x->offset == 0 || code == 0) /* file:// honours the offset */
		return 0;
	if (code == 206 && x->have_range && x->range_start == x->offset)
		return 0;
	/* 200, or a range we did not ask for: restart cleanly. */
	if (x->fd < 0)
		return -EIO;
	if (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0)
		return -errno;
	x->offset = 0;
	x->got = 0;
	if (x->dg != NULL) {
		digest_free(x->dg);
		x->dg = digest_new(x->alg);
	}
	progress_set_start(x->prog, 0);
	return 0;
}

static size_t
write_cb(char *buf, size_t size, size_t n, void *data)
{
	struct xfer *x = data;
	size_t len = size * n;
	int r;

	if (!x->checked) {
		r = check_answer(x);
		if (r < 0) {
			x->err = r;
			return 0;
		}
	}
	if (x->mem != NULL) {
		if (x->mem->len + len > SMALL_MAX) {
			x->err = -EFBIG;
			return 0;
		}
		sb_add(x->mem, buf, len);
		return len;
	}
	/* A server sending more than the pinned size cannot fill the disk. */
	x->got += len;
	if (x->size != 0 && x->offset + x->got > x->size) {
		x->err = -EFBIG;
		return 0;
	}
	r = write_all(x->fd, buf, len);
	if (r < 0) {
		x->err = r;
		return 0;
	}
	if (x->dg != NULL)
		digest_update(x->dg, buf, len);
	return len;
}

static int
xferinfo_cb(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ult,
	    curl_off_t ulnow)
{
	struct xfer *x = data;

	(void)ult;
	(void)ulnow;
	if (x->label == NULL || dlnow == 0)
		return 0;
	if (x->prog == NULL) {
		x->prog = progress_new(x->label, x->size);
		progress_set_start(x->prog, x->offset);
	}
	if (dltotal > 0)
		progress_set_total(x->prog, x->offset + (uint64_t)dltotal);
	progress_update(x->prog, x->offset + (uint64_t)dlnow);
	return 0;
}

static int
curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		return -ECONNRESET;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTONOSUPPORT;
	case CURLE_TOO_MANY_REDIRECTS:
		return -ELOOP;
	case CURLE_FILE_COULDNT_READ_FILE:
		return -ENOENT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static int
perform(struct xfer *x)
{
	struct fetch_ctx *ctx = x->ctx;
	const char *protos =
		(ctx->flags & FETCH_ALLOW_HTTP) ? "http,https" : "https";
	char errbuf[CURL_ERROR_SIZE] = "", range[32];
	long code = 0;
	CURLcode c;
	int r;

	r = check_url(ctx, x->url);
	if (r < 0)
		return r;
	x->h = curl_easy_init();
	if (x->h == NULL) {
		set_err(ctx, "cannot start a transfer");
		return -ENOMEM;
	}
	curl_easy_setopt(x->h, CURLOPT_URL, x->url);
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	/* Redirects stay on https (or http when allowed), never file://. */
	curl_easy_setopt(x->h, CURLOPT_REDIR_PROTOCOLS_STR, protos);
	curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(x->h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_TIME, ctx->stall_timeout);
	curl_easy_setopt(x->h, CURLOPT_USERAGENT, "sbx-build/" SBX_VERSION);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	if (x->label != NULL) {
		curl_easy_setopt(x->h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
		curl_easy_setopt(x->h, CURLOPT_XFERINFODATA, x);
		curl_easy_setopt(x->h, CURLOPT_NOPROGRESS, 0L);
	}
	/* CURLOPT_RANGE, not RESUME_FROM: curl then hands over a 200
	 * answer instead of failing, and check_answer restarts. */
	if (x->offset > 0) {
		snprintf(range, sizeof(range), "%llu-",
			 (unsigned long long)x->offset);
		curl_easy_setopt(x->h, CURLOPT_RANGE, range);
	}

	c = curl_easy_perform(x->h);
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(x->h);
	x->h = NULL;

	if (code == 404 || code == 410) {
		set_err(ctx, "'%s' is not on the server (HTTP %ld)", x->url,
			code);
		return -ENOENT;
	}
	if (code == 416) {
		set_err(ctx, "server refused the resume range for '%s'",
			x->url);
		return -ERANGE;
	}
	if (code >= 300) {
		set_err(ctx, "server answered HTTP %ld for '%s'", code, x->url);
		return -EIO;
	}
	if (x->err < 0) {
		set_err(ctx, "cannot store '%s': %s", x->url,
			x->err == -EFBIG ? "larger than expected"
					 : strerror(-x->err));
		return x->err;
	}
	if (c == CURLE_BAD_DOWNLOAD_RESUME) {
		set_err(ctx, "cannot resume '%s': %s", x->url, errbuf);
		return -ERANGE;
	}
	if (c != CURLE_OK) {
		set_err(ctx, "cannot download '%s': %s", x->url,
			*errbuf ? errbuf : curl_easy_strerror(c));
		return curl_errno(c);
	}
	if (!x->checked) {
		/* An empty body: still decide between resume and restart. */
		r = check_answer(x);
		if (r < 0) {
			set_err(ctx, "cannot store '%s': %s", x->url,
				strerror(-r));
			return r;
		}
	}
	return 0;
}

static int
fetch_small(struct fetch_ctx *ctx, const char *url, char **ret, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	struct xfer x = {.ctx = ctx, .url = url, .mem = &sb, .fd = -1};
	int r;

	r = perform(&x);
	if (r < 0) {
		sb_release(&sb);
		return r;
	}
	*ret = sb_detach(&sb, ret_len);
	return 0;
}

/* --- checksums --------------------------------------------------------- */

static bool
is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "sha256:HEX" → alg and lower-case hex. */
static int
parse_checksum(const char *s, enum digest_alg *ret_alg,
	       char ret_hex[DIGEST_HEX_MAX])
{
	const char *colon = s != NULL ? strchr(s, ':') : NULL;
	char name[16];
	enum digest_alg alg;
	size_t n;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(name))
		return -EINVAL;
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	if (digest_alg_from_name(name, &alg) < 0)
		return -EINVAL;
	n = strlen(colon + 1);
	if (n != digest_hex_len(alg) || !is_hex(colon + 1, n))
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		ret_hex[i] = (char)tolower((unsigned char)colon[1 + i]);
	*ret_alg = alg;
	return 0;
}

static bool
valid_file_name(const char *f)
{
	return f != NULL && *f != '\0' && *f != '.' && strchr(f, '/') == NULL;
}

/* The last path component of a URL, without query or fragment. */
static char *
url_basename(const char *url)
{
	size_t n = strcspn(url, "?#");
	const char *s = url + n;

	while (s > url && s[-1] != '/')
		s--;
	return xstrndup(s, (size_t)(url + n - s));
}

/* Finds file in a checksum file: BSD lines "SHA256 (file) = hex" (Fedora)
 * or GNU lines "hex  file" (Debian), plus Fedora's "# file: N bytes". */
static int
checksum_find(const char *text, const char *file, char **ret_checksum,
	      uint64_t *ret_size)
{
	size_t flen = strlen(file);
	char *found = NULL;
	uint64_t size = 0;

	for (const char *l = text; *l != '\0';) {
		size_t len = strcspn(l, "\n");
		CLEANUP_FREE char *line = xstrndup(l, len);
		char *p;
		size_t n;

		l += len + (l[len] == '\n');
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (line[0] == '#') {
			unsigned long long sz;
			char tail[8];

			p = line + 1 + strspn(line + 1, " ");
			if (strncmp(p, file, flen) == 0 && p[flen] == ':' &&
			    sscanf(p + flen + 1, " %llu %7s", &sz, tail) == 2 &&
			    strcmp(tail, "bytes") == 0)
				size = sz;
			continue;
		}
		if ((p = strstr(line, " (")) != NULL &&
		    strncmp(p + 2, file, flen) == 0 &&
		    strncmp(p + 2 + flen, ") = ", 4) == 0) {
			const char *hex = p + 2 + flen + 4;
			enum digest_alg alg;

			*p = '\0';
			if (digest_alg_from_name(line, &alg) == 0 &&
			    strlen(hex) == digest_hex_len(alg) &&
			    is_hex(hex, strlen(hex)) && found == NULL)
				found = xasprintf("%s:%s", digest_alg_name(alg),
						  hex);
			continue;
		}
		n = strspn(line, "0123456789abcdefABCDEF");
		if ((n == 64 || n == 128) && line[n] == ' ' &&
		    (line[n + 1] == ' ' || line[n + 1] == '*') &&
		    strcmp(line + n + 2, file) == 0 && found == NULL) {
			line[n] = '\0';
			found = xasprintf("%s:%s",
					  n == 64 ? "sha256" : "sha512", line);
		}
	}
	if (found == NULL)
		return -ENOENT;
	for (char *c = found; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	*ret_checksum = found;
	*ret_size = size;
	return 0;
}

/* --- OpenPGP ----------------------------------------------------------- */

static int
b64_value(int c)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(tab, c) : NULL;

	return p != NULL ? (int)(p - tab) : -1;
}

/* gpgv reads binary keyrings only: decode every ASCII-armored public key
 * block (RFC 4880 §6.2) and concatenate them.  Binary input is kept. */
static int
dearmor(const char *text, size_t len, struct strbuf *out)
{
	static const char begin[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
	const char *p = text, *end = text + len;
	bool any = false;

	if (len == 0 || (unsigned char)text[0] & 0x80) {
		sb_add(out, text, len);
		return len > 0 ? 0 : -EINVAL;
	}
	while ((p = memmem(p, (size_t)(end - p), begin, strlen(begin))) !=
	       NULL) {
		unsigned acc = 0;
		int bits = 0;

		/* Skip armor headers up to the blank line. */
		p += strlen(begin);
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t l = nl != NULL ? (size_t)(nl - p)
					      : (size_t)(end - p);
			bool blank = l == 0 || (l == 1 && p[0] == '\r');

			p = nl != NULL ? nl + 1 : end;
			if (blank)
				break;
		}
		for (; p < end && *p != '=' && *p != '-'; p++) {
			int v = b64_value(*p);

			if (v < 0) {
				if (*p == '\n' || *p == '\r' || *p == ' ')
					continue;
				return -EINVAL;
			}
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				sb_putc(out, (char)((acc >> bits) & 0xff));
			}
		}
		/* Either '=' padding / the CRC line, or the END line. */
		while (p < end && *p != '-')
			p++;
		if (p >= end)
			return -EINVAL;
		p++;
		any = true;
	}
	return any ? 0 : -EINVAL;
}

static void
normalize_fpr(const char *in, char out[FPR_LEN + 1])
{
	size_t n = 0;

	for (; *in != '\0' && n < FPR_LEN + 1; in++)
		if (!isspace((unsigned char)*in))
			out[n++] = (char)toupper((unsigned char)*in);
	if (n != FPR_LEN || !is_hex(out, n))
		n = 0;
	out[n] = '\0';
}

/* Runs gpgv on signed (a clear-signed file) with keyring; on success
 * writes the signed text to out.  The signature must be valid and made by
 * a key whose primary fingerprint is fpr. */
static int
run_gpgv(struct fetch_ctx *ctx, const char *tmp, const char *keyring,
	 const char *signed_path, const char *out, const char *fpr,
	 const char *what)
{
	struct strbuf st = STRBUF_INIT;
	char other[FPR_LEN + 1] = "";
	bool good = false, bad = false, nokey = false;
	const char *argv[] = {"gpgv",  "--homedir",   tmp,	   "--keyring",
			      keyring, "--status-fd", "3",	   "--output",
			      out,     "--",	      signed_path, NULL};
	struct run_opts o = {.fd3 = &st};
	int status;

	status = run_program(argv, &o);
	if (status < 0 && status != -ETIMEDOUT && status != -EINTR) {
		set_err(ctx, "cannot run gpgv to check %s", what);
		sb_release(&st);
		return -ENOENT;
	}
	for (char *l = st.buf; l != NULL && *l != '\0';) {
		char *nl = strchr(l, '\n');
		char *f[12];
		size_t nf = 0;

		if (nl != NULL)
			*nl = '\0';
		for (char *tok = strtok(l, " "); tok != NULL && nf < 12;
		     tok = strtok(NULL, " "))
			f[nf++] = tok;
		if (nf >= 2 && strcmp(f[0], "[GNUPG:]") == 0) {
			if (strcmp(f[1], "BADSIG") == 0 ||
			    strcmp(f[1], "EXPKEYSIG") == 0 ||
			    strcmp(f[1], "REVKEYSIG") == 0 ||
			    strcmp(f[1], "EXPSIG") == 0)
				bad = true;
			else if (strcmp(f[1], "NO_PUBKEY") == 0)
				nokey = true;
			else if (strcmp(f[1], "ERRSIG") == 0 && nf >= 9)
				snprintf(other, sizeof(other), "%s", f[8]);
			else if (strcmp(f[1], "VALIDSIG") == 0 && nf >= 12) {
				if (strcmp(f[11], fpr) == 0)
					good = true;
				else
					snprintf(other, sizeof(other), "%s",
						 f[11]);
			}
		}
		l = nl != NULL ? nl + 1 : NULL;
	}
	sb_release(&st);
	if (bad)
		set_err(ctx, "bad, expired or revoked OpenPGP signature on %s",
			what);
	else if (status != 0) {
		if (nokey)
			set_err(ctx,
				"%s is signed by key %s, which is not in the "
				"keyring (pinned key %s)",
				what, *other ? other : "(unknown)", fpr);
		else
			set_err(ctx, "cannot verify the signature on %s", what);
	} else if (!good)
		set_err(ctx, "%s is signed by key %s, not by the pinned key %s",
			what, *other ? other : "(unknown)", fpr);
	else
		return 0;
	return -EKEYREJECTED;
}

static int
make_tmpdir(struct fetch_ctx *ctx, char **ret)
{
	char *t;
	int r;

	r = mkdir_p(ctx->cache_dir, 0755);
	if (r < 0) {
		set_err(ctx, "cannot create the cache '%s': %s", ctx->cache_dir,
			strerror(-r));
		return r;
	}
	t = xasprintf("%s/tmp-XXXXXX", ctx->cache_dir);
	if (mkdtemp(t) == NULL) {
		r = -errno;
		set_err(ctx, "cannot create a directory in '%s': %s",
			ctx->cache_dir, strerror(errno));
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

/* Fetches key_url, checks that text (the clear-signed checksum file from
 * what) is signed by fpr, and returns the signed part only: lines outside
 * the signature are never trusted. */
static int
verify_signed(struct fetch_ctx *ctx, const char *text, size_t len,
	      const char *key_url, const char *fpr, const char *what,
	      char **ret, size_t *ret_len)
{
	CLEANUP_FREE char *tmp = NULL, *keys = NULL, *kr = NULL, *in = NULL,
			  *out = NULL;
	struct strbuf bin = STRBUF_INIT;
	size_t klen;
	int r;

	if (strstr(key_url, "://") == NULL) {
		CLEANUP_FREE char *p =
			path_join(ctx->dir != NULL ? ctx->dir : "", key_url);

		r = read_file(p, &keys, &klen);
		if (r < 0)
			set_err(ctx, "cannot read keyring '%s': %s", p,
				strerror(-r));
	} else {
		r = fetch_small(ctx, key_url, &keys, &klen);
	}
	if (r < 0)
		return r;
	if (dearmor(keys, klen, &bin) < 0) {
		set_err(ctx, "'%s' holds no OpenPGP public key", key_url);
		sb_release(&bin);
		return -EINVAL;
	}
	r = make_tmpdir(ctx, &tmp);
	if (r < 0) {
		sb_release(&bin);
		return r;
	}
	kr = path_join(tmp, "keyring.gpg");
	in = path_join(tmp, "signed.txt");
	out = path_join(tmp, "content.txt");
	r = write_file_atomic(kr, bin.buf, bin.len, 0600);
	sb_release(&bin);
	if (r == 0)
		r = write_file_atomic(in, text, len, 0600);
	if (r < 0)
		set_err(ctx, "cannot write to '%s': %s", tmp, strerror(-r));
	else
		r = run_gpgv(ctx, tmp, kr, in, out, fpr, what);
	if (r == 0) {
		r = read_file(out, ret, ret_len);
		if (r < 0)
			set_err(ctx, "cannot read gpgv's output: %s",
				strerror(-r));
	}
	rm_rf(tmp);
	return r;
}

int
fetch_resolve(struct fetch_ctx *ctx, const struct base *b,
	      struct fetch_pin *ret)
{
	CLEANUP_FREE char *file = NULL, *text = NULL, *content = NULL,
			  *found = NULL, *what = NULL;
	char fpr[FPR_LEN + 1] = "", hex[DIGEST_HEX_MAX] = "";
	enum digest_alg alg = DIGEST_SHA256;
	uint64_t size = 0;
	size_t len;
	const struct distro_info *d = distro_get(b->distro);
	int r;

	ctx->err[0] = '\0';
	if (b->url == NULL) {
		set_err(ctx, "base '%s' is a local file, not a download",
			b->name);
		return -EINVAL;
	}
	if (d == NULL) {
		set_err(ctx, "base '%s' has an unknown distribution", b->name);
		return -EINVAL;
	}
	file = url_basename(b->url);
	if (!valid_file_name(file)) {
		set_err(ctx, "'%s' does not name a file", b->url);
		return -EINVAL;
	}
	if (b->checksum != NULL && parse_checksum(b->checksum, &alg, hex) < 0) {
		set_err(ctx, "base '%s': bad checksum '%s'", b->name,
			b->checksum);
		return -EINVAL;
	}
	if (b->key_fingerprint != NULL) {
		normalize_fpr(b->key_fingerprint, fpr);
		if (*fpr == '\0') {
			set_err(ctx, "base '%s': bad key fingerprint '%s'",
				b->name, b->key_fingerprint);
			return -EINVAL;
		}
	}
	if (b->checksum_url == NULL ||
	    (b->checksum != NULL && (ctx->flags & FETCH_OFFLINE) &&
	     !str_starts_with(b->checksum_url, "file://"))) {
		if (b->checksum == NULL) {
			set_err(ctx,
				"base '%s' has neither a checksum nor a "
				"checksum file",
				b->name);
			return -EINVAL;
		}
		found = xasprintf("%s:%s", digest_alg_name(alg), hex);
		goto done;
	}
	if ((d->signed_checksums || *fpr != '\0') &&
	    (*fpr == '\0' || b->key_url == NULL)) {
		set_err(ctx,
			"base '%s' needs a key fingerprint and a key URL to "
			"check its checksum file",
			b->name);
		return -EINVAL;
	}
	r = fetch_small(ctx, b->checksum_url, &text, &len);
	if (r < 0)
		return r;
	if (*fpr != '\0') {
		what = xasprintf("'%s'", b->checksum_url);
		r = verify_signed(ctx, text, len, b->key_url, fpr, what,
				  &content, &len);
		if (r < 0)
			return r;
	} else {
		content = text;
		text = NULL;
	}
	if (strlen(content) != len) {
		set_err(ctx, "'%s' is not a text file", b->checksum_url);
		return -EBADMSG;
	}
	r = checksum_find(content, file, &found, &size);
	if (r < 0) {
		set_err(ctx, "'%s' has no checksum for '%s'", b->checksum_url,
			file);
		return -ENOENT;
	}
	if (b->checksum != NULL) {
		CLEANUP_FREE char *pinned =
			xasprintf("%s:%s", digest_alg_name(alg), hex);

		if (strcmp(pinned, found) != 0) {
			set_err(ctx,
				"base '%s' pins %s but '%s' says %s for "
				"'%s'",
				b->name, pinned, b->checksum_url, found, file);
			return -EBADMSG;
		}
	}
done:
	memset(ret, 0, sizeof(*ret));
	ret->url = xstrdup(b->url);
	ret->file = file;
	file = NULL;
	ret->size = size;
	ret->checksum = found;
	found = NULL;
	ret->key_fingerprint =
		*fpr != '\0' && b->checksum_url != NULL ? xstrdup(fpr) : NULL;
	return 0;
}

/* --- the image cache --------------------------------------------------- */

static int
pin_paths(struct fetch_ctx *ctx, const struct fetch_pin *pin,
	  enum digest_alg *ret_alg, char hex[DIGEST_HEX_MAX], char **ret_dir,
	  char **ret_final)
{
	enum digest_alg alg;

	if (parse_checksum(pin->checksum, &alg, hex) < 0) {
		set_err(ctx, "bad checksum '%s' for '%s'",
			pin->checksum ? pin->checksum : "", pin->file);
		return -EINVAL;
	}
	if (!valid_file_name(pin->file)) {
		set_err(ctx, "bad image file name '%s'",
			pin->file ? pin->file : "");
		return -EINVAL;
	}
	*ret_alg = alg;
	*ret_dir = xasprintf("%s/%s/%s", ctx->cache_dir, digest_alg_name(alg),
			     hex);
	*ret_final = xasprintf("%s/%s", *ret_dir, pin->file);
	return 0;
}

int
fetch_cache_path(const struct fetch_ctx *ctx, const struct fetch_pin *pin,
		 char **ret)
{
	CLEANUP_FREE char *dir = NULL;
	char hex[DIGEST_HEX_MAX];
	enum digest_alg alg;

	return pin_paths((struct fetch_ctx *)ctx, pin, &alg, hex, &dir, ret);
}

/* Takes the cache directory's lock; the second process waits here. */
static int
lock_dir(struct fetch_ctx *ctx, const char *dir, int *ret_fd)
{
	CLEANUP_FREE char *path = path_join(dir, ".lock");
	int fd, r;

	r = mkdir_p(dir, 0755);
	if (r < 0) {
		set_err(ctx, "cannot create '%s': %s", dir, strerror(-r));
		return r;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		set_err(ctx, "cannot open '%s': %s", path, strerror(errno));
		return r;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		r = -errno;
		set_err(ctx, "cannot lock '%s': %s", path, strerror(errno));
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Hashes the first len bytes already in fd into d. */
static int
hash_fd(int fd, struct digest *d, uint64_t *ret_len)
{
	char buf[1 << 16];
	uint64_t total = 0;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		digest_update(d, buf, (size_t)n);
		total += (uint64_t)n;
	}
	*ret_len = total;
	return 0;
}

/* Compares the finished digest and size; renames tmp to final on a
 * match, removes tmp otherwise. */
static int
finish(struct fetch_ctx *ctx, const struct fetch_pin *pin, struct digest *d,
       enum digest_alg alg, const char *want, uint64_t size, int fd,
       const char *tmp, const char *final, const char *dir)
{
	char got[DIGEST_HEX_MAX];
	int r = 0;

	digest_final_hex(d, got);
	if (strcmp(got, want) != 0) {
		set_err(ctx,
			"checksum mismatch for '%s': expected %s:%s, got "
			"%s:%s",
			pin->file, digest_alg_name(alg), want,
			digest_alg_name(alg), got);
		r = -EBADMSG;
	} else if (pin->size != 0 && size != pin->size) {
		set_err(ctx, "size mismatch for '%s': expected %llu, got %llu",
			pin->file, (unsigned long long)pin->size,
			(unsigned long long)size);
		r = -EBADMSG;
	} else if (fsync(fd) < 0 || rename(tmp, final) < 0) {
		r = -errno;
		set_err(ctx, "cannot store '%s': %s", final, strerror(errno));
	}
	if (r < 0)
		unlink(tmp);
	else
		fsync_dir(dir);
	return r;
}

static int
download(struct fetch_ctx *ctx, const struct fetch_pin *pin,
	 enum digest_alg alg, const char *want, const char *dir,
	 const char *final)
{
	CLEANUP_FREE char *part = xasprintf("%s.part", final);
	struct xfer x = {.ctx = ctx, .url = pin->url, .alg = alg};
	uint64_t have = 0;
	struct stat st;
	int r;

	x.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (x.fd < 0) {
		r = -errno;
		set_err(ctx, "cannot open '%s': %s", part, strerror(errno));
		return r;
	}
	x.dg = digest_new(alg);
	if (fstat(x.fd, &st) == 0 && pin->size != 0 &&
	    (uint64_t)st.st_size > pin->size && ftruncate(x.fd, 0) < 0) {
		r = -errno;
		goto out;
	}
	/* The bytes of an earlier attempt enter the digest first. */
	r = hash_fd(x.fd, x.dg, &have);
	if (r < 0) {
		set_err(ctx, "cannot read '%s': %s", part, strerror(-r));
		goto out;
	}
	x.offset = have;
	x.label = pin->file;
	x.size = pin->size;
	if (pin->size != 0 && have == pin->size) {
		r = 0; /* complete already: only the check is left */
	} else {
		r = perform(&x);
		if (r == -ERANGE && x.offset > 0) {
			/* A stale .part the server cannot continue. */
			if (ftruncate(x.fd, 0) < 0 ||
			    lseek(x.fd, 0, SEEK_SET) < 0) {
				r = -errno;
				goto out;
			}
			digest_free(x.dg);
			x.dg = digest_new(alg);
			x.offset = 0;
			x.got = 0;
			x.checked = false;
			x.err = 0;
			progress_set_start(x.prog, 0);
			r = perform(&x);
		}
	}
	progress_done(x.prog);
	x.prog = NULL;
	if (r == -EFBIG) {
		set_err(ctx, "'%s' is larger than the pinned %llu bytes",
			pin->url, (unsigned long long)pin->size);
		unlink(part);
	}
	if (r < 0)
		goto out;
	if (fstat(x.fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = finish(ctx, pin, x.dg, alg, want, (uint64_t)st.st_size, x.fd, part,
		   final, dir);
out:
	progress_done(x.prog);
	digest_free(x.dg);
	/* Keep a partial file for a resume, not an empty one. */
	if (r < 0 && fstat(x.fd, &st) == 0 && st.st_size == 0)
		unlink(part);
	close(x.fd);
	return r;
}

int
fetch_image(struct fetch_ctx *ctx, const struct fetch_pin *pin, char **ret_path,
	    bool *ret_downloaded)
{
	CLEANUP_FREE char *dir = NULL, *final = NULL;
	char hex[DIGEST_HEX_MAX];
	enum digest_alg alg;
	bool downloaded = false;
	int fd = -1, r;

	ctx->err[0] = '\0';
	r = pin_paths(ctx, pin, &alg, hex, &dir, &final);
	if (r < 0)
		return r;
	if (exists(final))
		goto done;
	if ((ctx->flags & FETCH_OFFLINE) &&
	    !str_starts_with(pin->url, "file://")) {
		set_err(ctx, "'%s' (%s) is not in the cache '%s'", pin->file,
			pin->checksum, ctx->cache_dir);
		return -ENOENT;
	}
	r = check_url(ctx, pin->url);
	if (r < 0)
		return r;
	r = lock_dir(ctx, dir, &fd);
	if (r < 0)
		return r;
	/* Another process may have finished it while we waited. */
	if (!exists(final)) {
		r = download(ctx, pin, alg, hex, dir, final);
		downloaded = r == 0;
	}
	close(fd);
	if (r < 0)
		return r;
done:
	ctx->err[0] = '\0';
	*ret_path = final;
	final = NULL;
	if (ret_downloaded != NULL)
		*ret_downloaded = downloaded;
	return 0;
}

int
fetch_import(struct fetch_ctx *ctx, const struct fetch_pin *pin,
	     const char *src, char **ret_path)
{
	CLEANUP_FREE char *dir = NULL, *final = NULL, *tmp = NULL;
	char hex[DIGEST_HEX_MAX], buf[1 << 16];
	struct digest *d = NULL;
	enum digest_alg alg;
	uint64_t size = 0;
	int in, out = -1, lk = -1, r;
	ssize_t n;

	ctx->err[0] = '\0';
	r = pin_paths(ctx, pin, &alg, hex, &dir, &final);
	if (r < 0)
		return r;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		r = -errno;
		set_err(ctx, "cannot open '%s': %s", src, strerror(errno));
		return r;
	}
	r = lock_dir(ctx, dir, &lk);
	if (r < 0)
		goto out;
	tmp = xasprintf("%s.import-XXXXXX", final);
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		r = -errno;
		set_err(ctx, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	d = digest_new(alg);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			set_err(ctx, "cannot read '%s': %s", src,
				strerror(errno));
			break;
		}
		digest_update(d, buf, (size_t)n);
		size += (uint64_t)n;
		r = write_all(out, buf, (size_t)n);
		if (r < 0) {
			set_err(ctx, "cannot write '%s': %s", tmp,
				strerror(-r));
			break;
		}
	}
	if (r < 0) {
		unlink(tmp);
		goto out;
	}
	if (fchmod(out, 0644) < 0) {
		r = -errno;
		unlink(tmp);
		goto out;
	}
	r = finish(ctx, pin, d, alg, hex, size, out, tmp, final, dir);
	if (r == 0) {
		/* An interrupted download of the same file is now moot. */
		CLEANUP_FREE char *part = xasprintf("%s.part", final);

		unlink(part);
	}
out:
	digest_free(d);
	if (out >= 0)
		close(out);
	if (lk >= 0)
		close(lk);
	close(in);
	if (r < 0)
		return r;
	*ret_path = final;
	final = NULL;
	return 0;
}

/* --- Fedora releases --------------------------------------------------- */

static const char *
ystr(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	return v != NULL && v->kind == YNODE_SCALAR ? v->str : NULL;
}

static bool
numeric(const char *s)
{
	return s != NULL && *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

int
fedora_release_find(const char *json, size_t len, const char *version,
		    const char *arch, char **ret_version, char **ret_link,
		    char **ret_sha256)
{
	struct diag_list *diags = diag_list_new();
	const struct ynode *best = NULL;
	struct ynode *root = NULL;
	long best_v = -1;
	int r;

	r = ytree_parse("releases.json", json, len, diags, &root);
	diag_list_free(diags);
	if (r < 0)
		return -EINVAL;
	if (root->kind != YNODE_SEQ) {
		ynode_free(root);
		return -EINVAL;
	}
	for (size_t i = 0; i < root->n; i++) {
		const struct ynode *e = root->items[i];
		const char *v = ystr(e, "version"), *link = ystr(e, "link");
		const char *a = ystr(e, "arch"), *var = ystr(e, "variant");
		const char *sub = ystr(e, "subvariant");
		const char *sha = ystr(e, "sha256");
		long num;

		if (v == NULL || link == NULL || a == NULL || var == NULL ||
		    sub == NULL || sha == NULL || strcmp(a, arch) != 0 ||
		    strcmp(var, "Cloud") != 0 ||
		    strcmp(sub, "Cloud_Base") != 0 ||
		    !str_ends_with(link, ".qcow2") || strlen(sha) != 64 ||
		    !is_hex(sha, 64))
			continue;
		if (version != NULL ? strcmp(v, version) != 0 : !numeric(v))
			continue;
		num = strtol(v, NULL, 10);
		/* Prefer the Generic image over other qcow2 flavours. */
		if (best == NULL || num > best_v ||
		    (num == best_v && strstr(link, "-Generic-") != NULL &&
		     strstr(ystr(best, "link"), "-Generic-") == NULL)) {
			best = e;
			best_v = num;
		}
	}
	if (best == NULL) {
		ynode_free(root);
		return -ENOENT;
	}
	*ret_version = xstrdup(ystr(best, "version"));
	*ret_link = xstrdup(ystr(best, "link"));
	*ret_sha256 = xstrdup(ystr(best, "sha256"));
	for (char *c = *ret_sha256; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	ynode_free(root);
	return 0;
}

/* Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2 in .../images/ →
 * .../images/Fedora-Cloud-44-1.7-x86_64-CHECKSUM. */
static char *
fedora_checksum_url(const char *link, const char *version, const char *arch)
{
	CLEANUP_FREE char *file = url_basename(link);
	CLEANUP_FREE char *needle = xasprintf("-%s-", version);
	CLEANUP_FREE char *tail = xasprintf(".%s.qcow2", arch);
	const char *v = strstr(file, needle);
	size_t dirlen = strlen(link) - strlen(file);

	if (v == NULL || !str_ends_with(file, tail))
		return NULL;
	v++;
	return xasprintf("%.*sFedora-Cloud-%.*s-%s-CHECKSUM", (int)dirlen, link,
			 (int)(strlen(v) - strlen(tail)), v, arch);
}

int
fetch_fedora_release(struct fetch_ctx *ctx, const char *releases_url,
		     const char *version, const char *arch, const char *key_url,
		     const char *key_fingerprint, struct fetch_pin *ret)
{
	CLEANUP_FREE char *json = NULL, *ver = NULL, *link = NULL, *sha = NULL,
			  *sum_url = NULL, *want = NULL;
	struct fetch_pin pin;
	struct base b = {0};
	size_t len;
	int r;

	ctx->err[0] = '\0';
	r = fetch_small(ctx, releases_url, &json, &len);
	if (r < 0)
		return r;
	r = fedora_release_find(json, len, version, arch, &ver, &link, &sha);
	if (r == -EINVAL) {
		set_err(ctx, "'%s' is not a Fedora release list", releases_url);
		return r;
	}
	if (r < 0) {
		set_err(ctx, "'%s' lists no Cloud Base image for Fedora %s %s",
			releases_url, version ? version : "(newest)", arch);
		return r;
	}
	sum_url = fedora_checksum_url(link, ver, arch);
	if (sum_url == NULL) {
		set_err(ctx, "cannot derive the CHECKSUM file of '%s'", link);
		return -EINVAL;
	}
	b.name = ver;
	b.distro = DISTRO_FEDORA;
	b.url = link;
	b.checksum_url = sum_url;
	b.key_fingerprint = (char *)key_fingerprint;
	b.key_url = (char *)key_url;
	r = fetch_resolve(ctx, &b, &pin);
	if (r < 0)
		return r;
	want = xasprintf("sha256:%s", sha);
	if (strcmp(pin.checksum, want) != 0) {
		set_err(ctx,
			"'%s' says %s for '%s' but its signed CHECKSUM "
			"says %s",
			releases_url, want, pin.file, pin.checksum);
		fetch_pin_clear(&pin);
		return -EBADMSG;
	}
	*ret = pin;
	return 0;
}
