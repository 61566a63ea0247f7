/* pack-sums.c: the strict SHA256SUMS parser and the member names and
 * modes of pack-util.c, on texts made here. */
#include "testutil.h"

#include "pack-int.h"
#include "pack.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Parses text; returns the error (0 or negative) and the message. */
static int
parse(const char *text, struct sums *s, char **ret_why)
{
	*s = (struct sums){0};
	*ret_why = NULL;
	return pack_sums_parse(text, strlen(text), s, ret_why);
}

static void
test_sums_good(void **state)
{
	struct sums s;
	char *why;

	(void)state;
	assert_int_equal(parse("# a comment\n" H64 "  dev.qcow2\n"
			       "# size 4096  dev.qcow2\n" H64 "  run-dev.sh\n"
			       "# size 0  run-dev.sh\n",
			       &s, &why),
			 0);
	assert_null(why);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].name, "dev.qcow2");
	assert_string_equal(s.v[0].hex, H64);
	assert_true(s.v[0].sized);
	assert_int_equal(s.v[0].size, 4096);
	assert_non_null(pack_sums_find(&s, "run-dev.sh"));
	assert_null(pack_sums_find(&s, "dev"));
	pack_sums_free(&s);
}

static void
bad(const char *text, const char *want)
{
	struct sums s;
	char *why;

	assert_int_equal(parse(text, &s, &why), -EBADMSG);
	assert_non_null(why);
	if (strstr(why, want) == NULL)
		fail_msg("'%s' does not say '%s'", why, want);
	free(why);
	pack_sums_free(&s);
}

static void
test_sums_bad(void **state)
{
	(void)state;
	bad("", "is empty");
	bad(H64 "  a\n# size 1  a", "no final newline");
	bad(H64 " a\n# size 1  a\n", "not '<sha256>  <name>'");
	bad("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcd"
	    "ef  a\n",
	    "not '<sha256>  <name>'");
	bad(H64 "  ../a\n", "unsafe file name");
	bad(H64 "  .a\n", "unsafe file name");
	bad(H64 "  a\n" H64 "  a\n", "listed twice");
	bad(H64 "  SHA256SUMS\n", "reserved");
	bad(H64 "  a\n", "no size for 'a'");
	bad(H64 "  a\n# size 1  b\n", "size for 'b' but no checksum");
	bad(H64 "  a\n# size 1  a\n# size 2  a\n", "given twice");
	bad(H64 "  a\n# size x  a\n", "not '# size");
	bad(H64 "  a\n# size 1 a\n", "not '# size");
	bad(H64 "  a\n# size 99999999999999999999  a\n", "not '# size");
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(pack_name_ok("dev.qcow2", 9));
	assert_true(pack_name_ok("sbx.lock", 8));
	assert_false(pack_name_ok("", 0));
	assert_false(pack_name_ok(".x", 2));
	assert_false(pack_name_ok("-x", 2));
	assert_false(pack_name_ok("a/b", 3));
	assert_false(pack_name_ok("a b", 3));
	assert_int_equal(pack_member_mode("run-dev.sh"), 0755);
	assert_int_equal(pack_member_mode("dev.sh"), 0644);
	assert_int_equal(pack_member_mode("run-dev.xml"), 0644);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sums_good),
		cmocka_unit_test(test_sums_bad),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
