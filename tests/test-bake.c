/* The pure parts of the bake: /etc/shadow editing, the links of a unit's
 * [Install] section, package file names. */
#include "testutil.h"

#include "bake.h"

static void
test_shadow_set(void **state)
{
	static const char sh[] = "root:*:20000:0:99999:7:::\n"
				 "dev:!:20000:0:99999:7:::\n"
				 "devx:!:1::::::\n";
	char *out = NULL;

	(void)state;
	assert_int_equal(bake_shadow_set(sh, "dev", "$y$j9T$salt$hash", &out),
			 0);
	assert_string_equal(out, "root:*:20000:0:99999:7:::\n"
				 "dev:$y$j9T$salt$hash:20000:0:99999:7:::\n"
				 "devx:!:1::::::\n");
	free(out);
	/* A prefix of another name is not that name; no newline at the
	 * end gains one. */
	assert_int_equal(bake_shadow_set("devx:!:1::::::", "devx", "!", &out),
			 0);
	assert_string_equal(out, "devx:!:1::::::\n");
	free(out);
	assert_int_equal(bake_shadow_set(sh, "de", "!", &out), -ENOENT);
	/* A line with the name alone keeps no stray fields. */
	assert_int_equal(bake_shadow_set("svc\n", "svc", "!", &out), -ENOENT);
	assert_int_equal(bake_shadow_set("svc:x\n", "svc", "!", &out), 0);
	assert_string_equal(out, "svc:!\n");
	free(out);
}

static void
test_unit_links(void **state)
{
	static const char unit[] =
		"[Unit]\n"
		"Description=x\n"
		"WantedBy=not-in-install.target\n"
		"[Service]\n"
		"ExecStart=/bin/true\n"
		"[Install]\n"
		"WantedBy=multi-user.target  graphical.target\n"
		" RequiredBy=sockets.target\r\n"
		"Alias=sbx-alias.service\n"
		"Also=other.service\n";
	struct strbuf sb = STRBUF_INIT;
	const char *want[] = {
		"/etc/systemd/system/multi-user.target.wants/sbx.service",
		"/etc/systemd/system/graphical.target.wants/sbx.service",
		"/etc/systemd/system/sockets.target.requires/sbx.service",
		"/etc/systemd/system/sbx-alias.service",
	};
	const char *p;
	size_t n;

	(void)state;
	n = bake_unit_links(unit, "sbx.service", "/usr/lib/systemd/sbx.service",
			    &sb);
	assert_int_equal(n, 4);
	p = sb.buf;
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(p, want[i]);
		p += strlen(p) + 1;
		assert_string_equal(p, "/usr/lib/systemd/sbx.service");
		p += strlen(p) + 1;
	}
	sb_release(&sb);
	assert_int_equal(
		bake_unit_links("[Service]\nExecStart=x\n", "a", "/a", &sb), 0);
	sb_release(&sb);
}

static void
pkg(const char *file, const char *name, const char *ver, const char *arch)
{
	char *n = NULL, *v = NULL, *a = NULL;

	assert_int_equal(bake_pkg_parse(file, &n, &v, &a), 0);
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
	assert_int_equal(bake_pkg_parse("lock", &n, &v, &a), -EINVAL);
	assert_int_equal(bake_pkg_parse("partial_1.deb", &n, &v, &a), -EINVAL);
	assert_int_equal(bake_pkg_parse("a_b_c_d.deb", &n, &v, &a), -EINVAL);
	assert_int_equal(bake_pkg_parse("nodash.x86_64.rpm", &n, &v, &a),
			 -EINVAL);
	assert_int_equal(bake_pkg_parse("repomd.xml", &n, &v, &a), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shadow_set),
		cmocka_unit_test(test_unit_links),
		cmocka_unit_test(test_pkg_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
