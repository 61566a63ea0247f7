#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspcache.h"
#include "util.h"

#define MAGIC	 "sbx-build inspection 1"
#define BTRFSVOL "btrfsvol:"

void
inspcache_key(const char *gfs_version, const char *base_id,
	      char hex[DIGEST_HEX_MAX])
{
	CLEANUP_FREE char *k = xasprintf("%s\nlibguestfs %s\nbase %s\n", MAGIC,
					 gfs_version, base_id);

	digest_buffer_hex(DIGEST_SHA256, k, strlen(k), hex);
}

/* "/dev/sda1" -> "@1", "btrfsvol:/dev/sda4/root" -> "btrfsvol:@4/root";
 * NULL when name is not on dev. */
static char *
to_rel(const char *name, const char *dev)
{
	bool vol = str_starts_with(name, BTRFSVOL);
	const char *p = vol ? name + strlen(BTRFSVOL) : name;
	size_t n = strlen(dev);

	if (strncmp(p, dev, n) != 0 ||
	    (p[n] != '\0' && p[n] != '/' && (p[n] < '0' || p[n] > '9')))
		return NULL;
	return xasprintf("%s@%s", vol ? BTRFSVOL : "", p + n);
}

/* Printable, no space (a name or a mount point), never empty. */
static bool
word_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static bool
text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return false;
	return true;
}

/* A relative name back on dev; NULL when it is not one to_rel made. */
static char *
to_abs(const char *rel, const char *dev)
{
	bool vol = str_starts_with(rel, BTRFSVOL);
	const char *p = vol ? rel + strlen(BTRFSVOL) : rel;
	size_t digits = 0;

	if (*p != '@' || !word_ok(rel))
		return NULL;
	p++;
	while (p[digits] >= '0' && p[digits] <= '9')
		digits++;
	/* A btrfs subvolume's path never climbs out of the volume. */
	if ((p[digits] != '\0' && (!vol || p[digits] != '/')) ||
	    strstr(p, "/../") != NULL || str_ends_with(p, "/.."))
		return NULL;
	return xasprintf("%s%s%s", vol ? BTRFSVOL : "", dev, p);
}

int
inspcache_format(const struct image_desc *d, const char *dev, char **ret_text)
{
	struct strbuf sb = STRBUF_INIT;
	CLEANUP_FREE char *root = to_rel(d->os.root, dev);
	const struct image_os *o = &d->os;

	if (root == NULL)
		return -EINVAL;
	sb_printf(&sb, "%s\ntype %s\ndistro %s\nproduct %s\npkg-mgr %s\n",
		  MAGIC, o->type, o->distro, o->product, o->pkg_mgr);
	sb_printf(&sb, "major %d\nroot %s\nroot-fs %s\nuuid %s\n", o->major,
		  root, o->root_fs, d->uuid);
	sb_printf(&sb, "ptable %s\npartnum %d\nlast %d\n", d->ptable,
		  d->partnum, d->last ? 1 : 0);
	for (size_t i = 0; i + 1 < d->nmps; i += 2) {
		CLEANUP_FREE char *fs = to_rel(d->mps[i + 1], dev);

		if (fs == NULL || !word_ok(d->mps[i])) {
			sb_release(&sb);
			return -EINVAL;
		}
		sb_printf(&sb, "mount %s %s\n", d->mps[i], fs);
	}
	*ret_text = sb_detach(&sb, NULL);
	return 0;
}

/* One "key value" line into d. */
static int
parse_line(char *l, const char *dev, struct image_desc *d)
{
	char *v = strchr(l, ' ');
	char **slot = NULL;

	if (v == NULL || !text_ok(v + 1))
		return -EINVAL;
	*v++ = '\0';
	if (strcmp(l, "mount") == 0) {
		char *fs = strchr(v, ' ');
		char *abs;

		if (fs == NULL)
			return -EINVAL;
		*fs++ = '\0';
		abs = to_abs(fs, dev);
		if (abs == NULL || !word_ok(v) || v[0] != '/' ||
		    strstr(v, "/..") != NULL) {
			free(abs);
			return -EINVAL;
		}
		d->mps = xrealloc(d->mps, (d->nmps + 3) * sizeof(*d->mps));
		d->mps[d->nmps++] = xstrdup(v);
		d->mps[d->nmps++] = abs;
		d->mps[d->nmps] = NULL;
		return 0;
	}
	if (strcmp(l, "major") == 0 || strcmp(l, "partnum") == 0 ||
	    strcmp(l, "last") == 0) {
		char *end;
		long n = strtol(v, &end, 10);

		if (end == v || *end != '\0' || n < 0 || n > 1000000 ||
		    (l[0] == 'l' && n > 1))
			return -EINVAL;
		if (l[0] == 'm')
			d->os.major = (int)n;
		else if (l[0] == 'p')
			d->partnum = (int)n;
		else
			d->last = n == 1;
		return 0;
	}
	if (strcmp(l, "root") == 0) {
		if (d->os.root != NULL)
			return -EINVAL;
		d->os.root = to_abs(v, dev);
		return d->os.root != NULL ? 0 : -EINVAL;
	}
	slot = strcmp(l, "type") == 0	   ? &d->os.type
	       : strcmp(l, "distro") == 0  ? &d->os.distro
	       : strcmp(l, "product") == 0 ? &d->os.product
	       : strcmp(l, "pkg-mgr") == 0 ? &d->os.pkg_mgr
	       : strcmp(l, "root-fs") == 0 ? &d->os.root_fs
	       : strcmp(l, "uuid") == 0	   ? &d->uuid
	       : strcmp(l, "ptable") == 0  ? &d->ptable
					   : NULL;
	if (slot == NULL || *slot != NULL)
		return -EINVAL;
	*slot = xstrdup(v);
	return 0;
}

int
inspcache_parse(const char *text, const char *dev, struct image_desc *ret)
{
	CLEANUP_FREE char *t = xstrdup(text);
	struct image_desc d = {0};
	char *save = NULL, *l = strtok_r(t, "\n", &save);
	int r = 0;

	if (l == NULL || strcmp(l, MAGIC) != 0)
		return -EINVAL;
	while (r == 0 && (l = strtok_r(NULL, "\n", &save)) != NULL)
		r = parse_line(l, dev, &d);
	/* Every field, and "/" mounted first. */
	if (r == 0 &&
	    (d.os.type == NULL || d.os.distro == NULL || d.os.product == NULL ||
	     d.os.pkg_mgr == NULL || d.os.root == NULL ||
	     d.os.root_fs == NULL || d.uuid == NULL || d.nmps == 0 ||
	     strcmp(d.mps[0], "/") != 0))
		r = -EINVAL;
	if (r < 0) {
		image_desc_release(&d);
		return r;
	}
	*ret = d;
	return 0;
}
