/* cmd-bases: fetch and lock act on the bases the VMs use; a local base
 * is checked for presence and its recipe checksum. */
#include "testutil.h"

#include "cmd-bases.h"
#include "recipe.h"

static void
test_used(void **state)
{
	struct recipe_set *set = NULL;
	struct diag_list *d = NULL;
	const struct base **v = NULL;
	size_t n;

	(void)state;
	/* The shipped recipes define fedora-44 and debian-13; both VMs use
	 * fedora-44. */
	assert_int_equal(recipe_set_load(".", &set, &d), 0);
	diag_list_free(d);
	assert_non_null(recipe_find_base(set, "debian-13"));
	n = cmd_bases_used(set, 2, &v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->name, "fedora-44");
	assert_null(v[1]);
	free(v);
	recipe_set_free(set);
}

static void
test_local(void **state)
{
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *img = path_join(dir, "images/b.img");
	struct base b = {.name = (char *)"b", .path = (char *)"images/b.img"};

	(void)state;
	assert_int_equal(cmd_base_check_local(dir, &b), -ENOENT);
	assert_int_equal(test_sh("mkdir %s/images && printf abc >%s", dir, img),
			 0);
	assert_int_equal(cmd_base_check_local(dir, &b), 0);
	/* sha256("abc") */
	b.checksum = (char *)"sha256:ba7816bf8f01cfea414140de5dae2223b00361a3"
			     "96177a9cb410ff61f20015ad";
	assert_int_equal(cmd_base_check_local(dir, &b), 0);
	b.checksum = (char *)"sha256:ca7816bf8f01cfea414140de5dae2223b00361a3"
			     "96177a9cb410ff61f20015ad";
	assert_int_equal(cmd_base_check_local(dir, &b), -EBADMSG);
	b.path = (char *)"images";
	assert_int_equal(cmd_base_check_local(dir, &b), -EINVAL);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_used),
		cmocka_unit_test(test_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
