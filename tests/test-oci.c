/* oci.c and tarindex.c: layouts written and read back, and manifests,
 * configs and blobs that do not match their digests refused. */
#include <fcntl.h>

#include "testutil.h"

#include "digest.h"
#include "oci.h"
#include "tarindex.h"

static char *
layout_with(const char *dir, struct oci_manifest *m, char *digest)
{
	static const char config[] = "{\"format\":\"tar\",\"chunkSize\":1}";
	static const char data[] = "0123456789abcdefghij";
	char *layout = path_join(dir, "oci");
	char *src = path_join(dir, "src");
	int fd;

	test_write(src, data);
	fd = open(src, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(oci_layout_init(layout, NULL), 0);
	assert_int_equal(oci_put_buffer(layout, config, sizeof(config) - 1,
					&m->config, NULL),
			 0);
	m->layers = xcalloc(2, sizeof(*m->layers));
	assert_int_equal(oci_put_range(layout, fd, 0, 10, "a \"quoted\" name",
				       &m->layers[0], NULL),
			 0);
	assert_int_equal(
		oci_put_range(layout, fd, 10, 10, NULL, &m->layers[1], NULL),
		0);
	m->n_layers = 2;
	close(fd);
	free(src);
	assert_int_equal(oci_write_manifest(layout, m, "tag", digest, NULL), 0);
	return layout;
}

static void
test_roundtrip(void **state)
{
	char *dir = test_mkdtemp(), *layout, *p, *text;
	char digest[OCI_DIGEST_MAX], got[OCI_DIGEST_MAX], hex[DIGEST_HEX_MAX];
	struct oci_manifest m = {0}, r = {0};
	char *why = NULL;

	(void)state;
	layout = layout_with(dir, &m, digest);
	assert_true(oci_digest_ok(digest));
	digest_buffer_hex(DIGEST_SHA256, "0123456789", 10, hex);
	assert_string_equal(m.layers[0].digest + 7, hex);
	assert_int_equal(m.layers[0].size, 10);
	p = oci_blob_path(layout, m.layers[1].digest);
	text = test_read(p);
	assert_string_equal(text, "abcdefghij");
	free(text);
	free(p);

	assert_int_equal(oci_read_index(layout, "tag", got, NULL), 0);
	assert_string_equal(got, digest);
	assert_int_equal(oci_read_index(layout, "other", got, &why), -ENOENT);
	assert_non_null(strstr(why, "names no manifest 'other'"));
	free(why);
	why = NULL;
	assert_int_equal(oci_read_manifest(layout, digest, &r, NULL), 0);
	assert_int_equal(r.n_layers, 2);
	assert_string_equal(r.layers[0].title, "a \"quoted\" name");
	assert_null(r.layers[1].title);
	assert_string_equal(r.layers[1].digest, m.layers[1].digest);
	assert_string_equal(r.config.digest, m.config.digest);
	oci_manifest_clear(&r);
	oci_manifest_clear(&m);
	free(layout);
	test_rmdir(dir);
}

/* Overwrites a blob of layout with text. */
static void
replace_blob(const char *layout, const char *digest, const char *text)
{
	char *p = oci_blob_path(layout, digest);

	test_write(p, text);
	free(p);
}

static void
test_tampered(void **state)
{
	char *dir = test_mkdtemp(), *layout;
	char digest[OCI_DIGEST_MAX];
	struct oci_manifest m = {0}, r = {0};
	char *why = NULL;

	(void)state;
	layout = layout_with(dir, &m, digest);
	/* A config that does not match its digest. */
	replace_blob(layout, m.config.digest, "{\"format\":\"tar\"}");
	assert_int_equal(oci_read_manifest(layout, digest, &r, &why), -EBADMSG);
	assert_non_null(strstr(why, "does not match its digest"));
	free(why);
	why = NULL;
	/* A manifest that does not match its digest. */
	replace_blob(layout, digest, "{}");
	assert_int_equal(oci_read_manifest(layout, digest, &r, &why), -EBADMSG);
	assert_non_null(strstr(why, "does not match its digest"));
	free(why);
	oci_manifest_clear(&m);
	free(layout);
	test_rmdir(dir);
}

/* Stores text as a manifest blob and reads it as one. */
static int
read_manifest_text(const char *layout, const char *text, char **why)
{
	struct oci_desc d;
	struct oci_manifest r = {0};
	int ret;

	assert_int_equal(oci_put_buffer(layout, text, strlen(text), &d, NULL),
			 0);
	ret = oci_read_manifest(layout, d.digest, &r, why);
	oci_manifest_clear(&r);
	return ret;
}

static void
test_foreign(void **state)
{
	char *dir = test_mkdtemp(), *layout;
	char digest[OCI_DIGEST_MAX];
	struct oci_manifest m = {0};
	char *why = NULL;
	CLEANUP_FREE char *image = NULL, *bad_layer = NULL, *big = NULL;

	(void)state;
	layout = layout_with(dir, &m, digest);
	/* A container image, not a bundle. */
	image = xasprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST_TYPE
		"\",\"config\":{\"mediaType\":\"application/"
		"vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":1},"
		"\"layers\":[]}",
		m.config.digest);
	assert_int_equal(read_manifest_text(layout, image, &why), -EPROTO);
	assert_non_null(strstr(why, "is not an sbx-build bundle"));
	free(why);
	why = NULL;
	/* A layer of another type, and one larger than a chunk. */
	bad_layer = xasprintf(
		"{\"mediaType\":\"" OCI_MANIFEST_TYPE
		"\",\"artifactType\":\"" OCI_ARTIFACT_TYPE
		"\",\"config\":{\"mediaType\":\"" OCI_CONFIG_TYPE
		"\",\"digest\":\"%s\",\"size\":%llu},\"layers\":[{"
		"\"mediaType\":"
		"\"application/x-other\",\"digest\":\"%s\",\"size\":10}]}",
		m.config.digest, (unsigned long long)m.config.size,
		m.layers[0].digest);
	assert_int_equal(read_manifest_text(layout, bad_layer, &why), -EBADMSG);
	assert_non_null(strstr(why, "malformed layer 1"));
	free(why);
	why = NULL;
	big = xasprintf(
		"{\"mediaType\":\"" OCI_MANIFEST_TYPE
		"\",\"artifactType\":\"" OCI_ARTIFACT_TYPE
		"\",\"config\":{\"mediaType\":\"" OCI_CONFIG_TYPE
		"\",\"digest\":\"%s\",\"size\":%llu},\"layers\":[{"
		"\"mediaType\":"
		"\"" OCI_CHUNK_TYPE "\",\"digest\":\"%s\",\"size\":%llu}]}",
		m.config.digest, (unsigned long long)m.config.size,
		m.layers[0].digest, (unsigned long long)OCI_CHUNK_SIZE + 1);
	assert_int_equal(read_manifest_text(layout, big, &why), -EBADMSG);
	free(why);
	why = NULL;
	assert_int_equal(read_manifest_text(layout, "[1, 2]", &why), -EBADMSG);
	free(why);
	oci_manifest_clear(&m);
	free(layout);
	test_rmdir(dir);
}

static void
test_digest_ok(void **state)
{
	(void)state;
	assert_true(oci_digest_ok("sha256:"
				  "0123456789abcdef0123456789abcdef"
				  "0123456789abcdef0123456789abcdef"));
	assert_false(oci_digest_ok("sha256:"
				   "0123456789ABCDEF0123456789abcdef"
				   "0123456789abcdef0123456789abcdef"));
	assert_false(oci_digest_ok("sha512:"
				   "0123456789abcdef0123456789abcdef"
				   "0123456789abcdef0123456789abcdef"));
	assert_false(oci_digest_ok("sha256:../../etc/passwd"));
	assert_false(oci_digest_ok(NULL));
}

static void
test_tar_index(void **state)
{
	char *dir = test_mkdtemp(), *tar, *why = NULL;
	struct tar_member *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(
		test_sh("cd %s && printf a >a && head -c 700 "
			"/dev/zero >b && tar --format=pax -cf t.tar a b "
			"&& zstd -q t.tar",
			dir),
		0);
	tar = path_join(dir, "t.tar");
	assert_int_equal(tar_index(tar, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "a");
	assert_string_equal(v[1].name, "b");
	/* pax: each member has an extended header block pair before it. */
	assert_true(v[1].offset > v[0].offset);
	assert_int_equal(v[1].offset % 512, 0);
	tar_index_free(v, n);
	free(tar);
	tar = path_join(dir, "t.tar.zst");
	assert_int_equal(tar_index(tar, &v, &n, &why), -EIO);
	assert_non_null(why);
	free(why);
	free(tar);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_digest_ok),
		cmocka_unit_test(test_tar_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
