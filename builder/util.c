#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static void
oom(void)
{
	fputs("sbx-build: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xgrow(void *p, size_t *cap, size_t want, size_t size)
{
	size_t n = *cap ? *cap : 8;

	if (want <= *cap)
		return p;
	while (n < want)
		n *= 2;
	if (n > SIZE_MAX / size)
		oom();
	p = xrealloc(p, n * size);
	*cap = n;
	return p;
}

char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		oom();
	return d;
}

char *
xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (d == NULL)
		oom();
	return d;
}

char *
xasprintf(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	return sb_detach(&sb, NULL);
}

void
sb_add(struct strbuf *sb, const char *data, size_t n)
{
	sb->buf = xgrow(sb->buf, &sb->cap, sb->len + n + 1, 1);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void
sb_puts(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void
sb_putc(struct strbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void
sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		oom();
	sb->buf = xgrow(sb->buf, &sb->cap, sb->len + (size_t)n + 1, 1);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void
sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

char *
sb_detach(struct strbuf *sb, size_t *ret_len)
{
	char *s = sb->buf ? sb->buf : xstrdup("");

	if (ret_len != NULL)
		*ret_len = sb->len;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void
sb_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

bool
str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
str_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

char *
path_join(const char *a, const char *b)
{
	if (b[0] == '/' || a[0] == '\0' || strcmp(a, ".") == 0)
		return xstrdup(b);
	if (str_ends_with(a, "/"))
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

int
read_file(const char *path, char **ret_data, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		sb_add(&sb, buf, (size_t)n);
	}
	close(fd);
	if (r < 0) {
		sb_release(&sb);
		return r;
	}
	*ret_data = sb_detach(&sb, ret_len);
	return 0;
}

DIR *
fd_opendir(int fd)
{
	DIR *d = fdopendir(fd);
	int e = errno;

	if (d == NULL) {
		close(fd);
		errno = e;
	}
	return d;
}

int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	CLEANUP_FREE char *tmp = xasprintf("%s.tmp-XXXXXX", path);
	int fd, r;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int
mkdir_p(const char *path, mode_t mode)
{
	CLEANUP_FREE char *p = xstrdup(path);
	char *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 ? -errno : 0;
	return unlink(path) < 0 ? -errno : 0;
}

int
rm_rf(const char *path)
{
	struct stat st;
	int r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? -errno : 0;
	r = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return r < 0 ? -errno : r;
}

size_t
levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *row = xcalloc(lb + 1, sizeof(*row));
	size_t d;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

bool
path_is_beneath(const char *path)
{
	const char *p = path;

	if (*path == '\0' || *path == '/')
		return false;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		p += strspn(p, "/");
	}
	return true;
}

/* Before Linux 5.6: component by component, following no symlink. */
static int
open_beneath_walk(int dirfd, const char *path, int flags, mode_t mode)
{
	CLEANUP_FREE char *buf = xstrdup(path);
	char *save = NULL, *c, *next;
	int fd = -1, r;

	if (!path_is_beneath(path))
		return -EXDEV;
	c = strtok_r(buf, "/", &save);
	while (c != NULL) {
		int at = fd >= 0 ? fd : dirfd, nfd;

		next = strtok_r(NULL, "/", &save);
		if (next == NULL)
			nfd = openat(at, c, flags | O_NOFOLLOW | O_CLOEXEC,
				     mode);
		else
			nfd = openat(at, c,
				     O_PATH | O_DIRECTORY | O_NOFOLLOW |
					     O_CLOEXEC);
		r = -errno;
		if (fd >= 0)
			close(fd);
		if (nfd < 0)
			return r;
		fd = nfd;
		c = next;
	}
	return fd >= 0 ? fd : -EINVAL;
}

int
open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!path_is_beneath(path))
		return -EXDEV;
	fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno == ENOSYS)
		return open_beneath_walk(dirfd, path, flags, mode);
	return -errno;
}

int
read_fd_max(int fd, size_t max, char **ret_data, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			sb_release(&sb);
			return r;
		}
		if (sb.len + (size_t)n > max) {
			sb_release(&sb);
			return -EFBIG;
		}
		sb_add(&sb, buf, (size_t)n);
	}
	*ret_data = sb_detach(&sb, ret_len);
	return 0;
}

int
ret_errf(char **ret_err, int r, const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb = STRBUF_INIT;

	if (ret_err == NULL)
		return r;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	free(*ret_err);
	*ret_err = sb_detach(&sb, NULL);
	return r;
}

int
dir_no_entries(DIR *d)
{
	struct dirent *de;

	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			return -ENOTEMPTY;
	return 0;
}
