/* Bundles, packing: out/ into a deterministic, optionally signed tar.zst
 * (pack_bundle; see pack.h for the layout).  pack-unpack.c reads one back;
 * pack-util.c, pack-tools.c and pack-sums.c hold what both use.  With
 * pack-unpack.c, the only files that include libarchive's headers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "digest.h"
#include "pack-int.h"
#include "pack.h"
#include "progress.h"
#include "util.h"

struct member {
	char *name; /* in the bundle */
	char *path; /* on disk */
	mode_t mode;
	char hex[DIGEST_HEX_MAX];
	uint64_t size; /* as listed in SHA256SUMS */
};

struct members {
	struct member *v;
	size_t n, cap;
};

static void
members_add(struct members *m, const char *name, char *path, mode_t mode)
{
	m->v = xgrow(m->v, &m->cap, m->n + 1, sizeof(*m->v));
	m->v[m->n++] = (struct member){
		.name = xstrdup(name), .path = path, .mode = mode};
}

static void
members_free(struct members *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].path);
	}
	free(m->v);
}

static int
cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name,
		      ((const struct member *)b)->name);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular file (not followed if a symlink): 1; missing: 0; else < 0. */
static int
regular_file(const char *path, uint64_t *ret_size)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (ret_size != NULL)
		*ret_size = (uint64_t)st.st_size;
	return 1;
}

/* The VM names: every out/<vm>.qcow2, sorted. */
static int
list_vms(const char *out_dir, char ***ret_vms, size_t *ret_n, char **ret_err)
{
	DIR *d = opendir(out_dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (d == NULL)
		return ret_errf(ret_err, -errno, "cannot open '%s': %s",
				out_dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (!str_ends_with(de->d_name, ".qcow2") || len == 6 ||
		    de->d_name[0] == '.')
			continue;
		if (!pack_name_ok(de->d_name, len)) {
			r = ret_errf(ret_err, -EINVAL,
				     "'%s/%s': unusable image name (letters, "
				     "digits and ._+- only)",
				     out_dir, de->d_name);
			break;
		}
		v = xgrow(v, &cap, n + 1, sizeof(*v));
		v[n++] = xstrndup(de->d_name, len - 6);
	}
	closedir(d);
	if (r == 0 && n == 0)
		r = ret_errf(ret_err, -ENOENT,
			     "no images in '%s'; run 'sbx-build build' first",
			     out_dir);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*ret_vms = v;
	*ret_n = n;
	return 0;
}

static char *
readme_text(char **vms, size_t n_vms, bool is_signed)
{
	struct strbuf sb = STRBUF_INIT;

	sb_printf(&sb,
		  "Prebuilt sandbox VM images made by sbx-build %s.\n"
		  "\n"
		  "Contents:\n",
		  SBX_VERSION);
	for (size_t i = 0; i < n_vms; i++)
		sb_printf(&sb,
			  "  %s.qcow2  standalone disk image of the '%s' VM\n"
			  "  run-%s.sh  starts it with QEMU\n",
			  vms[i], vms[i], vms[i]);
	sb_puts(&sb, "  *.xml  libvirt domains, *.manifest  what each image "
		     "holds\n"
		     "  sbx.lock  the exact inputs the images were built from\n"
		     "  SHA256SUMS  checksums of every file\n");
	if (is_signed)
		sb_puts(&sb, "  SHA256SUMS.sig  OpenSSH signature over "
			     "SHA256SUMS (namespace sbx-build)\n");
	sb_puts(&sb,
		"\n"
		"Unpack and verify in one step (checks every checksum, and "
		"the\nsignature when you name the signers you trust):\n"
		"\n"
		"  sbx-build unpack --allowed-signers ~/.ssh/allowed_signers "
		"BUNDLE\n"
		"\n"
		"Or by hand, in the unpacked directory:\n"
		"\n"
		"  ssh-keygen -Y verify -f ALLOWED_SIGNERS -I SIGNER "
		"-n sbx-build \\\n"
		"      -s SHA256SUMS.sig < SHA256SUMS\n"
		"  sha256sum -c SHA256SUMS\n"
		"\n"
		"Then start each VM with its run script, ./run-VM.sh (with "
		"the\ndefault recipes: ./run-proxy.sh first, then "
		"./run-dev.sh).\n"
		"\n"
		"Secrets (passwords) are not part of this bundle; ask the "
		"sender\nfor them over another channel.\n");
	return sb_detach(&sb, NULL);
}

/* Streams one member into the archive, hashing it again on the way to
 * catch a file that changed since SHA256SUMS was written. */
static int
write_member(struct archive *a, const struct member *m, int64_t mtime,
	     struct progress *p, uint64_t *done, char **ret_err)
{
	struct archive_entry *e = NULL;
	struct digest *d = NULL;
	char hex[DIGEST_HEX_MAX];
	char *buf = NULL;
	struct stat st;
	uint64_t left;
	int fd, r = 0;

	fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ret_errf(ret_err, -errno, "cannot open '%s': %s",
				m->path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = ret_errf(ret_err, -EINVAL, "'%s' is not a regular file",
			     m->path);
		goto out;
	}
	if (m->size != UINT64_MAX && (uint64_t)st.st_size != m->size) {
		r = ret_errf(ret_err, -EAGAIN, "'%s' changed while packing",
			     m->path);
		goto out;
	}
	e = archive_entry_new();
	archive_entry_set_pathname(e, m->name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, m->mode);
	archive_entry_set_size(e, st.st_size);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		r = ret_errf(ret_err, -EIO,
			     "cannot write '%s' to the bundle: %s", m->name,
			     archive_error_string(a));
		goto out;
	}
	buf = xmalloc(IO_CHUNK);
	d = digest_new(DIGEST_SHA256);
	left = (uint64_t)st.st_size;
	while (left > 0) {
		ssize_t n = read(fd, buf, left < IO_CHUNK ? left : IO_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = ret_errf(ret_err, n < 0 ? -errno : -EIO,
				     "cannot read '%s': %s", m->path,
				     n < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		digest_update(d, buf, (size_t)n);
		if (archive_write_data(a, buf, (size_t)n) != n) {
			r = ret_errf(ret_err, -EIO,
				     "cannot write '%s' to the bundle: %s",
				     m->name, archive_error_string(a));
			goto out;
		}
		left -= (uint64_t)n;
		*done += (uint64_t)n;
		progress_update(p, *done);
	}
	digest_final_hex(d, hex);
	if (strcmp(hex, m->hex) != 0)
		r = ret_errf(ret_err, -EAGAIN, "'%s' changed while packing",
			     m->path);
out:
	digest_free(d);
	free(buf);
	archive_entry_free(e);
	close(fd);
	return r;
}

static int
write_bundle(const char *bundle, const char *label, struct member *sums,
	     struct member *sig, struct members *rest,
	     const struct pack_options *opts, char **ret_err)
{
	CLEANUP_FREE char *tmp = xasprintf("%s.tmp-XXXXXX", bundle);
	struct archive *a = NULL;
	struct progress *p = NULL;
	uint64_t total = 0, done = 0;
	int fd, r = 0;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return ret_errf(ret_err, -errno, "cannot create '%s': %s", tmp,
				strerror(errno));
	for (size_t i = 0; i < rest->n; i++) {
		uint64_t sz = 0;

		if (regular_file(rest->v[i].path, &sz) > 0)
			total += sz;
	}
	a = archive_write_new();
	if ((!opts->plain_tar &&
	     archive_write_add_filter_zstd(a) != ARCHIVE_OK) ||
	    archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		r = ret_errf(ret_err, -EIO, "cannot start '%s': %s", tmp,
			     archive_error_string(a));
		goto out;
	}
	p = progress_new(label, total);
	r = write_member(a, sums, opts->mtime, NULL, &(uint64_t){0}, ret_err);
	if (r == 0 && sig != NULL)
		r = write_member(a, sig, opts->mtime, NULL, &(uint64_t){0},
				 ret_err);
	for (size_t i = 0; r == 0 && i < rest->n; i++)
		r = write_member(a, &rest->v[i], opts->mtime, p, &done,
				 ret_err);
	if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
		r = ret_errf(ret_err, -EIO, "cannot finish '%s': %s", tmp,
			     archive_error_string(a));
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = ret_errf(ret_err, -errno, "cannot chmod '%s': %s", tmp,
			     strerror(errno));
	if (r == 0 && fsync(fd) < 0)
		r = ret_errf(ret_err, -errno, "cannot write '%s': %s", tmp,
			     strerror(errno));
out:
	progress_done(p);
	archive_write_free(a);
	if (close(fd) < 0 && r == 0)
		r = ret_errf(ret_err, -errno, "cannot write '%s': %s", tmp,
			     strerror(errno));
	if (r == 0 && rename(tmp, bundle) < 0)
		r = ret_errf(ret_err, -errno, "cannot rename '%s' to '%s': %s",
			     tmp, bundle, strerror(errno));
	if (r < 0)
		unlink(tmp);
	return r;
}

static int
pack_target_ok(const char *bundle, char **ret_err)
{
	struct stat st;

	if (lstat(bundle, &st) < 0)
		return errno == ENOENT ? 0
				       : ret_errf(ret_err, -errno,
						  "cannot access '%s': %s",
						  bundle, strerror(errno));
	if (S_ISLNK(st.st_mode) && stat(bundle, &st) < 0)
		return errno == ENOENT ? 0
				       : ret_errf(ret_err, -errno,
						  "cannot access '%s': %s",
						  bundle, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ret_errf(ret_err, -EEXIST,
				"'%s' exists and is not a regular file; not "
				"replacing it",
				bundle);
	return 0;
}

/* Everything that goes in besides the images, checked up front: each
 * VM's run script (required), domain XML and manifest, and sbx.lock. */
static int
collect_extras(const char *out_dir, const char *lock_path, char **vms,
	       size_t n_vms, struct members *rest, char **ret_err)
{
	int r;

	for (size_t i = 0; i < n_vms; i++) {
		static const char *const fmt[] = {"run-%s.sh", "%s.xml",
						  "%s.manifest"};

		for (size_t j = 0; j < ARRAY_SIZE(fmt); j++) {
			CLEANUP_FREE char *name = xasprintf(fmt[j], vms[i]);
			char *path = path_join(out_dir, name);

			r = regular_file(path, NULL);
			if (r < 0) {
				r = ret_errf(ret_err, -EINVAL,
					     "'%s' is not a regular file",
					     path);
				free(path);
				return r;
			}
			if (r == 0 && j == 0) {
				r = ret_errf(ret_err, -ENOENT,
					     "'%s' is missing; every image "
					     "needs its run script",
					     path);
				free(path);
				return r;
			}
			if (r == 0) {
				free(path);
				continue;
			}
			members_add(rest, name, path, pack_member_mode(name));
		}
	}
	if (lock_path != NULL) {
		r = regular_file(lock_path, NULL);
		if (r < 0)
			return ret_errf(ret_err, -EINVAL,
					"'%s' is not a regular file",
					lock_path);
		if (r > 0)
			members_add(rest, "sbx.lock", xstrdup(lock_path), 0644);
	}
	return 0;
}

/* Standalone compressed images into work: no backing file, no holes
 * lost. */
static int
convert_images(const char *out_dir, const char *work, char **vms, size_t n_vms,
	       struct members *rest, char **ret_err)
{
	int r;

	for (size_t i = 0; i < n_vms; i++) {
		CLEANUP_FREE char *name = xasprintf("%s.qcow2", vms[i]);
		CLEANUP_FREE char *label = xasprintf("converting %s", name);
		CLEANUP_FREE char *src = path_join(out_dir, name);
		char *dst = path_join(work, name);
		uint64_t size = 0;

		members_add(rest, name, dst, 0644);
		r = regular_file(src, &size);
		if (r <= 0)
			return ret_errf(ret_err, -EINVAL,
					"'%s' is not a regular file", src);
		r = pack_convert_image(src, dst, label, size, ret_err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Sorts rest and writes work/SHA256SUMS over it into *sums: sizes first,
 * as comments sha256sum -c skips, so unpack knows how much each member
 * may write before it reads one byte of it. */
static int
write_sums(const char *work, struct members *rest, struct member *sums,
	   char **ret_err)
{
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	qsort(rest->v, rest->n, sizeof(*rest->v), cmp_member);
	for (size_t i = 0; i < rest->n; i++) {
		uint64_t size = 0;

		if (regular_file(rest->v[i].path, &size) <= 0) {
			r = ret_errf(ret_err, -EINVAL,
				     "'%s' is not a regular file",
				     rest->v[i].path);
			goto out;
		}
		rest->v[i].size = size;
		sb_printf(&sb, "%s%" PRIu64 "  %s\n", SIZE_PREFIX, size,
			  rest->v[i].name);
	}
	for (size_t i = 0; i < rest->n; i++) {
		r = digest_file_hex(DIGEST_SHA256, rest->v[i].path,
				    rest->v[i].hex);
		if (r < 0) {
			r = ret_errf(ret_err, r, "cannot read '%s': %s",
				     rest->v[i].path, strerror(-r));
			goto out;
		}
		sb_printf(&sb, "%s  %s\n", rest->v[i].hex, rest->v[i].name);
	}
	*sums = (struct member){.name = xstrdup(PACK_SUMS_NAME),
				.path = path_join(work, PACK_SUMS_NAME),
				.mode = 0644,
				.size = UINT64_MAX};
	digest_buffer_hex(DIGEST_SHA256, sb.buf, sb.len, sums->hex);
	r = write_file_atomic(sums->path, sb.buf, sb.len, 0644);
	if (r < 0)
		r = ret_errf(ret_err, r, "cannot write '%s': %s", sums->path,
			     strerror(-r));
out:
	sb_release(&sb);
	return r;
}

/* work/SHA256SUMS.sig, made with key, into *sig. */
static int
sign_sums(const char *key, const char *work, const struct member *sums,
	  struct member *sig, char **ret_err)
{
	int r;

	*sig = (struct member){.name = xstrdup(PACK_SIG_NAME),
			       .path = path_join(work, PACK_SIG_NAME),
			       .mode = 0644,
			       .size = UINT64_MAX};
	r = pack_ssh_sign(key, sums->path, ret_err);
	if (r < 0)
		return r;
	r = digest_file_hex(DIGEST_SHA256, sig->path, sig->hex);
	if (r < 0)
		return ret_errf(ret_err, r, "cannot read '%s': %s", sig->path,
				strerror(-r));
	return 0;
}

int
la_pack_bundle(const char *out_dir, const char *lock_path, const char *bundle,
	       const struct pack_options *opts, char **ret_err)
{
	struct members rest = {0};
	struct member sums = {0}, sig = {0};
	char **vms = NULL;
	size_t n_vms = 0;
	char *work = NULL, *text = NULL;
	int r;

	if (ret_err != NULL)
		*ret_err = NULL;
	/* The bundle replaces a regular file or nothing: renaming over a
	 * device, fifo or directory (as root: /dev/null) must not happen. */
	r = pack_target_ok(bundle, ret_err);
	if (r < 0)
		return r;
	/* Before the slow part: a key that is not there cannot sign. */
	if (opts->sign_key != NULL && access(opts->sign_key, R_OK) < 0)
		return ret_errf(ret_err, -errno, "cannot read key '%s': %s",
				opts->sign_key, strerror(errno));
	r = list_vms(out_dir, &vms, &n_vms, ret_err);
	if (r < 0)
		return r;
	r = collect_extras(out_dir, lock_path, vms, n_vms, &rest, ret_err);
	if (r < 0)
		goto out;

	work = xasprintf("%s.work-XXXXXX", bundle);
	if (mkdtemp(work) == NULL) {
		r = ret_errf(ret_err, -errno, "cannot create '%s': %s", work,
			     strerror(errno));
		free(work);
		work = NULL;
		goto out;
	}
	r = convert_images(out_dir, work, vms, n_vms, &rest, ret_err);
	if (r < 0)
		goto out;

	text = readme_text(vms, n_vms, opts->sign_key != NULL);
	members_add(&rest, "README", path_join(work, "README"), 0644);
	r = write_file_atomic(rest.v[rest.n - 1].path, text, strlen(text),
			      0644);
	if (r < 0) {
		r = ret_errf(ret_err, r, "cannot write '%s': %s",
			     rest.v[rest.n - 1].path, strerror(-r));
		goto out;
	}
	r = write_sums(work, &rest, &sums, ret_err);
	if (r == 0 && opts->sign_key != NULL)
		r = sign_sums(opts->sign_key, work, &sums, &sig, ret_err);
	if (r < 0)
		goto out;
	{
		const char *base = strrchr(bundle, '/');
		CLEANUP_FREE char *label =
			xasprintf("packing %s", base ? base + 1 : bundle);

		r = write_bundle(bundle, label, &sums,
				 opts->sign_key ? &sig : NULL, &rest, opts,
				 ret_err);
	}
out:
	if (work != NULL)
		rm_rf(work);
	free(work);
	free(text);
	free(sums.name);
	free(sums.path);
	free(sig.name);
	free(sig.path);
	members_free(&rest);
	for (size_t i = 0; i < n_vms; i++)
		free(vms[i]);
	free(vms);
	return r;
}

/* What pack-load.c loads (module.h): not declared in a header,
 * pack-load.c declares it weak. */
const struct archive_module sbx_archive_module = {
	.head = {.version = SBX_VERSION, .abi = ARCHIVE_MODULE_ABI},
	.pack_bundle = la_pack_bundle,
	.unpack_bundle = la_unpack_bundle,
	.tar_index = la_tar_index,
};
