/* Container images on the build host: skopeo and buildah through run.c,
 * their results verified here with digest.c.  The cache keeps each image
 * in containers' "dir:" layout (manifest.json, one file per blob named by
 * its hex digest, version): it holds the registry's manifest bytes as they
 * are, so the manifest digest pinned in sbx.lock is the digest of
 * manifest.json, whatever the manifest's format. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "images.h"
#include "progress.h"
#include "schema.h"
#include "run.h"
#include "util.h"
#include "ytree.h"

#define REF_CHARS \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@-"
#define SKOPEO_TIMEOUT_MS (30u * 60u * 1000u)

bool
images_digest_ok(const char *d)
{
	if (d == NULL || !str_starts_with(d, "sha256:") || strlen(d) != 71)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

int
images_ref_parse(const char *ref, char **ret_name, char **ret_digest,
		 char **ret_err)
{
	const char *at, *slash, *first_end;
	CLEANUP_FREE char *name = NULL;
	char *digest = NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t n;

	if (ref == NULL || *ref == '\0' ||
	    strspn(ref, REF_CHARS) != strlen(ref) || ref[0] == '/' ||
	    ref[0] == '-' || ref[0] == '.' || strstr(ref, "//") != NULL ||
	    strstr(ref, "..") != NULL) {
		*ret_err = xasprintf("'%s' is not an image reference",
				     ref ? ref : "");
		return -EINVAL;
	}
	at = strchr(ref, '@');
	if (at != NULL) {
		if (!images_digest_ok(at + 1)) {
			*ret_err = xasprintf("'%s': the digest after '@' must "
					     "be sha256: and 64 hex digits",
					     ref);
			return -EINVAL;
		}
		digest = xstrdup(at + 1);
	}
	n = at != NULL ? (size_t)(at - ref) : strlen(ref);
	name = xstrndup(ref, n);
	if (n == 0 || name[n - 1] == '/' || name[n - 1] == ':') {
		free(digest);
		*ret_err = xasprintf("'%s' is not an image reference", ref);
		return -EINVAL;
	}
	/* podman's short names: no registry means docker.io, and a
	 * single component there is an official image (library/). */
	first_end = strchr(name, '/');
	if (first_end == NULL) {
		sb_printf(&sb, "docker.io/library/%s", name);
	} else {
		CLEANUP_FREE char *first =
			xstrndup(name, (size_t)(first_end - name));

		if (strchr(first, '.') == NULL && strchr(first, ':') == NULL &&
		    strcmp(first, "localhost") != 0)
			sb_printf(&sb, "docker.io/%s", name);
		else
			sb_puts(&sb, name);
	}
	/* A tag is only after the last '/'; none means latest. */
	slash = strrchr(sb.buf, '/');
	if (strchr(slash, ':') == NULL && digest == NULL)
		sb_puts(&sb, ":latest");
	*ret_name = sb_detach(&sb, NULL);
	*ret_digest = digest;
	return 0;
}

char *
images_repo(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *colon = strchr(slash != NULL ? slash : name, ':');

	return colon != NULL ? xstrndup(name, (size_t)(colon - name))
			     : xstrdup(name);
}

static const char *
scalar(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	return v != NULL && v->kind == YNODE_SCALAR ? v->str : NULL;
}

static int
parse_json(const char *what, const char *json, size_t len, struct ynode **ret,
	   char **ret_err)
{
	struct diag_list *diags = diag_list_new();
	int r = ytree_parse(what, json, len, diags, ret);

	if (r == 0 && (*ret)->kind != YNODE_MAP) {
		ynode_free(*ret);
		r = -EINVAL;
	}
	if (r < 0)
		*ret_err = xasprintf("'%s' is not a JSON object%s%s", what,
				     diag_count(diags) ? ": " : "",
				     diag_count(diags) ? diag_message(diags, 0)
						       : "");
	diag_list_free(diags);
	return r < 0 ? -EINVAL : 0;
}

static char *
sha256_of(const void *data, size_t len)
{
	char hex[DIGEST_HEX_MAX];

	digest_buffer_hex(DIGEST_SHA256, data, len, hex);
	return xasprintf("sha256:%s", hex);
}

int
images_pick_manifest(const char *json, size_t len, char **ret_digest,
		     char **ret_err)
{
	struct ynode *root = NULL;
	const struct ynode *list;
	int r = parse_json("manifest", json, len, &root, ret_err);

	if (r < 0)
		return r;
	list = ynode_get(root, "manifests");
	if (list == NULL) {
		const char *v = scalar(root, "schemaVersion");

		if (v == NULL || strcmp(v, "2") != 0 ||
		    ynode_get(root, "config") == NULL) {
			*ret_err = xstrdup("not an image manifest of schema "
					   "version 2");
			r = -EINVAL;
		} else {
			*ret_digest = sha256_of(json, len);
		}
		ynode_free(root);
		return r;
	}
	r = -ENOENT;
	for (size_t i = 0; list->kind == YNODE_SEQ && i < list->n; i++) {
		const struct ynode *e = list->items[i];
		const struct ynode *p = ynode_get(e, "platform");
		const char *os = scalar(p, "os"),
			   *arch = scalar(p, "architecture");
		const char *d = scalar(e, "digest");

		if (os != NULL && arch != NULL && strcmp(os, IMAGES_OS) == 0 &&
		    strcmp(arch, IMAGES_ARCH) == 0 && images_digest_ok(d)) {
			*ret_digest = xstrdup(d);
			r = 0;
			break;
		}
	}
	if (r < 0)
		*ret_err = xstrdup("the manifest list has no " IMAGES_OS
				   "/" IMAGES_ARCH " image");
	ynode_free(root);
	return r;
}

static int
run_tool(const char *const *argv, struct strbuf *out, char **ret_err)
{
	struct strbuf err = STRBUF_INIT;
	struct run_opts o = {
		.out = out, .err = &err, .timeout_ms = SKOPEO_TIMEOUT_MS};
	int r = run_program(argv, &o);
	char *why = run_failure(argv, r, &err);

	sb_release(&err);
	if (why == NULL)
		return 0;
	*ret_err = why;
	return r < 0 ? r : -EIO;
}

int
images_resolve(const char *name, char **ret_digest, char **ret_err)
{
	CLEANUP_FREE char *src = xasprintf("docker://%s", name);
	const char *argv[] = {"skopeo", "inspect", "--raw", src, NULL};
	struct strbuf out = STRBUF_INIT;
	CLEANUP_FREE char *why = NULL;
	int r = run_tool(argv, &out, ret_err);

	if (r == 0) {
		r = images_pick_manifest(out.buf ? out.buf : "", out.len,
					 ret_digest, &why);
		if (r < 0)
			*ret_err = xasprintf("'%s': %s", name, why);
	}
	sb_release(&out);
	return r;
}

char *
images_cache_path(const char *cache, const char *digest)
{
	return xasprintf("%s/containers/sha256-%s", cache, digest + 7);
}

/* Hashes DIR/HEX and compares it (and its size, when size >= 0) with
 * digest. */
static int
check_blob(const char *dir, const char *what, const char *digest,
	   long long size, char **ret_err)
{
	CLEANUP_FREE char *path = NULL;
	char hex[DIGEST_HEX_MAX];
	struct stat st;
	int r;

	if (!images_digest_ok(digest)) {
		*ret_err = xasprintf("'%s': the %s has no sha256 digest", dir,
				     what);
		return -EBADMSG;
	}
	path = xasprintf("%s/%s", dir, digest + 7);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		*ret_err = xasprintf("'%s': the %s is missing", path, what);
		return -EBADMSG;
	}
	r = digest_file_hex(DIGEST_SHA256, path, hex);
	if (r < 0) {
		*ret_err =
			xasprintf("cannot read '%s': %s", path, strerror(-r));
		return r;
	}
	if (strcmp(hex, digest + 7) != 0 || (size >= 0 && st.st_size != size)) {
		*ret_err = xasprintf("'%s': the %s does not match its digest "
				     "(sha256:%s); the cache entry was "
				     "altered: delete '%s' and fetch again",
				     path, what, hex, dir);
		return -EBADMSG;
	}
	return 0;
}

static long long
size_of(const struct ynode *desc)
{
	uint64_t v;
	const char *s = scalar(desc, "size");

	return s != NULL && parse_u64(s, &v) ? (long long)v : -1;
}

int
images_verify(const char *dir, const char *digest, char **ret_err)
{
	CLEANUP_FREE char *mpath = path_join(dir, "manifest.json");
	CLEANUP_FREE char *text = NULL;
	CLEANUP_FREE char *got = NULL;
	CLEANUP_FREE char *why = NULL;
	struct ynode *m = NULL;
	const struct ynode *layers, *config;
	size_t len;
	int r = read_file(mpath, &text, &len);

	if (r < 0) {
		*ret_err =
			xasprintf("cannot read '%s': %s", mpath, strerror(-r));
		return r == -ENOENT ? -ENOENT : r;
	}
	got = sha256_of(text, len);
	if (strcmp(got, digest) != 0) {
		*ret_err = xasprintf("'%s' is %s, not the pinned %s; the "
				     "cache entry was altered: delete '%s' "
				     "and fetch again",
				     mpath, got, digest, dir);
		return -EBADMSG;
	}
	r = parse_json(mpath, text, len, &m, &why);
	if (r < 0) {
		*ret_err = xstrdup(why);
		return -EBADMSG;
	}
	config = ynode_get(m, "config");
	layers = ynode_get(m, "layers");
	if (config == NULL || layers == NULL || layers->kind != YNODE_SEQ) {
		*ret_err = xasprintf("'%s' is not an image manifest", mpath);
		ynode_free(m);
		return -EBADMSG;
	}
	r = check_blob(dir, "config", scalar(config, "digest"), size_of(config),
		       ret_err);
	for (size_t i = 0; r == 0 && i < layers->n; i++) {
		const struct ynode *l = layers->items[i];

		r = check_blob(dir, "layer", scalar(l, "digest"), size_of(l),
			       ret_err);
	}
	ynode_free(m);
	return r;
}

int
images_config_id(const char *dir, char **ret_id, char **ret_err)
{
	CLEANUP_FREE char *mpath = path_join(dir, "manifest.json");
	CLEANUP_FREE char *text = NULL;
	CLEANUP_FREE char *why = NULL;
	struct ynode *m = NULL;
	const char *d;
	size_t len;
	int r = read_file(mpath, &text, &len);

	if (r < 0)
		return ret_errf(ret_err, r, "cannot read '%s': %s", mpath,
				strerror(-r));
	r = parse_json(mpath, text, len, &m, &why);
	if (r < 0)
		return ret_errf(ret_err, -EBADMSG, "%s", why);
	d = scalar(ynode_get(m, "config"), "digest");
	if (d == NULL || !images_digest_ok(d)) {
		ynode_free(m);
		return ret_errf(ret_err, -EBADMSG,
				"'%s' names no sha256 config digest", mpath);
	}
	*ret_id = xstrdup(d + strlen("sha256:"));
	ynode_free(m);
	return 0;
}

/* Sums the sizes of the files in dir (for the progress line). */
static uint64_t
dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t sum = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		CLEANUP_FREE char *p = path_join(dir, e->d_name);
		struct stat st;

		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
	}
	if (d != NULL)
		closedir(d);
	return sum;
}

/* Moves the verified layout tmp to dst (or keeps an intact dst another
 * build left there first). */
static int
enter_cache(const char *tmp, const char *dst, const char *digest,
	    char **ret_err)
{
	CLEANUP_FREE char *why = NULL;
	int r = images_verify(tmp, digest, ret_err);

	if (r < 0)
		return r;
	if (rename(tmp, dst) == 0)
		return 0;
	if ((errno == ENOTEMPTY || errno == EEXIST) &&
	    images_verify(dst, digest, &why) == 0) {
		(void)rm_rf(tmp);
		return 0;
	}
	r = -errno;
	*ret_err = xasprintf("cannot rename '%s' to '%s': %s", tmp, dst,
			     strerror(-r));
	return r;
}

static char *
tmp_in_cache(const char *cache, const char *what)
{
	return xasprintf("%s/containers/.%s-%ld", cache, what, (long)getpid());
}

int
images_fetch(const char *cache, const char *name, const char *digest,
	     bool offline, char **ret_dir, char **ret_err)
{
	CLEANUP_FREE char *dir = images_cache_path(cache, digest);
	CLEANUP_FREE char *tmp = tmp_in_cache(cache, digest + 7);
	CLEANUP_FREE char *repo = images_repo(name);
	CLEANUP_FREE char *src = xasprintf("docker://%s@%s", repo, digest);
	CLEANUP_FREE char *dst = xasprintf("dir:%s", tmp);
	CLEANUP_FREE char *label = xasprintf("%s@%.19s", repo, digest);
	CLEANUP_FREE char *top = path_join(cache, "containers");
	const char *argv[] = {"skopeo",	   "copy",
			      "--quiet",   "--override-os",
			      IMAGES_OS,   "--override-arch",
			      IMAGES_ARCH, src,
			      dst,	   NULL};
	struct progress *bar;
	struct stat st;
	int r;

	if (stat(dir, &st) == 0) {
		r = images_verify(dir, digest, ret_err);
		if (r == 0)
			*ret_dir = xstrdup(dir);
		return r;
	}
	if (offline) {
		*ret_err = xasprintf("'%s@%s' is not in the cache ('%s') and "
				     "the build is offline",
				     repo, digest, dir);
		return -ENOENT;
	}
	r = mkdir_p(top, 0755);
	if (r < 0) {
		*ret_err =
			xasprintf("cannot create '%s': %s", top, strerror(-r));
		return r;
	}
	(void)rm_rf(tmp);
	bar = progress_new(label, 0);
	r = run_tool(argv, NULL, ret_err);
	if (r == 0)
		progress_update(bar, dir_bytes(tmp));
	progress_done(bar);
	if (r == 0)
		r = enter_cache(tmp, dir, digest, ret_err);
	(void)rm_rf(tmp);
	if (r == 0)
		*ret_dir = xstrdup(dir);
	return r;
}

void
images_froms_free(struct images_from *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].ref);
	free(v);
}

/* The words of one FROM instruction, flags (--platform=...) dropped. */
static int
from_words(const char *line, char **ret_image, char **ret_stage)
{
	char *copy = xstrdup(line), *save = NULL, *w;
	char *words[4] = {0};
	size_t n = 0;

	for (w = strtok_r(copy, " \t", &save); w != NULL;
	     w = strtok_r(NULL, " \t", &save)) {
		if (n > 0 && str_starts_with(w, "--") && n == 1)
			continue;
		if (n == 4) {
			free(copy);
			return -EINVAL;
		}
		words[n++] = w;
	}
	if (n != 2 && !(n == 4 && strcasecmp(words[2], "as") == 0)) {
		free(copy);
		return -EINVAL;
	}
	*ret_image = xstrdup(words[1]);
	*ret_stage = n == 4 ? xstrdup(words[3]) : NULL;
	free(copy);
	return 0;
}

int
images_froms(const char *text, struct images_from **ret, size_t *ret_n,
	     char **ret_err)
{
	struct images_from *v = NULL;
	char **stages = NULL;
	size_t n = 0, nstages = 0;
	unsigned lineno = 0;
	int r = 0;

	for (const char *p = text; r == 0 && *p;) {
		const char *e = strchrnul(p, '\n');
		CLEANUP_FREE char *line = xstrndup(p, (size_t)(e - p));
		char *image = NULL, *stage = NULL, *s = line;
		bool known = false;

		lineno++;
		p = *e ? e + 1 : e;
		while (isspace((unsigned char)*s))
			s++;
		if (strncasecmp(s, "FROM", 4) != 0 ||
		    !isspace((unsigned char)s[4]))
			continue;
		if (strchr(s, '$') != NULL || strchr(s, '\\') != NULL ||
		    from_words(s, &image, &stage) < 0) {
			*ret_err = xasprintf("line %u: 'FROM' must name one "
					     "image (no variables, no "
					     "continuation): %s",
					     lineno, s);
			r = -EINVAL;
			break;
		}
		for (size_t i = 0; i < nstages; i++)
			known |= strcmp(stages[i], image) == 0;
		if (!known && strcmp(image, "scratch") != 0) {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n].ref = image;
			v[n++].line = lineno;
			image = NULL;
		}
		free(image);
		if (stage != NULL) {
			stages = xrealloc(stages,
					  (nstages + 1) * sizeof(*stages));
			stages[nstages++] = stage;
		}
	}
	for (size_t i = 0; i < nstages; i++)
		free(stages[i]);
	free(stages);
	if (r < 0) {
		images_froms_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* --- the build context's digest --------------------------------------- */

static struct {
	size_t root_len;
	char **lines;
	size_t n;
	int err;
} walk;

static int
walk_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	const char *rel = path + walk.root_len;
	char hex[DIGEST_HEX_MAX] = "";
	char target[4096];
	ssize_t tn;
	int r;

	(void)f;
	if (*rel == '/')
		rel++;
	if (type == FTW_F) {
		r = digest_file_hex(DIGEST_SHA256, path, hex);
		if (r < 0) {
			walk.err = r;
			return 1;
		}
	} else if (type == FTW_SL) {
		tn = readlink(path, target, sizeof(target) - 1);
		if (tn < 0) {
			walk.err = -errno;
			return 1;
		}
		target[tn] = '\0';
		digest_buffer_hex(DIGEST_SHA256, target, (size_t)tn, hex);
	} else if (type != FTW_D) {
		walk.err = -EACCES;
		return 1;
	}
	walk.lines = xrealloc(walk.lines, (walk.n + 1) * sizeof(*walk.lines));
	walk.lines[walk.n++] =
		xasprintf("%o %s %s\n", (unsigned)st->st_mode, hex, rel);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
images_context_digest(const char *dir, const char *extra, char **ret_digest,
		      char **ret_err)
{
	struct digest *d;
	char hex[DIGEST_HEX_MAX];
	int r;

	walk.root_len = strlen(dir);
	walk.lines = NULL;
	walk.n = 0;
	walk.err = 0;
	r = nftw(dir, walk_one, 16, FTW_PHYS);
	if (r != 0 && walk.err == 0)
		walk.err = errno ? -errno : -EIO;
	d = digest_new(DIGEST_SHA256);
	if (walk.n > 0)
		qsort(walk.lines, walk.n, sizeof(*walk.lines), cmp_str);
	for (size_t i = 0; i < walk.n; i++) {
		digest_update(d, walk.lines[i], strlen(walk.lines[i]));
		free(walk.lines[i]);
	}
	free(walk.lines);
	walk.lines = NULL;
	if (extra != NULL)
		digest_update(d, extra, strlen(extra));
	digest_final_hex(d, hex);
	digest_free(d);
	if (walk.err != 0) {
		*ret_err = xasprintf("cannot read the build context '%s': %s",
				     dir, strerror(-walk.err));
		return walk.err;
	}
	*ret_digest = xasprintf("sha256:%s", hex);
	return 0;
}

/* --- buildah ----------------------------------------------------------- */

/* buildah in a private storage: "buildah --root R --runroot RR
 * --storage-driver vfs" + args (vfs works on any filesystem and needs no
 * mount). */
static int
buildah(const char *root, const char *const *args, struct strbuf *out,
	char **ret_err)
{
	CLEANUP_FREE char *run = xasprintf("%s/run", root);
	CLEANUP_FREE char *store = xasprintf("%s/storage", root);
	const char *argv[24] = {"buildah",   "--root", store,
				"--runroot", run,      "--storage-driver",
				"vfs"};
	size_t n = 7;

	for (size_t i = 0; args[i] != NULL && n + 1 < ARRAY_SIZE(argv); i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return run_tool(argv, out, ret_err);
}

static int
build_in(const char *root, const char *cache, const char *context,
	 const char *tag, const char *const *from_names,
	 const char *const *from_dirs, size_t nfrom, char **ret_digest,
	 char **ret_err)
{
	CLEANUP_FREE char *file = path_join(context, "Containerfile");
	CLEANUP_FREE char *outdir = xasprintf("%s/out", root);
	CLEANUP_FREE char *dst = xasprintf("dir:%s", outdir);
	CLEANUP_FREE char *mtext = NULL;
	CLEANUP_FREE char *digest = NULL;
	CLEANUP_FREE char *final = NULL;
	size_t len;
	int r = 0;

	for (size_t i = 0; r == 0 && i < nfrom; i++) {
		CLEANUP_FREE char *src = xasprintf("dir:%s", from_dirs[i]);
		const char *pull[] = {"pull", "--quiet", src, NULL};
		struct strbuf id = STRBUF_INIT;

		r = buildah(root, pull, &id, ret_err);
		while (r == 0 && id.len > 0 &&
		       isspace((unsigned char)id.buf[id.len - 1]))
			id.buf[--id.len] = '\0';
		if (r == 0) {
			const char *t[] = {"tag", id.buf, from_names[i], NULL};

			r = buildah(root, t, NULL, ret_err);
		}
		sb_release(&id);
	}
	if (r == 0) {
		const char *b[] = {"build",	"--quiet",     "--pull=never",
				   "--network", "host",	       "--isolation",
				   "chroot",	"--timestamp", "0",
				   "--file",	file,	       "--tag",
				   tag,		context,       NULL};

		r = buildah(root, b, NULL, ret_err);
	}
	if (r == 0) {
		const char *p[] = {"push", "--quiet", tag, dst, NULL};

		r = buildah(root, p, NULL, ret_err);
	}
	if (r < 0)
		return r;
	{
		CLEANUP_FREE char *mpath = path_join(outdir, "manifest.json");

		r = read_file(mpath, &mtext, &len);
		if (r < 0) {
			*ret_err = xasprintf("cannot read '%s': %s", mpath,
					     strerror(-r));
			return r;
		}
	}
	digest = sha256_of(mtext, len);
	final = images_cache_path(cache, digest);
	r = enter_cache(outdir, final, digest, ret_err);
	if (r == 0) {
		*ret_digest = digest;
		digest = NULL;
	}
	return r;
}

int
images_build(const char *cache, const char *context, const char *tag,
	     const char *const *from_names, const char *const *from_dirs,
	     size_t nfrom, char **ret_digest, char **ret_err)
{
	CLEANUP_FREE char *root = tmp_in_cache(cache, "build");
	CLEANUP_FREE char *label = xasprintf("build %s", tag);
	struct progress *bar;
	int r;

	(void)rm_rf(root);
	r = mkdir_p(root, 0700);
	if (r < 0) {
		*ret_err =
			xasprintf("cannot create '%s': %s", root, strerror(-r));
		return r;
	}
	bar = progress_new(label, 0);
	r = build_in(root, cache, context, tag, from_names, from_dirs, nfrom,
		     ret_digest, ret_err);
	if (r == 0) {
		CLEANUP_FREE char *dir = images_cache_path(cache, *ret_digest);

		progress_update(bar, dir_bytes(dir));
	}
	progress_done(bar);
	(void)rm_rf(root);
	return r;
}
