/* validate: each validator accepts what recipes use and refuses what
 * would inject a line, escape a directory or be misread. */
#include "testutil.h"

#include "validate.h"

struct vcase {
	bool (*fn)(const char *);
	const char *name;
	const char *good[8];
	const char *bad[12];
};

static const struct vcase cases[] = {
	{valid_name,
	 "valid_name",
	 {"pihole", "tinyproxy-http", "a.b_c", "0x"},
	 {"", "../x", "a/b", "Pods", "-x", ".x", "a b", "a\nb",
	  "0123456789012345678901234567890123456789012345678901234567890123"}},
	{valid_vm_name,
	 "valid_vm_name",
	 {"dev", "proxy", "a1"},
	 {"", "Dev", "a/b", "012345678901234567890123456789012"}},
	{valid_user_name,
	 "valid_user_name",
	 {"dev", "sbx", "_svc", "a-b"},
	 {"root", "nobody", "daemon", "systemd-x", "Dev", "1dev", "a:b", "a b",
	  "", "-x"}},
	{valid_account_name,
	 "valid_account_name",
	 {"root", "wheel", "sbx"},
	 {"", "Wheel", "a,b", "a\nb"}},
	{valid_hostname,
	 "valid_hostname",
	 {"sbx-dev", "a.example.com", "x1"},
	 {"", "sbx_dev", "-a", "a-", "a..b", "a.", "123", "a b", "a\nb"}},
	{valid_domain,
	 "valid_domain",
	 {"github.com", ".github.com", "*.github.com", "localhost"},
	 {"", "https://github.com", "github.com:22", "a b", "1.2.3.4", "..x",
	  "*.", "github.com/x", "a\nb"}},
	{valid_no_proxy,
	 "valid_no_proxy",
	 {"localhost", "127.0.0.1", ".example.com", "10.0.0.0/8"},
	 {"", "http://x", "x:80", "a b", "*"}},
	{valid_unit_name,
	 "valid_unit_name",
	 {"nftables.service", "getty@tty1.service", "sbx.timer", "a.mount"},
	 {"", "sshd", "../x.service", "a/b.service", ".service", "a.service\n",
	  "a.exe", "@.service"}},
	{valid_image_ref,
	 "valid_image_ref",
	 {"docker.io/pihole/pihole:2025.08.0", "localhost/sbx-tinyproxy:latest",
	  "alpine",
	  "alpine@sha256:"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	 {"", "a b", "-x", "a\nb", "a//b", "a:", "a@sha256:00", "a/"}},
	{valid_guest_path,
	 "valid_guest_path",
	 {"/etc/x", "/etc/sbx/containers/tinyproxy", "/a b"},
	 {"", "/", "etc/x", "/etc/", "/etc/../x", "/etc/./x", "/etc//x",
	  "/a\nb", "/.."}},
	{valid_project_path,
	 "valid_project_path",
	 {"e2e/probe.sh", "images/base.qcow2", "a"},
	 {"", "/etc/shadow", "../x", "a/../../x", "a/", "a//b", "a\tb"}},
	{valid_env_name,
	 "valid_env_name",
	 {"TZ", "FTLCONF_dns_upstreams", "_A"},
	 {"", "1A", "A-B", "A B", "A=B", "LD PRELOAD"}},
	{valid_env_value,
	 "valid_env_value",
	 {"", "UTC", "a b \"c\" $x %d"},
	 {"a\nb", "a\rb", "a\tb", "\x7f"}},
	{valid_volume,
	 "valid_volume",
	 {"/var/lib/sbx/pihole:/etc/pihole:Z", "data:/data", "/a:/b:ro,Z"},
	 {"", "/a", "/a:b", "../a:/b", "/a:/b:Z ro", "/a:/b\n", "/a b:/b",
	  "/a:/b:"}},
	{valid_port_spec,
	 "valid_port_spec",
	 {"8080:80", "127.0.0.1:53:53"},
	 {"", "80", "0:80", "70000:80", "a:80", "1.2.3:80:80", "8080:80\n",
	  "08:80"}},
	{valid_restart,
	 "valid_restart",
	 {"always", "no", "on-failure"},
	 {"", "sometimes", "always\nExecStartPre=/bin/sh"}},
	{valid_ifname,
	 "valid_ifname",
	 {"internal", "uplink", "eth0", "a_b-c"},
	 {"", "inter nal", "0123456789abcdef", "a.b", "a/b"}},
	{valid_package_name,
	 "valid_package_name",
	 {"git", "netcat-openbsd", "libstdc++", "g++:amd64"},
	 {"", "-oAPT::Get=x", "a b", "a;b", "$(x)", "a\nb"}},
	{valid_app_name,
	 "valid_app_name",
	 {"gnome-builder", "org.gnome.Builder"},
	 {"", "$(reboot)", "a b", "a;b", "-x", "`x`"}},
	{valid_ssh_key,
	 "valid_ssh_key",
	 {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB test@host",
	  "ssh-rsa AAAAB3NzaC1yc2E=", "ecdsa-sha2-nistp256 AAAAE2Vj x"},
	 {"", "ssh-ed25519", "ssh-ed25519 AAAA\nssh-rsa AAAA",
	  "command=\"sh\" ssh-rsa AAAA", "ssh-dsa AAAA", "ssh-rsa ***"}},
	{valid_password_hash,
	 "valid_password_hash",
	 {"$y$j9T$abc$def", "$6$rounds=5000$salt$hash./"},
	 {"", "secret", "$6$a:b$c", "$6$a\n$c", "$", "$6 $a$b"}},
	{valid_url,
	 "valid_url",
	 {"https://example.org/a", "http://x", "file:///srv/a.qcow2"},
	 {"", "ftp://x", "https://x/a b", "https://x\n", "x"}},
	{valid_subnet,
	 "valid_subnet",
	 {"10.0.21.0/24", "192.168.0.0/16", "10.0.0.1/32"},
	 {"", "10.0.21.5/24", "10.0.21.0", "10.0.21.0/33", "10.0.21.0/0",
	  "10.0.21.0/024", "a/24"}},
};

static void
test_validators(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct vcase *c = &cases[i];

		for (size_t j = 0; j < ARRAY_SIZE(c->good) && c->good[j]; j++)
			if (!c->fn(c->good[j]))
				fail_msg("%s refuses '%s'", c->name,
					 c->good[j]);
		for (size_t j = 0; j < ARRAY_SIZE(c->bad) && c->bad[j]; j++)
			if (c->fn(c->bad[j]))
				fail_msg("%s accepts '%s'", c->name, c->bad[j]);
	}
}

static void
test_subnets(void **state)
{
	(void)state;
	assert_true(ipv4_in_subnet("10.0.21.1", "10.0.21.0/24"));
	assert_true(ipv4_in_subnet("10.0.21.255", "10.0.21.0/24"));
	assert_false(ipv4_in_subnet("10.0.22.1", "10.0.21.0/24"));
	assert_false(ipv4_in_subnet("10.0.21.1\n", "10.0.21.0/24"));
	assert_false(ipv4_in_subnet("10.0.21.1", "10.0.21.0"));
	assert_true(valid_ipv4("127.0.0.1"));
	assert_false(valid_ipv4("127.0.0"));
}

/* Only a line's worth of bytes: no line feed, carriage return, NUL
 * stand-in, escape or DEL. */
static void
test_one_line(void **state)
{
	(void)state;
	assert_true(valid_one_line("a b\"'$%\\"));
	assert_true(valid_one_line(""));
	for (int c = 1; c < 0x20; c++) {
		char s[] = {'a', (char)c, 'b', '\0'};

		assert_false(valid_one_line(s));
	}
	assert_false(valid_one_line("\x7f"));
	assert_false(reserved_user_name("dev"));
	assert_true(reserved_user_name("root"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
