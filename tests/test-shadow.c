/* shadow.c: one password field of /etc/shadow replaced. */
#include "testutil.h"

#include "shadow.h"

static void
test_shadow_set(void **state)
{
	static const char sh[] = "root:*:20000:0:99999:7:::\n"
				 "dev:!:20000:0:99999:7:::\n"
				 "devx:!:1::::::\n";
	char *out = NULL;

	(void)state;
	assert_int_equal(shadow_set(sh, "dev", "$y$j9T$salt$hash", &out), 0);
	assert_string_equal(out, "root:*:20000:0:99999:7:::\n"
				 "dev:$y$j9T$salt$hash:20000:0:99999:7:::\n"
				 "devx:!:1::::::\n");
	free(out);
	/* A prefix of another name is not that name; no newline at the
	 * end gains one. */
	assert_int_equal(shadow_set("devx:!:1::::::", "devx", "!", &out), 0);
	assert_string_equal(out, "devx:!:1::::::\n");
	free(out);
	assert_int_equal(shadow_set(sh, "de", "!", &out), -ENOENT);
	/* A line with the name alone keeps no stray fields. */
	assert_int_equal(shadow_set("svc\n", "svc", "!", &out), -ENOENT);
	assert_int_equal(shadow_set("svc:x\n", "svc", "!", &out), 0);
	assert_string_equal(out, "svc:!\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shadow_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
