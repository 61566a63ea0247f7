/* What every part of the bake shares, on the host side: recording the
 * first error and what was written, the progress bar, interruption,
 * looking up the guest's accounts (bake-guest.c reads them). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bake-int.h"
#include "progress.h"

double
bake_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Records the error (first one wins) with the recipe position that asked
 * for the step; returns r. */
int
bake_fail(struct bake *b, struct srcpos pos, int r, const char *fmt, ...)
{
	va_list ap;

	if (b->err.len > 0)
		return r;
	if (pos.file != NULL)
		sb_printf(&b->err, "%s:%d:%d: ", pos.file, pos.line, pos.col);
	va_start(ap, fmt);
	sb_vprintf(&b->err, fmt, ap);
	va_end(ap);
	return r;
}

void
bake_warn(struct bake *b, const char *vm, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (b->o->warn != NULL)
		b->o->warn(b->o->opaque, vm, sb.buf);
	sb_release(&sb);
}

void
bake_on_progress(void *opaque, uint64_t pos, uint64_t total)
{
	struct bake *b = opaque;

	/* Progress outside a named step (the appliance's launch) counts
	 * libguestfs's own ticks, not bytes: nothing a user can read. */
	if (!b->o->progress || b->bar_step == NULL)
		return;
	if (b->bar == NULL) {
		CLEANUP_FREE char *label =
			xasprintf("[%s] %s", b->bar_vm ? b->bar_vm : "image",
				  b->bar_step);

		b->bar = progress_new(label, total);
	}
	progress_set_total(b->bar, total);
	progress_update(b->bar, pos);
}

void
bake_bar_done(struct bake *b)
{
	progress_done(b->bar);
	b->bar = NULL;
}

/* Records a path the bake wrote, for its mtime and the manifest. */
void
job_wrote(struct vmjob *j, const char *path, bool content)
{
	if (strcmp(path, "/etc/passwd") == 0 || strcmp(path, "/etc/group") == 0)
		acct_release(&j->acct);
	for (size_t i = 0; i < j->nwritten; i++)
		if (strcmp(j->written[i], path) == 0) {
			j->content[i] &= content;
			return;
		}
	j->written =
		xrealloc(j->written, (j->nwritten + 1) * sizeof(*j->written));
	j->content =
		xrealloc(j->content, (j->nwritten + 1) * sizeof(*j->content));
	j->written[j->nwritten] = xstrdup(path);
	j->content[j->nwritten++] = content;
}

/* Looks name up in a passwd/group style file: returns field 2 (uid or
 * gid) and, for passwd, field 3 (gid) and 5 (home). */
int
acct_lookup(const char *db, const char *name, int *ret_id, int *ret_gid,
	    char **ret_home)
{
	size_t nl = strlen(name);

	for (const char *l = db; l != NULL && *l; l = strchr(l, '\n')) {
		const char *f[7] = {0};
		size_t nf = 0;

		if (*l == '\n')
			l++;
		if (strncmp(l, name, nl) != 0 || l[nl] != ':')
			continue;
		for (const char *p = l; nf < 7 && p != NULL && *p != '\n';) {
			f[nf++] = p;
			p = strpbrk(p, ":\n");
			if (p == NULL || *p == '\n')
				break;
			p++;
		}
		if (nf < 3)
			return -EINVAL;
		*ret_id = atoi(f[2]);
		if (ret_gid != NULL)
			*ret_gid = nf > 3 ? atoi(f[3]) : -1;
		if (ret_home != NULL && nf > 5)
			*ret_home = xstrndup(f[5], strcspn(f[5], ":\n"));
		return 0;
	}
	return -ENOENT;
}

void
acct_release(struct accounts *a)
{
	free(a->passwd);
	free(a->group);
	memset(a, 0, sizeof(*a));
}

int
acct_owner(const struct accounts *a, const char *owner, const char *group,
	   int *uid, int *gid)
{
	int r = acct_lookup(a->passwd, owner, uid, NULL, NULL);

	if (r == 0)
		r = acct_lookup(a->group, group, gid, NULL, NULL);
	return r;
}

static volatile sig_atomic_t interrupted;
static void (*volatile on_interrupt)(void);

static void
on_signal(int sig)
{
	void (*fn)(void) = on_interrupt;

	(void)sig;
	interrupted = 1;
	if (fn != NULL)
		fn();
}

void
bake_signals_catch(struct bake_signals *saved)
{
	struct sigaction sa = {.sa_handler = on_signal};

	interrupted = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &saved->oint);
	sigaction(SIGTERM, &sa, &saved->oterm);
}

void
bake_signals_restore(const struct bake_signals *saved)
{
	on_interrupt = NULL;
	sigaction(SIGINT, &saved->oint, NULL);
	sigaction(SIGTERM, &saved->oterm, NULL);
}

bool
bake_interrupted(void)
{
	return interrupted != 0;
}

void
bake_on_interrupt(void (*fn)(void))
{
	on_interrupt = fn;
}
