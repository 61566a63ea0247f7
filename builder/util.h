/* Small helpers shared by every module.  Allocation failure aborts. */
#ifndef SBX_UTIL_H
#define SBX_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow *p (holding *cap elements of size) to hold at least want. */
void *xgrow(void *p, size_t *cap, size_t want, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

static inline void
freep(void *p)
{
	extern void free(void *);
	free(*(void **)p);
}
/* A pointer freed when it leaves scope (libguestfs-common cleanups.h). */
#define CLEANUP_FREE __attribute__((cleanup(freep)))

/* A growable byte string, always NUL-terminated. */
struct strbuf {
	char *buf;
	size_t len, cap;
};
#define STRBUF_INIT        \
	{                  \
		NULL, 0, 0 \
	}
void sb_add(struct strbuf *sb, const char *data, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putc(struct strbuf *sb, char c);
void sb_printf(struct strbuf *sb, const char *fmt, ...) PRINTF_LIKE(2, 3);
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
/* Hands the buffer to the caller ("" when empty) and resets sb. */
char *sb_detach(struct strbuf *sb, size_t *ret_len);
/* The error convention of diag.h: *ret_err (when ret_err is not NULL)
 * becomes the formatted message, replacing one already there; returns r. */
int ret_errf(char **ret_err, int r, const char *fmt, ...) PRINTF_LIKE(3, 4);
void sb_release(struct strbuf *sb);

bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
char *path_join(const char *a, const char *b);

/* All return 0 or a negative errno and set errno-free outputs on success. */
int read_file(const char *path, char **ret_data, size_t *ret_len);
/* Writes PATH.tmp-XXXXXX, fsyncs, renames over PATH.  Nothing is left
 * behind on failure. */
/* fdopendir(fd) that owns fd: on failure fd is closed too and errno kept. */
DIR *fd_opendir(int fd);
/* Reads d to its end or its first entry but "." and "..": 0 when it has
 * none, -ENOTEMPTY when it has one.  d stays open. */
int dir_no_entries(DIR *d);
/* Writes all of len bytes at p to fd, retrying short writes and EINTR.
 * Returns 0 or a negative errno. */
int write_all(int fd, const void *p, size_t len);
int write_file_atomic(const char *path, const void *data, size_t len,
		      mode_t mode);
int mkdir_p(const char *path, mode_t mode);
/* Removes a tree (no symlink is followed).  Missing is not an error. */
int rm_rf(const char *path);

/* Edit distance, for "did you mean" hints. */
size_t levenshtein(const char *a, const char *b);

/* True when path is relative and has no ".." component. */
bool path_is_beneath(const char *path);
/* Opens the relative path beneath dirfd with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS): an absolute path, "..", or a symlink leading
 * out of dirfd fail with -EXDEV.  Before Linux 5.6 (ENOSYS) it walks the
 * path one component at a time and follows no symlink at all (-ELOOP).
 * Returns the fd (O_CLOEXEC) or a negative errno. */
int open_beneath(int dirfd, const char *path, int flags, mode_t mode);
/* Reads all of fd, which must be a regular file (-EINVAL) of at most max
 * bytes (-EFBIG). */
int read_fd_max(int fd, size_t max, char **ret_data, size_t *ret_len);

#endif
