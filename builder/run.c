#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "util.h"

#define ERR_MAX 65536

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child, between fork and exec: only async-signal-safe calls.
 * Reports an exec failure's errno through report (close-on-exec). */
static void
child(const char *const *argv, const struct run_opts *o, int in, int out,
      int err, int fd3, int report)
{
	int e;

	/* stdio first: in may be fd 3 itself. */
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(o->err_to_out ? out : err, 2) < 0)
		goto fail;
	if (fd3 == 3)
		fcntl(3, F_SETFD, 0);
	else if (fd3 >= 0 && dup2(fd3, 3) < 0)
		goto fail;
	execvp(argv[0], (char *const *)argv);
fail:
	e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* Pipes: [0] stdout, [1] stderr, [2] fd 3, [3] exec report. */
static void
close_pipes(int p[4][2])
{
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 2; k++)
			if (p[i][k] >= 0) {
				close(p[i][k]);
				p[i][k] = -1;
			}
}

static void
take(const struct run_opts *o, int i, const char *buf, size_t n)
{
	if (i == 0 && o->on_out != NULL)
		o->on_out(o->opaque, buf, n);
	if (i == 0 && o->out != NULL)
		sb_add(o->out, buf, n);
	if (i == 1 && o->err != NULL && o->err->len < ERR_MAX)
		sb_add(o->err, buf, n);
	if (i == 2 && o->fd3 != NULL)
		sb_add(o->fd3, buf, n);
}

/* Reads the child's pipes until they close or the deadline passes. */
static bool
drain(const struct run_opts *o, int p[4][2], long long deadline)
{
	struct pollfd pfd[3];
	char buf[4096];
	int open_fds = 0;

	for (int i = 0; i < 3; i++) {
		pfd[i] = (struct pollfd){.fd = p[i][0], .events = POLLIN};
		open_fds += p[i][0] >= 0;
	}
	while (open_fds > 0) {
		int wait = -1;

		if (deadline > 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				return false;
			wait = (int)(left > 1000 ? 1000 : left);
		}
		if (poll(pfd, 3, wait) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 3; i++) {
			ssize_t n;

			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				p[i][0] = pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			take(o, i, buf, (size_t)n);
		}
	}
	return true;
}

int
run_program(const char *const *argv, const struct run_opts *o)
{
	static const struct run_opts none = {0};
	int p[4][2] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}};
	long long deadline;
	int in, st, e = 0, r;
	bool in_time;
	ssize_t n;
	pid_t pid;

	if (o == NULL)
		o = &none;
	deadline = o->timeout_ms > 0 ? now_ms() + o->timeout_ms : 0;
	in = open(o->stdin_path ? o->stdin_path : "/dev/null",
		  O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	for (int i = 0; i < 4; i++)
		if ((i != 2 || o->fd3 != NULL) && pipe2(p[i], O_CLOEXEC) < 0) {
			r = -errno;
			close_pipes(p);
			close(in);
			return r;
		}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close_pipes(p);
		close(in);
		return r;
	}
	if (pid == 0)
		child(argv, o, in, p[0][1], p[1][1], p[2][1], p[3][1]);
	close(in);
	for (int i = 0; i < 4; i++) {
		close(p[i][1]);
		p[i][1] = -1;
	}
	in_time = drain(o, p, deadline);
	if (!in_time)
		kill(pid, SIGKILL);
	while ((n = read(p[3][0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close_pipes(p);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!in_time)
		return -ETIMEDOUT;
	if (n == (ssize_t)sizeof(e))
		return e > 0 ? -e : -ENOENT;
	if (!WIFEXITED(st))
		return -EINTR;
	return WEXITSTATUS(st);
}

char *
run_failure(const char *const *argv, int r, const struct strbuf *err)
{
	const char *s, *e;

	if (r == 0)
		return NULL;
	if (r == -ETIMEDOUT)
		return xasprintf("'%s' timed out", argv[0]);
	if (r < 0)
		return xasprintf("cannot run '%s': %s", argv[0], strerror(-r));
	/* The last non-empty line of its stderr says most. */
	s = err != NULL && err->buf != NULL ? err->buf : "";
	e = s + strlen(s);
	while (e > s && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\r'))
		e--;
	if (e == s)
		return xasprintf("'%s' failed with exit status %d", argv[0], r);
	for (s = e; s > (err->buf) && s[-1] != '\n'; s--)
		;
	return xasprintf("'%s' failed: %.*s", argv[0], (int)(e - s), s);
}
