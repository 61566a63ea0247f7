/* outputs: what a killed build left behind is removed, and only that; a
 * run script or XML already there with the same bytes and mode is left
 * alone (a no-change build writes and syncs nothing). */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "outputs.h"
#include "recipe.h"

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

static ino_t
inode(const char *dir, const char *name, mode_t *ret_mode)
{
	CLEANUP_FREE char *p = path_join(dir, name);
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	if (ret_mode != NULL)
		*ret_mode = st.st_mode & 07777;
	return st.st_ino;
}

static void
test_unchanged_left_alone(void **state)
{
	char *dir = test_mkdtemp();
	struct recipe_set *set = NULL;
	struct diag_list *diags = NULL;
	const struct vm *vm;
	ino_t script, xml;
	mode_t mode;

	(void)state;
	assert_int_equal(recipe_set_load(".", &set, &diags), 0);
	diag_list_free(diags);
	vm = &set->vms[0];
	CLEANUP_FREE char *sname = xasprintf("run-%s.sh", vm->name);
	CLEANUP_FREE char *xname = xasprintf("%s.xml", vm->name);
	CLEANUP_FREE char *spath = path_join(dir, sname);
	assert_int_equal(outputs_write_vm(set, vm, dir), 0);
	script = inode(dir, sname, NULL);
	xml = inode(dir, xname, NULL);
	/* The same again: the same files, not new ones renamed over them. */
	assert_int_equal(outputs_write_vm(set, vm, dir), 0);
	assert_true(inode(dir, sname, NULL) == script);
	assert_true(inode(dir, xname, NULL) == xml);
	/* Other bytes, or another mode: written again. */
	assert_int_equal(test_sh("echo '# edited' >> %s", spath), 0);
	assert_int_equal(outputs_write_vm(set, vm, dir), 0);
	assert_true(inode(dir, sname, &mode) != script);
	assert_int_equal(mode, 0755);
	assert_int_equal(test_sh("! grep -q '# edited' %s", spath), 0);
	script = inode(dir, sname, NULL);
	assert_int_equal(chmod(spath, 0700), 0);
	assert_int_equal(outputs_write_vm(set, vm, dir), 0);
	assert_true(inode(dir, sname, &mode) != script);
	assert_int_equal(mode, 0755);
	recipe_set_free(set);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remove_stale),
		cmocka_unit_test(test_unchanged_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
