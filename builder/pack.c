/* Bundles: pack out/ into a deterministic, optionally signed tar.zst; verify
 * and unpack one without trusting anything in it.  The only builder file
 * that includes libarchive's headers.  See pack.h for the layout. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "digest.h"
#include "pack.h"
#include "progress.h"
#include "run.h"
#include "util.h"

#define IO_CHUNK     (1024 * 1024)
#define SUMS_MAX     (1024 * 1024)
#define SIG_MAX	     (64 * 1024)
#define NAME_MAX_LEN 128
#define SHA256_HEX   64
/* "# size <bytes>  <name>" lines in SHA256SUMS. */
#define SIZE_PREFIX "# size "

/* Sets *ret_why (when asked for) and returns r. */
static int PRINTF_LIKE(3, 4) fail(char **ret_why, int r, const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb = STRBUF_INIT;

	if (ret_why == NULL)
		return r;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	free(*ret_why);
	*ret_why = sb_detach(&sb, NULL);
	return r;
}

/* Trailing whitespace off, for one-line messages from tools. */
static char *
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
			 s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* A bundle member name: 1..128 of [A-Za-z0-9._+-], not starting with '.'
 * or '-'.  No '/', so every member sits at the bundle's top level. */
static bool
name_ok(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_LEN || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '+' || c == '-'))
			return false;
	}
	return true;
}

/* Run scripts are executable, nothing else is.  Unpack derives the mode
 * from the name, not from the (unauthenticated) tar header. */
static mode_t
member_mode(const char *name)
{
	return str_starts_with(name, "run-") && str_ends_with(name, ".sh")
		       ? 0755
		       : 0644;
}

int
pack_parse_epoch(const char *s, int64_t *ret)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0') {
		*ret = 0;
		return 0;
	}
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	*ret = v;
	return 0;
}

/* ---- subprocesses ---------------------------------------------------- */

typedef void (*run_out_fn)(void *data, const char *buf, size_t n);

/* Runs argv (no shell, run.h) with stdin from stdin_path (NULL:
 * /dev/null), collects stdout into *out (when not NULL; also fed to
 * on_out) and stderr into *err.  Returns the exit status (0..255), or a
 * negative errno when the program cannot be run or was killed. */
static int
run(char *const argv[], const char *stdin_path, struct strbuf *out,
    run_out_fn on_out, void *data, struct strbuf *err)
{
	struct run_opts o = {.stdin_path = stdin_path,
			     .out = out,
			     .on_out = on_out,
			     .opaque = data,
			     .err = err};

	return run_program((const char *const *)argv, &o);
}

/* "ssh-keygen: <first line of stderr>", or a fallback. */
static const char *
tool_msg(struct strbuf *err, const char *fallback)
{
	char *nl;

	if (err->buf == NULL || *chomp(err->buf) == '\0')
		return fallback;
	nl = strrchr(err->buf, '\n');
	return nl != NULL ? nl + 1 : err->buf;
}

/* qemu-img -p prints "    (12.34/100%)\r" on stdout. */
struct convert_progress {
	struct progress *p;
	uint64_t total;
};

static void
convert_out(void *data, const char *buf, size_t n)
{
	struct convert_progress *cp = data;
	const char *s = buf, *end = buf + n;

	while ((s = memchr(s, '(', (size_t)(end - s))) != NULL) {
		double pct = 0;
		int i = 0;

		s++;
		while (s < end && *s >= '0' && *s <= '9' && i++ < 3)
			pct = pct * 10 + (*s++ - '0');
		if (pct <= 100)
			progress_update(cp->p, (uint64_t)(pct / 100 *
							  (double)cp->total));
	}
}

/* "./x" for a relative x: qemu reads "proto:..." in a file name as a
 * protocol, and a leading '-' as an option. */
static char *
qemu_path(const char *path)
{
	return path[0] == '/' ? xstrdup(path) : xasprintf("./%s", path);
}

static int
convert_image(const char *src_path, const char *dst_path, const char *label,
	      uint64_t size, char **ret_why)
{
	CLEANUP_FREE char *src = qemu_path(src_path);
	CLEANUP_FREE char *dst = qemu_path(dst_path);
	char *argv[] = {
		"qemu-img", "convert", "-p", "-f", "qcow2",
		"-O",	    "qcow2",   "-c", "-o", "compression_type=zlib",
		src,	    dst,       NULL};
	struct strbuf err = STRBUF_INIT;
	struct convert_progress cp = {progress_new(label, size), size};
	int r;

	r = run(argv, NULL, NULL, convert_out, &cp, &err);
	if (r == 0)
		progress_update(cp.p, size);
	progress_done(cp.p);
	if (r < 0)
		r = fail(ret_why, r, "cannot run 'qemu-img': %s", strerror(-r));
	else if (r > 0)
		r = fail(ret_why, -EIO, "cannot convert '%s': %s", src_path,
			 tool_msg(&err, "qemu-img convert failed"));
	sb_release(&err);
	return r;
}

static int
ssh_sign(const char *key, const char *file, char **ret_why)
{
	char *argv[] = {"ssh-keygen", "-q",	   "-Y", "sign",
			"-f",	      (char *)key, "-n", PACK_SIG_NAMESPACE,
			(char *)file, NULL};
	struct strbuf err = STRBUF_INIT;
	int r;

	r = run(argv, NULL, NULL, NULL, NULL, &err);
	if (r < 0)
		r = fail(ret_why, r, "cannot run 'ssh-keygen': %s",
			 strerror(-r));
	else if (r > 0)
		r = fail(ret_why, -EPERM, "cannot sign with '%s': %s", key,
			 tool_msg(&err, "ssh-keygen -Y sign failed"));
	sb_release(&err);
	return r;
}

/* Verifies sig over the file msg; sets *ret_signer to the principal. */
static int
ssh_verify(const char *allowed, const char *identity, const char *msg,
	   const char *sig, char **ret_signer, char **ret_why)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *who = NULL;
	int r;

	if (identity == NULL) {
		char *argv[] = {"ssh-keygen", "-Y", "find-principals", "-s",
				(char *)sig,  "-f", (char *)allowed,   NULL};

		r = run(argv, NULL, &out, NULL, NULL, &err);
		if (r < 0) {
			r = fail(ret_why, r, "cannot run 'ssh-keygen': %s",
				 strerror(-r));
			goto out;
		}
		if (out.buf != NULL)
			who = xstrndup(out.buf, strcspn(out.buf, "\r\n"));
		if (r > 0 || who == NULL || *who == '\0') {
			r = fail(ret_why, -EPERM,
				 "bad signature: no principal in '%s' "
				 "matches the signing key",
				 allowed);
			goto out;
		}
		sb_release(&out);
		sb_release(&err);
	} else {
		who = xstrdup(identity);
	}
	{
		char *argv[] = {"ssh-keygen",	    "-Y", "verify",    "-f",
				(char *)allowed,    "-I", who,	       "-n",
				PACK_SIG_NAMESPACE, "-s", (char *)sig, NULL};

		r = run(argv, msg, &out, NULL, NULL, &err);
	}
	if (r < 0) {
		r = fail(ret_why, r, "cannot run 'ssh-keygen': %s",
			 strerror(-r));
	} else if (r > 0) {
		r = fail(ret_why, -EPERM, "bad signature for '%s': %s", who,
			 tool_msg(&err, "could not verify signature"));
	} else {
		*ret_signer = who;
		who = NULL;
	}
out:
	free(who);
	sb_release(&out);
	sb_release(&err);
	return r;
}

/* Without allowed signers: at least a well-formed signature, in our
 * namespace, by the key it names, over exactly msg. */
static int
ssh_check(const char *msg, const char *sig, char **ret_why)
{
	char *argv[] = {"ssh-keygen",	    "-Y", "check-novalidate", "-n",
			PACK_SIG_NAMESPACE, "-s", (char *)sig,	      NULL};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	r = run(argv, msg, &out, NULL, NULL, &err);
	if (r < 0)
		r = fail(ret_why, r, "cannot run 'ssh-keygen': %s",
			 strerror(-r));
	else if (r > 0)
		r = fail(ret_why, -EPERM, "bad signature: %s",
			 tool_msg(&err, "not a valid signature over "
					"SHA256SUMS"));
	sb_release(&out);
	sb_release(&err);
	return r;
}

/* ---- pack ------------------------------------------------------------ */

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
list_vms(const char *out_dir, char ***ret_vms, size_t *ret_n, char **ret_why)
{
	DIR *d = opendir(out_dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (d == NULL)
		return fail(ret_why, -errno, "cannot open '%s': %s", out_dir,
			    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (!str_ends_with(de->d_name, ".qcow2") || len == 6 ||
		    de->d_name[0] == '.')
			continue;
		if (!name_ok(de->d_name, len)) {
			r = fail(ret_why, -EINVAL,
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
		r = fail(ret_why, -ENOENT,
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
	     struct progress *p, uint64_t *done, char **ret_why)
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
		return fail(ret_why, -errno, "cannot open '%s': %s", m->path,
			    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = fail(ret_why, -EINVAL, "'%s' is not a regular file",
			 m->path);
		goto out;
	}
	if (m->size != UINT64_MAX && (uint64_t)st.st_size != m->size) {
		r = fail(ret_why, -EAGAIN, "'%s' changed while packing",
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
		r = fail(ret_why, -EIO, "cannot write '%s' to the bundle: %s",
			 m->name, archive_error_string(a));
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
			r = fail(ret_why, n < 0 ? -errno : -EIO,
				 "cannot read '%s': %s", m->path,
				 n < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		digest_update(d, buf, (size_t)n);
		if (archive_write_data(a, buf, (size_t)n) != n) {
			r = fail(ret_why, -EIO,
				 "cannot write '%s' to the bundle: %s", m->name,
				 archive_error_string(a));
			goto out;
		}
		left -= (uint64_t)n;
		*done += (uint64_t)n;
		progress_update(p, *done);
	}
	digest_final_hex(d, hex);
	if (strcmp(hex, m->hex) != 0)
		r = fail(ret_why, -EAGAIN, "'%s' changed while packing",
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
	     const struct pack_options *opts, char **ret_why)
{
	CLEANUP_FREE char *tmp = xasprintf("%s.tmp-XXXXXX", bundle);
	struct archive *a = NULL;
	struct progress *p = NULL;
	uint64_t total = 0, done = 0;
	int fd, r = 0;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(ret_why, -errno, "cannot create '%s': %s", tmp,
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
		r = fail(ret_why, -EIO, "cannot start '%s': %s", tmp,
			 archive_error_string(a));
		goto out;
	}
	p = progress_new(label, total);
	r = write_member(a, sums, opts->mtime, NULL, &(uint64_t){0}, ret_why);
	if (r == 0 && sig != NULL)
		r = write_member(a, sig, opts->mtime, NULL, &(uint64_t){0},
				 ret_why);
	for (size_t i = 0; r == 0 && i < rest->n; i++)
		r = write_member(a, &rest->v[i], opts->mtime, p, &done,
				 ret_why);
	if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
		r = fail(ret_why, -EIO, "cannot finish '%s': %s", tmp,
			 archive_error_string(a));
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = fail(ret_why, -errno, "cannot chmod '%s': %s", tmp,
			 strerror(errno));
	if (r == 0 && fsync(fd) < 0)
		r = fail(ret_why, -errno, "cannot write '%s': %s", tmp,
			 strerror(errno));
out:
	progress_done(p);
	archive_write_free(a);
	if (close(fd) < 0 && r == 0)
		r = fail(ret_why, -errno, "cannot write '%s': %s", tmp,
			 strerror(errno));
	if (r == 0 && rename(tmp, bundle) < 0)
		r = fail(ret_why, -errno, "cannot rename '%s' to '%s': %s", tmp,
			 bundle, strerror(errno));
	if (r < 0)
		unlink(tmp);
	return r;
}

static int
pack_target_ok(const char *bundle, char **ret_why)
{
	struct stat st;

	if (lstat(bundle, &st) < 0)
		return errno == ENOENT
			       ? 0
			       : fail(ret_why, -errno, "cannot access '%s': %s",
				      bundle, strerror(errno));
	if (S_ISLNK(st.st_mode) && stat(bundle, &st) < 0)
		return errno == ENOENT
			       ? 0
			       : fail(ret_why, -errno, "cannot access '%s': %s",
				      bundle, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(ret_why, -EEXIST,
			    "'%s' exists and is not a regular file; not "
			    "replacing it",
			    bundle);
	return 0;
}

/* Long (about 180 lines): the bundle is written in one pass with one
 * cleanup label (temporary file, archive, progress); issue 13 leaves
 * splitting pack.c (1,400 lines) into pack/unpack modules for later. */
int
pack_bundle(const char *out_dir, const char *lock_path, const char *bundle,
	    const struct pack_options *opts, char **ret_why)
{
	struct members rest = {0};
	struct member sums = {0}, sig = {0};
	struct strbuf sb = STRBUF_INIT;
	char **vms = NULL;
	size_t n_vms = 0;
	char *work = NULL, *text = NULL;
	int r;

	if (ret_why != NULL)
		*ret_why = NULL;
	/* The bundle replaces a regular file or nothing: renaming over a
	 * device, fifo or directory (as root: /dev/null) must not happen. */
	r = pack_target_ok(bundle, ret_why);
	if (r < 0)
		return r;
	/* Before the slow part: a key that is not there cannot sign. */
	if (opts->sign_key != NULL && access(opts->sign_key, R_OK) < 0)
		return fail(ret_why, -errno, "cannot read key '%s': %s",
			    opts->sign_key, strerror(errno));
	r = list_vms(out_dir, &vms, &n_vms, ret_why);
	if (r < 0)
		return r;

	/* Everything that goes in besides the images, checked up front. */
	for (size_t i = 0; i < n_vms; i++) {
		static const char *const fmt[] = {"run-%s.sh", "%s.xml",
						  "%s.manifest"};

		for (size_t j = 0; j < ARRAY_SIZE(fmt); j++) {
			CLEANUP_FREE char *name = xasprintf(fmt[j], vms[i]);
			char *path = path_join(out_dir, name);

			r = regular_file(path, NULL);
			if (r < 0) {
				r = fail(ret_why, -EINVAL,
					 "'%s' is not a regular file", path);
				free(path);
				goto out;
			}
			if (r == 0 && j == 0) {
				r = fail(ret_why, -ENOENT,
					 "'%s' is missing; every image "
					 "needs its run script",
					 path);
				free(path);
				goto out;
			}
			if (r == 0) {
				free(path);
				continue;
			}
			members_add(&rest, name, path, member_mode(name));
		}
	}
	if (lock_path != NULL) {
		r = regular_file(lock_path, NULL);
		if (r < 0) {
			r = fail(ret_why, -EINVAL, "'%s' is not a regular file",
				 lock_path);
			goto out;
		}
		if (r > 0)
			members_add(&rest, "sbx.lock", xstrdup(lock_path),
				    0644);
	}

	work = xasprintf("%s.work-XXXXXX", bundle);
	if (mkdtemp(work) == NULL) {
		r = fail(ret_why, -errno, "cannot create '%s': %s", work,
			 strerror(errno));
		free(work);
		work = NULL;
		goto out;
	}

	/* Standalone compressed images: no backing file, no holes lost. */
	for (size_t i = 0; i < n_vms; i++) {
		CLEANUP_FREE char *name = xasprintf("%s.qcow2", vms[i]);
		CLEANUP_FREE char *label = xasprintf("converting %s", name);
		CLEANUP_FREE char *src = path_join(out_dir, name);
		char *dst = path_join(work, name);
		uint64_t size = 0;

		members_add(&rest, name, dst, 0644);
		r = regular_file(src, &size);
		if (r <= 0) {
			r = fail(ret_why, -EINVAL, "'%s' is not a regular file",
				 src);
			goto out;
		}
		r = convert_image(src, dst, label, size, ret_why);
		if (r < 0)
			goto out;
	}

	text = readme_text(vms, n_vms, opts->sign_key != NULL);
	members_add(&rest, "README", path_join(work, "README"), 0644);
	r = write_file_atomic(rest.v[rest.n - 1].path, text, strlen(text),
			      0644);
	if (r < 0) {
		r = fail(ret_why, r, "cannot write '%s': %s",
			 rest.v[rest.n - 1].path, strerror(-r));
		goto out;
	}

	qsort(rest.v, rest.n, sizeof(*rest.v), cmp_member);
	/* Sizes first, as comments sha256sum -c skips: unpack knows how
	 * much each member may write before it reads one byte of it. */
	for (size_t i = 0; i < rest.n; i++) {
		uint64_t size = 0;

		if (regular_file(rest.v[i].path, &size) <= 0) {
			r = fail(ret_why, -EINVAL, "'%s' is not a regular file",
				 rest.v[i].path);
			goto out;
		}
		rest.v[i].size = size;
		sb_printf(&sb, "%s%" PRIu64 "  %s\n", SIZE_PREFIX, size,
			  rest.v[i].name);
	}
	for (size_t i = 0; i < rest.n; i++) {
		r = digest_file_hex(DIGEST_SHA256, rest.v[i].path,
				    rest.v[i].hex);
		if (r < 0) {
			r = fail(ret_why, r, "cannot read '%s': %s",
				 rest.v[i].path, strerror(-r));
			goto out;
		}
		sb_printf(&sb, "%s  %s\n", rest.v[i].hex, rest.v[i].name);
	}
	sums = (struct member){.name = xstrdup(PACK_SUMS_NAME),
			       .path = path_join(work, PACK_SUMS_NAME),
			       .mode = 0644,
			       .size = UINT64_MAX};
	digest_buffer_hex(DIGEST_SHA256, sb.buf, sb.len, sums.hex);
	r = write_file_atomic(sums.path, sb.buf, sb.len, 0644);
	if (r < 0) {
		r = fail(ret_why, r, "cannot write '%s': %s", sums.path,
			 strerror(-r));
		goto out;
	}
	if (opts->sign_key != NULL) {
		sig = (struct member){.name = xstrdup(PACK_SIG_NAME),
				      .path = path_join(work, PACK_SIG_NAME),
				      .mode = 0644,
				      .size = UINT64_MAX};
		r = ssh_sign(opts->sign_key, sums.path, ret_why);
		if (r < 0)
			goto out;
		r = digest_file_hex(DIGEST_SHA256, sig.path, sig.hex);
		if (r < 0) {
			r = fail(ret_why, r, "cannot read '%s': %s", sig.path,
				 strerror(-r));
			goto out;
		}
	}
	{
		const char *base = strrchr(bundle, '/');
		CLEANUP_FREE char *label =
			xasprintf("packing %s", base ? base + 1 : bundle);

		r = write_bundle(bundle, label, &sums,
				 opts->sign_key ? &sig : NULL, &rest, opts,
				 ret_why);
	}
out:
	if (work != NULL)
		rm_rf(work);
	free(work);
	free(text);
	sb_release(&sb);
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

/* ---- unpack ---------------------------------------------------------- */

struct sum {
	char *name;
	char hex[SHA256_HEX + 1];
	uint64_t size;
	bool sized; /* a "# size" line gave size */
	bool seen;
};

struct sums {
	struct sum *v;
	size_t n, cap;
};

static void
sums_free(struct sums *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
}

static struct sum *
sums_find(struct sums *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

/* "# size <bytes>  <name>": 1 with the size and name; 0 when line is
 * another comment; -1 when it is a malformed size line. */
static int
size_line(const char *p, const char *nl, uint64_t *ret_size,
	  const char **ret_name)
{
	uint64_t v = 0;

	if (!str_starts_with(p, SIZE_PREFIX))
		return 0;
	p += strlen(SIZE_PREFIX);
	if (p >= nl || *p < '0' || *p > '9')
		return -1;
	for (; p < nl && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX >> 4) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (nl - p < 3 || p[0] != ' ' || p[1] != ' ')
		return -1;
	*ret_size = v;
	*ret_name = p + 2;
	return 1;
}

/* Strict: "<64 lower-case hex>  <name>\n" lines, names unique and valid,
 * and for each name a "# size <bytes>  <name>\n" line; other lines that
 * start with '#' are comments. */
static int
sums_parse(const char *text, size_t len, struct sums *s, char **ret_why)
{
	const char *p = text, *end = text + len;
	struct sums sizes = {0};
	unsigned line = 0;
	int r = 0;

	while (r == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *name = p + SHA256_HEX + 2;
		CLEANUP_FREE char *n = NULL;
		uint64_t size;
		int k;

		line++;
		if (nl == NULL) {
			r = fail(ret_why, -EBADMSG,
				 "SHA256SUMS line %u: no final newline", line);
			break;
		}
		if (*p == '#') {
			k = size_line(p, nl, &size, &name);
			if (k < 0) {
				r = fail(ret_why, -EBADMSG,
					 "SHA256SUMS line %u: not '# size "
					 "<bytes>  <name>'",
					 line);
				break;
			}
			if (k > 0 && !name_ok(name, (size_t)(nl - name))) {
				r = fail(ret_why, -EBADMSG,
					 "SHA256SUMS line %u: unsafe file name",
					 line);
				break;
			}
			if (k > 0) {
				n = xstrndup(name, (size_t)(nl - name));
				if (sums_find(&sizes, n) != NULL) {
					r = fail(ret_why, -EBADMSG,
						 "SHA256SUMS line %u: size of "
						 "'%s' given twice",
						 line, n);
					break;
				}
				sizes.v = xgrow(sizes.v, &sizes.cap,
						sizes.n + 1, sizeof(*sizes.v));
				sizes.v[sizes.n++] =
					(struct sum){.name = n, .size = size};
				n = NULL;
			}
			p = nl + 1;
			continue;
		}
		if (nl - p < SHA256_HEX + 3 || p[SHA256_HEX] != ' ' ||
		    p[SHA256_HEX + 1] != ' ' ||
		    strspn(p, "0123456789abcdef") != SHA256_HEX) {
			r = fail(ret_why, -EBADMSG,
				 "SHA256SUMS line %u: not '<sha256>  "
				 "<name>'",
				 line);
			break;
		}
		if (!name_ok(name, (size_t)(nl - name))) {
			r = fail(ret_why, -EBADMSG,
				 "SHA256SUMS line %u: unsafe file name", line);
			break;
		}
		n = xstrndup(name, (size_t)(nl - name));
		if (strcmp(n, PACK_SUMS_NAME) == 0 ||
		    strcmp(n, PACK_SIG_NAME) == 0 || sums_find(s, n) != NULL) {
			r = fail(ret_why, -EBADMSG,
				 "SHA256SUMS line %u: '%s' listed twice "
				 "or reserved",
				 line, n);
			break;
		}
		s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
		s->v[s->n] = (struct sum){.name = n};
		n = NULL;
		memcpy(s->v[s->n].hex, p, SHA256_HEX);
		s->v[s->n].hex[SHA256_HEX] = '\0';
		s->n++;
		p = nl + 1;
	}
	if (r == 0 && s->n == 0)
		r = fail(ret_why, -EBADMSG, "SHA256SUMS is empty");
	for (size_t i = 0; r == 0 && i < sizes.n; i++) {
		struct sum *m = sums_find(s, sizes.v[i].name);

		if (m == NULL) {
			r = fail(ret_why, -EBADMSG,
				 "SHA256SUMS gives a size for '%s' but no "
				 "checksum",
				 sizes.v[i].name);
			break;
		}
		m->size = sizes.v[i].size;
		m->sized = true;
	}
	for (size_t i = 0; r == 0 && i < s->n; i++)
		if (!s->v[i].sized)
			r = fail(ret_why, -EBADMSG,
				 "SHA256SUMS gives no size for '%s' (a bundle "
				 "from sbx-build before sizes were recorded: "
				 "pack it again)",
				 s->v[i].name);
	sums_free(&sizes);
	return r;
}

/* Why an entry may not be extracted, or NULL.  Only plain regular files
 * at the bundle's top level pass. */
static int
check_entry(struct archive_entry *e, char **ret_why)
{
	const char *name = archive_entry_pathname(e);
	const char *link;
	mode_t type = archive_entry_filetype(e);

	if (name == NULL || *name == '\0')
		return fail(ret_why, -EBADMSG, "entry without a usable name");
	if (name[0] == '/')
		return fail(ret_why, -EBADMSG, "'%s': absolute path", name);
	if (strcmp(name, "..") == 0 || str_starts_with(name, "../") ||
	    strstr(name, "/../") != NULL || str_ends_with(name, "/.."))
		return fail(ret_why, -EBADMSG,
			    "'%s': path leaves the bundle ('..')", name);
	if ((link = archive_entry_symlink(e)) != NULL || type == AE_IFLNK)
		return fail(ret_why, -EBADMSG, "'%s': symbolic link to '%s'",
			    name, link ? link : "?");
	if ((link = archive_entry_hardlink(e)) != NULL)
		return fail(ret_why, -EBADMSG, "'%s': hard link to '%s'", name,
			    link);
	if (type != AE_IFREG)
		return fail(ret_why, -EBADMSG, "'%s': not a regular file (%s)",
			    name,
			    type == AE_IFDIR	? "directory"
			    : type == AE_IFCHR	? "character device"
			    : type == AE_IFBLK	? "block device"
			    : type == AE_IFIFO	? "fifo"
			    : type == AE_IFSOCK ? "socket"
						: "unknown type");
	if (!name_ok(name, strlen(name)))
		return fail(ret_why, -EBADMSG,
			    "'%s': not a plain top-level file name", name);
	return 0;
}

static int
archive_fail(struct archive *a, char **ret_why, const char *member)
{
	const char *s = archive_error_string(a);

	if (s == NULL)
		s = "unexpected end of data";
	if (member != NULL)
		return fail(ret_why, -EBADMSG,
			    "'%s': bundle is truncated or corrupt: %s", member,
			    s);
	return fail(ret_why, -EBADMSG, "bundle is truncated or corrupt: %s", s);
}

/* Copies the current entry's data to dir/name (created exclusively),
 * hashing it; with max > 0 also keeps it in *keep.  The entry must hold
 * exactly want bytes (its size in SHA256SUMS; UINT64_MAX: any size up to
 * max): a longer one is refused before a byte beyond want is written. */
static int
extract_entry(struct archive *a, struct archive_entry *e, const char *dir,
	      struct progress *p, char ret_hex[DIGEST_HEX_MAX],
	      struct strbuf *keep, size_t max, uint64_t want, char **ret_why)
{
	const char *name = archive_entry_pathname(e);
	CLEANUP_FREE char *path = path_join(dir, name);
	mode_t mode = member_mode(name);
	struct digest *d = NULL;
	char *buf = NULL;
	uint64_t done = 0;
	int fd, r = 0;

	if (max > 0 && archive_entry_size_is_set(e) &&
	    archive_entry_size(e) > (la_int64_t)max)
		return fail(ret_why, -EBADMSG, "'%s' is too large", name);
	if (want != UINT64_MAX && archive_entry_size_is_set(e) &&
	    (uint64_t)archive_entry_size(e) != want)
		return fail(ret_why, -EBADMSG,
			    "'%s' holds %" PRId64 " bytes, SHA256SUMS says "
			    "%" PRIu64,
			    name, (int64_t)archive_entry_size(e), want);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return fail(ret_why, -errno, "cannot create '%s': %s", path,
			    strerror(errno));
	buf = xmalloc(IO_CHUNK);
	d = digest_new(DIGEST_SHA256);
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, IO_CHUNK);

		if (n == 0)
			break;
		if (n < 0) {
			r = archive_fail(a, ret_why, name);
			goto out;
		}
		if (max > 0 && keep->len + (size_t)n > max) {
			r = fail(ret_why, -EBADMSG, "'%s' is too large", name);
			goto out;
		}
		if (want != UINT64_MAX && (uint64_t)n > want - done) {
			r = fail(ret_why, -EBADMSG,
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
			r = fail(ret_why, r, "cannot write '%s': %s", path,
				 strerror(-r));
			goto out;
		}
		progress_update(p, (uint64_t)archive_filter_bytes(a, -1));
	}
	if (want != UINT64_MAX && done != want)
		r = fail(ret_why, -EBADMSG,
			 "'%s' is shorter than the %" PRIu64
			 " bytes SHA256SUMS says",
			 name, want);
	else if (fsync(fd) < 0)
		r = fail(ret_why, -errno, "cannot write '%s': %s", path,
			 strerror(errno));
out:
	if (close(fd) < 0 && r == 0)
		r = fail(ret_why, -errno, "cannot write '%s': %s", path,
			 strerror(errno));
	if (r == 0)
		digest_final_hex(d, ret_hex);
	digest_free(d);
	free(buf);
	return r;
}

/* The next entry, checked: 0; end of the bundle: 1; else < 0. */
static int
next_entry(struct archive *a, struct archive_entry **ret_e, char **ret_why)
{
	int r = archive_read_next_header(a, ret_e);

	if (r == ARCHIVE_EOF)
		return 1;
	/* Strict: even a warning means this is not a bundle we wrote. */
	if (r != ARCHIVE_OK)
		return archive_fail(a, ret_why, NULL);
	return check_entry(*ret_e, ret_why);
}

/* Missing, or an empty directory: 0.  Otherwise -EEXIST. */
static int
target_free(const char *target, char **ret_why)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (lstat(target, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(ret_why, -errno, "cannot access '%s': %s", target,
			    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return fail(ret_why, -EEXIST, "'%s' exists", target);
	d = opendir(target);
	if (d == NULL)
		return fail(ret_why, -errno, "cannot open '%s': %s", target,
			    strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			r = fail(ret_why, -EEXIST,
				 "'%s' exists and is not empty", target);
			break;
		}
	closedir(d);
	return r;
}

/* The members' sizes (from SHA256SUMS) fit in dir's file system. */
static int
space_ok(const char *dir, const struct sums *sums, char **ret_why)
{
	struct statvfs sv;
	uint64_t total = 0, avail;

	for (size_t i = 0; i < sums->n; i++) {
		if (sums->v[i].size > UINT64_MAX / 2 - total)
			return fail(ret_why, -EFBIG, "bundle is too large");
		total += sums->v[i].size;
	}
	if (statvfs(dir, &sv) < 0)
		return fail(ret_why, -errno,
			    "cannot check free space in "
			    "'%s': %s",
			    dir, strerror(errno));
	avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	if (total > avail)
		return fail(ret_why, -ENOSPC,
			    "bundle needs %" PRIu64 " bytes, only %" PRIu64
			    " are free in '%s'",
			    total, avail, dir);
	return 0;
}

void
unpack_info_clear(struct unpack_info *info)
{
	if (info == NULL)
		return;
	free(info->signer);
	*info = (struct unpack_info){0};
}

/* Long (about 200 lines): reading, verifying and extracting in one pass
 * with one cleanup label; see pack_bundle. */
int
unpack_bundle(const char *bundle, const char *target,
	      const struct unpack_options *opts, struct unpack_info *ret_info,
	      char **ret_why)
{
	struct unpack_info info = {0};
	struct sums sums = {0};
	struct strbuf text = STRBUF_INIT, sigbuf = STRBUF_INIT;
	struct archive *a = NULL;
	struct archive_entry *e;
	struct progress *p = NULL;
	char hex[DIGEST_HEX_MAX];
	char *tgt = NULL, *tmp = NULL;
	struct stat st;
	size_t len;
	int r;

	if (ret_why != NULL)
		*ret_why = NULL;
	if (opts->allowed_signers != NULL &&
	    access(opts->allowed_signers, R_OK) < 0)
		return fail(ret_why, -errno, "cannot read '%s': %s",
			    opts->allowed_signers, strerror(errno));
	tgt = xstrdup(target);
	len = strlen(tgt);
	while (len > 1 && tgt[len - 1] == '/')
		tgt[--len] = '\0';
	r = target_free(tgt, ret_why);
	if (r < 0)
		goto out;
	if (stat(bundle, &st) < 0) {
		r = fail(ret_why, -errno, "cannot open '%s': %s", bundle,
			 strerror(errno));
		goto out;
	}
	tmp = xasprintf("%s.tmp-XXXXXX", tgt);
	if (mkdtemp(tmp) == NULL) {
		r = fail(ret_why, -errno, "cannot create '%s': %s", tmp,
			 strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}

	a = archive_read_new();
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, bundle, IO_CHUNK) != ARCHIVE_OK) {
		r = archive_fail(a, ret_why, NULL);
		goto out;
	}
	{
		const char *base = strrchr(bundle, '/');
		CLEANUP_FREE char *label =
			xasprintf("unpacking %s", base ? base + 1 : bundle);

		p = progress_new(label, (uint64_t)st.st_size);
	}

	/* SHA256SUMS first, then maybe its signature: verified before any
	 * other member is read. */
	r = next_entry(a, &e, ret_why);
	if (r == 1)
		r = fail(ret_why, -EBADMSG, "bundle is empty");
	if (r < 0)
		goto out;
	if (strcmp(archive_entry_pathname(e), PACK_SUMS_NAME) != 0) {
		r = fail(ret_why, -EBADMSG,
			 "not an sbx-build bundle: it starts with '%s', not "
			 "SHA256SUMS",
			 archive_entry_pathname(e));
		goto out;
	}
	r = extract_entry(a, e, tmp, p, hex, &text, SUMS_MAX, UINT64_MAX,
			  ret_why);
	if (r < 0)
		goto out;
	r = sums_parse(text.buf ? text.buf : "", text.len, &sums, ret_why);
	if (r < 0)
		goto out;
	info.n_files++;

	r = next_entry(a, &e, ret_why);
	if (r == 0 && strcmp(archive_entry_pathname(e), PACK_SIG_NAME) == 0) {
		r = extract_entry(a, e, tmp, p, hex, &sigbuf, SIG_MAX,
				  UINT64_MAX, ret_why);
		if (r < 0)
			goto out;
		info.is_signed = true;
		info.n_files++;
		r = next_entry(a, &e, ret_why);
	}
	if (r < 0)
		goto out;
	if (opts->allowed_signers != NULL) {
		CLEANUP_FREE char *sp = path_join(tmp, PACK_SUMS_NAME);
		CLEANUP_FREE char *gp = path_join(tmp, PACK_SIG_NAME);
		int v;

		if (!info.is_signed) {
			r = fail(ret_why, -EPERM,
				 "bundle is not signed, but a signature is "
				 "required (--allowed-signers)");
			goto out;
		}
		v = ssh_verify(opts->allowed_signers, opts->identity, sp, gp,
			       &info.signer, ret_why);
		if (v < 0) {
			r = v;
			goto out;
		}
	} else if (info.is_signed) {
		CLEANUP_FREE char *sp = path_join(tmp, PACK_SUMS_NAME);
		CLEANUP_FREE char *gp = path_join(tmp, PACK_SIG_NAME);
		int v = ssh_check(sp, gp, ret_why);

		if (v < 0) {
			r = v;
			goto out;
		}
	}
	{
		int v = space_ok(tmp, &sums, ret_why);

		if (v < 0) {
			r = v;
			goto out;
		}
	}

	/* Every other member: listed, once, intact. */
	for (; r == 0; r = next_entry(a, &e, ret_why)) {
		const char *name = archive_entry_pathname(e);
		struct sum *s = sums_find(&sums, name);

		if (s != NULL && s->seen) {
			r = fail(ret_why, -EBADMSG, "'%s': duplicate entry",
				 name);
			goto out;
		}
		if (s == NULL) {
			bool dup = strcmp(name, PACK_SUMS_NAME) == 0 ||
				   strcmp(name, PACK_SIG_NAME) == 0;

			r = fail(ret_why, -EBADMSG, "'%s': %s", name,
				 dup ? "duplicate entry"
				     : "not listed in SHA256SUMS");
			goto out;
		}
		s->seen = true;
		r = extract_entry(a, e, tmp, p, hex, NULL, 0, s->size, ret_why);
		if (r < 0)
			goto out;
		if (strcmp(hex, s->hex) != 0) {
			r = fail(ret_why, -EBADMSG,
				 "'%s': checksum mismatch (SHA256SUMS says "
				 "%.12s..., data is %.12s...)",
				 name, s->hex, hex);
			goto out;
		}
		info.n_files++;
		if (str_ends_with(name, ".qcow2"))
			info.n_vms++;
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i < sums.n; i++)
		if (!sums.v[i].seen) {
			r = fail(ret_why, -EBADMSG,
				 "bundle is truncated or incomplete: '%s' "
				 "is missing",
				 sums.v[i].name);
			goto out;
		}
	progress_update(p, (uint64_t)st.st_size);

	if (chmod(tmp, 0755) < 0 || rename(tmp, tgt) < 0) {
		r = fail(ret_why, -errno, "cannot rename '%s' to '%s': %s", tmp,
			 tgt, strerror(errno));
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
	sums_free(&sums);
	sb_release(&text);
	sb_release(&sigbuf);
	unpack_info_clear(&info);
	return r;
}
