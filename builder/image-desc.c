/* What inspection found, as plain data: copying and releasing struct
 * image_os and struct image_desc (image.h).  No libguestfs here: the
 * host side of the bake and the inspection cache use these without
 * loading the libguestfs module (module.h). */
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "util.h"

void
image_os_release(struct image_os *os)
{
	free(os->type);
	free(os->distro);
	free(os->product);
	free(os->pkg_mgr);
	free(os->root);
	free(os->root_fs);
	memset(os, 0, sizeof(*os));
}

static char *
dup_or_empty(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

void
image_desc_copy(const struct image_desc *from, struct image_desc *to)
{
	const struct image_os *o = &from->os;

	memset(to, 0, sizeof(*to));
	to->os.type = dup_or_empty(o->type);
	to->os.distro = dup_or_empty(o->distro);
	to->os.product = dup_or_empty(o->product);
	to->os.pkg_mgr = dup_or_empty(o->pkg_mgr);
	to->os.root = dup_or_empty(o->root);
	to->os.root_fs = dup_or_empty(o->root_fs);
	to->os.major = o->major;
	to->uuid = dup_or_empty(from->uuid);
	to->ptable = xstrdup(from->ptable != NULL ? from->ptable : "none");
	to->partnum = from->partnum;
	to->last = from->last;
	to->mps = xcalloc(from->nmps + 1, sizeof(*to->mps));
	for (size_t i = 0; i < from->nmps; i++)
		to->mps[i] = xstrdup(from->mps[i]);
	to->nmps = from->nmps;
}

void
image_desc_release(struct image_desc *d)
{
	image_os_release(&d->os);
	free(d->uuid);
	free(d->ptable);
	for (size_t i = 0; i < d->nmps; i++)
		free(d->mps[i]);
	free(d->mps);
	memset(d, 0, sizeof(*d));
}

static int
cmp_mp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	size_t lx = strlen(x[0]), ly = strlen(y[0]);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x[0], y[0]);
}

void
image_desc_sort_mounts(char **h, size_t n)
{
	qsort(h, n / 2, 2 * sizeof(*h), cmp_mp);
}
