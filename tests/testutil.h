/* Shared by the cmocka suites: a scratch directory per test and small file
 * helpers.  Header-only so every tests/test-*.c links on its own. */
#ifndef SBX_TESTUTIL_H
#define SBX_TESTUTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

/* A fresh directory under tests/work/ (or $TMPDIR), removed by
 * test_rmdir. */
static inline char *
test_mkdtemp(void)
{
	char *t = xstrdup("/tmp/sbx-test-XXXXXX");

	assert_non_null(mkdtemp(t));
	return t;
}

static inline void
test_rmdir(char *dir)
{
	if (dir != NULL)
		assert_int_equal(rm_rf(dir), 0);
	free(dir);
}

/* noinline: inlined into callers that then write through strstr() results,
 * GCC 12 -O2 reports a false -Wdangling-pointer. */
static __attribute__((noinline, unused)) char *
test_read(const char *path)
{
	char *data = NULL;
	size_t len;

	assert_int_equal(read_file(path, &data, &len), 0);
	return data;
}

static inline void
test_write(const char *path, const char *text)
{
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* test_write, then frees path (for test_write_free(xasprintf(...), ...)). */
static inline void
test_write_free(char *path, const char *text)
{
	test_write(path, text);
	free(path);
}

/* Runs a shell command; returns its exit status (or -1). */
static inline int
test_sh(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	int st;

	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	st = system(sb.buf);
	sb_release(&sb);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Whether the program tool is on PATH. */
static inline bool
test_have(const char *tool)
{
	return test_sh("command -v '%s' >/dev/null 2>&1", tool) == 0;
}

/* Declines the running test because this machine can never run it: says
 * why and skips. */
#define test_cannot(why)                                 \
	do {                                             \
		fprintf(stderr, "skipped: %s\n", (why)); \
		skip();                                  \
	} while (0)

/* Declines the running test because the program tool is missing: says why
 * and skips, or fails under SBX_TEST_STRICT=1 (CI, after make test-deps),
 * where a skip would hide a broken install step. */
#define test_missing(tool)                                                     \
	do {                                                                   \
		const char *strict_ = getenv("SBX_TEST_STRICT");               \
                                                                               \
		if (strict_ != NULL && strcmp(strict_, "1") == 0)              \
			fail_msg(                                              \
				"no '%s' (make test-deps); SBX_TEST_STRICT=1 " \
				"makes that a failure",                        \
				(tool));                                       \
		fprintf(stderr, "skipped: no '%s' (make test-deps)\n",         \
			(tool));                                               \
		skip();                                                        \
	} while (0)

/* test_missing(tool) unless tool is there; call it before allocating. */
#define test_need(tool)                     \
	do {                                \
		if (!test_have(tool))       \
			test_missing(tool); \
	} while (0)

/* The source tree (make runs tests from the top). */
#define TEST_FIXTURES "tests/fixtures"

#endif
