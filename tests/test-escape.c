/* escape: the refusing and quoting rules each renderer relies on. */
#include "testutil.h"

#include "escape.h"

static void
test_names(void **state)
{
	(void)state;
	assert_true(esc_filename_ok("tinyproxy-http"));
	assert_true(esc_filename_ok("getty@tty1.service"));
	assert_false(esc_filename_ok(""));
	assert_false(esc_filename_ok("."));
	assert_false(esc_filename_ok(".."));
	assert_false(esc_filename_ok("../x"));
	assert_false(esc_filename_ok("a/b"));
	assert_false(esc_filename_ok("-rf"));
	assert_false(esc_filename_ok("a\nb"));
	assert_false(esc_filename_ok("a b"));

	assert_true(esc_username_ok("dev"));
	assert_true(esc_username_ok("_svc$"));
	assert_false(esc_username_ok("0day"));
	assert_false(esc_username_ok("-o"));
	assert_false(esc_username_ok("a:b"));
	assert_false(esc_username_ok("a\n"));
	assert_false(esc_username_ok("a$b"));
	assert_false(esc_username_ok("abcdefghijklmnopqrstuvwxyz0123456"));

	assert_true(esc_hostname_ok("sbx-proxy"));
	assert_true(esc_hostname_ok("a.b-c.example"));
	assert_false(esc_hostname_ok("a..b"));
	assert_false(esc_hostname_ok("-a"));
	assert_false(esc_hostname_ok("a-"));
	assert_false(esc_hostname_ok("a.b."));
	assert_false(esc_hostname_ok("a\nb"));
	assert_false(esc_hostname_ok("a_b"));

	assert_true(esc_env_name_ok("FTLCONF_dns_upstreams"));
	assert_false(esc_env_name_ok("1A"));
	assert_false(esc_env_name_ok("A=B"));
	assert_false(esc_env_name_ok("A\nB"));
}

static void
test_paths(void **state)
{
	(void)state;
	assert_true(esc_guest_path_ok("/"));
	assert_true(esc_guest_path_ok("/etc/motd.d/sbx file"));
	assert_false(esc_guest_path_ok("etc/x"));
	assert_false(esc_guest_path_ok("/etc/../x"));
	assert_false(esc_guest_path_ok("/etc/./x"));
	assert_false(esc_guest_path_ok("/etc//x"));
	assert_false(esc_guest_path_ok("/etc/x/"));
	assert_false(esc_guest_path_ok("/etc/.."));
	assert_false(esc_guest_path_ok("/etc/x\ny"));
	assert_true(esc_guest_path_ok("/etc/..x"));
}

static void
test_addresses(void **state)
{
	char a[ESC_CIDR_MAX];

	(void)state;
	assert_true(esc_ipv4("10.0.21.1", a));
	assert_string_equal(a, "10.0.21.1");
	assert_true(esc_ipv4("010.0.0.1", a));
	assert_string_equal(a, "10.0.0.1");
	assert_false(esc_ipv4("10.0.21.1 accept", a));
	assert_false(esc_ipv4("10.0.21.1\n", a));
	assert_false(esc_ipv4(" 10.0.21.1", a));
	assert_false(esc_ipv4("+1.0.0.1", a));
	assert_false(esc_ipv4("256.0.0.1", a));
	assert_false(esc_ipv4("1.2.3", a));
	assert_false(esc_ipv4("1.2.3.4.5", a));
	assert_true(esc_cidr("10.0.21.0/24", a));
	assert_string_equal(a, "10.0.21.0/24");
	assert_false(esc_cidr("10.0.21.0/33", a));
	assert_false(esc_cidr("10.0.21.0/24, 0.0.0.0/0", a));
	assert_false(esc_cidr("10.0.21.0", a));
	assert_true(esc_mac("52:54:00:4C:00:11", a));
	assert_string_equal(a, "52:54:00:4c:00:11");
	assert_false(esc_mac("52:54:00:4c:00:1", a));
	assert_false(esc_mac("52:54:00:4c:00:1;", a));
	assert_false(esc_mac("52-54-00-4c-00-11", a));
}

static void
test_unit_env(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	esc_unit_env(&sb, "TZ", "UTC");
	esc_unit_env(&sb, "P", "50%");
	esc_unit_env(&sb, "S", "a \"b\" \\c");
	esc_unit_env(&sb, "N", "x\nExecStartPre=/bin/sh\t\x01");
	esc_unit_env(&sb, "B", "x\\");
	assert_string_equal(
		sb.buf, "Environment=TZ=UTC\n"
			"Environment=P=50%%\n"
			"Environment=\"S=a \\\"b\\\" \\\\c\"\n"
			"Environment=\"N=x\\nExecStartPre=/bin/sh\\t\\x01\"\n"
			"Environment=\"B=x\\\\\"\n");
	sb_release(&sb);
}

/* Quoted shell words read back as themselves in a real sh. */
static void
test_shell(void **state)
{
	static const char *const v[] = {
		"plain", "it's", "$(id)`id`", "a\"b\\c$HOME", "new\nline", ""};
	CLEANUP_FREE char *dir = test_mkdtemp();
	CLEANUP_FREE char *sh = path_join(dir, "t.sh");
	CLEANUP_FREE char *out = path_join(dir, "out");

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct strbuf sb = STRBUF_INIT;
		char *got;

		sb_puts(&sb, "printf '%s|' ");
		esc_sh_quote(&sb, v[i]);
		sb_puts(&sb, " \"");
		esc_sh_dquoted(&sb, v[i]);
		sb_puts(&sb, "\"\n");
		test_write(sh, sb.buf);
		sb_release(&sb);
		assert_int_equal(test_sh("sh '%s' >'%s'", sh, out), 0);
		got = test_read(out);
		sb_printf(&sb, "%s|%s|", v[i], v[i]);
		assert_string_equal(got, sb.buf);
		sb_release(&sb);
		free(got);
	}
	test_rmdir(xstrdup(dir));
}

static void
test_yaml_xml_show(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	CLEANUP_FREE char *shown = esc_show("a\nb\\c\x7f\xc3");

	(void)state;
	esc_yaml(&sb, "internal");
	sb_putc(&sb, ' ');
	esc_yaml(&sb, "yes");
	sb_putc(&sb, ' ');
	esc_yaml(&sb, "8080");
	sb_putc(&sb, ' ');
	esc_yaml(&sb, "a: b\n\"c\"\\");
	sb_putc(&sb, ' ');
	esc_xml(&sb, "<a href='x'>&\"</a>");
	assert_string_equal(
		sb.buf, "internal \"yes\" \"8080\" \"a: b\\n\\\"c\\\"\\\\\" "
			"&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;");
	assert_string_equal(shown, "a\\nb\\\\c\\x7f\\xc3");
	sb_release(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_unit_env),
		cmocka_unit_test(test_shell),
		cmocka_unit_test(test_yaml_xml_show),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
