/* The libguestfs session behind the bake: one handle, one appliance, one
 * drive per VM.  The only file that includes guestfs.h. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <guestfs.h>

#include "fsname.h"
#include "image.h"
#include "manifest.h"
#include "util.h"

struct drive {
	char *path;
	char *dev;    /* "/dev/sda" once launched */
	char **roots; /* inspection roots on this drive */
	size_t nroots;
};

struct image {
	guestfs_h *g;
	struct image_opts o;
	struct drive *drives;
	size_t ndrives, cap;
	char *err;
	bool tcg;
	int mounted; /* drive index, or -1 */
	char **mps;  /* mount points of the mounted drive */
	size_t nmps;
	/* Pairs (kernel name, libguestfs name) of btrfs devices whose names
	 * differ: see btrfs_names. */
	char **bnames;
	size_t nbnames;
};

static unsigned launch_attempts, launch_count;

unsigned
image_launch_attempts(void)
{
	return launch_attempts;
}

unsigned
image_launch_count(void)
{
	return launch_count;
}

bool
image_is_tcg(const struct image *im)
{
	return im->tcg;
}

const char *
image_error(const struct image *im)
{
	return im->err != NULL ? im->err : "unknown error";
}

static void set_err(struct image *im, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void
set_err(struct image *im, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	free(im->err);
	im->err = sb_detach(&sb, NULL);
}

/* Records libguestfs' last error; returns the negative errno. */
static int
gfs_fail(struct image *im)
{
	const char *m = im->g != NULL ? guestfs_last_error(im->g) : NULL;
	int e = im->g != NULL ? guestfs_last_errno(im->g) : 0;

	set_err(im, "%s", m != NULL ? m : "libguestfs call failed");
	return e > 0 ? -e : -EIO;
}

static void
free_strv(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void
on_event(guestfs_h *g, void *opaque, uint64_t event, int handle, int flags,
	 const char *buf, size_t len, const uint64_t *array, size_t alen)
{
	struct image *im = opaque;

	(void)g;
	(void)handle;
	(void)flags;
	if (event == GUESTFS_EVENT_PROGRESS) {
		if (alen >= 4 && im->o.progress != NULL)
			im->o.progress(im->o.progress_opaque, array[2],
				       array[3]);
		return;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len > 0)
		log_debug("libguestfs: %.*s", (int)len, buf);
}

static int
make_handle(struct image *im, enum image_accel accel)
{
	guestfs_h *g = guestfs_create();
	uint64_t ev = GUESTFS_EVENT_PROGRESS;

	if (g == NULL) {
		set_err(im, "cannot create a libguestfs handle");
		return -ENOMEM;
	}
	im->g = g;
	guestfs_set_error_handler(g, NULL, NULL);
	if (im->o.debug) {
		ev |= GUESTFS_EVENT_LIBRARY | GUESTFS_EVENT_APPLIANCE |
		      GUESTFS_EVENT_WARNING | GUESTFS_EVENT_TRACE;
		guestfs_set_verbose(g, 1);
		guestfs_set_trace(g, 1);
	}
	if (guestfs_set_event_callback(g, on_event, ev, 0, im) == -1)
		return gfs_fail(im);
	if (accel == IMAGE_ACCEL_TCG &&
	    guestfs_set_backend_setting(g, "force_tcg", "1") == -1)
		return gfs_fail(im);
	if (accel == IMAGE_ACCEL_KVM &&
	    guestfs_set_backend_setting(g, "force_kvm", "1") == -1)
		return gfs_fail(im);
	if (im->o.network && guestfs_set_network(g, 1) == -1)
		return gfs_fail(im);
	/* Package managers need room; the default 1280 MiB is tight. */
	if (guestfs_set_memsize(g, 2048) == -1)
		return gfs_fail(im);
	if (guestfs_set_smp(g, 2) == -1)
		return gfs_fail(im);
	for (size_t i = 0; i < im->ndrives; i++)
		if (guestfs_add_drive_opts(g, im->drives[i].path,
					   GUESTFS_ADD_DRIVE_OPTS_FORMAT,
					   "qcow2",
					   GUESTFS_ADD_DRIVE_OPTS_READONLY,
					   im->o.readonly ? 1 : 0, -1) == -1)
			return gfs_fail(im);
	return 0;
}

int
image_new(const struct image_opts *o, struct image **ret)
{
	struct image *im = xcalloc(1, sizeof(*im));

	im->o = *o;
	im->mounted = -1;
	*ret = im;
	return 0;
}

int
image_add_drive(struct image *im, const char *path)
{
	im->drives = xgrow(im->drives, &im->cap, im->ndrives + 1,
			   sizeof(*im->drives));
	memset(&im->drives[im->ndrives], 0, sizeof(*im->drives));
	im->drives[im->ndrives++].path = xstrdup(path);
	return 0;
}

/* A KVM appliance that cannot run (broken nested KVM) does not fail: it
 * hangs.  While a KVM launch runs, a watchdog kills our qemu child once
 * it has lived SBX_KVM_TIMEOUT seconds (default 60; a KVM appliance
 * boots in a few), so the launch fails and TCG gets its turn. */
struct watchdog {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool done, fired;
	unsigned secs;
};

/* Our child processes named qemu-system-*. */
static void
kill_qemu_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();

	while (d != NULL && (de = readdir(d)) != NULL) {
		char path[64], buf[512], *rp;
		FILE *f;
		long ppid;
		int pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (rp = strrchr(buf, ')')) != NULL &&
		    sscanf(rp + 1, " %*c %ld", &ppid) == 1 && ppid == self &&
		    strstr(buf, "(qemu-system") != NULL)
			kill(pid, SIGKILL);
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
}

static void *
watchdog_run(void *arg)
{
	struct watchdog *w = arg;
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += w->secs;
	pthread_mutex_lock(&w->m);
	while (!w->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->c, &w->m, &ts);
	if (!w->done) {
		w->fired = true;
		kill_qemu_children();
	}
	pthread_mutex_unlock(&w->m);
	return NULL;
}

static int
launch_once(struct image *im, enum image_accel accel)
{
	struct watchdog w = {.m = PTHREAD_MUTEX_INITIALIZER,
			     .c = PTHREAD_COND_INITIALIZER};
	const char *env = getenv("SBX_KVM_TIMEOUT");
	bool watched = false;
	pthread_t t;
	int r;

	if (im->g != NULL) {
		guestfs_close(im->g);
		im->g = NULL;
	}
	r = make_handle(im, accel);
	if (r < 0)
		return r;
	launch_attempts++;
	if (accel == IMAGE_ACCEL_KVM && im->o.accel == IMAGE_ACCEL_AUTO) {
		w.secs =
			env != NULL && atoi(env) > 0 ? (unsigned)atoi(env) : 60;
		watched = pthread_create(&t, NULL, watchdog_run, &w) == 0;
	}
	r = guestfs_launch(im->g) == -1 ? gfs_fail(im) : 0;
	if (watched) {
		pthread_mutex_lock(&w.m);
		w.done = true;
		pthread_cond_signal(&w.c);
		pthread_mutex_unlock(&w.m);
		pthread_join(t, NULL);
		if (w.fired && r == 0) {
			/* Came up just as the watchdog fired: start again. */
			set_err(im, "the KVM appliance was too slow");
			r = -ETIMEDOUT;
		} else if (w.fired) {
			set_err(im,
				"the KVM appliance did not come up within "
				"%u s",
				w.secs);
			r = -ETIMEDOUT;
		}
	}
	if (r < 0)
		return r;
	launch_count++;
	return 0;
}

int
image_launch(struct image *im, bool *ret_fell_back)
{
	bool fell_back = false;
	char **devs;
	int r;

	if (im->o.accel == IMAGE_ACCEL_AUTO) {
		r = launch_once(im, IMAGE_ACCEL_KVM);
		if (r < 0 && r != -EINTR) {
			CLEANUP_FREE char *first = xstrdup(image_error(im));

			fell_back = true;
			r = launch_once(im, IMAGE_ACCEL_TCG);
			if (r < 0)
				set_err(im,
					"%s (and under KVM before that: %s)",
					image_error(im), first);
			else
				set_err(im, "%s", first);
		}
		im->tcg = fell_back;
	} else {
		r = launch_once(im, im->o.accel);
		im->tcg = im->o.accel == IMAGE_ACCEL_TCG;
	}
	if (r < 0)
		return r;
	devs = guestfs_list_devices(im->g);
	if (devs == NULL)
		return gfs_fail(im);
	for (size_t i = 0; devs[i] != NULL && i < im->ndrives; i++)
		im->drives[i].dev = xstrdup(devs[i]);
	free_strv(devs);
	*ret_fell_back = fell_back;
	return 0;
}

void
image_cancel(struct image *im)
{
	if (im != NULL && im->g != NULL)
		guestfs_user_cancel(im->g);
}

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

/* Records the btrfs device names libguestfs mixes up (fsname.h). */
static void
btrfs_names(struct image *im)
{
	char **fss;

	for (size_t i = 0; i < im->nbnames; i++)
		free(im->bnames[i]);
	free(im->bnames);
	guestfs_push_error_handler(im->g, NULL, NULL);
	fss = guestfs_list_filesystems(im->g);
	guestfs_pop_error_handler(im->g);
	im->nbnames = fsname_btrfs_pairs(fss, &im->bnames);
	for (size_t k = 0; k < im->nbnames; k += 2)
		log_debug("libguestfs: btrfs subvolumes of '%s' are named "
			  "after '%s'",
			  im->bnames[k + 1], im->bnames[k]);
	free_strv(fss);
}

static char *
fix_name(const struct image *im, const char *fs)
{
	return fsname_fix(im->bnames, im->nbnames, fs);
}

/* The drive index holding filesystem fs, or -1. */
static int
fs_drive(struct image *im, const char *fs)
{
	CLEANUP_FREE char *dev = fsname_device(fs);
	char *parent;
	int idx;

	guestfs_push_error_handler(im->g, NULL, NULL);
	parent = guestfs_part_to_dev(im->g, dev);
	idx = guestfs_device_index(im->g, parent != NULL ? parent : dev);
	guestfs_pop_error_handler(im->g);
	free(parent);
	return idx;
}

static void
drop_roots(struct image *im)
{
	for (size_t i = 0; i < im->ndrives; i++) {
		struct drive *dr = &im->drives[i];

		for (size_t k = 0; k < dr->nroots; k++)
			free(dr->roots[k]);
		free(dr->roots);
		dr->roots = NULL;
		dr->nroots = 0;
	}
}

int
image_inspect(struct image *im)
{
	/* Inspection has been seen, rarely and only on a loaded host, to
	 * miss the btrfs subvolumes of a Fedora-shaped drive (they are then
	 * listed as the bare device): a drive with no root is inspected
	 * once more before image_os reports it. */
	for (int attempt = 0; attempt < 2; attempt++) {
		char **roots = guestfs_inspect_os(im->g);
		bool missing = false;

		if (roots == NULL)
			return gfs_fail(im);
		drop_roots(im);
		btrfs_names(im);
		for (size_t i = 0; roots[i] != NULL; i++) {
			/* The fixed name is the one libguestfs reads back:
			 * inspect_get_* and mount translate what they get. */
			char *fixed = fix_name(im, roots[i]);
			int d = fs_drive(im, fixed);
			struct drive *dr;

			if (d < 0 || (size_t)d >= im->ndrives) {
				free(fixed);
				continue;
			}
			dr = &im->drives[d];
			dr->roots =
				xrealloc(dr->roots,
					 (dr->nroots + 1) * sizeof(*dr->roots));
			dr->roots[dr->nroots++] = fixed;
		}
		free_strv(roots);
		for (size_t i = 0; i < im->ndrives; i++)
			missing |= im->drives[i].nroots == 0;
		if (!missing)
			break;
		log_debug("libguestfs: a drive shows no operating system, "
			  "inspecting again");
	}
	return 0;
}

static char *
str_or_empty(char *s)
{
	return s != NULL ? s : xstrdup("");
}

int
image_os(struct image *im, size_t drive, struct image_os *ret)
{
	struct drive *dr = &im->drives[drive];
	struct image_os os = {0};
	CLEANUP_FREE char *dev = NULL;
	const char *root;

	if (dr->nroots != 1) {
		struct strbuf sb = STRBUF_INIT;
		char **fss;

		if (dr->nroots > 1) {
			set_err(im, "%zu operating systems found on '%s'",
				dr->nroots, dr->path);
			return -EMLINK;
		}
		fss = guestfs_list_filesystems(im->g);
		for (size_t i = 0; fss != NULL && fss[i] != NULL; i += 2) {
			struct guestfs_btrfssubvolume_list *sv;

			if (fs_drive(im, fss[i]) != (int)drive)
				continue;
			sb_printf(&sb, "%s%s (%s)", sb.len ? ", " : "", fss[i],
				  fss[i + 1]);
			if (strcmp(fss[i + 1], "btrfs") != 0 ||
			    str_starts_with(fss[i], "btrfsvol:"))
				continue;
			/* Why its subvolumes were not listed. */
			sv = guestfs_btrfs_subvolume_list(im->g, fss[i]);
			if (sv == NULL)
				sb_printf(&sb, " [subvolumes: %s]",
					  guestfs_last_error(im->g)
						  ? guestfs_last_error(im->g)
						  : "error");
			else
				guestfs_free_btrfssubvolume_list(sv);
		}
		free_strv(fss);
		set_err(im,
			"no operating system found on '%s' (filesystems: %s)",
			dr->path, sb.len ? sb.buf : "none");
		sb_release(&sb);
		return -ENOENT;
	}
	root = dr->roots[0];
	os.root = xstrdup(root);
	os.type = str_or_empty(guestfs_inspect_get_type(im->g, root));
	os.distro = str_or_empty(guestfs_inspect_get_distro(im->g, root));
	os.product =
		str_or_empty(guestfs_inspect_get_product_name(im->g, root));
	os.pkg_mgr = str_or_empty(
		guestfs_inspect_get_package_management(im->g, root));
	os.major = guestfs_inspect_get_major_version(im->g, root);
	dev = fsname_device(root);
	os.root_fs = str_or_empty(guestfs_vfs_type(im->g, dev));
	*ret = os;
	return 0;
}

int
image_grow_root(struct image *im, size_t drive, bool *ret_grown,
		uint64_t *ret_fs_bytes)
{
	struct drive *dr = &im->drives[drive];
	CLEANUP_FREE char *dev = NULL, *fstype = NULL, *ptype = NULL;
	char *parent;
	struct guestfs_partition_list *pl = NULL;
	int partnum, r = 0;
	bool last = true;
	uint64_t end = 0;

	*ret_grown = false;
	if (dr->nroots != 1)
		return 0;
	dev = fsname_device(dr->roots[0]);
	fstype = guestfs_vfs_type(im->g, dev);
	if (fstype == NULL)
		return gfs_fail(im);
	guestfs_push_error_handler(im->g, NULL, NULL);
	parent = guestfs_part_to_dev(im->g, dev);
	guestfs_pop_error_handler(im->g);
	if (parent != NULL) {
		partnum = guestfs_part_to_partnum(im->g, dev);
		ptype = guestfs_part_get_parttype(im->g, parent);
		pl = guestfs_part_list(im->g, parent);
		if (partnum < 0 || ptype == NULL || pl == NULL) {
			r = gfs_fail(im);
			goto out;
		}
		for (size_t i = 0; i < pl->len; i++)
			if (pl->val[i].part_num == partnum)
				end = pl->val[i].part_end;
		for (size_t i = 0; i < pl->len; i++)
			if (pl->val[i].part_end > end)
				last = false;
		if (!last) {
			set_err(im, "'%s' is not the last partition", dev);
			goto out;
		}
		if (strcmp(ptype, "gpt") == 0 &&
		    guestfs_part_expand_gpt(im->g, parent) == -1) {
			r = gfs_fail(im);
			goto out;
		}
		/* parted counts negative sectors from the end of the disk:
		 * GPT keeps its backup table in the last 33. */
		if (guestfs_part_resize(im->g, parent, partnum,
					strcmp(ptype, "gpt") == 0 ? -34 : -1) ==
		    -1) {
			r = gfs_fail(im);
			goto out;
		}
	}
	if (str_starts_with(fstype, "ext")) {
		if (guestfs_e2fsck(im->g, dev, GUESTFS_E2FSCK_FORCEALL, 1,
				   -1) == -1 ||
		    guestfs_resize2fs(im->g, dev) == -1) {
			r = gfs_fail(im);
			goto out;
		}
	} else if (strcmp(fstype, "btrfs") != 0 && strcmp(fstype, "xfs") != 0) {
		set_err(im, "cannot grow a '%s' filesystem", fstype);
		r = -EOPNOTSUPP;
		goto out;
	}
	/* btrfs and xfs grow once mounted: image_btrfs_grow. */
	*ret_grown = true;
	if (ret_fs_bytes != NULL) {
		int64_t sz = guestfs_blockdev_getsize64(im->g, dev);

		*ret_fs_bytes = sz > 0 ? (uint64_t)sz : 0;
	}
out:
	free(parent);
	if (pl != NULL)
		guestfs_free_partition_list(pl);
	return r;
}

int
image_btrfs_grow(struct image *im, const char *path)
{
	if (guestfs_btrfs_filesystem_resize(im->g, path, -1) == -1)
		return gfs_fail(im);
	return 0;
}

/* Rewrites the drive part of fs to this drive's device: when two drives
 * come from one base their filesystems share labels and UUIDs, so an
 * fstab naming 'LABEL=fedora' may resolve to the other drive. */
static char *
repoint(struct image *im, const char *fs, size_t drive)
{
	int d = fs_drive(im, fs);
	const char *from, *p;
	size_t flen;

	if (d < 0 || (size_t)d == drive || im->drives[d].dev == NULL)
		return xstrdup(fs);
	from = im->drives[d].dev;
	flen = strlen(from);
	p = strstr(fs, from);
	if (p == NULL)
		return xstrdup(fs);
	return xasprintf("%.*s%s%s", (int)(p - fs), fs, im->drives[drive].dev,
			 p + flen);
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

int
image_mount(struct image *im, size_t drive)
{
	struct drive *dr = &im->drives[drive];
	char **h;
	size_t n = 0;
	int r = 0;

	if (dr->nroots != 1) {
		set_err(im, "no single operating system on '%s'", dr->path);
		return -ENOENT;
	}
	h = guestfs_inspect_get_mountpoints(im->g, dr->roots[0]);
	if (h == NULL)
		return gfs_fail(im);
	while (h[n] != NULL)
		n += 2;
	/* Pairs (mountpoint, device), parents first. */
	qsort(h, n / 2, 2 * sizeof(*h), cmp_mp);
	for (size_t i = 0; i < n; i += 2) {
		CLEANUP_FREE char *named = fix_name(im, h[i + 1]);
		CLEANUP_FREE char *fs = repoint(im, named, drive);
		CLEANUP_FREE char *dev = fsname_device(fs);
		CLEANUP_FREE char *opts = NULL;
		int rr;

		if (str_starts_with(fs, "btrfsvol:"))
			opts = xasprintf(
				"%ssubvol=%s", im->o.readonly ? "ro," : "",
				fs + strlen("btrfsvol:") + strlen(dev) + 1);
		else if (im->o.readonly)
			opts = xstrdup("ro");
		if (strcmp(h[i], "/") != 0 && !im->o.readonly) {
			int isdir = guestfs_is_dir(im->g, h[i]);

			if (isdir == 0 && guestfs_mkdir_p(im->g, h[i]) == -1) {
				r = gfs_fail(im);
				break;
			}
		}
		rr = guestfs_mount_options(im->g, opts != NULL ? opts : "", dev,
					   h[i]);
		if (rr == -1) {
			r = gfs_fail(im);
			set_err(im, "cannot mount '%s' on '%s': %s", fs, h[i],
				image_error(im));
			break;
		}
		im->mps = xrealloc(im->mps, (im->nmps + 1) * sizeof(*im->mps));
		im->mps[im->nmps++] = xstrdup(h[i]);
	}
	free_strv(h);
	im->mounted = (int)drive;
	if (r < 0)
		image_umount(im);
	return r;
}

int
image_umount(struct image *im)
{
	for (size_t i = 0; i < im->nmps; i++)
		free(im->mps[i]);
	free(im->mps);
	im->mps = NULL;
	im->nmps = 0;
	im->mounted = -1;
	if (guestfs_umount_all(im->g) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_mountpoints(struct image *im, char ***ret, size_t *ret_n)
{
	char **v = xcalloc(im->nmps + 1, sizeof(*v));

	for (size_t i = 0; i < im->nmps; i++)
		v[i] = xstrdup(im->mps[i]);
	*ret = v;
	*ret_n = im->nmps;
	return 0;
}

int
image_exists(struct image *im, const char *path, bool *ret)
{
	int e = guestfs_exists(im->g, path);
	int l;

	if (e == -1)
		return gfs_fail(im);
	if (e == 0) {
		/* A dangling symlink still takes the name. */
		l = guestfs_is_symlink(im->g, path);
		if (l == -1)
			return gfs_fail(im);
		e = l;
	}
	*ret = e != 0;
	return 0;
}

int
image_is_dir(struct image *im, const char *path, bool *ret)
{
	int d = guestfs_is_dir_opts(im->g, path,
				    GUESTFS_IS_DIR_OPTS_FOLLOWSYMLINKS, 0, -1);

	if (d == -1)
		return gfs_fail(im);
	*ret = d != 0;
	return 0;
}

int
image_read(struct image *im, const char *path, char **ret, size_t *len)
{
	size_t n;
	char *d = guestfs_read_file(im->g, path, &n);
	char *s;

	if (d == NULL)
		return gfs_fail(im);
	s = xmalloc(n + 1);
	memcpy(s, d, n);
	s[n] = '\0';
	free(d);
	*ret = s;
	if (len != NULL)
		*len = n;
	return 0;
}

int
image_write(struct image *im, const char *path, const void *data, size_t len)
{
	if (guestfs_write(im->g, path, data, len) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_mkdir_p(struct image *im, const char *path)
{
	if (guestfs_mkdir_p(im->g, path) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_mkdir(struct image *im, const char *path, unsigned mode)
{
	if (guestfs_mkdir_mode(im->g, path, (int)mode) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_chmod(struct image *im, const char *path, unsigned mode)
{
	if (guestfs_chmod(im->g, (int)mode, path) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_chown(struct image *im, const char *path, int uid, int gid)
{
	if (guestfs_lchown(im->g, uid, gid, path) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_symlink(struct image *im, const char *target, const char *link)
{
	if (guestfs_ln_s(im->g, target, link) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_rm_f(struct image *im, const char *path)
{
	if (guestfs_rm_f(im->g, path) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_upload(struct image *im, const char *host, const char *guest)
{
	if (guestfs_upload(im->g, host, guest) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_copy_out(struct image *im, const char *guest, const char *host)
{
	if (guestfs_copy_out(im->g, guest, host) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_copy_in(struct image *im, const char *host, const char *guest)
{
	if (guestfs_copy_in(im->g, host, guest) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_command(struct image *im, const char *const *argv, char **ret_out)
{
	char *out = guestfs_command(im->g, (char *const *)argv);

	if (out == NULL)
		return gfs_fail(im);
	if (ret_out != NULL)
		*ret_out = out;
	else
		free(out);
	return 0;
}

int
image_selinux_label(struct image *im, const char *path, char **ret)
{
	size_t n;
	char *v;

	guestfs_push_error_handler(im->g, NULL, NULL);
	v = guestfs_lgetxattr(im->g, path, "security.selinux", &n);
	guestfs_pop_error_handler(im->g);
	if (v == NULL) {
		*ret = NULL;
		return 0;
	}
	*ret = xstrndup(v, n);
	free(v);
	return 0;
}

int
image_set_mtime(struct image *im, const char *path, int64_t secs)
{
	int l = guestfs_is_symlink(im->g, path);

	if (l == -1)
		return gfs_fail(im);
	if (l == 1)
		return 0;
	if (guestfs_utimens(im->g, path, secs, 0, secs, 0) == -1)
		return gfs_fail(im);
	return 0;
}

int
image_sha256(struct image *im, const char *path, char hex[65])
{
	char *c = guestfs_checksum(im->g, "sha256", path);

	if (c == NULL)
		return gfs_fail(im);
	snprintf(hex, 65, "%s", c);
	free(c);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
image_find_files(struct image *im, const char *dir, char ***ret)
{
	char **names, **v;
	size_t n = 0, k = 0;
	int d = guestfs_is_dir_opts(im->g, dir,
				    GUESTFS_IS_DIR_OPTS_FOLLOWSYMLINKS, 0, -1);

	if (d == -1)
		return gfs_fail(im);
	if (d == 0) {
		*ret = xcalloc(1, sizeof(**ret));
		return 0;
	}
	names = guestfs_find(im->g, dir);
	if (names == NULL)
		return gfs_fail(im);
	while (names[n] != NULL)
		n++;
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		/* guestfs_find names start with '/'. */
		CLEANUP_FREE char *p = xasprintf(
			"%s%s%s", dir, names[i][0] == '/' ? "" : "/", names[i]);
		int f = guestfs_is_file_opts(
			im->g, p, GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, 0, -1);

		if (f == -1) {
			free_strv(names);
			free_strv(v);
			return gfs_fail(im);
		}
		if (f == 1) {
			v[k++] = p;
			p = NULL;
		}
	}
	free_strv(names);
	qsort(v, k, sizeof(*v), cmp_str);
	*ret = v;
	return 0;
}

int
image_manifest_add(struct image *im, const char *path, bool content,
		   struct manifest *m)
{
	struct guestfs_statns *st;
	struct mentry *e;
	char *label;
	unsigned fmt;
	char type;
	int r = 0;

	guestfs_push_error_handler(im->g, NULL, NULL);
	st = guestfs_lstatns(im->g, path);
	guestfs_pop_error_handler(im->g);
	if (st == NULL) {
		int ex = guestfs_exists(im->g, path) == 1 ||
			 guestfs_is_symlink(im->g, path) == 1;

		if (!ex) {
			set_err(im, "'%s' does not exist", path);
			return -ENOENT;
		}
		return gfs_fail(im);
	}
	fmt = (unsigned)st->st_mode & 0170000;
	type = fmt == 0040000 ? 'd' : fmt == 0120000 ? 'l' : 'f';
	e = manifest_add(m, path, type);
	e->mode = (unsigned)st->st_mode & 07777;
	e->uid = (unsigned)st->st_uid;
	e->gid = (unsigned)st->st_gid;
	if (type == 'f' && fmt == 0100000) {
		/* Content left out: size 0, sha256 "excluded". */
		e->size = content ? (uint64_t)st->st_size : 0;
		if (content)
			r = image_sha256(im, path, e->sha256);
		else
			snprintf(e->sha256, sizeof(e->sha256), "excluded");
	} else if (type == 'l') {
		char *t = guestfs_readlink(im->g, path);

		if (t == NULL)
			r = gfs_fail(im);
		manifest_entry_set_target(e, t);
		free(t);
	}
	guestfs_free_statns(st);
	if (r < 0)
		return r;
	r = image_selinux_label(im, path, &label);
	if (r == 0 && label != NULL) {
		/* The attribute holds a trailing NUL. */
		label[strcspn(label, "\n")] = '\0';
		manifest_entry_set_label(e, label);
	}
	free(label);
	return r;
}

int
image_shutdown(struct image *im)
{
	if (im->g == NULL)
		return 0;
	if (guestfs_shutdown(im->g) == -1)
		return gfs_fail(im);
	return 0;
}

void
image_free(struct image *im)
{
	if (im == NULL)
		return;
	if (im->g != NULL)
		guestfs_close(im->g);
	for (size_t i = 0; i < im->ndrives; i++) {
		free(im->drives[i].path);
		free(im->drives[i].dev);
		for (size_t j = 0; j < im->drives[i].nroots; j++)
			free(im->drives[i].roots[j]);
		free(im->drives[i].roots);
	}
	for (size_t i = 0; i < im->nmps; i++)
		free(im->mps[i]);
	free(im->mps);
	for (size_t i = 0; i < im->nbnames; i++)
		free(im->bnames[i]);
	free(im->bnames);
	free(im->drives);
	free(im->err);
	free(im);
}
