/* The quick inspection: see inspquick.h. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "distro.h"
#include "inspquick.h"
#include "util.h"

bool
inspquick_part_of(const char *part, const char *dev)
{
	size_t n = strlen(dev);

	if (strncmp(part, dev, n) != 0 || part[n] == '\0')
		return false;
	for (const char *p = part + n; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

bool
inspquick_known_type(const char *type)
{
	return *type == '\0' || strcmp(type, "vfat") == 0 ||
	       strcmp(type, "swap") == 0 || inspquick_root_type(type);
}

bool
inspquick_root_type(const char *type)
{
	return str_starts_with(type, "ext") || strcmp(type, "xfs") == 0 ||
	       strcmp(type, "btrfs") == 0;
}

/* The value of KEY=VALUE lines as a shell reads it (os-release(5)):
 * quotes removed; a backslash escapes any character outside quotes, and
 * only " \ $ ` inside double quotes, where it stays before any other. */
static char *
shell_value(const char *v, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	char q = 0;

	for (size_t i = 0; i < len; i++) {
		char c = v[i];

		if (q == 0 && (c == '"' || c == '\'')) {
			q = c;
		} else if (q != 0 && c == q) {
			q = 0;
		} else if (q == 0 && c == '\\' && i + 1 < len) {
			sb_putc(&sb, v[++i]);
		} else if (q == '"' && c == '\\' && i + 1 < len &&
			   strchr("\"\\$`", v[i + 1]) != NULL) {
			sb_putc(&sb, v[++i]);
		} else {
			sb_putc(&sb, c);
		}
	}
	return sb_detach(&sb, NULL);
}

/* The value of key in os-release text, or NULL. */
static char *
os_release_get(const char *text, const char *key)
{
	size_t klen = strlen(key);
	char *found = NULL;

	for (const char *l = text; l != NULL && *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t len = end != NULL ? (size_t)(end - l) : strlen(l);

		while (len > 0 && (*l == ' ' || *l == '\t')) {
			l++;
			len--;
		}
		if (len > klen && strncmp(l, key, klen) == 0 &&
		    l[klen] == '=') {
			free(found); /* the last one wins, as in a shell */
			found = shell_value(l + klen + 1, len - klen - 1);
		}
		l = end != NULL ? end + 1 : NULL;
	}
	return found;
}

/* The leading number of a version ("12.15" -> 12), or -1. */
static int
leading_number(const char *s)
{
	long v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	v = strtol(s, &end, 10);
	if (v > 1000000 || (*end != '\0' && *end != '.'))
		return -1;
	return (int)v;
}

int
inspquick_os(const char *os_release, const char *version_file,
	     struct image_os *ret, char **why)
{
	CLEANUP_FREE char *id = os_release_get(os_release, "ID");
	CLEANUP_FREE char *pretty = os_release_get(os_release, "PRETTY_NAME");
	CLEANUP_FREE char *ver = os_release_get(os_release, "VERSION_ID");
	const struct distro_info *di = id != NULL ? distro_find(id) : NULL;
	char *product = NULL;
	int major = leading_number(ver);

	*ret = (struct image_os){0};
	if (di == NULL)
		return ret_errf(
			why, -ENOTSUP,
			"/etc/os-release: ID '%s' is not a distribution "
			"sbx-build builds",
			id != NULL ? id : "(none)");
	if (pretty == NULL || *pretty == '\0' || major < 0)
		return ret_errf(why, -ENOTSUP,
				"/etc/os-release: no PRETTY_NAME or numeric "
				"VERSION_ID");
	/* libguestfs takes Debian's point release from its version file,
	 * os-release carrying only the major number. */
	if (di->version_file != NULL && version_file != NULL) {
		size_t len = strcspn(version_file, "\n");

		if (len > 0) {
			product = xstrndup(version_file, len);
			if (leading_number(product) >= 0)
				major = leading_number(product);
		}
	}
	ret->type = xstrdup("linux");
	ret->distro = xstrdup(di->name);
	ret->product = product != NULL ? product : xstrdup(pretty);
	ret->pkg_mgr = xstrdup(di->pkg_mgr);
	ret->major = major;
	return 0;
}

/* The value of option name ("subvol") in a comma list, or NULL; *count:
 * how many times it is there, as "name" or "name=value". */
static char *
option(const char *opts, const char *name, int *count)
{
	size_t n = strlen(name);
	char *found = NULL;

	*count = 0;
	for (const char *o = opts; *o != '\0';) {
		size_t len = strcspn(o, ",");

		if (len == n && strncmp(o, name, n) == 0) {
			++*count;
		} else if (len > n && strncmp(o, name, n) == 0 && o[n] == '=') {
			++*count;
			free(found);
			found = xstrndup(o + n + 1, len - n - 1);
		}
		o += len;
		if (*o == ',')
			o++;
	}
	return found;
}

/* The filesystem that spec (UUID=..., LABEL=..., PARTUUID=... or a
 * /dev/disk/by-* link) names among fs[0..n): its index, or -1 with *why. */
static int
resolve(const char *spec, const struct inspquick_fs *fs, size_t n, char **why)
{
	static const struct {
		const char *tag, *link;
		size_t off;
	} keys[] = {
		{"UUID=", "/dev/disk/by-uuid/",
		 offsetof(struct inspquick_fs, uuid)},
		{"LABEL=", "/dev/disk/by-label/",
		 offsetof(struct inspquick_fs, label)},
		{"PARTUUID=", "/dev/disk/by-partuuid/",
		 offsetof(struct inspquick_fs, partuuid)},
	};
	int found = -1, count = 0;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *want = NULL;

		if (str_starts_with(spec, keys[k].tag))
			want = spec + strlen(keys[k].tag);
		else if (str_starts_with(spec, keys[k].link))
			want = spec + strlen(keys[k].link);
		if (want == NULL)
			continue;
		if (*want == '"' || *want == '\0') {
			ret_errf(why, -ENOTSUP, "/etc/fstab: '%s' is not plain",
				 spec);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			const char *have =
				*(const char *const *)((const char *)&fs[i] +
						       keys[k].off);

			if (have == NULL || *have == '\0')
				continue;
			/* As blkid and findfs: exactly, case too. */
			if (strcmp(have, want) == 0) {
				found = (int)i;
				count++;
			}
		}
		if (count != 1) {
			ret_errf(why, -ENOTSUP,
				 "/etc/fstab: '%s' names %s filesystem on the "
				 "drive",
				 spec, count == 0 ? "no" : "more than one");
			return -1;
		}
		return found;
	}
	ret_errf(why, -ENOTSUP,
		 "/etc/fstab: '%s' is not UUID=, LABEL= or PARTUUID=", spec);
	return -1;
}

static bool
has_subvol(const struct inspquick_fs *f, const char *sv)
{
	for (size_t i = 0; f->subvols != NULL && f->subvols[i] != NULL; i++)
		if (strcmp(f->subvols[i], sv) == 0)
			return true;
	return false;
}

/* Is dir a mount point libguestfs takes as written: absolute, no empty,
 * "." or ".." component, no trailing slash? */
static bool
normal_dir(const char *dir)
{
	if (*dir != '/')
		return false;
	if (strcmp(dir, "/") == 0)
		return true;
	for (const char *c = dir; *c == '/';) {
		size_t len = strcspn(c + 1, "/");

		if (len == 0 || (len == 1 && c[1] == '.') ||
		    (len == 2 && c[1] == '.' && c[2] == '.'))
			return false;
		c += len + 1;
	}
	return true;
}

/* Mount points libguestfs leaves out of an inspection. */
static bool
dropped_dir(const char *dir)
{
	static const char *const under[] = {"/dev", "/proc", "/sys", "/selinux",
					    "/media"};

	for (size_t i = 0; i < sizeof(under) / sizeof(under[0]); i++) {
		size_t n = strlen(under[i]);

		if (strncmp(dir, under[i], n) == 0 &&
		    (dir[n] == '\0' || dir[n] == '/'))
			return true;
	}
	return false;
}

/* The btrfs subvolume an fstab line's options mount on f. */
static int
subvol_mount(const struct inspquick_fs *f, const char *opts, const char *dir,
	     char **ret, char **why)
{
	CLEANUP_FREE char *sv = NULL, *svid = NULL;
	const char *name;
	int nsv, nsvid;

	sv = option(opts, "subvol", &nsv);
	svid = option(opts, "subvolid", &nsvid);
	if (sv == NULL || nsv != 1 || nsvid != 0)
		return ret_errf(why, -ENOTSUP,
				"/etc/fstab: btrfs on '%s' without one subvol= "
				"(or with subvolid=)",
				dir);
	for (name = sv; *name == '/';)
		name++;
	if (!has_subvol(f, name))
		return ret_errf(why, -ENOTSUP,
				"/etc/fstab: no subvolume '%s' on '%s'", name,
				f->dev);
	*ret = xasprintf("btrfsvol:%s/%s", f->dev, name);
	return 0;
}

/* The filesystem one fstab line (nf fields: 3 to 6) mounts; *ret NULL
 * for a line to skip. */
static int
line_mount(char **field, size_t nf, const struct inspquick_fs *fs, size_t n,
	   char **ret, char **why)
{
	const char *spec = field[0], *dir = field[1], *type = field[2];
	const char *opts = nf > 3 ? field[3] : "defaults";
	int noauto, i;

	*ret = NULL;
	/* swap, and pseudo filesystems (proc, tmpfs, ...): no device. */
	if (strcmp(type, "swap") == 0 || *dir != '/' ||
	    (strchr(spec, '=') == NULL && *spec != '/'))
		return 0;
	if (strchr(spec, '\\') != NULL || strchr(dir, '\\') != NULL)
		return ret_errf(why, -ENOTSUP, "/etc/fstab: '%s' has an escape",
				spec);
	if (!normal_dir(dir) || dropped_dir(dir))
		return ret_errf(why, -ENOTSUP,
				"/etc/fstab: mount point '%s' is not plain, or "
				"one libguestfs leaves out",
				dir);
	free(option(opts, "noauto", &noauto));
	if (noauto > 0)
		return ret_errf(why, -ENOTSUP, "/etc/fstab: '%s' is noauto",
				dir);
	i = resolve(spec, fs, n, why);
	if (i < 0)
		return -ENOTSUP;
	if (strcmp(fs[i].type, "btrfs") == 0)
		return subvol_mount(&fs[i], opts, dir, ret, why);
	*ret = xstrdup(fs[i].dev);
	return 0;
}

/* Splits a line into its blank-separated fields (in place): their
 * number, or 0 when it is not 3 to 6 fields with numbers in the fifth and
 * sixth, a line libguestfs's fstab parser would refuse. */
static size_t
split(char *line, char **field)
{
	size_t nf = 0;
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (nf == 6)
			return 0;
		if (nf >= 4 && tok[strspn(tok, "0123456789")] != '\0')
			return 0;
		field[nf++] = tok;
	}
	return nf >= 3 ? nf : 0;
}

int
inspquick_mounts(const char *fstab, const char *root,
		 const struct inspquick_fs *fs, size_t n, char ***ret_mps,
		 size_t *ret_n, char **why)
{
	CLEANUP_FREE char *copy = xstrdup(fstab);
	char **mps = xcalloc(3, sizeof(*mps));
	size_t nmps = 0;
	bool has_root = false;
	char *save = NULL;
	int r = 0;

	for (char *l = strtok_r(copy, "\n", &save); r == 0 && l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char *field[6];
		size_t nf;
		char *m = NULL;

		l += strspn(l, " \t");
		if (*l == '#' || *l == '\0')
			continue;
		nf = split(l, field);
		if (nf == 0) {
			r = ret_errf(
				why, -ENOTSUP,
				"/etc/fstab: the line of '%s' is not 3 to 6 "
				"fields ending in numbers",
				l);
			break;
		}
		r = line_mount(field, nf, fs, n, &m, why);
		if (r < 0 || m == NULL)
			continue;
		for (size_t i = 0; i < nmps; i += 2)
			if (strcmp(mps[i], field[1]) == 0)
				r = ret_errf(
					why, -ENOTSUP,
					"/etc/fstab: '%s' is mounted twice",
					field[1]);
		if (r == 0 && strcmp(field[1], "/") == 0) {
			has_root = true;
			if (strcmp(m, root) != 0)
				r = ret_errf(why, -ENOTSUP,
					     "/etc/fstab: '/' is '%s', not the "
					     "root found ('%s')",
					     m, root);
		}
		if (r < 0) {
			free(m);
			break;
		}
		mps = xrealloc(mps, (nmps + 3) * sizeof(*mps));
		mps[nmps++] = xstrdup(field[1]);
		mps[nmps++] = m;
		mps[nmps] = NULL;
	}
	if (r == 0 && !has_root)
		r = ret_errf(why, -ENOTSUP, "/etc/fstab: no '/'");
	if (r < 0) {
		for (size_t i = 0; i < nmps; i++)
			free(mps[i]);
		free(mps);
		return r;
	}
	*ret_mps = mps;
	*ret_n = nmps;
	return 0;
}

int
inspquick_partition(const struct inspquick_fs *fs, size_t n, const char *dev,
		    struct image_desc *d, char **why)
{
	const struct inspquick_fs *root = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(fs[i].dev, dev) == 0)
			root = &fs[i];
	free(d->ptable);
	d->ptable = NULL;
	d->partnum = 0;
	d->last = false;
	if (root == NULL)
		return ret_errf(why, -ENOTSUP, "'%s' is not on the drive", dev);
	if (root->scheme == NULL) {
		if (n != 1)
			return ret_errf(why, -ENOTSUP,
					"blkid gave no partition of '%s'", dev);
		d->ptable = xstrdup("none"); /* the whole disk */
		return 0;
	}
	if (strcmp(root->scheme, "gpt") != 0 &&
	    (strcmp(root->scheme, "dos") != 0 || root->number > 4))
		return ret_errf(why, -ENOTSUP,
				"'%s': partition %d of a '%s' "
				"table",
				dev, root->number, root->scheme);
	d->last = true;
	for (size_t i = 0; i < n; i++) {
		if (fs[i].scheme == NULL || fs[i].size == 0 ||
		    fs[i].number <= 0 || fs[i].start > UINT64_MAX - fs[i].size)
			return ret_errf(why, -ENOTSUP,
					"blkid gave no partition of '%s'",
					fs[i].dev);
		if (fs[i].start + fs[i].size > root->start + root->size)
			d->last = false;
	}
	d->ptable = xstrdup(strcmp(root->scheme, "dos") == 0 ? "msdos" : "gpt");
	d->partnum = root->number;
	return 0;
}
