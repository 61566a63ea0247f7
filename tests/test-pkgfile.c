/* pkgfile.c: package file names split into name, version, arch. */
#include "testutil.h"

#include "pkgfile.h"

static void
pkg(const char *file, const char *name, const char *ver, const char *arch)
{
	char *n = NULL, *v = NULL, *a = NULL;

	assert_int_equal(pkgfile_parse(file, &n, &v, &a), 0);
	assert_string_equal(n, name);
	assert_string_equal(v, ver);
	assert_string_equal(a, arch);
	free(n);
	free(v);
	free(a);
}

static void
test_pkg_parse(void **state)
{
	char *n, *v, *a;

	(void)state;
	pkg("/var/cache/apt/archives/hello_2.10-3_amd64.deb", "hello", "2.10-3",
	    "amd64");
	pkg("libc6_2.36-9+deb12u7_amd64.deb", "libc6", "2.36-9+deb12u7",
	    "amd64");
	pkg("bsdutils_1%3a2.38.1-5+deb12u1_amd64.deb", "bsdutils",
	    "1:2.38.1-5+deb12u1", "amd64");
	pkg("/var/cache/libdnf5/r/packages/podman-5.4.0-1.fc44.x86_64.rpm",
	    "podman", "5.4.0-1.fc44", "x86_64");
	pkg("python3-libs-3.13.1-2.fc44.x86_64.rpm", "python3-libs",
	    "3.13.1-2.fc44", "x86_64");
	pkg("seed-1-1.noarch.rpm", "seed", "1-1", "noarch");
	assert_int_equal(pkgfile_parse("lock", &n, &v, &a), -EINVAL);
	assert_int_equal(pkgfile_parse("partial_1.deb", &n, &v, &a), -EINVAL);
	assert_int_equal(pkgfile_parse("a_b_c_d.deb", &n, &v, &a), -EINVAL);
	assert_int_equal(pkgfile_parse("nodash.x86_64.rpm", &n, &v, &a),
			 -EINVAL);
	assert_int_equal(pkgfile_parse("repomd.xml", &n, &v, &a), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkg_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
