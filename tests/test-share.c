/* share.c: references, the record of a pull, and what push and pull refuse
 * before they run skopeo (the registry itself: tests/check-push.sh). */
#include "testutil.h"

#include "share.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_ref_parse(void **state)
{
	char d[OCI_DIGEST_MAX];

	(void)state;
	assert_int_equal(share_ref_parse("127.0.0.1:5000/team/sbx:v1", d), 0);
	assert_string_equal(d, "");
	assert_int_equal(share_ref_parse("ghcr.io/a/b@sha256:" D64, d), 0);
	assert_string_equal(d, "sha256:" D64);
	assert_int_equal(share_ref_parse("ghcr.io/a/b:v1@sha256:" D64, d), 0);
	/* Not references: no repository, an option, a shell word, a
	 * transport, a bad digest. */
	assert_int_equal(share_ref_parse("sbx", d), -EINVAL);
	assert_int_equal(share_ref_parse("-rf/x", d), -EINVAL);
	assert_int_equal(share_ref_parse("host/a;rm", d), -EINVAL);
	assert_int_equal(share_ref_parse("host/a b", d), -EINVAL);
	assert_int_equal(share_ref_parse("docker://host/a", d), -EINVAL);
	assert_int_equal(share_ref_parse("host/../a", d), -EINVAL);
	assert_int_equal(share_ref_parse("host/a@sha256:1234", d), -EINVAL);
	assert_int_equal(share_ref_parse("host/a@md5:" D64, d), -EINVAL);
	assert_int_equal(share_ref_parse("", d), -EINVAL);
}

static void
test_pulled(void **state)
{
	char *dir = test_mkdtemp();
	char d[OCI_DIGEST_MAX];

	(void)state;
	assert_int_equal(share_pulled(dir, d), -ENOENT);
	test_write_free(path_join(dir, SHARE_RECORD), "sha256:" D64 "\nh/r\n");
	/* Without the files it came with, a record is no pull. */
	assert_int_equal(share_pulled(dir, d), -ENOENT);
	test_write_free(path_join(dir, "SHA256SUMS"), "");
	assert_int_equal(share_pulled(dir, d), 0);
	assert_string_equal(d, "sha256:" D64);
	test_write_free(path_join(dir, SHARE_RECORD), "sha256:nothex\n");
	assert_int_equal(share_pulled(dir, d), -EBADMSG);
	test_rmdir(dir);
}

static void
test_refused_early(void **state)
{
	char *dir = test_mkdtemp(), *why = NULL;
	char d[OCI_DIGEST_MAX];
	struct share_opts so = {.cache_dir = dir};
	struct unpack_options uo = {0};
	struct unpack_info info = {0};
	struct pack_options po = {0};
	struct push_info pi = {0};

	(void)state;
	/* A push names no digest. */
	assert_int_equal(share_push(dir, NULL, "h/r@sha256:" D64, &po, &so, d,
				    &pi, &why),
			 -EINVAL);
	assert_non_null(strstr(why, "is not a registry reference"));
	free(why);
	why = NULL;
	/* A pull never lands in a directory that holds something else. */
	test_write_free(path_join(dir, "mine"), "x");
	assert_int_equal(share_pull("h/r:v1", dir, &uo, &so, d, &info, &why),
			 -ENOTEMPTY);
	assert_non_null(strstr(why, "is not empty"));
	free(why);
	why = NULL;
	/* A digest already pulled is not fetched again. */
	test_rmdir(dir);
	dir = test_mkdtemp();
	so.cache_dir = "/nonexistent/cache";
	test_write_free(path_join(dir, SHARE_RECORD), "sha256:" D64 "\nh/r\n");
	test_write_free(path_join(dir, "SHA256SUMS"), "");
	assert_int_equal(
		share_pull("h/r@sha256:" D64, dir, &uo, &so, d, &info, &why),
		1);
	assert_string_equal(d, "sha256:" D64);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_parse),
		cmocka_unit_test(test_pulled),
		cmocka_unit_test(test_refused_early),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
