#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fsname.h"
#include "util.h"

#define BTRFSVOL "btrfsvol:"

char *
fsname_device(const char *fs)
{
	const char *p, *slash;

	if (!str_starts_with(fs, BTRFSVOL))
		return xstrdup(fs);
	p = fs + strlen(BTRFSVOL);
	slash = str_starts_with(p, "/dev/") ? strchr(p + strlen("/dev/"), '/')
					    : NULL;
	return slash != NULL ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);
}

size_t
fsname_btrfs_pairs(char *const *fss, char ***ret_pairs)
{
	const char *btrfs_dev = NULL;
	char **pairs = NULL;
	size_t n = 0;

	for (size_t i = 0; fss != NULL && fss[i] != NULL && fss[i + 1] != NULL;
	     i += 2) {
		CLEANUP_FREE char *kdev = NULL;
		bool known = false;

		if (!str_starts_with(fss[i], BTRFSVOL)) {
			btrfs_dev = strcmp(fss[i + 1], "btrfs") == 0 ? fss[i]
								     : NULL;
			continue;
		}
		if (btrfs_dev == NULL)
			continue;
		kdev = fsname_device(fss[i]);
		if (strcmp(kdev, btrfs_dev) == 0)
			continue;
		for (size_t k = 0; k < n; k += 2)
			known |= strcmp(pairs[k], kdev) == 0;
		if (known)
			continue;
		pairs = xrealloc(pairs, (n + 2) * sizeof(*pairs));
		pairs[n++] = xstrdup(kdev);
		pairs[n++] = xstrdup(btrfs_dev);
	}
	*ret_pairs = pairs;
	return n;
}

char *
fsname_fix(char *const *pairs, size_t npairs, const char *fs)
{
	CLEANUP_FREE char *dev = NULL;

	if (!str_starts_with(fs, BTRFSVOL))
		return xstrdup(fs);
	dev = fsname_device(fs);
	for (size_t k = 0; k + 1 < npairs; k += 2)
		if (strcmp(pairs[k], dev) == 0)
			return xasprintf(BTRFSVOL "%s%s", pairs[k + 1],
					 fs + strlen(BTRFSVOL) + strlen(dev));
	return xstrdup(fs);
}
