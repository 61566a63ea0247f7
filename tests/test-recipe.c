/* Recipes: the default set validates, and every class of error is reported
 * with its exact message and position. */
#include "testutil.h"

#include "diag.h"
#include "recipe.h"
#include "schema.h"
#include "ytree.h"

#define FIX "tests/fixtures/recipes/"

struct bad_case {
	const char *dir;
	const char *messages[4]; /* in report order; NULL-terminated */
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
