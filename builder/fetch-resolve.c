/* Fetching, resolving: a recipe's base (URL and signed checksum file, or
 * a Fedora release through releases.json) becomes a pin: URL, file
 * name, size, checksum. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "distro.h"
#include "fetch-int.h"
#include "fetch.h"
#include "recipe.h"
#include "util.h"
#include "ytree.h"

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
		fetch_set_err(ctx, "base '%s' is a local file, not a download",
			      b->name);
		return -EINVAL;
	}
	if (d == NULL) {
		fetch_set_err(ctx, "base '%s' has an unknown distribution",
			      b->name);
		return -EINVAL;
	}
	file = fetch_url_basename(b->url);
	if (!fetch_valid_file_name(file)) {
		fetch_set_err(ctx, "'%s' does not name a file", b->url);
		return -EINVAL;
	}
	if (b->checksum != NULL &&
	    fetch_parse_checksum(b->checksum, &alg, hex) < 0) {
		fetch_set_err(ctx, "base '%s': bad checksum '%s'", b->name,
			      b->checksum);
		return -EINVAL;
	}
	if (b->key_fingerprint != NULL) {
		fetch_normalize_fpr(b->key_fingerprint, fpr);
		if (*fpr == '\0') {
			fetch_set_err(ctx,
				      "base '%s': bad key fingerprint '%s'",
				      b->name, b->key_fingerprint);
			return -EINVAL;
		}
	}
	if (b->checksum_url == NULL ||
	    (b->checksum != NULL && (ctx->flags & FETCH_OFFLINE) &&
	     !str_starts_with(b->checksum_url, "file://"))) {
		if (b->checksum == NULL) {
			fetch_set_err(ctx,
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
		fetch_set_err(
			ctx,
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
		r = fetch_verify_signed(ctx, text, len, b->key_url, fpr, what,
					&content, &len);
		if (r < 0)
			return r;
	} else {
		content = text;
		text = NULL;
	}
	if (strlen(content) != len) {
		fetch_set_err(ctx, "'%s' is not a text file", b->checksum_url);
		return -EBADMSG;
	}
	r = fetch_checksum_find(content, file, &found, &size);
	if (r < 0) {
		fetch_set_err(ctx, "'%s' has no checksum for '%s'",
			      b->checksum_url, file);
		return -ENOENT;
	}
	if (b->checksum != NULL) {
		CLEANUP_FREE char *pinned =
			xasprintf("%s:%s", digest_alg_name(alg), hex);

		if (strcmp(pinned, found) != 0) {
			fetch_set_err(ctx,
				      "base '%s' pins %s but '%s' says %s for "
				      "'%s'",
				      b->name, pinned, b->checksum_url, found,
				      file);
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
		    !fetch_is_hex(sha, 64))
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
	CLEANUP_FREE char *file = fetch_url_basename(link);
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
		fetch_set_err(ctx, "'%s' is not a Fedora release list",
			      releases_url);
		return r;
	}
	if (r < 0) {
		fetch_set_err(
			ctx, "'%s' lists no Cloud Base image for Fedora %s %s",
			releases_url, version ? version : "(newest)", arch);
		return r;
	}
	sum_url = fedora_checksum_url(link, ver, arch);
	if (sum_url == NULL) {
		fetch_set_err(ctx, "cannot derive the CHECKSUM file of '%s'",
			      link);
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
		fetch_set_err(ctx,
			      "'%s' says %s for '%s' but its signed CHECKSUM "
			      "says %s",
			      releases_url, want, pin.file, pin.checksum);
		fetch_pin_clear(&pin);
		return -EBADMSG;
	}
	*ret = pin;
	return 0;
}
