/* image.c without an appliance (tests/image/ runs one): a handle is made
 * and freed, drives are only recorded until the launch, and operations
 * before a launch fail with words instead of reaching a guest. */
#include "testutil.h"

#include "image.h"

static struct image *
new_image(void)
{
	struct image_opts o = {.accel = IMAGE_ACCEL_TCG, .readonly = true};
	struct image *im = NULL;

	assert_int_equal(image_new(&o, &im), 0);
	assert_non_null(im);
	return im;
}

static void
test_handle(void **state)
{
	struct image *im = new_image();
	unsigned before = image_launch_attempts();

	(void)state;
	assert_false(image_is_tcg(im)); /* known only after a launch */
	image_cancel(im);		/* nothing running: harmless */
	image_free(im);
	image_free(NULL);
	/* Nothing here launched an appliance. */
	assert_int_equal(image_launch_attempts(), before);
}

static void
test_before_launch(void **state)
{
	struct image *im = new_image();

	(void)state;
	/* Recorded, not opened: a missing file fails at the launch. */
	assert_int_equal(image_add_drive(im, "/nonexistent/disk.qcow2"), 0);
	/* Not inspected: no operating system to mount. */
	assert_int_equal(image_mount(im, 0), -ENOENT);
	assert_non_null(strstr(image_error(im), "/nonexistent/disk.qcow2"));
	image_free(im);
}

/* A drive that is not there fails while the handle is made, before
 * libguestfs starts an appliance. */
static void
test_launch_missing_drive(void **state)
{
	struct image *im = new_image();
	unsigned launched = image_launch_count();
	bool fell_back = false;

	(void)state;
	assert_int_equal(image_add_drive(im, "/nonexistent/disk.qcow2"), 0);
	assert_true(image_launch(im, &fell_back) < 0);
	assert_non_null(strstr(image_error(im), "/nonexistent/disk.qcow2"));
	assert_int_equal(image_launch_count(), launched);
	image_free(im);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handle),
		cmocka_unit_test(test_before_launch),
		cmocka_unit_test(test_launch_missing_drive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
