/* The I/O side of runscript.c, libvirt.c and hostgui.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostgui.h"
#include "libvirt.h"
#include "log.h"
#include "outputs.h"
#include "recipe.h"
#include "runscript.h"
#include "util.h"

#define RECORD_MAX (1u << 20)

bool
outputs_name_ok(const char *name)
{
	return path_is_beneath(name) && strchr(name, '\n') == NULL &&
	       strcmp(name, OUTPUTS_RECORD) != 0;
}

int
outputs_record(const char *outdir, const char *name)
{
	CLEANUP_FREE char *path = path_join(outdir, OUTPUTS_RECORD);
	CLEANUP_FREE char *data = NULL;
	CLEANUP_FREE char *line = xasprintf("%s\n", name);
	struct strbuf sb = STRBUF_INIT;
	size_t len = 0;
	int fd, r;

	if (!outputs_name_ok(name))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return -errno;
	if (fd >= 0) {
		r = read_fd_max(fd, RECORD_MAX, &data, &len);
		close(fd);
		if (r < 0)
			return r;
		/* Already listed: whole line at the start or after '\n'. */
		for (const char *p = data; p != NULL && *p != '\0';) {
			const char *nl = strchr(p, '\n');

			if (str_starts_with(p, line))
				return 0;
			p = nl != NULL ? nl + 1 : NULL;
		}
		sb_add(&sb, data, len);
		if (len > 0 && data[len - 1] != '\n')
			sb_putc(&sb, '\n');
	}
	sb_puts(&sb, line);
	r = write_file_atomic(path, sb.buf, sb.len, 0644);
	sb_release(&sb);
	return r;
}

/* path is a regular file (not a symbolic link) with mode and these
 * bytes already: a build with nothing changed. */
static bool
same_file(const char *path, const char *text, mode_t mode)
{
	CLEANUP_FREE char *data = NULL;
	size_t len = strlen(text), got = 0;
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	bool same;

	if (fd < 0)
		return false;
	same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	       (st.st_mode & 07777) == mode && (size_t)st.st_size == len &&
	       read_fd_max(fd, len + 1, &data, &got) == 0 && got == len &&
	       memcmp(data, text, len) == 0;
	close(fd);
	return same;
}

/* Writes OUTDIR/REL and records it.  Unchanged, it is left alone: a
 * no-change build syncs nothing to disk. */
static int
write_text_in(const char *outdir, const char *rel, const char *text,
	      mode_t mode)
{
	CLEANUP_FREE char *path = path_join(outdir, rel);
	int r = 0;

	if (!same_file(path, text, mode))
		r = write_file_atomic(path, text, strlen(text), mode);
	return r < 0 ? r : outputs_record(outdir, rel);
}

int
outputs_write_vm(const struct recipe_set *set, const struct vm *vm,
		 const char *outdir)
{
	CLEANUP_FREE char *abs = NULL, *script = NULL, *xml = NULL,
			  *name = NULL, *run = NULL;
	int r;

	r = runscript_render(set, vm, &script);
	if (r < 0)
		return r;
	r = mkdir_p(outdir, 0755);
	if (r < 0)
		return r;
	abs = realpath(outdir, NULL);
	if (abs == NULL)
		return -errno;
	r = libvirt_render(set, vm, abs, &xml);
	if (r < 0)
		return r;
	if (vm_nic(vm, NIC_INTERNAL) != NULL) {
		run = path_join(abs, "run");
		if (mkdir(run, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (chmod(run, 0700) < 0)
			return -errno;
	}
	name = xasprintf("run-%s.sh", vm->name);
	r = write_text_in(abs, name, script, 0755);
	if (r < 0)
		return r;
	free(name);
	name = xasprintf("%s.xml", vm->name);
	return write_text_in(abs, name, xml, 0644);
}

int
outputs_write_all(const struct recipe_set *set, const char *outdir)
{
	CLEANUP_FREE char *script = NULL, *cf = NULL, *compose = NULL,
			  *host = NULL, *wp = NULL;
	int r;

	r = runscript_render_all(set, &script);
	if (r < 0)
		return r;
	r = mkdir_p(outdir, 0755);
	if (r < 0)
		return r;
	r = write_text_in(outdir, "run-all.sh", script, 0755);
	if (r < 0 || !hostgui_wanted(set))
		return r;
	r = hostgui_containerfile(set, &cf);
	if (r == 0)
		r = hostgui_compose(set, &compose);
	if (r == 0)
		r = hostgui_run_script(set, &wp);
	if (r < 0)
		return r;
	host = path_join(outdir, "host");
	r = mkdir_p(host, 0755);
	if (r == 0)
		r = write_text_in(outdir, "host/Containerfile", cf, 0644);
	if (r == 0)
		r = write_text_in(outdir, "host/compose.yaml", compose, 0644);
	if (r == 0)
		r = write_text_in(outdir, "host/run-waypipe.sh", wp, 0755);
	return r;
}

int
outputs_remove_stale(const char *outdir, const char *vm)
{
	CLEANUP_FREE char *prefix = xasprintf(".%s.qcow2.tmp-", vm);
	size_t plen = strlen(prefix);
	struct dirent *de;
	DIR *d = opendir(outdir);
	int n = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		const char *pid = de->d_name + plen;
		char *end;
		long v;

		if (strncmp(de->d_name, prefix, plen) != 0 || *pid < '1' ||
		    *pid > '9')
			continue;
		errno = 0;
		v = strtol(pid, &end, 10);
		if (errno != 0 || *end != '\0' || v > INT_MAX ||
		    (pid_t)v == getpid())
			continue;
		/* EPERM: a process of another user has that PID; keep it. */
		if (kill((pid_t)v, 0) == 0 || errno != ESRCH)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

void
outputs_record_dir(const char *target)
{
	DIR *d = opendir(target);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || de->d_type != DT_REG)
			continue;
		if (outputs_record(target, de->d_name) < 0) {
			log_warn("cannot record '%s' in '%s/%s', ignoring",
				 de->d_name, target, OUTPUTS_RECORD);
			break;
		}
	}
	closedir(d);
}
