/* outputs: what a killed build left behind is removed, and only that. */
#include "testutil.h"

#include <fcntl.h>

#include "outputs.h"

/* A PID that was a process and is no more. */
static pid_t
dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return pid;
}

static void
touch(const char *dir, const char *name)
{
	CLEANUP_FREE char *p = path_join(dir, name);

	test_write(p, "x");
}

static bool
exists(const char *dir, const char *name)
{
	CLEANUP_FREE char *p = path_join(dir, name);

	return access(p, F_OK) == 0;
}

static void
test_remove_stale(void **state)
{
	char *dir = test_mkdtemp();
	pid_t dead = dead_pid();
	CLEANUP_FREE char *stale = xasprintf(".dev.qcow2.tmp-%ld", (long)dead);
	CLEANUP_FREE char *mine =
		xasprintf(".dev.qcow2.tmp-%ld", (long)getpid());
	CLEANUP_FREE char *parent =
		xasprintf(".dev.qcow2.tmp-%ld", (long)getppid());
	CLEANUP_FREE char *other =
		xasprintf(".proxy.qcow2.tmp-%ld", (long)dead);
	CLEANUP_FREE char *longer =
		xasprintf(".dev2.qcow2.tmp-%ld", (long)dead);

	(void)state;
	touch(dir, stale);
	touch(dir, mine);
	touch(dir, parent);
	touch(dir, other);
	touch(dir, longer);
	touch(dir, ".dev.qcow2.tmp-abc");
	touch(dir, ".dev.qcow2.tmp-012");
	touch(dir, "dev.qcow2");
	assert_int_equal(outputs_remove_stale(dir, "dev"), 1);
	assert_false(exists(dir, stale));
	assert_true(exists(dir, mine));	  /* this process */
	assert_true(exists(dir, parent)); /* a running one */
	assert_true(exists(dir, other));  /* another VM's */
	assert_true(exists(dir, longer));
	assert_true(exists(dir, ".dev.qcow2.tmp-abc"));
	assert_true(exists(dir, ".dev.qcow2.tmp-012"));
	assert_true(exists(dir, "dev.qcow2"));
	assert_int_equal(outputs_remove_stale(dir, "dev"), 0);
	assert_int_equal(outputs_remove_stale("/nonexistent/out", "dev"), 0);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remove_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
