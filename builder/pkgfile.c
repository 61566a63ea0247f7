#include <errno.h>
#include <string.h>

#include "pkgfile.h"
#include "util.h"

int
pkgfile_parse(const char *file, char **ret_name, char **ret_version,
	      char **ret_arch)
{
	const char *base = strrchr(file, '/');
	CLEANUP_FREE char *s = NULL;
	char *name, *ver, *arch;

	base = base != NULL ? base + 1 : file;
	s = xstrdup(base);
	if (str_ends_with(s, ".deb")) {
		s[strlen(s) - 4] = '\0';
		name = s;
		ver = strchr(name, '_');
		arch = ver != NULL ? strchr(ver + 1, '_') : NULL;
		if (arch == NULL || strchr(arch + 1, '_') != NULL)
			return -EINVAL;
		*ver++ = '\0';
		*arch++ = '\0';
	} else if (str_ends_with(s, ".rpm")) {
		char *rel;

		s[strlen(s) - 4] = '\0';
		name = s;
		arch = strrchr(name, '.');
		if (arch == NULL)
			return -EINVAL;
		*arch++ = '\0';
		rel = strrchr(name, '-');
		if (rel == NULL)
			return -EINVAL;
		*rel = '\0';
		ver = strrchr(name, '-');
		*rel = '-';
		if (ver == NULL)
			return -EINVAL;
		*ver++ = '\0';
	} else {
		return -EINVAL;
	}
	if (*name == '\0' || *ver == '\0' || *arch == '\0')
		return -EINVAL;
	*ret_name = xstrdup(name);
	*ret_version = xstrdup(ver);
	*ret_arch = xstrdup(arch);
	/* Debian writes an epoch's ':' as "%3a" in file names. */
	for (char *p; (p = strstr(*ret_version, "%3a")) != NULL;)
		memmove(p + 1, p + 3, strlen(p + 3) + 1), *p = ':';
	return 0;
}
