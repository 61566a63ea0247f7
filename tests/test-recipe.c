/* Recipes: the default set validates, and every class of error is reported
 * with its exact message and position. */
#include "testutil.h"

#include "diag.h"
#include "recipe.h"
#include "schema.h"
#include "ytree.h"

#include <fcntl.h>
#include <time.h>

#define FIX "tests/fixtures/recipes/"

struct bad_case {
	const char *dir;
	const char *messages[17]; /* NULL-terminated */
};

/* One fixture per class of error; the messages are what a user reads. */
static const struct bad_case bad_cases[] = {
	{"unknown-key",
	 {FIX "unknown-key/recipes/vm.yaml:4:1: unknown key 'pakages' in "
	      "recipe (did you mean 'packages'?)"}},
	{"wrong-type",
	 {FIX "wrong-type/recipes/vm.yaml:4:11: 'packages' must be a list, "
	      "not a value"}},
	{"duplicate-key",
	 {FIX "duplicate-key/recipes/vm.yaml:5:1: duplicate key 'cpus' "
	      "(first at line 4)"}},
	{"missing-key",
	 {FIX "missing-key/recipes/vm.yaml:5:5: missing required key 'type' "
	      "in NIC"}},
	{"bad-address",
	 {FIX "bad-address/recipes/vm.yaml:8:14: 'address' must be an IPv4 "
	      "address with a prefix such as 192.168.76.11/24"}},
	{"bad-cidr",
	 {FIX "bad-cidr/recipes/vm.yaml:8:13: network 'pods': 'subnet' must "
	      "be a CIDR such as 10.0.21.0/24"}},
	{"bad-port",
	 {FIX "bad-port/recipes/vm.yaml:10:16: 'guest' must be a port number "
	      "1-65535, not '70000'"}},
	{"bad-size",
	 {FIX "bad-size/recipes/vm.yaml:4:7: 'disk' must be a size such as "
	      "20G or 512M, not '20Q'"}},
	{"bad-cid",
	 {FIX "bad-cid/recipes/vm.yaml:3:12: 'vsock-cid' must be a whole "
	      "number from 3 to 4294967294, not '2'"}},
	{"bad-password",
	 {FIX "bad-password/recipes/vm.yaml:6:15: 'password' must be "
	      "'random', 'locked' or a crypt hash such as '$y$...', never a "
	      "clear-text password"}},
	{"bad-forward",
	 {FIX "bad-forward/recipes/vm.yaml:9:15: forwards listen on 127.0.0.1 "
	      "only, not '0.0.0.0'"}},
	{"unresolved-ref",
	 {FIX "unresolved-ref/recipes/vm.yaml:7:7: unknown VM 'proxi' (did "
	      "you mean 'proxy'?)"}},
	{"shared-cid",
	 {FIX "shared-cid/recipes/b.yaml:3:12: vsock CID 3 is already used by "
	      "VM 'a' (" FIX "shared-cid/recipes/a.yaml:3)",
	  FIX "shared-cid/recipes/b.yaml:5:43: MAC 52:54:00:00:01:01 is "
	      "already used by VM 'a' (" FIX "shared-cid/recipes/a.yaml:5)",
	  FIX "shared-cid/recipes/b.yaml:5:73: address 10.0.0.1 is already "
	      "used by VM 'a' (" FIX "shared-cid/recipes/a.yaml:5)"}},
	{"overlay-escape",
	 {FIX "overlay-escape/recipes/vm.yaml:4:10: overlay '../outside' "
	      "leaves the project directory; give a path under it"}},
	{"symlink-escape",
	 {FIX "symlink-escape/recipes/vm.yaml:4:10: overlay '" FIX
	      "symlink-escape/tree/etc/link': symlink to '../../../secret' "
	      "leaves the overlay"}},
	{"syntax",
	 {FIX "syntax/recipes/vm.yaml:3:3: syntax error: did not find "
	      "expected node content while parsing a flow node"}},
	{"bad-name",
	 {FIX "bad-name/recipes/vm.yaml:1:5: VM name '../Dev VM' must be "
	      "lower-case letters, digits, '.', '_' or '-', start with a "
	      "letter or digit, and be at most 32 long"}},
	{"many",
	 {FIX "many/recipes/vm.yaml:5:1: unknown key 'memroy' in recipe (did "
	      "you mean 'memory'?)",
	  FIX "many/recipes/vm.yaml:7:43: 'mac' must be a MAC address such as "
	      "52:54:00:12:34:56",
	  FIX "many/recipes/vm.yaml:3:7: unknown base 'nowhere'"}},
	{"bypass",
	 {FIX "bypass/recipes/vm.yaml:6:5: a VM behind a proxy must not have "
	      "a user-mode NIC: it would bypass the proxy",
	  FIX "bypass/recipes/vm.yaml:5:73: address 192.168.77.21/24 is not "
	      "on the proxy VM's subnet (192.168.76.11/24)"}},
	/* Several VMs behind one proxy VM (issue 15): distinct host
	 * addresses, a MAC and a name for each link's NIC on the proxy. */
	{"links",
	 {FIX "links/recipes/b.yaml:5:73: address 192.168.76.21 is already "
	      "used by VM 'a' (" FIX "links/recipes/a.yaml:5)",
	  FIX "links/recipes/c.yaml:5:73: address 192.168.76.255/24 is the "
	      "broadcast address of its subnet, not a host's",
	  FIX "links/recipes/proxy.yaml:14:10: the link to VM 'b' takes MAC "
	      "52:54:00:00:01:0a (this MAC plus 1), which VM 'c' uses (" FIX
	      "links/recipes/c.yaml:5)"}},
	{"link-names",
	 {FIX "link-names/recipes/proxy.yaml:12:5: NIC name 'internal-link15' "
	      "leaves no room for the link to VM 'b': 'internal-link151' is "
	      "over 15 bytes"}},
	/* Hostile recipes (issue 19): each gives diagnostics, never a crash
	 * and never a silent acceptance. */
	{"key-mapping",
	 {FIX "key-mapping/recipes/vm.yaml:6:1: a key must be a plain string, "
	      "not a list or mapping"}},
	{"key-alias",
	 {FIX "key-alias/recipes/vm.yaml:6:1: YAML anchors ('&k') and aliases "
	      "are not supported; write the value out"}},
	{"alias-bomb",
	 {FIX "alias-bomb/recipes/vm.yaml:1:4: YAML anchors ('&a') and aliases "
	      "are not supported; write the value out"}},
	{"two-docs",
	 {FIX "two-docs/recipes/vm.yaml:6:1: a second YAML document in one "
	      "file; give each in a file of its own"}},
	{"typo-nested",
	 {FIX
	  "typo-nested/recipes/vm.yaml:5:5: missing required key 'name' in NIC",
	  FIX "typo-nested/recipes/vm.yaml:5:6: unknown key 'nme' in NIC (did "
	      "you mean 'name'?)",
	  FIX "typo-nested/recipes/vm.yaml:7:5: missing required key 'name' in "
	      "network",
	  FIX "typo-nested/recipes/vm.yaml:7:6: unknown key 'nam' in network "
	      "(did you mean 'name'?)",
	  FIX "typo-nested/recipes/vm.yaml:9:5: missing required key 'name' in "
	      "service",
	  FIX "typo-nested/recipes/vm.yaml:9:6: unknown key 'nam' in service "
	      "(did you mean 'name'?)",
	  FIX "typo-nested/recipes/vm.yaml:11:9: missing required key "
	      "'service' in proxy listener",
	  FIX "typo-nested/recipes/vm.yaml:11:10: unknown key 'servce' in "
	      "proxy listener (did you mean 'service'?)",
	  FIX "typo-nested/recipes/vm.yaml:12:8: unknown service 'ssh'",
	  FIX "typo-nested/recipes/vm.yaml:13:12: missing required key 'vm' in "
	      "use-proxy",
	  FIX "typo-nested/recipes/vm.yaml:13:13: unknown key 'vn' in "
	      "use-proxy (did you mean 'vm'?)",
	  FIX "typo-nested/recipes/vm.yaml:14:7: unknown key 'ap' in gui (did "
	      "you mean 'apps'?)",
	  FIX "typo-nested/recipes/vm.yaml:16:5: missing required key 'name' "
	      "in user",
	  FIX "typo-nested/recipes/vm.yaml:16:6: unknown key 'nme' in user "
	      "(did you mean 'name'?)",
	  FIX "typo-nested/recipes/vm.yaml:18:5: missing required key 'path' "
	      "in file",
	  FIX "typo-nested/recipes/vm.yaml:18:6: unknown key 'pth' in file "
	      "(did you mean 'path'?)"}},
	{"nulls",
	 {FIX "nulls/recipes/vm.yaml:6:10: 'hostname' has no value",
	  FIX "nulls/recipes/vm.yaml:7:12: items of 'packages' must be package "
	      "names (letters, digits, '+', '.', '_', '~', ':' or '-', "
	      "starting with a letter or digit), not '~'",
	  FIX "nulls/recipes/vm.yaml:8:8: 'users' has no value",
	  FIX "nulls/recipes/vm.yaml:9:6: 'gui' has no value",
	  FIX "nulls/recipes/vm.yaml:11:44: 'A' in 'env' has no value (write "
	      "\"\" for an empty string)"}},
	{"kinds",
	 {FIX "kinds/recipes/vm.yaml:6:6: 'gui' must be a mapping, not a value",
	  FIX "kinds/recipes/vm.yaml:7:11: 'hostname' must be a value, not a "
	      "mapping",
	  FIX
	  "kinds/recipes/vm.yaml:8:11: 'networks' must be a list, not a value",
	  FIX "kinds/recipes/vm.yaml:9:12: items of 'services' must be "
	      "mappings, not a value",
	  FIX "kinds/recipes/vm.yaml:10:12: 'use-proxy' must be a mapping, not "
	      "a list"}},
	{"bad-names",
	 {FIX "bad-names/recipes/vm.yaml:6:11: 'hostname' must be a host name "
	      "of letters, digits and '-' in dot-separated labels (RFC 1123), "
	      "not 'sbx_dev.'",
	  FIX "bad-names/recipes/vm.yaml:8:5: user 'root' is a system account; "
	      "a recipe creates ordinary users only",
	  FIX "bad-names/recipes/vm.yaml:9:12: 'name' must be a user or group "
	      "name of lower-case letters, digits, '_' or '-' starting with a "
	      "letter or '_', at most 32 long, not 'Dev User'",
	  FIX
	  "bad-names/recipes/vm.yaml:10:33: items of 'groups' must be group "
	  "names (a user or group name of lower-case letters, digits, '_' or "
	  "'-' starting with a letter or '_', at most 32 long), not '-x'",
	  FIX "bad-names/recipes/vm.yaml:10:47: 'shell' must be an absolute "
	      "path such as /bin/bash, not 'bin/bash'",
	  FIX "bad-names/recipes/vm.yaml:12:12: 'name' must be a name of "
	      "lower-case letters, digits, '.', '_' or '-' starting with a "
	      "letter or digit, at most 63 long, not '../x'",
	  FIX "bad-names/recipes/vm.yaml:14:12: 'name' must be a name of "
	      "lower-case letters, digits, '.', '_' or '-' starting with a "
	      "letter or digit, at most 63 long, not 'Pods'"}},
	{"bad-service",
	 {FIX "bad-service/recipes/vm.yaml:7:49: network 'pods': 'gateway' "
	      "10.0.22.1 is not in subnet 10.0.21.0/24",
	  FIX "bad-service/recipes/vm.yaml:10:12: 'image' must be an image "
	      "reference such as docker.io/library/alpine:3.20[@sha256:HEX], "
	      "not 'localhost/x y'",
	  FIX "bad-service/recipes/vm.yaml:11:12: 'build' must be an absolute "
	      "guest path (a directory of the overlay) without '.', '..', '//' "
	      "or a trailing '/', not '/etc/sbx/'",
	  FIX "bad-service/recipes/vm.yaml:13:9: service 's': 'ip' 10.0.22.5 "
	      "is not in network 'pods' (10.0.21.0/24)",
	  FIX "bad-service/recipes/vm.yaml:14:13: items of 'ports' must be "
	      "VMPORT:CONTAINERPORT or ADDRESS:VMPORT:CONTAINERPORT, not '80'",
	  FIX "bad-service/recipes/vm.yaml:15:15: items of 'volumes' must be "
	      "SOURCE:DEST[:OPTIONS] with absolute paths (or a volume name as "
	      "SOURCE) and options such as ro,Z, not '/a:/b:Z ro'",
	  FIX "bad-service/recipes/vm.yaml:16:11: keys of 'env' must be a "
	      "variable name of letters, digits and '_', not 'LD PRELOAD'",
	  FIX "bad-service/recipes/vm.yaml:16:31: 'B' in 'env' must be one "
	      "line without control characters, not 'a\\nExecStartPre=/bin/sh'",
	  FIX "bad-service/recipes/vm.yaml:17:31: 'env' must be a variable "
	      "name of letters, digits and '_', not 'A-B'",
	  FIX "bad-service/recipes/vm.yaml:18:14: 'restart' must be one of "
	      "'no', 'always', 'on-success', 'on-failure', 'on-abnormal', "
	      "'on-watchdog' or 'on-abort', not 'sometimes'"}},
	{"bad-proxy",
	 {FIX "bad-proxy/recipes/vm.yaml:12:9: 'allow-list: true' without "
	      "'domains' would deny every host; list the domains",
	  FIX "bad-proxy/recipes/vm.yaml:13:80: 'domains' without 'allow-list: "
	      "true' would be ignored; set 'allow-list: true' or remove them"}},
	{"bad-domains",
	 {FIX "bad-domains/recipes/vm.yaml:12:102: items of 'domains' must be "
	      "domain names such as example.com or .example.com (with its "
	      "subdomains), not URLs, ports or IP addresses, not "
	      "'https://github.com'",
	  FIX
	  "bad-domains/recipes/vm.yaml:12:124: items of 'domains' must be "
	  "domain names such as example.com or .example.com (with its "
	  "subdomains), not URLs, ports or IP addresses, not 'github.com:22'",
	  FIX "bad-domains/recipes/vm.yaml:12:141: items of 'domains' must be "
	      "domain names such as example.com or .example.com (with its "
	      "subdomains), not URLs, ports or IP addresses, not 'a b'",
	  FIX "bad-domains/recipes/vm.yaml:12:148: items of 'domains' must be "
	      "domain names such as example.com or .example.com (with its "
	      "subdomains), not URLs, ports or IP addresses, not ''",
	  FIX
	  "bad-domains/recipes/vm.yaml:13:99: items of 'domains' must be "
	  "domain names such as example.com or .example.com (with its "
	  "subdomains), not URLs, ports or IP addresses, not '140.82.121.4'"}},
	{"bad-misc",
	 {FIX "bad-misc/recipes/vm.yaml:5:12: 'name' must be an interface name "
	      "(1-15 letters, digits, '-' or '_'), not 'inter nal'",
	  FIX "bad-misc/recipes/vm.yaml:6:12: items of 'packages' must be "
	      "package names (letters, digits, '+', '.', '_', '~', ':' or '-', "
	      "starting with a letter or digit), not '-oAPT::Get=x'",
	  FIX "bad-misc/recipes/vm.yaml:7:9: items of 'units' must be systemd "
	      "unit names such as sshd.service, not '../x.service'",
	  FIX "bad-misc/recipes/vm.yaml:7:23: items of 'units' must be systemd "
	      "unit names such as sshd.service, not 'sshd'",
	  FIX "bad-misc/recipes/vm.yaml:8:14: items of 'apps' must be app "
	      "names of letters, digits, '.', '_', '+' or '-', not '$(reboot)'",
	  FIX
	  "bad-misc/recipes/vm.yaml:9:17: unknown VM 'b' (did you mean 'a'?)",
	  FIX "bad-misc/recipes/vm.yaml:9:31: items of 'no-proxy' must be "
	      "domain names (example.com, .example.com), IPv4 addresses or "
	      "IPv4 CIDRs, not URLs or ports, not 'http://x'",
	  FIX "bad-misc/recipes/vm.yaml:9:43: items of 'no-proxy' must be "
	      "domain names (example.com, .example.com), IPv4 addresses or "
	      "IPv4 CIDRs, not URLs or ports, not 'x:80'"}},
	{"bad-files",
	 {FIX
	  "bad-files/recipes/vm.yaml:7:12: 'path' must be an absolute guest "
	  "path without '.', '..', '//' or a trailing '/', not '/etc/x/'",
	  FIX "bad-files/recipes/vm.yaml:8:12: 'path' must be an absolute "
	      "guest path without '.', '..', '//' or a trailing '/', not "
	      "'/etc/../shadow'",
	  FIX
	  "bad-files/recipes/vm.yaml:9:30: 'template' must be a path relative "
	  "to the project directory, without '..', not '../../etc/shadow'",
	  FIX
	  "bad-files/recipes/vm.yaml:10:30: 'template' must be a path relative "
	  "to the project directory, without '..', not '/etc/shadow'",
	  FIX "bad-files/recipes/vm.yaml:11:39: 'owner' must be a user or "
	      "group name of lower-case letters, digits, '_' or '-' starting "
	      "with a letter or '_', at most 32 long, not 'a:b'",
	  FIX "bad-files/recipes/vm.yaml:12:5: file '/etc/w' is listed twice "
	      "(first at line 11)"}},
	{"bad-sizes",
	 {FIX
	  "bad-sizes/recipes/vm.yaml:6:9: 'memory' must be from 256M to 16T, "
	  "not '8' (a number without a unit is bytes; did you mean '8G'?)",
	  FIX
	  "bad-sizes/recipes/vm.yaml:7:7: 'disk' must be from 1G to 64T, not "
	  "'20' (a number without a unit is bytes; did you mean '20G'?)"}},
	{"bad-sizes2",
	 {FIX "bad-sizes2/recipes/vm.yaml:6:9: 'memory' must be from 256M to "
	      "16T, not '100K'",
	  FIX "bad-sizes2/recipes/vm.yaml:7:7: 'disk' must be from 1G to 64T, "
	      "not '65T'"}},
	{"bad-user-values",
	 {FIX "bad-user-values/recipes/vm.yaml:8:15: 'password' must be "
	      "'random', 'locked' or a crypt hash such as '$y$...', never a "
	      "clear-text password",
	  FIX "bad-user-values/recipes/vm.yaml:9:16: items of 'ssh-keys' must "
	      "be public keys such as 'ssh-ed25519 AAAA... comment', one line "
	      "each, not 'ssh-ed25519 AAAAC3Nza test\\nssh-rsa AAAA x'",
	  FIX "bad-user-values/recipes/vm.yaml:9:62: items of 'ssh-keys' must "
	      "be public keys such as 'ssh-ed25519 AAAA... comment', one line "
	      "each, not 'command=\"sh\" ssh-rsa AAAA x'"}},
	{"bad-base",
	 {FIX "bad-base/recipes/vm.yaml:2:3: names in 'bases' must be a name "
	      "of lower-case letters, digits, '.', '_' or '-' starting with a "
	      "letter or digit, at most 63 long, not '../x'",
	  FIX "bad-base/recipes/vm.yaml:3:30: 'path' must be a path relative "
	      "to the project directory, without '..', not '../b.qcow2'",
	  FIX "bad-base/recipes/vm.yaml:4:3: base 'web': 'checksum' must be "
	      "sha256:HEX or sha512:HEX in lower case",
	  FIX "bad-base/recipes/vm.yaml:4:30: 'url' must be an https://, "
	      "http:// or file:// URL, not 'https://x/a b'"}},
	{"bad-subnet",
	 {FIX "bad-subnet/recipes/vm.yaml:7:26: network 'pods': 'subnet' must "
	      "be a CIDR such as 10.0.21.0/24",
	  FIX "bad-subnet/recipes/vm.yaml:7:49: 'gateway' must be an IPv4 "
	      "address such as 10.0.21.1, not '10.0.21.1\\n'"}},
	/* Static addresses live in the lower half, podman's dynamic ones
	 * in the upper half (IPRange=); a /30 is not split. */
	{"static-ip-range",
	 {FIX "static-ip-range/recipes/vm.yaml:11:59: service 'high': 'ip' "
	      "10.0.21.128 is in the range podman hands out to other "
	      "containers (10.0.21.128/25); use an address of the subnet's "
	      "lower half",
	  FIX "static-ip-range/recipes/vm.yaml:12:58: service 'top': 'ip' "
	      "10.0.21.254 is in the range podman hands out to other "
	      "containers (10.0.21.128/25); use an address of the subnet's "
	      "lower half"}},
};

static void
test_bad_recipes(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		CLEANUP_FREE char *dir = xasprintf(FIX "%s", c->dir);
		struct recipe_set *set = NULL;
		struct diag_list *diags = NULL;
		size_t n = 0;

		assert_int_equal(recipe_set_load(dir, &set, &diags), -EINVAL);
		assert_null(set);
		while (c->messages[n] != NULL)
			n++;
		if (diag_count(diags) != n) {
			for (size_t j = 0; j < diag_count(diags); j++)
				print_message("  %s: %s\n", c->dir,
					      diag_message(diags, j));
			fail_msg("%s: %zu messages, expected %zu", c->dir,
				 diag_count(diags), n);
		}
		for (size_t j = 0; j < n; j++) {
			bool found = false;

			for (size_t k = 0; k < diag_count(diags); k++)
				found |= strcmp(diag_message(diags, k),
						c->messages[j]) == 0;
			if (!found)
				fail_msg("%s: expected '%s'", c->dir,
					 c->messages[j]);
		}
		diag_list_free(diags);
	}
}

/* The report quotes the source line and puts a caret under the column,
 * sorted by position whatever order the checks ran in. */
static void
test_diag_print(void **state)
{
	struct recipe_set *set = NULL;
	struct diag_list *diags = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(recipe_set_load(FIX "many", &set, &diags), -EINVAL);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	diag_print(diags, f);
	fclose(f);
	assert_string_equal(
		buf, FIX
		"many/recipes/vm.yaml:3:7: unknown base 'nowhere'\n"
		"  base: nowhere\n"
		"        ^\n" FIX
		"many/recipes/vm.yaml:5:1: unknown key 'memroy' in recipe "
		"(did you mean 'memory'?)\n"
		"  memroy: 4G\n"
		"  ^\n" FIX "many/recipes/vm.yaml:7:43: 'mac' must be a MAC "
		"address such as 52:54:00:12:34:56\n"
		"    - {name: internal, type: internal, mac: "
		"\"52:54:00:00:01:0g\", address: 10.0.0.2/24}\n"
		"                                            ^\n"
		"sbx-build: 3 errors\n");
	free(buf);
	diag_list_free(diags);
}

/* The shipped recipes describe the whole sandbox of DESIGN.md. */
static void
test_default_recipes(void **state)
{
	struct recipe_set *set = NULL;
	struct diag_list *diags = NULL;
	const struct vm *proxy, *dev;
	const struct nic *nic;
	const struct service *s;

	(void)state;
	assert_int_equal(recipe_set_load(".", &set, &diags), 0);
	assert_int_equal(diag_count(diags), 0);
	diag_list_free(diags);
	assert_int_equal(set->nvms, 2);
	proxy = recipe_find_vm(set, "proxy");
	dev = recipe_find_vm(set, "dev");
	assert_non_null(proxy);
	assert_non_null(dev);

	assert_string_equal(proxy->base_ref->name, "fedora-44");
	assert_int_equal(proxy->base_ref->distro, DISTRO_FEDORA);
	assert_string_equal(proxy->base_ref->key_fingerprint,
			    "36F612DCF27F7D1A48A835E4DBFCF71C6D9F90A6");
	assert_int_equal(proxy->cid, 4);
	assert_int_equal(dev->cid, 3);
	assert_true(proxy->disk == 20ull << 30 && dev->disk == 20ull << 30);
	assert_true(proxy->memory == 4ull << 30 && dev->memory == 4ull << 30);
	assert_int_equal(proxy->cpus, 4);
	assert_int_equal(dev->cpus, 4);

	/* Proxy: uplink with the admin UI on the host's loopback only. */
	nic = vm_nic(proxy, NIC_USER);
	assert_non_null(nic);
	assert_int_equal(nic->nforwards, 1);
	assert_string_equal(nic->forwards[0].host_addr, "127.0.0.1");
	assert_int_equal(nic->forwards[0].host_port, 8080);
	nic = vm_nic(proxy, NIC_INTERNAL);
	assert_string_equal(nic->address, "192.168.76.11");
	assert_int_equal(nic->prefix, 24);

	/* The three services, Pi-hole answering the proxies' DNS. */
	assert_true(proxy->proxy_server.present);
	assert_int_equal(proxy->proxy_server.http.port, 8888);
	assert_int_equal(proxy->proxy_server.http.publish, 8443);
	assert_int_equal(proxy->proxy_server.http.connect_ports[0], 443);
	assert_false(proxy->proxy_server.http.allow_list);
	assert_int_equal(proxy->proxy_server.ssh.port, 8822);
	assert_int_equal(proxy->proxy_server.ssh.publish, 8222);
	assert_int_equal(proxy->proxy_server.ssh.connect_ports[0], 22);
	assert_true(proxy->proxy_server.ssh.allow_list);
	assert_int_equal(proxy->proxy_server.ssh.domains.n, 1);
	assert_string_equal(proxy->proxy_server.ssh.domains.v[0], "github.com");
	s = vm_service(proxy, "pihole");
	assert_non_null(s);
	assert_string_equal(s->ip, "10.0.21.2");
	assert_int_equal(s->nsecrets, 1);
	assert_true(s->secrets[0].generate);
	s = vm_service(proxy, "tinyproxy-http");
	assert_string_equal(s->dns_resolved, "10.0.21.2");
	s = vm_service(proxy, "tinyproxy-ssh");
	assert_string_equal(s->dns_resolved, "10.0.21.2");

	/* Dev: the internal link only, proxied by reference. */
	assert_int_equal(dev->nnics, 1);
	assert_null(vm_nic(dev, NIC_USER));
	assert_string_equal(vm_nic(dev, NIC_INTERNAL)->address,
			    "192.168.76.21");
	assert_true(dev->use_proxy.present);
	assert_ptr_equal(dev->use_proxy.target, proxy);
	assert_true(dev->gui.waypipe);
	assert_int_equal(dev->gui.vsock_port, 4000);
	for (size_t i = 0; i < dev->nusers; i++)
		assert_int_equal(dev->users[i].password, PASSWORD_RANDOM);
	recipe_set_free(set);
}

static void
test_good_fixture_defaults(void **state)
{
	struct recipe_set *set = NULL;
	struct diag_list *diags = NULL;
	const struct vm *px;

	(void)state;
	assert_int_equal(recipe_set_load(FIX "good", &set, &diags), 0);
	diag_list_free(diags);
	px = recipe_find_vm(set, "px");
	/* Defaults when the recipe is silent. */
	assert_true(px->disk == 20ull << 30);
	assert_true(px->memory == 4ull << 30);
	assert_int_equal(px->cpus, 4);
	assert_string_equal(px->hostname, "sbx-px");
	assert_null(px->overlay);
	assert_string_equal(px->services[0].restart, "always");
	/* Positions survive into the model. */
	assert_string_equal(px->cid_pos.file, FIX "good/recipes/vm.yaml");
	assert_int_equal(px->cid_pos.line, 7);
	assert_int_equal(px->cid_pos.col, 12);
	recipe_set_free(set);
}

static void
test_scalar_parsers(void **state)
{
	uint64_t v;
	uint32_t a;
	unsigned p;
	static const char *const keys[] = {"packages", "memory", "users"};

	(void)state;
	assert_true(parse_size("20G", &v) && v == 20ull << 30);
	assert_true(parse_size("512M", &v) && v == 512ull << 20);
	assert_true(parse_size("4GiB", &v) && v == 4ull << 30);
	assert_true(parse_size("4096", &v) && v == 4096);
	assert_false(parse_size("0", &v));
	assert_false(parse_size("-1G", &v));
	assert_false(parse_size("1Gx", &v));
	assert_false(parse_size("99999999999T", &v));
	assert_true(parse_cidr("192.168.76.11/24", &a, &p));
	assert_int_equal(a, 0xc0a84c0b);
	assert_int_equal(p, 24);
	assert_false(parse_cidr("192.168.76.11", &a, &p));
	assert_false(parse_cidr("192.168.76.11/0", &a, &p));
	assert_false(parse_cidr("192.168.276.11/24", &a, &p));
	assert_true(parse_mac("52:54:00:AB:cd:01"));
	assert_false(parse_mac("52:54:00:ab:cd"));
	assert_false(parse_mac("52-54-00-ab-cd-01"));
	assert_string_equal(did_you_mean("pakages", keys, 3), "packages");
	assert_string_equal(did_you_mean("memroy", keys, 3), "memory");
	assert_null(did_you_mean("zzz", keys, 3));
}

/* Emitting and re-reading a tree keeps keys, order and awkward strings. */
static void
test_ytree_roundtrip(void **state)
{
	struct ynode *root = ynode_new_map(), *seq, *back = NULL;
	struct diag_list *diags = diag_list_new();
	char *text = NULL;
	size_t len;

	(void)state;
	ynode_map_put_str(root, "url", "https://example.org/a b:c");
	ynode_map_put_str(root, "mode", "0644");
	seq = ynode_map_put(root, "list", ynode_new_seq());
	ynode_seq_push(seq, ynode_new_str("- not a list item"));
	ynode_seq_push(seq, ynode_new_str("multi\nline"));
	assert_int_equal(ytree_emit(root, &text, &len), 0);
	assert_int_equal(ytree_parse("mem", text, len, diags, &back), 0);
	assert_string_equal(ynode_get(back, "url")->str,
			    "https://example.org/a b:c");
	assert_string_equal(ynode_get(back, "mode")->str, "0644");
	seq = ynode_get(back, "list");
	assert_int_equal(seq->n, 2);
	assert_string_equal(seq->items[0]->str, "- not a list item");
	assert_string_equal(seq->items[1]->str, "multi\nline");
	free(text);
	ynode_free(root);
	ynode_free(back);
	diag_list_free(diags);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads one in-memory recipe; expects exactly one diagnostic, the given
 * one, within a second. */
static void
expect_one(const char *text, const char *message)
{
	const char *names[] = {"recipes/x.yaml"};
	const char *texts[] = {text};
	struct recipe_set *set = NULL;
	struct diag_list *diags = NULL;
	double t0 = now();

	assert_int_equal(
		recipe_set_load_texts(".", names, texts, 1, &set, &diags),
		-EINVAL);
	assert_true(now() - t0 < 1.0);
	assert_null(set);
	if (diag_count(diags) != 1)
		for (size_t j = 0; j < diag_count(diags); j++)
			print_message("  %s\n", diag_message(diags, j));
	assert_int_equal(diag_count(diags), 1);
	assert_string_equal(diag_message(diags, 0), message);
	diag_list_free(diags);
}

/* Each limit of the YAML reader is refused at once with a position. */
static void
test_limits(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* Depth: 17 nested flow sequences. */
	sb_puts(&sb, "units: ");
	for (int i = 0; i < 17; i++)
		sb_putc(&sb, '[');
	expect_one(sb.buf, "recipes/x.yaml:1:23: nesting deeper than 16 "
			   "levels");
	sb_release(&sb);

	/* Nodes: 20000 in all. */
	sb_puts(&sb, "units: [");
	for (int i = 0; i < 20000; i++)
		sb_puts(&sb, "a,");
	sb_puts(&sb, "a]\n");
	expect_one(sb.buf, "recipes/x.yaml:1:40003: more than 20000 YAML "
			   "nodes");
	sb_release(&sb);

	/* A scalar over 256 KiB. */
	sb_puts(&sb, "files:\n  - path: /etc/x\n    content: \"");
	for (int i = 0; i < (256 << 10) + 1; i++)
		sb_putc(&sb, 'x');
	sb_puts(&sb, "\"\n");
	expect_one(sb.buf, "recipes/x.yaml:3:14: value longer than 262144 "
			   "bytes");
	sb_release(&sb);

	/* A file over 1 MiB. */
	sb_puts(&sb, "# ");
	for (int i = 0; i < 1 << 20; i++)
		sb_putc(&sb, 'x');
	expect_one(sb.buf, "recipes/x.yaml:1:1: recipe larger than 1048576 "
			   "bytes");
	sb_release(&sb);

	/* A long value elsewhere than content. */
	sb_puts(&sb, "bases:\n  b: {distro: debian, path: ");
	for (int i = 0; i < 5000; i++)
		sb_putc(&sb, 'a');
	sb_puts(&sb, "}\n");
	expect_one(sb.buf,
		   "recipes/x.yaml:2:29: 'path' must be a path "
		   "relative to the project directory, without '..', "
		   "not 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		   "aaaaaaaaaaaaa...'");
	sb_release(&sb);
}

/* A FIFO, a device and a directory are refused without blocking. */
static void
test_not_regular(void **state)
{
	static const char *const kinds[] = {"fifo", "device", "dir"};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *dir = test_mkdtemp();
		CLEANUP_FREE char *rdir = xasprintf("%s/recipes", dir);
		CLEANUP_FREE char *file = xasprintf("%s/x.yaml", rdir);
		CLEANUP_FREE char *want = NULL;
		struct recipe_set *set = NULL;
		struct diag_list *diags = NULL;
		double t0 = now();

		assert_int_equal(mkdir(rdir, 0755), 0);
		if (i == 0)
			assert_int_equal(mkfifo(file, 0644), 0);
		else if (i == 1)
			assert_int_equal(symlink("/dev/zero", file), 0);
		else
			assert_int_equal(mkdir(file, 0755), 0);
		assert_int_equal(recipe_set_load(dir, &set, &diags), -EINVAL);
		assert_true(now() - t0 < 1.0);
		want = xasprintf("%s:1:1: recipe is not a regular file", file);
		assert_int_equal(diag_count(diags), 1);
		assert_string_equal(diag_message(diags, 0), want);
		diag_list_free(diags);
		test_rmdir(dir);
	}
}

/* check: a base given by path exists and looks like a disk image. */
static void
test_base_files(void **state)
{
	static const struct {
		const char *content; /* NULL: missing */
		size_t len;
		const char *message; /* NULL: good */
	} cases[] = {
		{NULL, 0, "cannot open 'b.qcow2': No such file or directory"},
		{"# README\n", 9,
		 "'b.qcow2' is neither a qcow2 image nor a raw disk image (a "
		 "non-empty multiple of 512 bytes)"},
		{"QFI\xfb\0\0\0\3", 8, NULL},
	};
	const char *text =
		"vm: a\nbase: {distro: debian, path: b.qcow2}\nvsock-cid: 3\n"
		"nics:\n  - {name: i, type: internal, mac: "
		"\"52:54:00:00:00:02\", address: 10.0.0.2/24}\n";

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases) + 1; i++) {
		char *dir = test_mkdtemp();
		CLEANUP_FREE char *rdir = xasprintf("%s/recipes", dir);
		CLEANUP_FREE char *recipe = xasprintf("%s/a.yaml", rdir);
		CLEANUP_FREE char *img = xasprintf("%s/b.qcow2", dir);
		CLEANUP_FREE char *want = NULL;
		struct recipe_set *set = NULL;
		struct diag_list *diags = NULL;
		const char *msg =
			i < ARRAY_SIZE(cases) ? cases[i].message : NULL;

		assert_int_equal(mkdir(rdir, 0755), 0);
		test_write(recipe, text);
		if (i == ARRAY_SIZE(cases)) {
			/* Raw: a multiple of 512 bytes. */
			char zero[1024] = {0};

			assert_int_equal(
				write_file_atomic(img, zero, 1024, 0644), 0);
		} else if (cases[i].content != NULL) {
			assert_int_equal(write_file_atomic(img,
							   cases[i].content,
							   cases[i].len, 0644),
					 0);
		}
		assert_int_equal(recipe_set_load(dir, &set, &diags), 0);
		if (msg == NULL) {
			assert_int_equal(recipe_check_base_files(set, diags),
					 0);
		} else {
			assert_int_equal(recipe_check_base_files(set, diags),
					 -EINVAL);
			want = xasprintf("%s:2:7: base '@a': %s", recipe, msg);
			assert_int_equal(diag_count(diags), 1);
			assert_string_equal(diag_message(diags, 0), want);
		}
		diag_list_free(diags);
		recipe_set_free(set);
		test_rmdir(dir);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_recipes),
		cmocka_unit_test(test_diag_print),
		cmocka_unit_test(test_default_recipes),
		cmocka_unit_test(test_good_fixture_defaults),
		cmocka_unit_test(test_scalar_parsers),
		cmocka_unit_test(test_ytree_roundtrip),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_base_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
