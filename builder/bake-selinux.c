/* The selinux step: every written path labelled with the guest's own
 * setfiles and policy, or /.autorelabel for the first boot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bake-int.h"

/* The policy's file_contexts when the guest has SELinux enabled. */
static char *
selinux_contexts(struct bake *b)
{
	CLEANUP_FREE char *cfg = NULL;
	char type[64] = "", mode[32] = "";
	char *fc;
	bool ex;

	if (image_exists(b->im, "/etc/selinux/config", &ex) < 0 || !ex ||
	    image_read(b->im, "/etc/selinux/config", &cfg, NULL) < 0)
		return NULL;
	for (char *l = strtok(cfg, "\n"); l; l = strtok(NULL, "\n")) {
		sscanf(l, "SELINUX=%31s", mode);
		sscanf(l, "SELINUXTYPE=%63s", type);
	}
	if (*type == '\0' || strcmp(mode, "disabled") == 0)
		return NULL;
	fc = xasprintf("/etc/selinux/%s/contexts/files/file_contexts", type);
	if (image_exists(b->im, fc, &ex) < 0 || !ex) {
		free(fc);
		return NULL;
	}
	return fc;
}

int
bake_step_selinux(struct bake *b, struct vmjob *j, struct strbuf *detail)
{
	CLEANUP_FREE char *fc = selinux_contexts(b);
	const char *setfiles = NULL;
	char **mps = NULL;
	size_t nmps = 0;
	bool ex;
	int r = 0;

	if (fc == NULL) {
		sb_puts(detail, "no policy in the guest, nothing to label");
		return 0;
	}
	j->selinux = true;
	if (image_exists(b->im, "/usr/sbin/setfiles", &ex) == 0 && ex)
		setfiles = "/usr/sbin/setfiles";
	else if (image_exists(b->im, "/sbin/setfiles", &ex) == 0 && ex)
		setfiles = "/sbin/setfiles";
	image_mountpoints(b->im, &mps, &nmps);
	for (size_t i = 0; setfiles != NULL && i < nmps; i++) {
		/* The guest's own setfiles and policy, one mount point at a
		 * time; the appliance's bind mounts are excluded. */
		const char *argv[] = {setfiles, "-F",	"-e", "/proc",
				      "-e",	"/sys", "-e", "/dev",
				      fc,	mps[i], NULL};

		r = image_command(b->im, argv, NULL);
		if (r < 0)
			break;
	}
	if (setfiles == NULL || r < 0) {
		static const char relabel[] = "";

		bake_warn(b, j->vm->name,
			  "cannot label the written files with the guest's "
			  "setfiles "
			  "(%s); the first boot relabels the whole system "
			  "(/.autorelabel)",
			  setfiles == NULL ? "not found" : image_error(b->im));
		r = bake_write_owned(b, j->vm->pos, "/.autorelabel", relabel,
				     0644, 0, 0);
		if (r == 0)
			job_wrote(j, "/.autorelabel", true);
		sb_puts(detail, "/.autorelabel");
	} else {
		sb_printf(&detail[0], "%s on", fc);
		for (size_t i = 0; i < nmps; i++)
			sb_printf(detail, " %s", mps[i]);
	}
	for (size_t i = 0; i < nmps; i++)
		free(mps[i]);
	free(mps);
	return r;
}
