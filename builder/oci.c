/* oci.c: OCI image layouts for push and pull (see oci.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "digest.h"
#include "oci.h"
#include "util.h"
#include "ytree.h"

#define IO_CHUNK (1u << 20)

int
oci_digest_ok(const char *s)
{
	if (s == NULL || !str_starts_with(s, "sha256:") || strlen(s) != 71)
		return 0;
	for (s += 7; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

char *
oci_blob_path(const char *dir, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
}

int
oci_layout_init(const char *dir, char **ret_err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	CLEANUP_FREE char *blobs = xasprintf("%s/blobs/sha256", dir);
	CLEANUP_FREE char *file = path_join(dir, "oci-layout");
	int r = mkdir_p(blobs, 0755);

	if (r < 0)
		return ret_errf(ret_err, r, "cannot create '%s': %s", blobs,
				strerror(-r));
	r = write_file_atomic(file, layout, sizeof(layout) - 1, 0644);
	if (r < 0)
		return ret_errf(ret_err, r, "cannot write '%s': %s", file,
				strerror(-r));
	return 0;
}

/* Moves the finished temporary tmp to its digest's name in dir. */
static int
store_blob(const char *dir, const char *tmp, struct digest *d,
	   struct oci_desc *ret, char **ret_err)
{
	char hex[DIGEST_HEX_MAX];
	CLEANUP_FREE char *path = NULL;

	digest_final_hex(d, hex);
	snprintf(ret->digest, sizeof(ret->digest), "sha256:%s", hex);
	path = oci_blob_path(dir, ret->digest);
	if (rename(tmp, path) < 0)
		return ret_errf(ret_err, -errno,
				"cannot rename '%s' to '%s': %s", tmp, path,
				strerror(errno));
	return 0;
}

int
oci_put_range(const char *dir, int fd, uint64_t off, uint64_t len,
	      const char *title, struct oci_desc *ret, char **ret_err)
{
	CLEANUP_FREE char *tmp = xasprintf("%s/blobs/sha256/.put-XXXXXX", dir);
	CLEANUP_FREE char *buf = xmalloc(IO_CHUNK);
	struct digest *d = digest_new(DIGEST_SHA256);
	uint64_t left = len;
	int out, r = 0;

	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		digest_free(d);
		return ret_errf(ret_err, -errno, "cannot create '%s': %s", tmp,
				strerror(errno));
	}
	while (left > 0) {
		size_t want = left < IO_CHUNK ? (size_t)left : IO_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)(off + len - left));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = ret_errf(ret_err, n < 0 ? -errno : -EIO,
				     "cannot read the bundle at %llu: %s",
				     (unsigned long long)(off + len - left),
				     n < 0 ? strerror(errno)
					   : "unexpected end");
			goto out;
		}
		digest_update(d, buf, (size_t)n);
		r = write_all(out, buf, (size_t)n);
		if (r < 0) {
			r = ret_errf(ret_err, r, "cannot write '%s': %s", tmp,
				     strerror(-r));
			goto out;
		}
		left -= (uint64_t)n;
	}
	if (fchmod(out, 0644) < 0) {
		r = ret_errf(ret_err, -errno, "cannot chmod '%s': %s", tmp,
			     strerror(errno));
		goto out;
	}
	ret->size = len;
	ret->title = title != NULL ? xstrdup(title) : NULL;
	r = store_blob(dir, tmp, d, ret, ret_err);
	if (r < 0) {
		free(ret->title);
		ret->title = NULL;
	}
out:
	if (close(out) < 0 && r == 0)
		r = ret_errf(ret_err, -errno, "cannot write '%s': %s", tmp,
			     strerror(errno));
	if (r < 0)
		unlink(tmp);
	digest_free(d);
	return r;
}

int
oci_put_buffer(const char *dir, const void *buf, size_t len,
	       struct oci_desc *ret, char **ret_err)
{
	char hex[DIGEST_HEX_MAX];
	CLEANUP_FREE char *path = NULL;
	int r;

	digest_buffer_hex(DIGEST_SHA256, buf, len, hex);
	snprintf(ret->digest, sizeof(ret->digest), "sha256:%s", hex);
	ret->size = len;
	ret->title = NULL;
	path = oci_blob_path(dir, ret->digest);
	r = write_file_atomic(path, buf, len, 0644);
	if (r < 0)
		return ret_errf(ret_err, r, "cannot write '%s': %s", path,
				strerror(-r));
	return 0;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void
json_str(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_printf(sb, "\\%c", c);
		else if (c < 0x20)
			sb_printf(sb, "\\u%04x", c);
		else
			sb_putc(sb, (char)c);
	}
	sb_putc(sb, '"');
}

static void
json_desc(struct strbuf *sb, const char *type, const struct oci_desc *d)
{
	sb_puts(sb, "{\"mediaType\":");
	json_str(sb, type);
	sb_printf(sb, ",\"digest\":\"%s\",\"size\":%llu", d->digest,
		  (unsigned long long)d->size);
	if (d->title != NULL) {
		sb_puts(sb, ",\"annotations\":{"
			    "\"org.opencontainers.image.title\":");
		json_str(sb, d->title);
		sb_putc(sb, '}');
	}
	sb_putc(sb, '}');
}

int
oci_write_manifest(const char *dir, const struct oci_manifest *m,
		   const char *ref_name, char ret_digest[OCI_DIGEST_MAX],
		   char **ret_err)
{
	struct strbuf sb = STRBUF_INIT;
	struct oci_desc md;
	CLEANUP_FREE char *index = path_join(dir, "index.json");
	int r;

	sb_puts(&sb,
		"{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST_TYPE
		"\",\"artifactType\":\"" OCI_ARTIFACT_TYPE "\",\"config\":");
	json_desc(&sb, OCI_CONFIG_TYPE, &m->config);
	sb_puts(&sb, ",\"layers\":[");
	for (size_t i = 0; i < m->n_layers; i++) {
		if (i > 0)
			sb_putc(&sb, ',');
		json_desc(&sb, OCI_CHUNK_TYPE, &m->layers[i]);
	}
	sb_puts(&sb, "]}");
	r = oci_put_buffer(dir, sb.buf, sb.len, &md, ret_err);
	sb_release(&sb);
	if (r < 0)
		return r;
	sb_puts(&sb, "{\"schemaVersion\":2,\"manifests\":[");
	sb_printf(&sb,
		  "{\"mediaType\":\"" OCI_MANIFEST_TYPE
		  "\",\"digest\":\"%s\",\"size\":%llu,\"annotations\":"
		  "{\"org.opencontainers.image.ref.name\":",
		  md.digest, (unsigned long long)md.size);
	json_str(&sb, ref_name);
	sb_puts(&sb, "}}]}");
	r = write_file_atomic(index, sb.buf, sb.len, 0644);
	sb_release(&sb);
	if (r < 0)
		return ret_errf(ret_err, r, "cannot write '%s': %s", index,
				strerror(-r));
	memcpy(ret_digest, md.digest, OCI_DIGEST_MAX);
	return 0;
}

/* Parses the JSON document text (name for messages) into a tree. */
static int
parse_json(const char *name, const char *text, size_t len, struct ynode **ret,
	   char **ret_err)
{
	static const struct ytree_limits lim = {
		.max_depth = 8,
		.max_nodes = 16 * OCI_MAX_LAYERS,
		.max_scalar = 4096,
	};
	struct diag_list *dl = diag_list_new();
	int r = ytree_parse_limited(name, text, len, &lim, dl, ret);

	diag_list_free(dl);
	if (r < 0 || (*ret)->kind != YNODE_MAP) {
		if (r == 0)
			ynode_free(*ret);
		return ret_errf(ret_err, -EBADMSG, "'%s' is not a JSON object",
				name);
	}
	return 0;
}

static const char *
str_at(const struct ynode *map, const char *key)
{
	const struct ynode *n = ynode_get(map, key);

	return n != NULL && n->kind == YNODE_SCALAR ? n->str : NULL;
}

static int
u64_at(const struct ynode *map, const char *key, uint64_t *ret)
{
	const char *s = str_at(map, key);
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

int
oci_read_index(const char *dir, const char *ref_name,
	       char ret_digest[OCI_DIGEST_MAX], char **ret_err)
{
	CLEANUP_FREE char *path = path_join(dir, "index.json");
	CLEANUP_FREE char *text = NULL;
	struct ynode *root = NULL, *list;
	size_t len;
	int r = read_file(path, &text, &len);

	if (r < 0)
		return ret_errf(ret_err, r, "cannot read '%s': %s", path,
				strerror(-r));
	r = parse_json(path, text, len, &root, ret_err);
	if (r < 0)
		return r;
	list = ynode_get(root, "manifests");
	r = ret_errf(ret_err, -ENOENT, "'%s' names no manifest '%s'", path,
		     ref_name);
	for (size_t i = 0;
	     list != NULL && list->kind == YNODE_SEQ && i < list->n; i++) {
		const struct ynode *m = list->items[i];
		const struct ynode *ann = ynode_get(m, "annotations");
		const char *name =
			ann ? str_at(ann, "org.opencontainers.image.ref.name")
			    : NULL;
		const char *digest = str_at(m, "digest");

		if (name == NULL || strcmp(name, ref_name) != 0)
			continue;
		if (ret_err != NULL)
			free(*ret_err), *ret_err = NULL;
		if (!oci_digest_ok(digest)) {
			r = ret_errf(ret_err, -EBADMSG,
				     "'%s' names '%s' with a bad digest", path,
				     ref_name);
			break;
		}
		memcpy(ret_digest, digest, strlen(digest) + 1);
		r = 0;
		break;
	}
	ynode_free(root);
	return r;
}

/* Reads the blob for digest (at most max bytes) and checks it hashes to
 * digest. */
static int
read_blob(const char *dir, const char *digest, size_t max, char **ret_text,
	  size_t *ret_len, char **ret_err)
{
	CLEANUP_FREE char *path = oci_blob_path(dir, digest);
	char hex[DIGEST_HEX_MAX];
	char *text;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0)
		return ret_errf(ret_err, -errno, "cannot open '%s': %s", path,
				strerror(errno));
	r = read_fd_max(fd, max, &text, &len);
	close(fd);
	if (r < 0)
		return ret_errf(ret_err, r, "cannot read '%s': %s", path,
				strerror(-r));
	digest_buffer_hex(DIGEST_SHA256, text, len, hex);
	if (strcmp(hex, digest + 7) != 0) {
		free(text);
		return ret_errf(ret_err, -EBADMSG,
				"blob '%s' does not match its digest", digest);
	}
	*ret_text = text;
	*ret_len = len;
	return 0;
}

static int
read_desc(const struct ynode *n, const char *type, struct oci_desc *ret)
{
	const char *mt = str_at(n, "mediaType"), *dg = str_at(n, "digest");
	const struct ynode *ann = ynode_get(n, "annotations");
	const char *title =
		ann ? str_at(ann, "org.opencontainers.image.title") : NULL;

	if (n->kind != YNODE_MAP || mt == NULL || strcmp(mt, type) != 0 ||
	    !oci_digest_ok(dg) || u64_at(n, "size", &ret->size) < 0 ||
	    ret->size == 0)
		return -EBADMSG;
	memcpy(ret->digest, dg, strlen(dg) + 1);
	ret->title = title != NULL ? xstrdup(title) : NULL;
	return 0;
}

static int
check_config(const char *dir, const struct oci_desc *d, char **ret_err)
{
	CLEANUP_FREE char *text = NULL;
	struct ynode *root = NULL;
	const char *format;
	size_t len;
	int r = read_blob(dir, d->digest, 4096, &text, &len, ret_err);

	if (r < 0)
		return r;
	if (len != d->size)
		return ret_errf(ret_err, -EBADMSG,
				"blob '%s' has the wrong size", d->digest);
	r = parse_json(d->digest, text, len, &root, ret_err);
	if (r < 0)
		return r;
	format = str_at(root, "format");
	if (format == NULL || strcmp(format, "tar") != 0)
		r = ret_errf(ret_err, -EPROTO,
			     "the bundle's config names an unknown format");
	ynode_free(root);
	return r;
}

int
oci_read_manifest(const char *dir, const char *digest, struct oci_manifest *ret,
		  char **ret_err)
{
	CLEANUP_FREE char *text = NULL;
	struct ynode *root = NULL, *layers;
	struct oci_manifest m = {0};
	const char *mt, *at;
	size_t len;
	int r;

	r = read_blob(dir, digest, OCI_MAX_MANIFEST, &text, &len, ret_err);
	if (r < 0)
		return r;
	r = parse_json(digest, text, len, &root, ret_err);
	if (r < 0)
		return r;
	mt = str_at(root, "mediaType");
	at = str_at(root, "artifactType");
	layers = ynode_get(root, "layers");
	if (mt == NULL || strcmp(mt, OCI_MANIFEST_TYPE) != 0 || at == NULL ||
	    strcmp(at, OCI_ARTIFACT_TYPE) != 0) {
		r = ret_errf(ret_err, -EPROTO,
			     "'%s' is not an sbx-build bundle (no artifactType "
			     "'" OCI_ARTIFACT_TYPE "')",
			     digest);
		goto out;
	}
	if (ynode_get(root, "config") == NULL ||
	    read_desc(ynode_get(root, "config"), OCI_CONFIG_TYPE, &m.config) <
		    0 ||
	    layers == NULL || layers->kind != YNODE_SEQ || layers->n == 0 ||
	    layers->n > OCI_MAX_LAYERS) {
		r = ret_errf(ret_err, -EBADMSG, "manifest '%s' is malformed",
			     digest);
		goto out;
	}
	m.layers = xcalloc(layers->n, sizeof(*m.layers));
	for (size_t i = 0; i < layers->n; i++, m.n_layers++) {
		if (read_desc(layers->items[i], OCI_CHUNK_TYPE, &m.layers[i]) <
			    0 ||
		    m.layers[i].size > OCI_CHUNK_SIZE) {
			r = ret_errf(ret_err, -EBADMSG,
				     "manifest '%s' has a malformed layer %zu",
				     digest, i + 1);
			goto out;
		}
	}
	r = check_config(dir, &m.config, ret_err);
out:
	ynode_free(root);
	if (r < 0)
		oci_manifest_clear(&m);
	else
		*ret = m;
	return r;
}

void
oci_manifest_clear(struct oci_manifest *m)
{
	free(m->config.title);
	for (size_t i = 0; i < m->n_layers; i++)
		free(m->layers[i].title);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}
