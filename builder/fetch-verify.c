/* Fetching, trust: checksum lines (sha256sum and BSD style), ASCII-armored
 * OpenPGP keys and the clear-signed checksum files checked with gpgv
 * against a pinned fingerprint. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fetch-int.h"
#include "fetch.h"
#include "run.h"
#include "util.h"

bool
fetch_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "sha256:HEX" → alg and lower-case hex. */
int
fetch_parse_checksum(const char *s, enum digest_alg *ret_alg,
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
	if (n != digest_hex_len(alg) || !fetch_is_hex(colon + 1, n))
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		ret_hex[i] = (char)tolower((unsigned char)colon[1 + i]);
	*ret_alg = alg;
	return 0;
}

bool
fetch_valid_file_name(const char *f)
{
	return f != NULL && *f != '\0' && *f != '.' && strchr(f, '/') == NULL;
}

/* The last path component of a URL, without query or fragment. */
char *
fetch_url_basename(const char *url)
{
	size_t n = strcspn(url, "?#");
	const char *s = url + n;

	while (s > url && s[-1] != '/')
		s--;
	return xstrndup(s, (size_t)(url + n - s));
}

/* Finds file in a checksum file: BSD lines "SHA256 (file) = hex" (Fedora)
 * or GNU lines "hex  file" (Debian), plus Fedora's "# file: N bytes". */
int
fetch_checksum_find(const char *text, const char *file, char **ret_checksum,
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
			    fetch_is_hex(hex, strlen(hex)) && found == NULL)
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

void
fetch_normalize_fpr(const char *in, char out[FPR_LEN + 1])
{
	size_t n = 0;

	for (; *in != '\0' && n < FPR_LEN + 1; in++)
		if (!isspace((unsigned char)*in))
			out[n++] = (char)toupper((unsigned char)*in);
	if (n != FPR_LEN || !fetch_is_hex(out, n))
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
		fetch_set_err(ctx, "cannot run gpgv to check %s", what);
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
		fetch_set_err(ctx,
			      "bad, expired or revoked OpenPGP signature on %s",
			      what);
	else if (status != 0) {
		if (nokey)
			fetch_set_err(
				ctx,
				"%s is signed by key %s, which is not in the "
				"keyring (pinned key %s)",
				what, *other ? other : "(unknown)", fpr);
		else
			fetch_set_err(ctx, "cannot verify the signature on %s",
				      what);
	} else if (!good)
		fetch_set_err(
			ctx, "%s is signed by key %s, not by the pinned key %s",
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
		fetch_set_err(ctx, "cannot create the cache '%s': %s",
			      ctx->cache_dir, strerror(-r));
		return r;
	}
	t = xasprintf("%s/tmp-XXXXXX", ctx->cache_dir);
	if (mkdtemp(t) == NULL) {
		r = -errno;
		fetch_set_err(ctx, "cannot create a directory in '%s': %s",
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
int
fetch_verify_signed(struct fetch_ctx *ctx, const char *text, size_t len,
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
			fetch_set_err(ctx, "cannot read keyring '%s': %s", p,
				      strerror(-r));
	} else {
		r = fetch_small(ctx, key_url, &keys, &klen);
	}
	if (r < 0)
		return r;
	if (dearmor(keys, klen, &bin) < 0) {
		fetch_set_err(ctx, "'%s' holds no OpenPGP public key", key_url);
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
		fetch_set_err(ctx, "cannot write to '%s': %s", tmp,
			      strerror(-r));
	else
		r = run_gpgv(ctx, tmp, kr, in, out, fpr, what);
	if (r == 0) {
		r = read_file(out, ret, ret_len);
		if (r < 0)
			fetch_set_err(ctx, "cannot read gpgv's output: %s",
				      strerror(-r));
	}
	rm_rf(tmp);
	return r;
}
