/* phases: the '-v' table of wall time per phase and VM (phases.h). */
#include "testutil.h"

#include "phases.h"

/* The line of t that starts with name, or NULL. */
static const char *
line_of(const char *t, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = t; l != NULL && *l; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		if (strncmp(l, name, n) == 0 && l[n] == ' ')
			return l;
	}
	return NULL;
}

static void
test_table(void **state)
{
	struct phases *p = phases_new();
	CLEANUP_FREE char *t = NULL;
	char a[16], b[16], c[16], d[16];

	(void)state;
	assert_null(phases_table(p));
	phases_add(p, "image", "launch", 18.94);
	phases_add(p, "dev", "grow", 1.25);
	phases_add(p, "proxy", "grow", 0.5);
	phases_add(p, "dev", "up to date", 7);
	phases_add(p, "dev", "manifest", 2);
	phases_add(p, "dev", "manifest", 1); /* adds up */
	phases_add(p, "proxy", "frobnicate", 3);
	phases_add(p, "image", "shutdown", 1);
	t = phases_table(p);
	assert_non_null(t);
	assert_int_equal(sscanf(t, "%15s %15s %15s %15s %15s", a, b, c, d, d),
			 5);
	assert_string_equal(b, "image");
	assert_string_equal(c, "dev");
	assert_string_equal(d, "total");
	assert_int_equal(
		sscanf(line_of(t, "launch"), "%*s %s %s %s %s", a, b, c, d), 4);
	assert_string_equal(a, "18.9");
	assert_string_equal(b, "-");
	assert_string_equal(d, "18.9");
	assert_int_equal(
		sscanf(line_of(t, "grow"), "%*s %s %s %s %s", a, b, c, d), 4);
	assert_string_equal(b, "1.2");
	assert_string_equal(c, "0.5");
	assert_string_equal(d, "1.8");
	assert_int_equal(sscanf(line_of(t, "manifest"), "%*s %*s %s", a), 1);
	assert_string_equal(a, "3.0");
	assert_int_equal(
		sscanf(line_of(t, "total"), "%*s %s %s %s %s", a, b, c, d), 4);
	assert_string_equal(a, "19.9");
	assert_string_equal(b, "4.2");
	assert_string_equal(c, "3.5");
	assert_string_equal(d, "27.7");
	/* "up to date" is no phase; rows in the bake's order, unknown last. */
	assert_null(line_of(t, "up"));
	assert_true(line_of(t, "launch") < line_of(t, "grow"));
	assert_true(line_of(t, "grow") < line_of(t, "manifest"));
	assert_true(line_of(t, "manifest") < line_of(t, "shutdown"));
	assert_true(line_of(t, "shutdown") < line_of(t, "frobnicate"));
	assert_true(line_of(t, "frobnicate") < line_of(t, "total"));
	assert_null(line_of(t, "inspect"));
	phases_free(p);
	phases_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
