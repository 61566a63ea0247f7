/* Bundles, unpacking (unpack_bundle in pack.h): stream the tar.zst, check
 * the signature before any other member is written, every name, size and
 * checksum, and the free space, without trusting anything in it.  With
 * pack.c, the only files that include libarchive's headers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "digest.h"
#include "pack-int.h"
#include "pack.h"
#include "progress.h"
#include "util.h"

/* Why an entry may not be extracted, or NULL.  Only plain regular files
 * at the bundle's top level pass. */
static int
check_entry(struct archive_entry *e, char **ret_err)
{
	const char *name = archive_entry_pathname(e);
	const char *link;
	mode_t type = archive_entry_filetype(e);

	if (name == NULL || *name == '\0')
		return ret_errf(ret_err, -EBADMSG,
				"entry without a usable name");
	if (name[0] == '/')
		return ret_errf(ret_err, -EBADMSG, "'%s': absolute path", name);
	if (strcmp(name, "..") == 0 || str_starts_with(name, "../") ||
	    strstr(name, "/../") != NULL || str_ends_with(name, "/.."))
		return ret_errf(ret_err, -EBADMSG,
				"'%s': path leaves the bundle ('..')", name);
	if ((link = archive_entry_symlink(e)) != NULL || type == AE_IFLNK)
		return ret_errf(ret_err, -EBADMSG,
				"'%s': symbolic link to '%s'", name,
				link ? link : "?");
	if ((link = archive_entry_hardlink(e)) != NULL)
		return ret_errf(ret_err, -EBADMSG, "'%s': hard link to '%s'",
				name, link);
	if (type != AE_IFREG)
		return ret_errf(ret_err, -EBADMSG,
				"'%s': not a regular file (%s)", name,
				type == AE_IFDIR    ? "directory"
				: type == AE_IFCHR  ? "character device"
				: type == AE_IFBLK  ? "block device"
				: type == AE_IFIFO  ? "fifo"
				: type == AE_IFSOCK ? "socket"
						    : "unknown type");
	if (!pack_name_ok(name, strlen(name)))
		return ret_errf(ret_err, -EBADMSG,
				"'%s': not a plain top-level file name", name);
	return 0;
}

static int
archive_fail(struct archive *a, char **ret_err, const char *member)
{
	const char *s = archive_error_string(a);

	if (s == NULL)
		s = "unexpected end of data";
	if (member != NULL)
		return ret_errf(ret_err, -EBADMSG,
				"'%s': bundle is truncated or corrupt: %s",
				member, s);
	return ret_errf(ret_err, -EBADMSG, "bundle is truncated or corrupt: %s",
			s);
}

/* Copies the current entry's data to dir/name (created exclusively),
 * hashing it; with max > 0 also keeps it in *keep.  The entry must hold
 * exactly want bytes (its size in SHA256SUMS; UINT64_MAX: any size up to
 * max): a longer one is refused before a byte beyond want is written. */
static int
extract_entry(struct archive *a, struct archive_entry *e, const char *dir,
	      struct progress *p, char ret_hex[DIGEST_HEX_MAX],
	      struct strbuf *keep, size_t max, uint64_t want, char **ret_err)
{
	const char *name = archive_entry_pathname(e);
	CLEANUP_FREE char *path = path_join(dir, name);
	mode_t mode = pack_member_mode(name);
	struct digest *d = NULL;
	char *buf = NULL;
	uint64_t done = 0;
	int fd, r = 0;

	if (max > 0 && archive_entry_size_is_set(e) &&
	    archive_entry_size(e) > (la_int64_t)max)
		return ret_errf(ret_err, -EBADMSG, "'%s' is too large", name);
	if (want != UINT64_MAX && archive_entry_size_is_set(e) &&
	    (uint64_t)archive_entry_size(e) != want)
		return ret_errf(ret_err, -EBADMSG,
				"'%s' holds %" PRId64 " bytes, SHA256SUMS says "
				"%" PRIu64,
				name, (int64_t)archive_entry_size(e), want);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return ret_errf(ret_err, -errno, "cannot create '%s': %s", path,
				strerror(errno));
	buf = xmalloc(IO_CHUNK);
	d = digest_new(DIGEST_SHA256);
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, IO_CHUNK);

		if (n == 0)
			break;
		if (n < 0) {
			r = archive_fail(a, ret_err, name);
			goto out;
		}
		if (max > 0 && keep->len + (size_t)n > max) {
			r = ret_errf(ret_err, -EBADMSG, "'%s' is too large",
				     name);
			goto out;
		}
		if (want != UINT64_MAX && (uint64_t)n > want - done) {
			r = ret_errf(ret_err, -EBADMSG,
				     "'%s' is larger than the %" PRIu64
				     " bytes SHA256SUMS says",
				     name, want);
			goto out;
		}
		done += (uint64_t)n;
		if (max > 0)
			sb_add(keep, buf, (size_t)n);
		digest_update(d, buf, (size_t)n);
		r = write_all(fd, buf, (size_t)n);
		if (r < 0) {
			r = ret_errf(ret_err, r, "cannot write '%s': %s", path,
				     strerror(-r));
			goto out;
		}
		progress_update(p, (uint64_t)archive_filter_bytes(a, -1));
	}
	if (want != UINT64_MAX && done != want)
		r = ret_errf(ret_err, -EBADMSG,
			     "'%s' is shorter than the %" PRIu64
			     " bytes SHA256SUMS says",
			     name, want);
	else if (fsync(fd) < 0)
		r = ret_errf(ret_err, -errno, "cannot write '%s': %s", path,
			     strerror(errno));
out:
	if (close(fd) < 0 && r == 0)
		r = ret_errf(ret_err, -errno, "cannot write '%s': %s", path,
			     strerror(errno));
	if (r == 0)
		digest_final_hex(d, ret_hex);
	digest_free(d);
	free(buf);
	return r;
}

/* The next entry, checked: 0; end of the bundle: 1; else < 0. */
static int
next_entry(struct archive *a, struct archive_entry **ret_e, char **ret_err)
{
	int r = archive_read_next_header(a, ret_e);

	if (r == ARCHIVE_EOF)
		return 1;
	/* Strict: even a warning means this is not a bundle we wrote. */
	if (r != ARCHIVE_OK)
		return archive_fail(a, ret_err, NULL);
	return check_entry(*ret_e, ret_err);
}

/* Missing, or an empty directory: 0.  Otherwise -EEXIST. */
static int
target_free(const char *target, char **ret_err)
{
	struct stat st;
	DIR *d;
	int r = 0;

	if (lstat(target, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return ret_errf(ret_err, -errno, "cannot access '%s': %s",
				target, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return ret_errf(ret_err, -EEXIST, "'%s' exists", target);
	d = opendir(target);
	if (d == NULL)
		return ret_errf(ret_err, -errno, "cannot open '%s': %s", target,
				strerror(errno));
	if (dir_no_entries(d) < 0)
		r = ret_errf(ret_err, -EEXIST, "'%s' exists and is not empty",
			     target);
	closedir(d);
	return r;
}

/* The members' sizes (from SHA256SUMS) fit in dir's file system. */
static int
space_ok(const char *dir, const struct sums *sums, char **ret_err)
{
	struct statvfs sv;
	uint64_t total = 0, avail;

	for (size_t i = 0; i < sums->n; i++) {
		if (sums->v[i].size > UINT64_MAX / 2 - total)
			return ret_errf(ret_err, -EFBIG, "bundle is too large");
		total += sums->v[i].size;
	}
	if (statvfs(dir, &sv) < 0)
		return ret_errf(ret_err, -errno,
				"cannot check free space in "
				"'%s': %s",
				dir, strerror(errno));
	avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	if (total > avail)
		return ret_errf(ret_err, -ENOSPC,
				"bundle needs %" PRIu64 " bytes, only %" PRIu64
				" are free in '%s'",
				total, avail, dir);
	return 0;
}

/* SHA256SUMS first, then maybe its signature, extracted into tmp and
 * parsed into *sums before any other member is read.  Returns what
 * next_entry returned for the member after them (*ret_e). */
static int
read_head(struct archive *a, const char *tmp, struct progress *p,
	  struct sums *sums, struct unpack_info *info,
	  struct archive_entry **ret_e, char **ret_err)
{
	struct strbuf text = STRBUF_INIT, sigbuf = STRBUF_INIT;
	struct archive_entry *e;
	char hex[DIGEST_HEX_MAX];
	int r;

	r = next_entry(a, &e, ret_err);
	if (r == 1)
		r = ret_errf(ret_err, -EBADMSG, "bundle is empty");
	if (r < 0)
		goto out;
	if (strcmp(archive_entry_pathname(e), PACK_SUMS_NAME) != 0) {
		r = ret_errf(
			ret_err, -EBADMSG,
			"not an sbx-build bundle: it starts with '%s', not "
			"SHA256SUMS",
			archive_entry_pathname(e));
		goto out;
	}
	r = extract_entry(a, e, tmp, p, hex, &text, SUMS_MAX, UINT64_MAX,
			  ret_err);
	if (r < 0)
		goto out;
	r = pack_sums_parse(text.buf ? text.buf : "", text.len, sums, ret_err);
	if (r < 0)
		goto out;
	info->n_files++;

	r = next_entry(a, &e, ret_err);
	if (r == 0 && strcmp(archive_entry_pathname(e), PACK_SIG_NAME) == 0) {
		r = extract_entry(a, e, tmp, p, hex, &sigbuf, SIG_MAX,
				  UINT64_MAX, ret_err);
		if (r < 0)
			goto out;
		info->is_signed = true;
		info->n_files++;
		r = next_entry(a, &e, ret_err);
	}
	*ret_e = e;
out:
	sb_release(&text);
	sb_release(&sigbuf);
	return r;
}

/* With allowed signers, a signature by one of them is required;
 * without, a signature present must at least be well-formed. */
static int
check_signature(const struct unpack_options *opts, const char *tmp,
		struct unpack_info *info, char **ret_err)
{
	CLEANUP_FREE char *sp = path_join(tmp, PACK_SUMS_NAME);
	CLEANUP_FREE char *gp = path_join(tmp, PACK_SIG_NAME);

	if (opts->allowed_signers != NULL) {
		if (!info->is_signed)
			return ret_errf(
				ret_err, -EPERM,
				"bundle is not signed, but a signature is "
				"required (--allowed-signers)");
		return pack_ssh_verify(opts->allowed_signers, opts->identity,
				       sp, gp, &info->signer, ret_err);
	}
	if (info->is_signed)
		return pack_ssh_check(sp, gp, ret_err);
	return 0;
}

/* Every other member, from e on (r: what next_entry returned for it):
 * listed, once, intact; and none listed is missing. */
static int
read_members(struct archive *a, struct archive_entry *e, int r, const char *tmp,
	     struct progress *p, struct sums *sums, struct unpack_info *info,
	     char **ret_err)
{
	char hex[DIGEST_HEX_MAX];

	for (; r == 0; r = next_entry(a, &e, ret_err)) {
		const char *name = archive_entry_pathname(e);
		struct sum *s = pack_sums_find(sums, name);

		if (s != NULL && s->seen)
			return ret_errf(ret_err, -EBADMSG,
					"'%s': duplicate entry", name);
		if (s == NULL) {
			bool dup = strcmp(name, PACK_SUMS_NAME) == 0 ||
				   strcmp(name, PACK_SIG_NAME) == 0;

			return ret_errf(ret_err, -EBADMSG, "'%s': %s", name,
					dup ? "duplicate entry"
					    : "not listed in SHA256SUMS");
		}
		s->seen = true;
		r = extract_entry(a, e, tmp, p, hex, NULL, 0, s->size, ret_err);
		if (r < 0)
			return r;
		if (strcmp(hex, s->hex) != 0)
			return ret_errf(
				ret_err, -EBADMSG,
				"'%s': checksum mismatch (SHA256SUMS says "
				"%.12s..., data is %.12s...)",
				name, s->hex, hex);
		info->n_files++;
		if (str_ends_with(name, ".qcow2"))
			info->n_vms++;
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < sums->n; i++)
		if (!sums->v[i].seen)
			return ret_errf(ret_err, -EBADMSG,
					"bundle is truncated or incomplete: "
					"'%s' is missing",
					sums->v[i].name);
	return 0;
}

int
la_unpack_bundle(const char *bundle, const char *target,
		 const struct unpack_options *opts,
		 struct unpack_info *ret_info, char **ret_err)
{
	struct unpack_info info = {0};
	struct sums sums = {0};
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	struct progress *p = NULL;
	char *tgt = NULL, *tmp = NULL;
	struct stat st;
	size_t len;
	int r;

	if (ret_err != NULL)
		*ret_err = NULL;
	if (opts->allowed_signers != NULL &&
	    access(opts->allowed_signers, R_OK) < 0)
		return ret_errf(ret_err, -errno, "cannot read '%s': %s",
				opts->allowed_signers, strerror(errno));
	tgt = xstrdup(target);
	len = strlen(tgt);
	while (len > 1 && tgt[len - 1] == '/')
		tgt[--len] = '\0';
	r = target_free(tgt, ret_err);
	if (r < 0)
		goto out;
	if (stat(bundle, &st) < 0) {
		r = ret_errf(ret_err, -errno, "cannot open '%s': %s", bundle,
			     strerror(errno));
		goto out;
	}
	tmp = xasprintf("%s.tmp-XXXXXX", tgt);
	if (mkdtemp(tmp) == NULL) {
		r = ret_errf(ret_err, -errno, "cannot create '%s': %s", tmp,
			     strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}

	a = archive_read_new();
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, bundle, IO_CHUNK) != ARCHIVE_OK) {
		r = archive_fail(a, ret_err, NULL);
		goto out;
	}
	{
		const char *base = strrchr(bundle, '/');
		CLEANUP_FREE char *label =
			xasprintf("unpacking %s", base ? base + 1 : bundle);

		p = progress_new(label, (uint64_t)st.st_size);
	}

	r = read_head(a, tmp, p, &sums, &info, &e, ret_err);
	if (r < 0)
		goto out;
	{
		int v = check_signature(opts, tmp, &info, ret_err);

		if (v == 0)
			v = space_ok(tmp, &sums, ret_err);
		if (v < 0) {
			r = v;
			goto out;
		}
	}
	r = read_members(a, e, r, tmp, p, &sums, &info, ret_err);
	if (r < 0)
		goto out;
	progress_update(p, (uint64_t)st.st_size);

	if (chmod(tmp, 0755) < 0 || rename(tmp, tgt) < 0) {
		r = ret_errf(ret_err, -errno, "cannot rename '%s' to '%s': %s",
			     tmp, tgt, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	r = 0;
	if (ret_info != NULL) {
		*ret_info = info;
		info = (struct unpack_info){0};
	}
out:
	progress_done(p);
	if (a != NULL)
		archive_read_free(a);
	if (tmp != NULL)
		rm_rf(tmp);
	free(tmp);
	free(tgt);
	pack_sums_free(&sums);
	unpack_info_clear(&info);
	return r;
}
