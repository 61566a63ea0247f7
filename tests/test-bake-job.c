/* bake-job: the appliance's launch ticks make no progress line (issue
 * 20: '-v' printed "[image] work: 12 B in 27.6 s (0 B/s)"); a named step's
 * bytes do. */
#include "testutil.h"

#include "bake-int.h"
#include "bake.h"
#include "progress.h"

static void
test_launch_ticks(void **state)
{
	struct bake_opts o = {.progress = true};
	struct bake b = {.o = &o};

	(void)state;
	progress_enable(true);
	bake_on_progress(&b, 12, 100);
	assert_null(b.bar);
	b.bar_vm = "dev";
	b.bar_step = "overlay";
	bake_on_progress(&b, 12, 100);
	assert_non_null(b.bar);
	bake_bar_done(&b);
	assert_null(b.bar);
	/* --no-progress / -q: none at all. */
	o.progress = false;
	bake_on_progress(&b, 12, 100);
	assert_null(b.bar);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_launch_ticks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
