/* Modules: a part of sbx-build that needs a large outside library lives
 * in a shared object loaded on first use, so a command that does not need
 * it never loads the library (a no-change 'all' stays a few milliseconds;
 * libguestfs alone pulls in libvirt, GnuTLS, GLib, ICU, ...).
 *
 * Three: sbx-build-guestfs.so, the bake inside the appliance
 * (bake-session.c, the steps, image*.c; the Makefile's GFS_SRCS);
 * sbx-build-curl.so, downloads (fetch-http.c); sbx-build-archive.so,
 * bundles (pack.c, pack-unpack.c, tarindex.c).  Each calls back into the
 * program (linked with -rdynamic); the program calls each only through
 * the one structure it exports.
 *
 * A module is looked for next to the executable (the build tree), then in
 * SBX_LIBEXECDIR ('make install' puts it there). */
#ifndef SBX_MODULE_H
#define SBX_MODULE_H

#include <stddef.h>

/* What every module's exported structure starts with: the program and
 * the module must come from one build (they share structures). */
struct module_head {
	const char *version; /* SBX_VERSION */
	size_t abi;	     /* a number the two sides compute alike */
};

/* The module structure sym: linked when not NULL (a test binary links the
 * module's objects in, and the caller passes its weak reference), else
 * loaded from file (a file name, no '/'), once.  Its head must carry
 * SBX_VERSION and abi.  On failure *ret_err says what was looked for
 * where. */
int module_load(const char *file, const char *sym, const void *linked,
		size_t abi, const void **ret, char **ret_err);

/* The directory a module is looked for first: the executable's
 * (allocated; NULL when /proc/self/exe cannot be read). */
char *module_exe_dir(void);

#endif
