/* Running VMs from the run scripts' pid files; see vmpid.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "vmpid.h"

static uint32_t
crc_byte(uint32_t crc, unsigned char b)
{
	crc ^= (uint32_t)b << 24;
	for (int i = 0; i < 8; i++)
		crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	return crc;
}

uint32_t
vmpid_cksum(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint32_t crc = 0;

	for (size_t i = 0; i < len; i++)
		crc = crc_byte(crc, s[i]);
	for (size_t n = len; n > 0; n >>= 8)
		crc = crc_byte(crc, n & 0xff);
	return ~crc;
}

/* Does PID's command line hold "-pidfile PATH" with PATH that file
 * (same inode as PF)?  Without /proc to ask, a live pid counts. */
static bool
is_ours(pid_t pid, const struct stat *pf)
{
	CLEANUP_FREE char *path = xasprintf("/proc/%ld/cmdline", (long)pid);
	CLEANUP_FREE char *data = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t k;

	if (fd < 0)
		return errno != ENOENT;
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		sb_add(&sb, buf, (size_t)k);
	close(fd);
	sb_putc(&sb, '\0');
	data = sb_detach(&sb, &len);
	for (size_t i = 0; i < len;) {
		const char *a = data + i;
		size_t al = strlen(a);
		struct stat st;

		i += al + 1;
		if (strcmp(a, "-pidfile") == 0 && i < len &&
		    stat(data + i, &st) == 0 && st.st_dev == pf->st_dev &&
		    st.st_ino == pf->st_ino)
			return true;
	}
	return false;
}

static void
scan(const char *dir, struct vmpid **v, size_t *n, size_t *cap)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (dfd < 0 || (d = fd_opendir(dfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		CLEANUP_FREE char *text = NULL;
		size_t nl = strlen(de->d_name), len;
		struct stat st;
		char *end;
		long pid;
		int fd;

		if (nl <= 4 || !str_ends_with(de->d_name, ".pid"))
			continue;
		fd = openat(dirfd(d), de->d_name,
			    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 ||
		    read_fd_max(fd, 64, &text, &len) < 0) {
			close(fd);
			continue;
		}
		close(fd);
		errno = 0;
		pid = strtol(text, &end, 10);
		if (errno != 0 || end == text || pid <= 1 ||
		    (*end != '\0' && *end != '\n'))
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
			continue;
		if (!is_ours((pid_t)pid, &st))
			continue;
		*v = xgrow(*v, cap, *n + 1, sizeof(**v));
		(*v)[*n].name = xstrndup(de->d_name, nl - 4);
		(*v)[(*n)++].pid = (pid_t)pid;
	}
	closedir(d);
}

int
vmpid_running(const char *out, struct vmpid **ret_v, size_t *ret_n)
{
	CLEANUP_FREE char *here = realpath(out, NULL);
	CLEANUP_FREE char *local = NULL;
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct vmpid *v = NULL;
	size_t n = 0, cap = 0;

	if (here == NULL)
		return -errno;
	local = path_join(here, "run");
	scan(local, &v, &n, &cap);
	if (xdg != NULL && *xdg != '\0') {
		CLEANUP_FREE char *dir = xasprintf(
			"%s/sbx-build/%lu", xdg,
			(unsigned long)vmpid_cksum(here, strlen(here)));

		scan(dir, &v, &n, &cap);
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

void
vmpid_free(struct vmpid *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}
