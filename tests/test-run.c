/* builder/run.c: the one way to run a program.  Real programs (sh, cat,
 * sleep), real pipes. */
#include "testutil.h"

#include <time.h>

#include "run.h"

static void
test_capture(void **state)
{
	const char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3",
			      NULL};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct run_opts o = {.out = &out, .err = &err};

	(void)state;
	assert_int_equal(run_program(argv, &o), 3);
	assert_string_equal(out.buf, "out\n");
	assert_string_equal(err.buf, "err\n");
	sb_release(&out);
	sb_release(&err);

	/* err_to_out: both streams in one capture, in order. */
	o = (struct run_opts){.out = &out, .err_to_out = true};
	{
		const char *a2[] = {"sh", "-c", "echo a; echo b >&2", NULL};

		assert_int_equal(run_program(a2, &o), 0);
	}
	assert_string_equal(out.buf, "a\nb\n");
	sb_release(&out);
}

static void
stream(void *opaque, const char *buf, size_t n)
{
	sb_add(opaque, buf, n);
}

static void
test_stdin_stream_fd3(void **state)
{
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *in = path_join(dir, "in");
	const char *cat[] = {"cat", NULL};
	const char *st[] = {"sh", "-c", "echo '[GNUPG:] VALIDSIG x' >&3", NULL};
	struct strbuf got = STRBUF_INIT, fd3 = STRBUF_INIT;
	struct run_opts o = {
		.stdin_path = in, .on_out = stream, .opaque = &got};

	(void)state;
	assert_int_equal(write_file_atomic(in, "hello\n", 6, 0600), 0);
	assert_int_equal(run_program(cat, &o), 0);
	assert_string_equal(got.buf, "hello\n");
	sb_release(&got);
	/* No stdin_path: /dev/null, cat ends at once. */
	o = (struct run_opts){.out = &got};
	assert_int_equal(run_program(cat, &o), 0);
	assert_int_equal(got.len, 0);
	o = (struct run_opts){.fd3 = &fd3};
	assert_int_equal(run_program(st, &o), 0);
	assert_string_equal(fd3.buf, "[GNUPG:] VALIDSIG x\n");
	sb_release(&fd3);
	sb_release(&got);
	test_rmdir(dir);
}

static void
test_failures(void **state)
{
	const char *none[] = {"sbx-no-such-program", "x", NULL};
	const char *slow[] = {"sleep", "10", NULL};
	const char *quiet[] = {"sh", "-c", "exit 2", NULL};
	const char *loud[] = {"sh", "-c",
			      "echo one >&2; echo 'two' >&2; exit 1", NULL};
	struct strbuf err = STRBUF_INIT;
	struct run_opts o = {.timeout_ms = 200, .err = &err};
	struct timespec t0, t1;
	char *m;
	int r;

	(void)state;
	r = run_program(none, NULL);
	assert_int_equal(r, -ENOENT);
	m = run_failure(none, r, NULL);
	assert_string_equal(m, "cannot run 'sbx-no-such-program': No such "
			       "file or directory");
	free(m);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = run_program(slow, &o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	m = run_failure(slow, r, NULL);
	assert_string_equal(m, "'sleep' timed out");
	free(m);
	/* No timeout from here: a busy machine must not fail these. */
	o.timeout_ms = 0;
	r = run_program(quiet, &o);
	assert_int_equal(r, 2);
	m = run_failure(quiet, r, &err);
	assert_string_equal(m, "'sh' failed with exit status 2");
	free(m);
	r = run_program(loud, &o);
	assert_int_equal(r, 1);
	m = run_failure(loud, r, &err);
	assert_string_equal(m, "'sh' failed: two");
	free(m);
	assert_null(run_failure(quiet, 0, &err));
	sb_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_stdin_stream_fd3),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
