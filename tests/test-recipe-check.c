/* recipe-check.c on models built here, without YAML: the rules across
 * fields and VMs, each diagnostic at the node that broke the rule.
 * (test-recipe.c drives the same rules through recipe files.) */
#include "testutil.h"

#include "diag.h"
#include "recipe-int.h"
#include "recipe.h"

/* Does one of the diagnostics contain want, at line? */
static bool
has(const struct diag_list *d, const char *want, int line)
{
	char at[32];

	snprintf(at, sizeof(at), "t.yaml:%d:", line);
	for (size_t i = 0; i < diag_count(d); i++)
		if (strstr(diag_message(d, i), want) != NULL &&
		    strstr(diag_message(d, i), at) != NULL)
			return true;
	return false;
}

static struct srcpos
at(int line)
{
	return (struct srcpos){"t.yaml", line, 1};
}

static void
test_vm_rules(void **state)
{
	struct file_spec files[2] = {
		{.pos = at(20), .path = "/etc/motd", .content = "hi"},
		{.pos = at(21), .path = "/etc/motd"},
	};
	struct vm vm = {.pos = at(1),
			.name = "Bad Name",
			.name_pos = at(1),
			.files = files,
			.nfiles = 2};
	struct recipe_set set = {.vms = &vm, .nvms = 1};
	struct diag_list *d = diag_list_new();

	(void)state;
	recipe_check_vm(&set, &vm, d);
	assert_true(has(d, "VM name 'Bad Name' must be lower-case", 1));
	assert_true(has(d, "missing required key 'base'", 1));
	assert_true(has(d, "missing required key 'vsock-cid'", 1));
	assert_true(has(d, "has no NIC", 1));
	assert_true(has(d,
			"file '/etc/motd' is listed twice (first at line "
			"20)",
			21));
	assert_true(
		has(d, "file '/etc/motd' needs 'content' or 'template'", 21));
	assert_false(has(d, "needs 'content'", 20));
	assert_int_equal(diag_count(d), 6);
	diag_list_free(d);
}

static void
test_unknown_base(void **state)
{
	struct base bases[1] = {{.name = "fedora-44"}};
	struct nic nic = {.pos = at(3), .name = "eth0", .kind = NIC_USER};
	struct vm vm = {.pos = at(1),
			.name = "dev",
			.base = "fedora-43",
			.base_pos = at(2),
			.cid = 5,
			.cid_pos = at(4),
			.nics = &nic,
			.nnics = 1};
	struct recipe_set set = {
		.bases = bases, .nbases = 1, .vms = &vm, .nvms = 1};
	struct diag_list *d = diag_list_new();

	(void)state;
	recipe_check_vm(&set, &vm, d);
	assert_true(has(d,
			"unknown base 'fedora-43' (did you mean "
			"'fedora-44'?)",
			2));
	assert_int_equal(diag_count(d), 1);
	assert_null(vm.base_ref);
	diag_list_free(d);
}

static void
test_unique(void **state)
{
	struct nic na = {.name = "eth1",
			 .kind = NIC_INTERNAL,
			 .mac = "52:54:00:00:00:01",
			 .mac_pos = at(13)};
	struct nic nb = {.name = "eth1",
			 .kind = NIC_INTERNAL,
			 .mac = "52:54:00:00:00:01",
			 .mac_pos = at(23)};
	struct vm vms[2] = {
		{.name = "a",
		 .cid = 7,
		 .cid_pos = at(12),
		 .nics = &na,
		 .nnics = 1},
		{.name = "b",
		 .cid = 7,
		 .cid_pos = at(22),
		 .nics = &nb,
		 .nnics = 1},
	};
	struct recipe_set set = {.vms = vms, .nvms = 2};
	struct diag_list *d = diag_list_new();

	(void)state;
	recipe_check_unique(&set, d);
	assert_true(has(d, "vsock CID 7 is already used by VM 'a'", 22));
	assert_true(
		has(d, "MAC 52:54:00:00:00:01 is already used by VM 'a'", 23));
	assert_int_equal(diag_count(d), 2);
	diag_list_free(d);
}

/* At most VM_MAX_LINKS VMs behind one proxy VM (a NIC each); a client at
 * its subnet's network address is refused. */
static void
test_links_limit(void **state)
{
	struct vm vms[VM_MAX_LINKS + 2];
	struct nic nics[VM_MAX_LINKS + 2];
	char names[VM_MAX_LINKS + 2][8], macs[VM_MAX_LINKS + 2][18],
		addrs[VM_MAX_LINKS + 2][16];
	struct recipe_set set = {.vms = vms, .nvms = VM_MAX_LINKS + 2};
	struct diag_list *d = diag_list_new();

	(void)state;
	memset(vms, 0, sizeof(vms));
	memset(nics, 0, sizeof(nics));
	for (size_t i = 0; i < ARRAY_SIZE(vms); i++) {
		snprintf(names[i], sizeof(names[i]), "v%02zu", i);
		snprintf(macs[i], sizeof(macs[i]), "52:54:00:00:02:%02zx", i);
		snprintf(addrs[i], sizeof(addrs[i]), "10.1.0.%zu", i + 1);
		nics[i] = (struct nic){.pos = at(30 + (int)i),
				       .name = "internal",
				       .kind = NIC_INTERNAL,
				       .mac = macs[i],
				       .mac_pos = at(30 + (int)i),
				       .address = addrs[i],
				       .prefix = 24,
				       .address_pos = at(30 + (int)i)};
		vms[i] = (struct vm){.name = names[i],
				     .cid = 3 + (uint32_t)i,
				     .nics = &nics[i],
				     .nnics = 1};
		if (i > 0)
			vms[i].use_proxy = (struct use_proxy){
				.present = true, .target = &vms[0]};
	}
	vms[0].proxy_server.present = true;
	nics[0].mac = "52:54:00:00:03:00";
	addrs[1][7] = '0'; /* 10.1.0.0: v01 on the network address */
	addrs[1][8] = '\0';
	assert_int_equal(vm_link_clients(&set, &vms[0], NULL, 0),
			 VM_MAX_LINKS + 1);
	recipe_check_unique(&set, d);
	assert_true(has(d, "17 VMs use proxy VM 'v00'; at most 16", 30));
	assert_true(has(d,
			"address 10.1.0.0/24 is the network address of its "
			"subnet",
			31));
	assert_int_equal(diag_count(d), 2);
	diag_list_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_rules),
		cmocka_unit_test(test_unknown_base),
		cmocka_unit_test(test_unique),
		cmocka_unit_test(test_links_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
