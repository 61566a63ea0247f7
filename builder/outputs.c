/* The I/O side of runscript.c, libvirt.c and hostgui.c. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostgui.h"
#include "libvirt.h"
#include "outputs.h"
#include "recipe.h"
#include "runscript.h"
#include "util.h"

static int
write_text(const char *dir, const char *name, const char *text, mode_t mode)
{
	CLEANUP_FREE char *path = path_join(dir, name);

	return write_file_atomic(path, text, strlen(text), mode);
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
	r = write_text(abs, name, script, 0755);
	if (r < 0)
		return r;
	free(name);
	name = xasprintf("%s.xml", vm->name);
	return write_text(abs, name, xml, 0644);
}

int
outputs_write_all(const struct recipe_set *set, const char *outdir)
{
	CLEANUP_FREE char *script = NULL, *cf = NULL, *compose = NULL,
			  *host = NULL;
	int r;

	r = runscript_render_all(set, &script);
	if (r < 0)
		return r;
	r = mkdir_p(outdir, 0755);
	if (r < 0)
		return r;
	r = write_text(outdir, "run-all.sh", script, 0755);
	if (r < 0 || !hostgui_wanted(set))
		return r;
	r = hostgui_containerfile(set, &cf);
	if (r == 0)
		r = hostgui_compose(set, &compose);
	if (r < 0)
		return r;
	host = path_join(outdir, "host");
	r = mkdir_p(host, 0755);
	if (r == 0)
		r = write_text(host, "Containerfile", cf, 0644);
	if (r == 0)
		r = write_text(host, "compose.yaml", compose, 0644);
	return r;
}
