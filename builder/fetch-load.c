/* The host side of a download: the libcurl module (fetch-http.c) is
 * loaded at the first transfer (module.h), so commands that download
 * nothing never load libcurl and the libraries it pulls in. */
#include <errno.h>
#include <stdlib.h>

#include "fetch-int.h"
#include "module.h"
#include "util.h"

/* Linked into a test binary; sbx-build itself loads it (module.h). */
extern const struct fetch_http sbx_fetch_http __attribute__((weak));

int
fetch_perform(struct xfer *x)
{
	CLEANUP_FREE char *err = NULL;
	const void *m = NULL;
	int r = module_load(FETCH_MODULE, FETCH_MODULE_SYMBOL, &sbx_fetch_http,
			    FETCH_MODULE_ABI, &m, &err);

	if (r < 0) {
		fetch_set_err(x->ctx, "cannot download '%s': %s", x->url, err);
		return r;
	}
	return ((const struct fetch_http *)m)->perform(x);
}

int
fetch_small(struct fetch_ctx *ctx, const char *url, char **ret, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	struct xfer x = {.ctx = ctx, .url = url, .mem = &sb, .fd = -1};
	int r;

	r = fetch_perform(&x);
	if (r < 0) {
		sb_release(&sb);
		return r;
	}
	*ret = sb_detach(&sb, ret_len);
	return 0;
}
