/* The one way sbx-build runs another program on the host (git's
 * run-command.c): an argv (no shell), its input from a file or
 * /dev/null, its output captured, streamed to a callback or discarded, an
 * optional status pipe on fd 3, an optional timeout, and one format for
 * its failure.  qemu-img, gpgv, ssh-keygen and xorriso go through here;
 * nothing else forks. */
#ifndef SBX_RUN_H
#define SBX_RUN_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

struct run_opts {
	const char *stdin_path; /* NULL: /dev/null */
	struct strbuf *out;	/* stdout appended here (NULL: dropped) */
	/* Called with each chunk of stdout as it arrives (progress). */
	void (*on_out)(void *opaque, const char *buf, size_t n);
	void *opaque;
	struct strbuf
		*err;	 /* stderr appended, at most 64 KiB (NULL: dropped) */
	bool err_to_out; /* stderr goes where stdout goes */
	struct strbuf *fd3; /* non-NULL: the child's fd 3 is a pipe read here */
	unsigned timeout_ms; /* 0: none; then the child is killed */
};

/* Runs argv[0] (searched in PATH) with argv.  Returns its exit status
 * (0..255), or a negative errno: -ENOENT (or another exec error) when it
 * could not be started, -ETIMEDOUT after the timeout, -EINTR when a signal
 * killed it. */
int run_program(const char *const *argv, const struct run_opts *o);

/* The one message for a run that failed: "cannot run 'PROG': ERROR",
 * "'PROG' timed out", or "'PROG' failed: LAST LINE OF err" (exit status N
 * when err is empty).  r is run_program's result; NULL when it was 0. */
char *run_failure(const char *const *argv, int r, const struct strbuf *err);

#endif
