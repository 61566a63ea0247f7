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

/* Files the account tools write beside the databases the users step
 * lists, and the mail spool useradd may fill. */
static const char *const account_extras[] = {
	"/etc/passwd-",	 "/etc/group-",	    "/etc/shadow-", "/etc/gshadow",
	"/etc/gshadow-", "/etc/subuid",	    "/etc/subuid-", "/etc/subgid",
	"/etc/subgid-",	 "/var/spool/mail", "/var/mail",    NULL,
};

static void
add_if_there(struct bake *b, const char *path, char ***v, size_t *n)
{
	bool ex;

	if (image_exists(b->im, path, &ex) < 0 || !ex)
		return;
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(path);
	(*v)[*n] = NULL;
}

/* What setfiles labels (each recursively): every mounted filesystem when
 * the package manager or container images wrote into the guest (their
 * files are listed nowhere), else only the paths the bake wrote and what
 * the account tools wrote with them.  *ret_whole says which. */
static void
relabel_paths(struct bake *b, struct vmjob *j, char ***ret, size_t *ret_n,
	      bool *ret_whole)
{
	char **v = NULL;
	size_t n = 0;

	*ret_whole = j->unlisted;
	if (*ret_whole) {
		image_mountpoints(b->im, ret, ret_n);
		return;
	}
	for (size_t i = 0; i < j->nwritten; i++)
		add_if_there(b, j->written[i], &v, &n);
	for (size_t i = 0; j->vm->nusers > 0 && account_extras[i]; i++)
		add_if_there(b, account_extras[i], &v, &n);
	*ret = v;
	*ret_n = n;
}

static int
run_setfiles(struct bake *b, const char *setfiles, const char *fc, char **paths,
	     size_t n)
{
	static const char *const head[] = {"-F",   "-e", "/proc", "-e",
					   "/sys", "-e", "/dev"};
	size_t nh = sizeof(head) / sizeof(head[0]), k = 0;
	const char **argv = xcalloc(nh + n + 3, sizeof(*argv));
	int r;

	/* The guest's own setfiles and policy, once for every path; the
	 * appliance's bind mounts are excluded. */
	argv[k++] = setfiles;
	for (size_t i = 0; i < nh; i++)
		argv[k++] = head[i];
	argv[k++] = fc;
	for (size_t i = 0; i < n; i++)
		argv[k++] = paths[i];
	argv[k] = NULL;
	/* Not bake_guest_cmd: setfiles changes labels only, so the accounts
	 * kept in the jobs (acct_load) stay true. */
	r = n > 0 ? image_command(b->im, argv, NULL) : 0;
	free(argv);
	return r;
}

int
bake_step_selinux(struct bake *b, struct vmjob *j, struct strbuf *detail)
{
	CLEANUP_FREE char *fc = selinux_contexts(b);
	const char *setfiles = NULL;
	char **paths = NULL;
	size_t npaths = 0;
	bool ex, whole;
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
	relabel_paths(b, j, &paths, &npaths, &whole);
	if (setfiles != NULL)
		r = run_setfiles(b, setfiles, fc, paths, npaths);
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
	} else if (whole) {
		sb_printf(detail, "%s on", fc);
		for (size_t i = 0; i < npaths; i++)
			sb_printf(detail, " %s", paths[i]);
	} else {
		sb_printf(detail, "%s on %zu written paths", fc, npaths);
	}
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	return r;
}
