/* share.c: push and pull bundles through a registry (see share.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "digest.h"
#include "oci.h"
#include "pack.h"
#include "progress.h"
#include "share.h"
#include "skopeo.h"
#include "tarindex.h"
#include "util.h"

#define IO_CHUNK  (1u << 20)
#define PUSH_NAME "sbx-bundle"
#define PULL_NAME "sbx-pull"
#define MAX_REF	  512

int
share_opts_tls_verify(struct share_opts *so, const char *arg)
{
	if (strcmp(arg, "true") != 0 && strcmp(arg, "false") != 0)
		return -EINVAL;
	so->no_tls_verify = strcmp(arg, "false") == 0;
	return 0;
}

int
share_ref_parse(const char *ref, char ret_digest[OCI_DIGEST_MAX])
{
	const char *at = strchr(ref, '@'), *slash = strchr(ref, '/');
	size_t len = strlen(ref);

	ret_digest[0] = '\0';
	if (len == 0 || len > MAX_REF || ref[0] == '-' || ref[0] == '/' ||
	    slash == NULL || (at != NULL && at < slash))
		return -EINVAL;
	for (const char *p = ref; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-/:@", *p)))
			return -EINVAL;
	if (strstr(ref, "//") != NULL || strstr(ref, "..") != NULL)
		return -EINVAL;
	if (at != NULL) {
		if (!oci_digest_ok(at + 1))
			return -EINVAL;
		memcpy(ret_digest, at + 1, strlen(at + 1) + 1);
	}
	return 0;
}

int
share_pulled(const char *target, char ret_digest[OCI_DIGEST_MAX])
{
	CLEANUP_FREE char *path = path_join(target, SHARE_RECORD);
	CLEANUP_FREE char *text = NULL;
	char *nl;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0)
		return -errno;
	r = read_fd_max(fd, 4096, &text, &len);
	close(fd);
	if (r < 0)
		return r;
	nl = strchr(text, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (!oci_digest_ok(text))
		return -EBADMSG;
	/* 'clean' removed what was pulled: the record alone holds nothing. */
	free(path);
	path = path_join(target, PACK_SUMS_NAME);
	if (access(path, F_OK) < 0)
		return -ENOENT;
	memcpy(ret_digest, text, strlen(text) + 1);
	return 0;
}

/* ---- push ------------------------------------------------------------ */

/* Cuts the bundle at every member and every OCI_CHUNK_SIZE bytes into
 * blobs of layout; fills m->layers. */
static int
chunk_bundle(const char *bundle, const char *layout, struct oci_manifest *m,
	     char **ret_err)
{
	struct tar_member *tm = NULL;
	struct progress *p = NULL;
	struct stat st;
	size_t n_tm = 0, cap = 0;
	int fd = -1, r;

	r = tar_index(bundle, &tm, &n_tm, ret_err);
	if (r < 0)
		return r;
	fd = open(bundle, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = ret_errf(ret_err, -errno, "cannot open '%s': %s", bundle,
			     strerror(errno));
		goto out;
	}
	p = progress_new("chunking", (uint64_t)st.st_size);
	for (size_t i = 0; r == 0 && i < n_tm; i++) {
		uint64_t start = tm[i].offset;
		uint64_t end =
			i + 1 < n_tm ? tm[i + 1].offset : (uint64_t)st.st_size;
		unsigned part = 0;

		for (uint64_t off = start; r == 0 && off < end;
		     off += OCI_CHUNK_SIZE, part++) {
			uint64_t len = end - off < OCI_CHUNK_SIZE
					       ? end - off
					       : OCI_CHUNK_SIZE;
			CLEANUP_FREE char *title =
				xasprintf("%s.%u", tm[i].name, part);

			m->layers = xgrow(m->layers, &cap, m->n_layers + 1,
					  sizeof(*m->layers));
			r = oci_put_range(layout, fd, off, len, title,
					  &m->layers[m->n_layers], ret_err);
			if (r == 0)
				m->n_layers++;
			progress_update(p, off + len);
		}
	}
out:
	progress_done(p);
	if (fd >= 0)
		close(fd);
	tar_index_free(tm, n_tm);
	return r;
}

/* Reads the digest skopeo wrote and checks it is the manifest we made. */
static int
check_pushed(const char *file, const char *want, char **ret_err)
{
	CLEANUP_FREE char *text = NULL;
	size_t len;
	int r = read_file(file, &text, &len);

	if (r < 0)
		return ret_errf(ret_err, r, "cannot read '%s': %s", file,
				strerror(-r));
	if (strncmp(text, want, strlen(want)) != 0)
		return ret_errf(ret_err, -EPROTO,
				"the registry stored '%.71s', not the manifest "
				"pushed ('%s')",
				text, want);
	return 0;
}

int
share_push(const char *out_dir, const char *lock_path, const char *ref,
	   const struct pack_options *po, const struct share_opts *so,
	   char ret_digest[OCI_DIGEST_MAX], struct push_info *ret_info,
	   char **ret_err)
{
	static const char config[] =
		"{\"format\":\"tar\",\"chunkSize\":67108864}";
	struct pack_options opts = *po;
	struct skopeo_opts sk = {.no_tls_verify = so->no_tls_verify,
				 .on_line = so->on_line,
				 .opaque = so->opaque};
	struct oci_manifest m = {0};
	char digest[OCI_DIGEST_MAX], ref_digest[OCI_DIGEST_MAX];
	CLEANUP_FREE char *work = NULL, *bundle = NULL, *layout = NULL;
	CLEANUP_FREE char *src = NULL, *dst = NULL, *dfile = NULL;
	int r;

	if (share_ref_parse(ref, ref_digest) < 0 || ref_digest[0] != '\0')
		return ret_errf(ret_err, -EINVAL,
				"'%s' is not a registry reference "
				"(HOST/REPOSITORY[:TAG])",
				ref);
	r = mkdir_p(so->cache_dir, 0755);
	if (r < 0)
		return ret_errf(ret_err, r, "cannot create '%s': %s",
				so->cache_dir, strerror(-r));
	work = xasprintf("%s/push-XXXXXX", so->cache_dir);
	if (mkdtemp(work) == NULL) {
		r = ret_errf(ret_err, -errno, "cannot create '%s': %s", work,
			     strerror(errno));
		free(work);
		work = NULL;
		return r;
	}
	bundle = path_join(work, "bundle.tar");
	layout = path_join(work, "oci");
	opts.plain_tar = true;
	r = pack_bundle(out_dir, lock_path, bundle, &opts, ret_err);
	if (r < 0)
		goto out;
	r = oci_layout_init(layout, ret_err);
	if (r == 0)
		r = oci_put_buffer(layout, config, sizeof(config) - 1,
				   &m.config, ret_err);
	if (r == 0)
		r = chunk_bundle(bundle, layout, &m, ret_err);
	unlink(bundle);
	if (r == 0)
		r = oci_write_manifest(layout, &m, PUSH_NAME, digest, ret_err);
	if (r < 0)
		goto out;
	src = xasprintf("oci:%s:%s", layout, PUSH_NAME);
	dst = xasprintf("docker://%s", ref);
	dfile = path_join(work, "digest");
	r = skopeo_copy(src, dst, dfile, &sk, ret_err);
	if (r == 0)
		r = check_pushed(dfile, digest, ret_err);
	if (r == 0) {
		memcpy(ret_digest, digest, OCI_DIGEST_MAX);
		ret_info->n_layers = (unsigned)m.n_layers;
		ret_info->bytes = 0;
		for (size_t i = 0; i < m.n_layers; i++)
			ret_info->bytes += m.layers[i].size;
	}
out:
	oci_manifest_clear(&m);
	rm_rf(work);
	return r;
}

/* ---- pull ------------------------------------------------------------ */

/* 0 when target is missing or an empty directory, 1 when it holds only an
 * earlier pull (*ret_had its digest), -ENOTEMPTY otherwise. */
static int
target_state(const char *target, char ret_had[OCI_DIGEST_MAX])
{
	DIR *d = opendir(target);
	int r = 0;

	ret_had[0] = '\0';
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	if (share_pulled(target, ret_had) == 0)
		r = 1;
	else
		r = dir_no_entries(d);
	closedir(d);
	return r;
}

/* Appends the blob of d to out, hashing it on the way; a blob that does not
 * match is removed from the cache so that the next pull fetches it again. */
static int
join_blob(const char *layout, const struct oci_desc *d, unsigned i, int out,
	  char *buf, char **ret_err)
{
	CLEANUP_FREE char *path = oci_blob_path(layout, d->digest);
	struct digest *h = digest_new(DIGEST_SHA256);
	char hex[DIGEST_HEX_MAX];
	uint64_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r = 0;

	if (fd < 0) {
		digest_free(h);
		return ret_errf(ret_err, -errno, "cannot open '%s': %s", path,
				strerror(errno));
	}
	for (;;) {
		ssize_t n = read(fd, buf, IO_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ret_errf(ret_err, -errno, "cannot read '%s': %s",
				     path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
		if (got > d->size)
			break;
		digest_update(h, buf, (size_t)n);
		r = write_all(out, buf, (size_t)n);
		if (r < 0) {
			r = ret_errf(ret_err, r, "cannot write the bundle: %s",
				     strerror(-r));
			break;
		}
	}
	close(fd);
	digest_final_hex(h, hex);
	digest_free(h);
	if (r == 0 && (got != d->size || strcmp(hex, d->digest + 7) != 0)) {
		unlink(path);
		r = ret_errf(ret_err, -EBADMSG,
			     "layer %u ('%s', %s) does not match its digest; "
			     "removed it from the cache",
			     i + 1, d->title ? d->title : "?", d->digest);
	}
	return r;
}

static int
join_layers(const char *layout, const struct oci_manifest *m,
	    const char *bundle, char **ret_err)
{
	CLEANUP_FREE char *buf = xmalloc(IO_CHUNK);
	struct progress *p;
	struct statvfs sv;
	uint64_t total = 0, done = 0;
	int fd, r = 0;

	for (size_t i = 0; i < m->n_layers; i++)
		total += m->layers[i].size;
	if (statvfs(layout, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < total)
		return ret_errf(
			ret_err, -ENOSPC,
			"the bundle (%llu bytes) does not fit beside '%s'",
			(unsigned long long)total, layout);
	fd = open(bundle, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ret_errf(ret_err, -errno, "cannot create '%s': %s",
				bundle, strerror(errno));
	p = progress_new("verifying", total);
	for (size_t i = 0; r == 0 && i < m->n_layers; i++) {
		r = join_blob(layout, &m->layers[i], (unsigned)i, fd, buf,
			      ret_err);
		done += m->layers[i].size;
		progress_update(p, done);
	}
	progress_done(p);
	if (close(fd) < 0 && r == 0)
		r = ret_errf(ret_err, -errno, "cannot write '%s': %s", bundle,
			     strerror(errno));
	return r;
}

static int
write_record(const char *target, const char *digest, const char *ref,
	     char **ret_err)
{
	CLEANUP_FREE char *path = path_join(target, SHARE_RECORD);
	CLEANUP_FREE char *text = xasprintf("%s\n%s\n", digest, ref);
	int r = write_file_atomic(path, text, strlen(text), 0644);

	if (r < 0)
		return ret_errf(ret_err, r, "cannot write '%s': %s", path,
				strerror(-r));
	return 0;
}

/* Removes the joined bundles of pulls that were killed: the caller holds
 * the cache's lock, so no other pull is using one. */
static void
remove_stale(const char *cache_dir)
{
	DIR *d = opendir(cache_dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (str_starts_with(de->d_name, "pull-") &&
		    str_ends_with(de->d_name, ".tar"))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* Copies ref into the cache's layout under its lock and reads what came. */
static int
fetch_manifest(const char *ref, const char *layout, const struct share_opts *so,
	       char digest[OCI_DIGEST_MAX], struct oci_manifest *m,
	       char **ret_err)
{
	struct skopeo_opts sk = {.no_tls_verify = so->no_tls_verify,
				 .on_line = so->on_line,
				 .opaque = so->opaque};
	CLEANUP_FREE char *src = xasprintf("docker://%s", ref);
	CLEANUP_FREE char *dst = xasprintf("oci:%s:%s", layout, PULL_NAME);
	int r = oci_layout_init(layout, ret_err);

	if (r == 0)
		r = skopeo_copy(src, dst, NULL, &sk, ret_err);
	if (r == 0)
		r = oci_read_index(layout, PULL_NAME, digest, ret_err);
	if (r == 0)
		r = oci_read_manifest(layout, digest, m, ret_err);
	return r;
}

int
share_pull(const char *ref, const char *target, const struct unpack_options *uo,
	   const struct share_opts *so, char ret_digest[OCI_DIGEST_MAX],
	   struct unpack_info *ret_info, char **ret_err)
{
	char want[OCI_DIGEST_MAX], had[OCI_DIGEST_MAX], got[OCI_DIGEST_MAX];
	struct oci_manifest m = {0};
	CLEANUP_FREE char *layout = path_join(so->cache_dir, "oci");
	CLEANUP_FREE char *lockf = path_join(so->cache_dir, "oci.lock");
	CLEANUP_FREE char *bundle = NULL;
	int r, lockfd = -1, state;

	if (share_ref_parse(ref, want) < 0)
		return ret_errf(ret_err, -EINVAL,
				"'%s' is not a registry reference "
				"(HOST/REPOSITORY[:TAG][@sha256:HEX])",
				ref);
	state = target_state(target, had);
	if (state < 0)
		return ret_errf(ret_err, state,
				state == -ENOTEMPTY ? "'%s' is not empty"
						    : "cannot read '%s'",
				target);
	if (state == 1 && want[0] != '\0' && strcmp(had, want) == 0) {
		memcpy(ret_digest, had, OCI_DIGEST_MAX);
		return 1;
	}
	r = mkdir_p(so->cache_dir, 0755);
	if (r < 0)
		return ret_errf(ret_err, r, "cannot create '%s': %s",
				so->cache_dir, strerror(-r));
	/* One pull at a time uses the cache's index.json. */
	lockfd = open(lockf, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
		r = ret_errf(ret_err, -errno, "cannot lock '%s': %s", lockf,
			     strerror(errno));
		goto out;
	}
	remove_stale(so->cache_dir);
	r = fetch_manifest(ref, layout, so, got, &m, ret_err);
	if (r < 0)
		goto out;
	if (want[0] != '\0' && strcmp(want, got) != 0) {
		r = ret_errf(ret_err, -EBADMSG,
			     "the registry sent manifest '%s' for '%s'", got,
			     ref);
		goto out;
	}
	memcpy(ret_digest, got, OCI_DIGEST_MAX);
	if (state == 1) {
		if (strcmp(had, got) == 0) {
			r = 1;
			goto out;
		}
		r = ret_errf(
			ret_err, -ENOTEMPTY,
			"'%s' holds '%s' from an earlier pull; pull into an "
			"empty directory",
			target, had);
		goto out;
	}
	bundle = xasprintf("%s/pull-%ld.tar", so->cache_dir, (long)getpid());
	unlink(bundle);
	r = join_layers(layout, &m, bundle, ret_err);
	if (r == 0)
		r = unpack_bundle(bundle, target, uo, ret_info, ret_err);
	unlink(bundle);
	if (r == 0)
		r = write_record(target, got, ref, ret_err);
out:
	oci_manifest_clear(&m);
	if (lockfd >= 0)
		close(lockfd);
	return r;
}
