/* sbx-build clean [--all] [--state]: remove what the build generated in
 * out/.  Refused while a VM of this out/ runs (vmpid.c).
 *
 * Only files sbx-build writes are removed: those listed in out/.sbx-outputs
 * and, for every VM of the recipes or of that list, VM.qcow2, VM.manifest,
 * VM.inputs, run-VM.sh, VM.xml, VM-seed.iso and leftover .VM.qcow2.tmp-*;
 * plus run-all.sh, sbx-bundle.tar.zst, host/, the sockets in run/ and,
 * with --all, secrets/; with --state, state/ (the VMs' disks as they
 * run, runscript-state.c).  Anything else stays (named under -v).  A
 * symlinked out/ is refused, and no symlink is ever followed: a link
 * with a known name is removed itself. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "diag.h"
#include "outputs.h"
#include "recipe.h"
#include "util.h"
#include "vmpid.h"

struct names {
	char **v;
	size_t n, cap;
};

static void
names_add(struct names *s, char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0) {
			free(name);
			return;
		}
	s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = name;
}

static bool
names_has(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return true;
	return false;
}

static void
names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* "run-NAME.sh" or "NAME.qcow2" recorded: NAME is a VM we built for. */
static char *
vm_of(const char *file)
{
	size_t n = strlen(file);

	if (str_starts_with(file, "run-") && str_ends_with(file, ".sh") &&
	    n > 7 && strcmp(file, "run-all.sh") != 0)
		return xstrndup(file + 4, n - 7);
	if (str_ends_with(file, ".qcow2") && n > 6 && file[0] != '.')
		return xstrndup(file, n - 6);
	return NULL;
}

/* The recipes' VM names, when they load; clean must work without them. */
static void
recipe_vms(struct names *vms)
{
	CLEANUP_FREE char *mine = path_join(globals.dir, "recipes");
	CLEANUP_FREE char *shipped = path_join(SBX_DATADIR, "recipes");
	const char *from = globals.dir;
	struct diag_list *diags = NULL;
	struct recipe_set *set = NULL;
	struct stat st;

	if (stat(mine, &st) < 0) {
		if (stat(shipped, &st) < 0)
			return;
		from = SBX_DATADIR;
	}
	if (recipe_set_load(from, &set, &diags) < 0) {
		log_verbose("recipes do not load; removing only what "
			    "out/%s lists",
			    OUTPUTS_RECORD);
		diag_list_free(diags);
		return;
	}
	diag_list_free(diags);
	for (size_t i = 0; i < set->nvms; i++)
		names_add(vms, xstrdup(set->vms[i].name));
	recipe_set_free(set);
}

static void
recorded(int outfd, struct names *files, struct names *vms)
{
	CLEANUP_FREE char *data = NULL;
	size_t len;
	int fd, r;

	fd = openat(outfd, OUTPUTS_RECORD,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	r = read_fd_max(fd, 1u << 20, &data, &len);
	close(fd);
	if (r < 0) {
		log_warn("cannot read 'out/%s': %s, ignoring", OUTPUTS_RECORD,
			 strerror(-r));
		return;
	}
	for (char *save, *l = strtok_r(data, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char *vm;

		if (!outputs_name_ok(l))
			continue;
		names_add(files, xstrdup(l));
		if ((vm = vm_of(l)) != NULL)
			names_add(vms, vm);
	}
}

static bool
known(const char *name, const struct names *files, const struct names *vms)
{
	static const char *const fmt[] = {
		"%s.qcow2",  "%s.manifest", "%s.inputs",
		"run-%s.sh", "%s.xml",	    "%s-seed.iso",
	};

	if (names_has(files, name) || strcmp(name, "run-all.sh") == 0 ||
	    strcmp(name, "sbx-bundle.tar.zst") == 0)
		return true;
	for (size_t i = 0; i < vms->n; i++) {
		CLEANUP_FREE char *tmp = xasprintf(".%s.qcow2.tmp-", vms->v[i]);

		if (str_starts_with(name, tmp))
			return true;
		for (size_t j = 0; j < ARRAY_SIZE(fmt); j++) {
			CLEANUP_FREE char *k = xasprintf(fmt[j], vms->v[i]);

			if (strcmp(name, k) == 0)
				return true;
		}
	}
	return false;
}

/* Removes what dfd holds that sbx-build wrote: in host/, the recorded
 * files; in run/, sockets; in secrets/ and state/, everything.  Then the
 * directory itself when it is empty. */
static int
clean_subdir(const char *out, int outfd, const char *sub,
	     const struct names *files)
{
	int fd = openat(outfd, sub,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	bool every = strcmp(sub, "secrets") == 0 || strcmp(sub, "state") == 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (fd < 0 || (d = fd_opendir(fd)) == NULL)
		return -errno;
	while (r == 0 && (de = readdir(d)) != NULL) {
		CLEANUP_FREE char *rel = xasprintf("%s/%s", sub, de->d_name);
		struct stat st;
		bool ours;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) <
		    0) {
			r = -errno;
			break;
		}
		ours = S_ISDIR(st.st_mode)    ? false
		       : every		      ? true
		       : S_ISSOCK(st.st_mode) ? strcmp(sub, "run") == 0
					      : names_has(files, rel);
		if (!ours) {
			log_verbose("keeping '%s/%s': not written by "
				    "sbx-build",
				    out, rel);
			continue;
		}
		if (unlinkat(dirfd(d), de->d_name, 0) < 0)
			r = -errno;
		else
			log_verbose("removed '%s/%s'", out, rel);
	}
	closedir(d);
	if (r == 0 && unlinkat(outfd, sub, AT_REMOVEDIR) < 0 &&
	    errno != ENOTEMPTY && errno != EEXIST)
		r = -errno;
	return r;
}

/* Nothing is removed while a VM of OUT runs: its disk, sockets and pid
 * file are in use. */
static bool
none_running(const char *out)
{
	struct vmpid *v = NULL;
	size_t n = 0;
	int r = vmpid_running(out, &v, &n);

	if (r < 0) {
		log_error("cannot tell whether a VM of '%s' runs: %s", out,
			  strerror(-r));
		return false;
	}
	for (size_t i = 0; i < n; i++)
		log_error("VM '%s' is running (pid %ld): stop it first "
			  "('%s/run-%s.sh --stop'); nothing was removed",
			  v[i].name, (long)v[i].pid, out, v[i].name);
	vmpid_free(v, n);
	return n == 0;
}

static const struct cmd_option clean_options[] = {
	{"all", 'a', false, NULL,
	 "remove the generated secrets in out/secrets/ too"},
	{"state", 's', false, NULL,
	 "remove the VMs' state too (out/state/: their disks' writes)"},
	{NULL, 0, false, NULL, NULL},
};

static enum cmd_status
exec_clean(int argc, char **argv)
{
	CLEANUP_FREE char *out = path_join(globals.dir, "out");
	struct names files = {0}, vms = {0};
	bool all = false, state = false, kept = false;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int c, fd, r = 0;

	optind = 0;
	while ((c = cmd_getopt(&cmd_clean_entry, argc, argv)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 's')
			state = true;
		else
			return cmd_bad_option(&cmd_clean_entry);
	}
	if (!cmd_operands_ok(&cmd_clean_entry, argc - optind))
		return CMD_USAGE;
	if (lstat(out, &st) < 0) {
		if (errno == ENOENT)
			return CMD_OK;
		log_error("cannot access '%s': %s", out, strerror(errno));
		return CMD_ERROR;
	}
	if (S_ISLNK(st.st_mode)) {
		log_error("'%s' is a symbolic link; not cleaning through it",
			  out);
		return CMD_ERROR;
	}
	if (!none_running(out))
		return CMD_ERROR;
	fd = open(out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fd_opendir(fd)) == NULL) {
		log_error("cannot open '%s': %s", out, strerror(errno));
		return CMD_ERROR;
	}
	recorded(fd, &files, &vms);
	recipe_vms(&vms);
	while (r == 0 && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		bool dir;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    strcmp(n, OUTPUTS_RECORD) == 0)
			continue;
		if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			log_error("cannot access '%s/%s': %s", out, n,
				  strerror(errno));
			break;
		}
		dir = S_ISDIR(st.st_mode);
		/* Generated passwords survive unless asked: losing them
		 * locks the user out of images already handed out. */
		if (dir && strcmp(n, "secrets") == 0 && !all) {
			kept = true;
			continue;
		}
		/* The VMs' state is the user's work: only when asked. */
		if (dir && strcmp(n, "state") == 0 && !state) {
			log_info("kept '%s/state' (the VMs' state; --state "
				 "removes it)",
				 out);
			kept = true;
			continue;
		}
		if (dir &&
		    (strcmp(n, "host") == 0 || strcmp(n, "run") == 0 ||
		     strcmp(n, "secrets") == 0 || strcmp(n, "state") == 0)) {
			r = clean_subdir(out, fd, n, &files);
			if (r < 0)
				log_error("cannot clean '%s/%s': %s", out, n,
					  strerror(-r));
			else if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) == 0)
				kept = true;
			continue;
		}
		if (dir || !known(n, &files, &vms)) {
			log_verbose("keeping '%s/%s': not written by sbx-build",
				    out, n);
			kept = true;
			continue;
		}
		if (unlinkat(fd, n, 0) < 0) {
			r = -errno;
			log_error("cannot remove '%s/%s': %s", out, n,
				  strerror(errno));
		} else {
			log_verbose("removed '%s/%s'", out, n);
		}
	}
	closedir(d);
	names_free(&files);
	names_free(&vms);
	if (r == 0 && !kept) {
		CLEANUP_FREE char *rec = path_join(out, OUTPUTS_RECORD);

		if (unlink(rec) < 0 && errno != ENOENT)
			r = -errno;
		if (r == 0 && all && rmdir(out) < 0 && errno != ENOENT) {
			log_error("cannot remove '%s': %s", out,
				  strerror(errno));
			r = -errno;
		}
	}
	return r < 0 ? CMD_ERROR : CMD_OK;
}

const struct cmd_entry cmd_clean_entry = {
	.name = "clean",
	.usage = "[--all] [--state]",
	.summary = "remove generated files from out/ (--all: secrets too, "
		   "--state: the VMs' state)",
	.min_args = 0,
	.max_args = 0,
	.options = clean_options,
	.writes = "removes what sbx-build wrote in out/ (recorded in "
		  "out/.sbx-outputs); keeps other files",
	.example = "sbx-build clean\nsbx-build clean --all",
	.flags = 0,
	.exec = exec_clean,
};
