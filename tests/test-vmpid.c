/* vmpid.c: the run directory's name is cksum(1)'s, and a pid file counts
 * only when its process names that very file after -pidfile, as the run
 * scripts' QEMU does.  tests/check-clean.sh runs a real QEMU. */
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>

#include "vmpid.h"

static void
test_cksum(void **state)
{
	static const char *const s[] = {"", "a", "/tmp/x/out",
					"/a/rather/long/path/to/some/out"};
	char *dir = test_mkdtemp();

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		CLEANUP_FREE char *f = path_join(dir, "ck");
		CLEANUP_FREE char *want = NULL;
		char got[32];

		assert_int_equal(test_sh("printf %%s '%s' | cksum | cut -d' ' "
					 "-f1 >%s",
					 s[i], f),
				 0);
		want = test_read(f);
		snprintf(got, sizeof(got), "%lu\n",
			 (unsigned long)vmpid_cksum(s[i], strlen(s[i])));
		assert_string_equal(got, want);
	}
	test_rmdir(dir);
}

/* A process that looks like the scripts' QEMU: "-pidfile PATH" in its
 * command line, PATH holding its pid. */
static void
test_running(void **state)
{
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *out = path_join(dir, "out");
	CLEANUP_FREE char *xdg = path_join(dir, "xdg");
	CLEANUP_FREE char *real = NULL, *xrun = NULL;
	struct vmpid *v = NULL;
	size_t n = 9;

	(void)state;
	assert_int_equal(test_sh("mkdir -p %s/run %s && cd %s/run && "
				 "echo 999999 >stale.pid && echo $$ >other.pid"
				 " && echo junk >junk.pid",
				 out, xdg, out),
			 0);
	real = realpath(out, NULL);
	xrun = xasprintf("%s/sbx-build/%lu", xdg,
			 (unsigned long)vmpid_cksum(real, strlen(real)));
	assert_int_equal(
		test_sh("mkdir -p %s && cd %s && "
			"(sh -c 'sleep 30; :' -pidfile %s/vm1.pid "
			">/dev/null 2>&1 & "
			"echo $! >vm1.pid) && cd %s/run && "
			"(sh -c 'sleep 30; :' -pidfile %s/run/"
			"vm2.pid >/dev/null 2>&1 & echo $! >vm2.pid) && "
			"(sh -c 'sleep 30; :' -pidfile %s/run/"
			"elsewhere.pid >/dev/null 2>&1 & echo $! >vm3.pid)",
			xrun, xrun, xrun, out, out, out),
		0);
	/* Until each has exec'd: before that its command line is the
	 * forking shell's. */
	assert_int_equal(test_sh("for f in %s/vm1.pid %s/run/vm2.pid; do i=0; "
				 "until tr '\\0' ' ' </proc/$(cat $f)/cmdline "
				 "| grep -q pidfile; do i=$((i + 1)); "
				 "[ $i -lt 100 ] || exit 1; sleep 0.1; done; "
				 "done",
				 xrun, out),
			 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	assert_int_equal(vmpid_running(out, &v, &n), 0);
	/* vm1 (XDG), vm2 (out/run); not the stale, foreign, junk or
	 * mismatched ones. */
	assert_int_equal(n, 2);
	assert_true((strcmp(v[0].name, "vm2") == 0 &&
		     strcmp(v[1].name, "vm1") == 0) ||
		    (strcmp(v[0].name, "vm1") == 0 &&
		     strcmp(v[1].name, "vm2") == 0));
	vmpid_free(v, n);
	/* Without XDG_RUNTIME_DIR, only out/run. */
	unsetenv("XDG_RUNTIME_DIR");
	assert_int_equal(vmpid_running(out, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "vm2");
	vmpid_free(v, n);
	test_sh("for f in %s/vm1.pid %s/run/vm2.pid %s/run/vm3.pid; do "
		"kill \"$(cat $f)\"; done",
		xrun, out, out);
	assert_int_equal(vmpid_running(out, &v, &n), 0);
	assert_int_equal(n, 0);
	vmpid_free(v, n);
	assert_int_equal(vmpid_running("/nonexistent/out", &v, &n), -ENOENT);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cksum),
		cmocka_unit_test(test_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
