/* The libguestfs session behind the bake: one handle, one appliance, one
 * drive per VM (image-int.h says which part of it lives where). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image-int.h"

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

const char *
image_drive_dev(const struct image *im, size_t drive)
{
	return drive < im->ndrives ? im->drives[drive].dev : NULL;
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

void
image_set_err(struct image *im, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	free(im->err);
	im->err = sb_detach(&sb, NULL);
}

int
image_gfs_fail(struct image *im)
{
	const char *m = im->g != NULL ? guestfs_last_error(im->g) : NULL;
	int e = im->g != NULL ? guestfs_last_errno(im->g) : 0;

	image_set_err(im, "%s", m != NULL ? m : "libguestfs call failed");
	return e > 0 ? -e : -EIO;
}

void
image_free_strv(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

const char *
image_hash_get(char *const *h, const char *key)
{
	for (size_t i = 0; h != NULL && h[i] != NULL && h[i + 1] != NULL;
	     i += 2)
		if (strcmp(h[i], key) == 0)
			return h[i + 1];
	return NULL;
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
		image_set_err(im, "cannot create a libguestfs handle");
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
		return image_gfs_fail(im);
	if (accel == IMAGE_ACCEL_TCG &&
	    guestfs_set_backend_setting(g, "force_tcg", "1") == -1)
		return image_gfs_fail(im);
	if (accel == IMAGE_ACCEL_KVM &&
	    guestfs_set_backend_setting(g, "force_kvm", "1") == -1)
		return image_gfs_fail(im);
	if (im->o.network && guestfs_set_network(g, 1) == -1)
		return image_gfs_fail(im);
	/* Package managers need room; the default 1280 MiB is tight. */
	if (guestfs_set_memsize(g, 2048) == -1)
		return image_gfs_fail(im);
	if (guestfs_set_smp(g, 2) == -1)
		return image_gfs_fail(im);
	for (size_t i = 0; i < im->ndrives; i++)
		if (guestfs_add_drive_opts(g, im->drives[i].path,
					   GUESTFS_ADD_DRIVE_OPTS_FORMAT,
					   "qcow2",
					   GUESTFS_ADD_DRIVE_OPTS_READONLY,
					   im->o.readonly ? 1 : 0, -1) == -1)
			return image_gfs_fail(im);
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
	r = guestfs_launch(im->g) == -1 ? image_gfs_fail(im) : 0;
	if (watched) {
		pthread_mutex_lock(&w.m);
		w.done = true;
		pthread_cond_signal(&w.c);
		pthread_mutex_unlock(&w.m);
		pthread_join(t, NULL);
		if (w.fired && r == 0) {
			/* Came up just as the watchdog fired: start again. */
			image_set_err(im, "the KVM appliance was too slow");
			r = -ETIMEDOUT;
		} else if (w.fired) {
			image_set_err(
				im,
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
				image_set_err(
					im,
					"%s (and under KVM before that: %s)",
					image_error(im), first);
			else
				image_set_err(im, "%s", first);
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
		return image_gfs_fail(im);
	for (size_t i = 0; devs[i] != NULL && i < im->ndrives; i++)
		im->drives[i].dev = xstrdup(devs[i]);
	image_free_strv(devs);
	*ret_fell_back = fell_back;
	return 0;
}

char *
image_gfs_version(struct image *im)
{
	struct guestfs_version *v =
		im->g != NULL ? guestfs_version(im->g) : NULL;
	char *s;

	if (v == NULL)
		return xstrdup("unknown");
	s = xasprintf("%" PRId64 ".%" PRId64 ".%" PRId64 "%s", v->major,
		      v->minor, v->release, v->extra);
	guestfs_free_version(v);
	return s;
}

void
image_cancel(struct image *im)
{
	if (im != NULL && im->g != NULL)
		guestfs_user_cancel(im->g);
}

int
image_shutdown(struct image *im)
{
	if (im->g == NULL)
		return 0;
	if (guestfs_shutdown(im->g) == -1)
		return image_gfs_fail(im);
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
		image_desc_release(&im->drives[i].desc);
		free(im->drives[i].why);
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
