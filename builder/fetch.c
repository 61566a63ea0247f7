/* Fetching, the context every fetch module shares: the cache directory,
 * the flags (offline, plain http), the stall timeout and the last error
 * in words; pins (what a base resolved to).  fetch-http.c moves the
 * bytes, fetch-verify.c checks checksums and signatures, fetch-resolve.c
 * turns a base into a pin, fetch-cache.c keeps the pinned images.
 * fetch-http.c is the libcurl module, loaded by fetch-load.c at the
 * first transfer; no other file includes <curl/curl.h>. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch-int.h"
#include "fetch.h"
#include "util.h"

void
fetch_set_err(struct fetch_ctx *ctx, const char *fmt, ...)
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

int
fetch_check_url(struct fetch_ctx *ctx, const char *url)
{
	if (str_starts_with(url, "file://"))
		return 0;
	if (str_starts_with(url, "http://")) {
		if (!(ctx->flags & FETCH_ALLOW_HTTP)) {
			fetch_set_err(
				ctx,
				"refusing plain http URL '%s' (use https, or "
				"--allow-http)",
				url);
			return -EPERM;
		}
	} else if (!str_starts_with(url, "https://")) {
		fetch_set_err(ctx, "unsupported URL '%s' (https:// or file://)",
			      url);
		return -EPROTONOSUPPORT;
	}
	if (ctx->flags & FETCH_OFFLINE) {
		fetch_set_err(ctx, "offline: not downloading '%s'", url);
		return -ENETUNREACH;
	}
	return 0;
}
