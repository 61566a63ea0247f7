/* pack.h's and tarindex.h's entry points on the host side: the
 * libarchive module (pack.c, pack-unpack.c, tarindex.c) is loaded the
 * first time one is called (module.h), so commands that read or write no
 * bundle never load libarchive and the libraries it pulls in. */
#include <errno.h>
#include <stdlib.h>

#include "module.h"
#include "pack-int.h"
#include "pack.h"
#include "tarindex.h"
#include "util.h"

/* Linked into a test binary; sbx-build itself loads it (module.h). */
extern const struct archive_module sbx_archive_module __attribute__((weak));

static int
load(const struct archive_module **ret, char **ret_err)
{
	CLEANUP_FREE char *err = NULL;
	const void *m = NULL;
	int r = module_load(ARCHIVE_MODULE, ARCHIVE_MODULE_SYMBOL,
			    &sbx_archive_module, ARCHIVE_MODULE_ABI, &m, &err);

	if (r < 0) {
		if (ret_err != NULL) {
			*ret_err = err;
			err = NULL;
		}
		return r;
	}
	*ret = m;
	return 0;
}

int
pack_bundle(const char *out_dir, const char *lock_path, const char *bundle,
	    const struct pack_options *opts, char **ret_err)
{
	const struct archive_module *m = NULL;
	int r = load(&m, ret_err);

	if (r < 0)
		return r;
	return m->pack_bundle(out_dir, lock_path, bundle, opts, ret_err);
}

int
unpack_bundle(const char *bundle, const char *target,
	      const struct unpack_options *opts, struct unpack_info *ret_info,
	      char **ret_err)
{
	const struct archive_module *m = NULL;
	int r = load(&m, ret_err);

	if (r < 0)
		return r;
	return m->unpack_bundle(bundle, target, opts, ret_info, ret_err);
}

int
tar_index(const char *path, struct tar_member **ret, size_t *ret_n,
	  char **ret_err)
{
	const struct archive_module *m = NULL;
	int r = load(&m, ret_err);

	if (r < 0)
		return r;
	return m->tar_index(path, ret, ret_n, ret_err);
}
