#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qcow2.h"
#include "util.h"

bool
qcow2_backed_by(const char *path, const char *backing)
{
	unsigned char h[20];
	uint64_t off = 0;
	uint32_t len = 0;
	size_t want = strlen(backing);
	char *name;
	bool same = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    memcmp(h, "QFI\xfb", 4) == 0) {
		for (int i = 8; i < 16; i++)
			off = off << 8 | h[i];
		for (int i = 16; i < 20; i++)
			len = len << 8 | h[i];
	}
	if (len == want && want > 0) {
		name = xmalloc(want);
		same = pread(fd, name, want, (off_t)off) == (ssize_t)want &&
		       memcmp(name, backing, want) == 0;
		free(name);
	}
	close(fd);
	return same;
}
