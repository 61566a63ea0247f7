/* Loading a module (module.h): dlopen, once per file. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module.h"
#include "util.h"

#ifndef SBX_LIBEXECDIR
#define SBX_LIBEXECDIR "/usr/local/libexec/sbx-build"
#endif

char *
module_exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	return xstrdup(slash == buf ? "/" : buf);
}

static int
check_head(const char *file, const struct module_head *m, size_t abi,
	   char **ret_err)
{
	if (strcmp(m->version, SBX_VERSION) == 0 && m->abi == abi)
		return 0;
	*ret_err = xasprintf("module '%s' is from another build of sbx-build "
			     "(%s, this is %s): install both from one build",
			     file, m->version, SBX_VERSION);
	return -ELIBBAD;
}

int
module_load(const char *file, const char *sym, const void *linked, size_t abi,
	    const void **ret, char **ret_err)
{
	CLEANUP_FREE char *dir = NULL;
	const char *dirs[2];
	void *h = NULL, *p;
	int r;

	if (linked != NULL) {
		*ret = linked;
		return 0;
	}
	dir = module_exe_dir();
	dirs[0] = dir;
	dirs[1] = SBX_LIBEXECDIR;

	for (size_t i = 0; i < ARRAY_SIZE(dirs) && h == NULL; i++) {
		CLEANUP_FREE char *path = NULL;

		if (dirs[i] == NULL)
			continue;
		path = path_join(dirs[i], file);
		if (access(path, F_OK) < 0)
			continue;
		/* Loaded once: a second dlopen returns the same handle. */
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) {
			*ret_err = xasprintf("cannot load '%s': %s", path,
					     dlerror());
			return -ELIBBAD;
		}
	}
	if (h == NULL) {
		*ret_err = xasprintf("cannot find the module '%s' next to the "
				     "program (%s) or in '%s': build it "
				     "with 'make', install it with 'make "
				     "install'",
				     file, dir != NULL ? dir : "?",
				     SBX_LIBEXECDIR);
		return -ENOENT;
	}
	p = dlsym(h, sym);
	if (p == NULL) {
		*ret_err = xasprintf("module '%s' has no '%s'", file, sym);
		return -ELIBBAD;
	}
	r = check_head(file, p, abi, ret_err);
	if (r == 0)
		*ret = p;
	return r;
}
