/* unitlinks.c: the links of a unit's [Install] section. */
#include "testutil.h"

#include "unitlinks.h"

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
	n = unit_install_links(unit, "sbx.service",
			       "/usr/lib/systemd/sbx.service", &sb);
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
		unit_install_links("[Service]\nExecStart=x\n", "a", "/a", &sb),
		0);
	sb_release(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
