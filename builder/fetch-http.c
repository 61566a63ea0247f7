/* libcurl in: one transfer of a URL into memory or a file, verified
 * while it streams, resumable, with progress.  The only file that
 * includes <curl/curl.h>; the libcurl module (module.h), reached only
 * through sbx_fetch_http (fetch-load.c). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "digest.h"
#include "fetch-int.h"
#include "fetch.h"
#include "progress.h"
#include "util.h"

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

	r = fetch_check_url(ctx, x->url);
	if (r < 0)
		return r;
	/* Thread-safe and idempotent since curl 7.84. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	x->h = curl_easy_init();
	if (x->h == NULL) {
		fetch_set_err(ctx, "cannot start a transfer");
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
		fetch_set_err(ctx, "'%s' is not on the server (HTTP %ld)",
			      x->url, code);
		return -ENOENT;
	}
	if (code == 416) {
		fetch_set_err(ctx, "server refused the resume range for '%s'",
			      x->url);
		return -ERANGE;
	}
	if (code >= 300) {
		fetch_set_err(ctx, "server answered HTTP %ld for '%s'", code,
			      x->url);
		return -EIO;
	}
	if (x->err < 0) {
		fetch_set_err(ctx, "cannot store '%s': %s", x->url,
			      x->err == -EFBIG ? "larger than expected"
					       : strerror(-x->err));
		return x->err;
	}
	if (c == CURLE_BAD_DOWNLOAD_RESUME) {
		fetch_set_err(ctx, "cannot resume '%s': %s", x->url, errbuf);
		return -ERANGE;
	}
	if (c != CURLE_OK) {
		fetch_set_err(ctx, "cannot download '%s': %s", x->url,
			      *errbuf ? errbuf : curl_easy_strerror(c));
		return curl_errno(c);
	}
	if (!x->checked) {
		/* An empty body: still decide between resume and restart. */
		r = check_answer(x);
		if (r < 0) {
			fetch_set_err(ctx, "cannot store '%s': %s", x->url,
				      strerror(-r));
			return r;
		}
	}
	return 0;
}

/* What fetch-load.c loads (module.h): not declared in a header,
 * fetch-load.c declares it weak. */
const struct fetch_http sbx_fetch_http = {
	.head = {.version = SBX_VERSION, .abi = FETCH_MODULE_ABI},
	.perform = perform,
};
