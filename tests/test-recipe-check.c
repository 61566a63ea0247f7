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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_rules),
		cmocka_unit_test(test_unknown_base),
		cmocka_unit_test(test_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
