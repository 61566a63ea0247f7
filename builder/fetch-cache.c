/* Fetching, the image cache: CACHE/images/ALG/HEX/FILE, locked per
 * image, filled by a resumable download or an import, entered only after
 * the digest and size match the pin. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fetch-int.h"
#include "fetch.h"
#include "progress.h"
#include "util.h"

static int
pin_paths(struct fetch_ctx *ctx, const struct fetch_pin *pin,
	  enum digest_alg *ret_alg, char hex[DIGEST_HEX_MAX], char **ret_dir,
	  char **ret_final)
{
	enum digest_alg alg;

	if (fetch_parse_checksum(pin->checksum, &alg, hex) < 0) {
		fetch_set_err(ctx, "bad checksum '%s' for '%s'",
			      pin->checksum ? pin->checksum : "", pin->file);
		return -EINVAL;
	}
	if (!fetch_valid_file_name(pin->file)) {
		fetch_set_err(ctx, "bad image file name '%s'",
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
		fetch_set_err(ctx, "cannot create '%s': %s", dir, strerror(-r));
		return r;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		fetch_set_err(ctx, "cannot open '%s': %s", path,
			      strerror(errno));
		return r;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		r = -errno;
		fetch_set_err(ctx, "cannot lock '%s': %s", path,
			      strerror(errno));
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
		fetch_set_err(ctx,
			      "checksum mismatch for '%s': expected %s:%s, got "
			      "%s:%s",
			      pin->file, digest_alg_name(alg), want,
			      digest_alg_name(alg), got);
		r = -EBADMSG;
	} else if (pin->size != 0 && size != pin->size) {
		fetch_set_err(ctx,
			      "size mismatch for '%s': expected %llu, got %llu",
			      pin->file, (unsigned long long)pin->size,
			      (unsigned long long)size);
		r = -EBADMSG;
	} else if (fsync(fd) < 0 || rename(tmp, final) < 0) {
		r = -errno;
		fetch_set_err(ctx, "cannot store '%s': %s", final,
			      strerror(errno));
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
		fetch_set_err(ctx, "cannot open '%s': %s", part,
			      strerror(errno));
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
		fetch_set_err(ctx, "cannot read '%s': %s", part, strerror(-r));
		goto out;
	}
	x.offset = have;
	x.label = pin->file;
	x.size = pin->size;
	if (pin->size != 0 && have == pin->size) {
		r = 0; /* complete already: only the check is left */
	} else {
		r = fetch_perform(&x);
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
			r = fetch_perform(&x);
		}
	}
	progress_done(x.prog);
	x.prog = NULL;
	if (r == -EFBIG) {
		fetch_set_err(ctx, "'%s' is larger than the pinned %llu bytes",
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
		fetch_set_err(ctx, "'%s' (%s) is not in the cache '%s'",
			      pin->file, pin->checksum, ctx->cache_dir);
		return -ENOENT;
	}
	r = fetch_check_url(ctx, pin->url);
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
		fetch_set_err(ctx, "cannot open '%s': %s", src,
			      strerror(errno));
		return r;
	}
	r = lock_dir(ctx, dir, &lk);
	if (r < 0)
		goto out;
	tmp = xasprintf("%s.import-XXXXXX", final);
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		r = -errno;
		fetch_set_err(ctx, "cannot create '%s': %s", tmp,
			      strerror(errno));
		goto out;
	}
	d = digest_new(alg);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			fetch_set_err(ctx, "cannot read '%s': %s", src,
				      strerror(errno));
			break;
		}
		digest_update(d, buf, (size_t)n);
		size += (uint64_t)n;
		r = write_all(out, buf, (size_t)n);
		if (r < 0) {
			fetch_set_err(ctx, "cannot write '%s': %s", tmp,
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
