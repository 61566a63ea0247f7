/* tarindex.c: member offsets of an uncompressed tar (libarchive). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pack-int.h"
#include "tarindex.h"
#include "util.h"

#define TAR_BLOCK (64 * 1024)

int
la_tar_index(const char *path, struct tar_member **ret, size_t *ret_n,
	     char **ret_err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct tar_member *v = NULL;
	size_t n = 0, cap = 0;
	int r = 0, ar;

	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, TAR_BLOCK) != ARCHIVE_OK) {
		r = -EIO;
		goto fail;
	}
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		v = xgrow(v, &cap, n + 1, sizeof(*v));
		v[n].name = xstrdup(name != NULL ? name : "");
		v[n].offset = (uint64_t)archive_read_header_position(a);
		n++;
		if (archive_read_data_skip(a) != ARCHIVE_OK) {
			r = -EIO;
			goto fail;
		}
	}
	if (ar != ARCHIVE_EOF) {
		r = -EIO;
		goto fail;
	}
	archive_read_free(a);
	*ret = v;
	*ret_n = n;
	return 0;
fail:
	if (ret_err != NULL)
		*ret_err =
			r == -EINVAL
				? xasprintf("'%s' is not an uncompressed tar",
					    path)
				: xasprintf("cannot read '%s': %s", path,
					    archive_error_string(a)
						    ? archive_error_string(a)
						    : strerror(-r));
	archive_read_free(a);
	tar_index_free(v, n);
	return r;
}
