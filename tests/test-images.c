/* images.c's own logic: references, manifest lists, Containerfile FROMs,
 * the build context's digest and the cache layout's verification (a
 * tampered blob is refused).  The registry, skopeo and buildah parts run
 * in tests/check-images.sh. */
#include "testutil.h"

#include "digest.h"
#include "images.h"

static void
parse_ok(const char *ref, const char *name, const char *digest)
{
	char *n = NULL, *d = NULL, *err = NULL;

	assert_int_equal(images_ref_parse(ref, &n, &d, &err), 0);
	assert_string_equal(n, name);
	if (digest == NULL)
		assert_null(d);
	else
		assert_string_equal(d, digest);
	free(n);
	free(d);
}

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_ref_parse(void **state)
{
	static const char *const bad[] = {
		"",    "/x",   "-x",	      "../x",	    "a//b",
		"a b", "a\nb", "x@sha256:00", "x@md5:" D64, "x:",
		"x/",  "x@",   "$(x)",
	};
	char *n = NULL, *d = NULL, *err = NULL;

	(void)state;
	parse_ok("alpine:3.22", "docker.io/library/alpine:3.22", NULL);
	parse_ok("alpine", "docker.io/library/alpine:latest", NULL);
	parse_ok("pihole/pihole:2025.08.0", "docker.io/pihole/pihole:2025.08.0",
		 NULL);
	parse_ok("localhost/sbx-tinyproxy", "localhost/sbx-tinyproxy:latest",
		 NULL);
	parse_ok("127.0.0.1:5000/a/b:1", "127.0.0.1:5000/a/b:1", NULL);
	parse_ok("127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest", NULL);
	parse_ok("quay.io/x/y:2@sha256:" D64, "quay.io/x/y:2", "sha256:" D64);
	parse_ok("quay.io/x/y@sha256:" D64, "quay.io/x/y", "sha256:" D64);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (images_ref_parse(bad[i], &n, &d, &err) != -EINVAL)
			fail_msg("'%s' was taken for a reference", bad[i]);
		assert_non_null(err);
		free(err);
		err = NULL;
	}
	n = images_repo("127.0.0.1:5000/a/b:1");
	assert_string_equal(n, "127.0.0.1:5000/a/b");
	free(n);
	n = images_repo("localhost:5000/b");
	assert_string_equal(n, "localhost:5000/b");
	free(n);
	assert_true(images_digest_ok("sha256:" D64));
	assert_false(images_digest_ok("sha256:" D64 "0"));
	assert_false(images_digest_ok("sha256:0123456789ABCDEF0123456789abcdef"
				      "0123456789abcdef0123456789abcdef"));
}

static void
test_pick_manifest(void **state)
{
	static const char list[] =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci."
		"image.index.v1+json\",\"manifests\":["
		"{\"digest\":\"sha256:" D64 "\",\"platform\":{\"architecture\":"
		"\"arm64\",\"os\":\"linux\"}},"
		"{\"digest\":\"sha256:"
		"11111111111111111111111111111111111111111111111111111111111111"
		"11"
		"\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}"
		"]}";
	static const char arm[] =
		"{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:" D64
		"\",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}"
		"]}";
	static const char one[] = "{\"schemaVersion\":2,\"config\":{\"digest\":"
				  "\"sha256:" D64 "\"},\"layers\":[]}";
	char *d = NULL, *err = NULL, hex[DIGEST_HEX_MAX];

	(void)state;
	assert_int_equal(images_pick_manifest(list, strlen(list), &d, &err), 0);
	assert_string_equal(d, "sha256:11111111111111111111111111111111111111"
			       "11111111111111111111111111");
	free(d);
	assert_int_equal(images_pick_manifest(arm, strlen(arm), &d, &err),
			 -ENOENT);
	assert_non_null(strstr(err, "linux/amd64"));
	free(err);
	/* A single manifest is named by its bytes. */
	assert_int_equal(images_pick_manifest(one, strlen(one), &d, &err), 0);
	digest_buffer_hex(DIGEST_SHA256, one, strlen(one), hex);
	assert_string_equal(d + 7, hex);
	free(d);
	assert_int_equal(images_pick_manifest("[1]", 3, &d, &err), -EINVAL);
	free(err);
	assert_int_equal(
		images_pick_manifest("{\"schemaVersion\":1}", 19, &d, &err),
		-EINVAL);
	free(err);
}

static void
test_froms(void **state)
{
	static const char cf[] =
		"# comment FROM x\n"
		"FROM docker.io/library/alpine:3.22 AS build\n"
		"RUN make\n"
		"from --platform=linux/amd64 quay.io/x/y@sha256:" D64 "\n"
		"FROM build\n"
		"FROM scratch\n";
	struct images_from *v = NULL;
	size_t n = 0;
	char *err = NULL;

	(void)state;
	assert_int_equal(images_froms(cf, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].ref, "docker.io/library/alpine:3.22");
	assert_int_equal(v[0].line, 2);
	assert_string_equal(v[1].ref, "quay.io/x/y@sha256:" D64);
	assert_int_equal(v[1].line, 4);
	images_froms_free(v, n);
	assert_int_equal(
		images_froms("ARG V=1\nFROM alpine:$V\n", &v, &n, &err),
		-EINVAL);
	assert_non_null(strstr(err, "line 2:"));
	free(err);
	assert_int_equal(images_froms("FROM a b c\n", &v, &n, &err), -EINVAL);
	free(err);
}

/* A layout as skopeo's dir: transport writes it: manifest.json and one
 * file per blob.  Returns the manifest's digest. */
static char *
make_layout(const char *dir)
{
	static const char config[] = "{\"architecture\":\"amd64\"}";
	static const char layer[] = "not really a tar, but bytes";
	char hc[DIGEST_HEX_MAX], hl[DIGEST_HEX_MAX], hm[DIGEST_HEX_MAX];
	char *m;

	digest_buffer_hex(DIGEST_SHA256, config, strlen(config), hc);
	digest_buffer_hex(DIGEST_SHA256, layer, strlen(layer), hl);
	test_write_free(path_join(dir, hc), config);
	test_write_free(path_join(dir, hl), layer);
	m = xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":"
		      "\"sha256:%s\",\"size\":%zu},\"layers\":[{\"digest\":"
		      "\"sha256:%s\",\"size\":%zu}]}",
		      hc, strlen(config), hl, strlen(layer));
	test_write_free(path_join(dir, "manifest.json"), m);
	digest_buffer_hex(DIGEST_SHA256, m, strlen(m), hm);
	free(m);
	return xasprintf("sha256:%s", hm);
}

static void
test_verify(void **state)
{
	char *dir = test_mkdtemp(), *err = NULL, *digest = make_layout(dir);
	char *other = xstrdup(digest), *got = NULL;
	static const char layer[] = "not really a tar, but bytes";
	char hl[DIGEST_HEX_MAX];
	CLEANUP_FREE char *lpath = NULL;

	(void)state;
	assert_int_equal(images_verify(dir, digest, &err), 0);
	other[8] = other[8] == '0' ? '1' : '0';
	assert_int_equal(images_verify(dir, other, &err), -EBADMSG);
	assert_non_null(strstr(err, "not the pinned"));
	free(err);
	/* The cache: present and intact is used as it is, offline. */
	{
		CLEANUP_FREE char *cache = test_mkdtemp();
		CLEANUP_FREE char *at = images_cache_path(cache, digest);
		CLEANUP_FREE char *top = path_join(cache, "containers");

		assert_int_equal(mkdir(top, 0755), 0);
		assert_int_equal(test_sh("cp -r '%s' '%s'", dir, at), 0);
		assert_int_equal(
			images_fetch(cache, "x/y:1", digest, true, &got, &err),
			0);
		assert_string_equal(got, at);
		free(got);
		assert_int_equal(
			images_fetch(cache, "x/y:1", other, true, &got, &err),
			-ENOENT);
		assert_non_null(strstr(err, "offline"));
		free(err);
		test_rmdir(xstrdup(cache));
	}
	/* One byte more in a layer: refused, saying which file. */
	digest_buffer_hex(DIGEST_SHA256, layer, strlen(layer), hl);
	lpath = path_join(dir, hl);
	test_write(lpath, "not really a tar, but bytez");
	assert_int_equal(images_verify(dir, digest, &err), -EBADMSG);
	assert_non_null(strstr(err, hl));
	assert_non_null(strstr(err, "altered"));
	free(err);
	unlink(lpath);
	assert_int_equal(images_verify(dir, digest, &err), -EBADMSG);
	assert_non_null(strstr(err, "missing"));
	free(err);
	free(digest);
	free(other);
	test_rmdir(dir);
}

/* The ID podman gives a loaded layout: its config digest's hex. */
static void
test_config_id(void **state)
{
	static const char config[] = "{\"architecture\":\"amd64\"}";
	char *dir = test_mkdtemp(), *err = NULL, *id = NULL;
	char hc[DIGEST_HEX_MAX];
	CLEANUP_FREE char *digest = make_layout(dir);
	CLEANUP_FREE char *m = path_join(dir, "manifest.json");

	(void)state;
	digest_buffer_hex(DIGEST_SHA256, config, strlen(config), hc);
	assert_int_equal(images_config_id(dir, &id, &err), 0);
	assert_string_equal(id, hc);
	free(id);
	id = NULL;
	test_write(m, "{\"config\":{\"digest\":\"sha256:../x\"}}");
	assert_int_equal(images_config_id(dir, &id, &err), -EBADMSG);
	assert_null(id);
	assert_non_null(strstr(err, "no sha256 config digest"));
	free(err);
	test_rmdir(dir);
}

static void
test_context_digest(void **state)
{
	char *dir = test_mkdtemp(), *err = NULL, *a = NULL, *b = NULL;
	CLEANUP_FREE char *cf = path_join(dir, "Containerfile");

	(void)state;
	test_write(cf, "FROM x\n");
	assert_int_equal(
		images_context_digest(dir, "from x sha256:1\n", &a, &err), 0);
	assert_int_equal(
		images_context_digest(dir, "from x sha256:1\n", &b, &err), 0);
	assert_string_equal(a, b);
	free(b);
	/* Another FROM pin, another file, another mode: another digest. */
	assert_int_equal(
		images_context_digest(dir, "from x sha256:2\n", &b, &err), 0);
	assert_string_not_equal(a, b);
	free(b);
	test_write_free(path_join(dir, "extra"), "1");
	assert_int_equal(
		images_context_digest(dir, "from x sha256:1\n", &b, &err), 0);
	assert_string_not_equal(a, b);
	free(b);
	free(a);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_parse),
		cmocka_unit_test(test_pick_manifest),
		cmocka_unit_test(test_froms),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_config_id),
		cmocka_unit_test(test_context_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
