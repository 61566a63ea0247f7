/* The units step: 'systemctl enable' in the guest, or the links of the
 * unit's [Install] section made directly when it has no systemctl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bake-int.h"

#include "unitlinks.h"

static const char *const unit_dirs[] = {
	"/etc/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
};

/* The links of a unit's [Install] section (text, the unit file's): made
 * here without systemctl in the guest, only recorded (for mtimes and the
 * manifest) with it. */
static int
enable_by_links(struct bake *b, struct vmjob *j, struct srcpos pos,
		const char *unit, const char *file, const char *text, bool make)
{
	struct strbuf links = STRBUF_INIT;
	const char *p;
	size_t n;
	int r = 0;

	n = unit_install_links(text, unit, file, &links);
	p = links.buf;
	for (size_t i = 0; i < n; i++) {
		const char *link = p, *target = p + strlen(p) + 1;
		bool ex;

		p = target + strlen(target) + 1;
		if (!make) {
			if (image_exists(b->im, link, &ex) == 0 && ex)
				job_wrote(j, link, true);
			continue;
		}
		r = job_ensure_parent(b, j, pos, link);
		if (r < 0)
			break;
		r = image_exists(b->im, link, &ex);
		if (r == 0 && ex)
			r = image_rm_f(b->im, link);
		if (r == 0)
			r = image_symlink(b->im, target, link);
		if (r < 0) {
			r = bake_fail(b, pos, r, "cannot enable '%s': %s", unit,
				      image_error(b->im));
			break;
		}
		job_wrote(j, link, true);
	}
	sb_release(&links);
	return r;
}

int
bake_step_units(struct bake *b, struct vmjob *j)
{
	const struct strlist *u = &j->vm->units;
	bool have_systemctl = false, ex;

	if (image_exists(b->im, "/usr/bin/systemctl", &ex) == 0 && ex)
		have_systemctl = true;
	for (size_t i = 0; i < u->n; i++) {
		CLEANUP_FREE char *file = NULL, *text = NULL;
		int r = 0;

		for (size_t k = 0; file == NULL && k < ARRAY_SIZE(unit_dirs);
		     k++) {
			char *p = xasprintf("%s/%s", unit_dirs[k], u->v[i]);

			if (image_exists(b->im, p, &ex) == 0 && ex)
				file = p;
			else
				free(p);
		}
		if (file == NULL)
			return bake_fail(b, u->pos[i], -ENOENT,
					 "unit '%s' not found in the guest",
					 u->v[i]);
		/* Read first: a unit that is a FIFO or a device in an
		 * untrusted base must not reach systemctl, which would
		 * block on it. */
		r = image_read(b->im, file, &text, NULL);
		if (r < 0)
			return bake_fail(b, u->pos[i], r,
					 "cannot read '%s': %s", file,
					 image_error(b->im));
		if (have_systemctl) {
			const char *argv[] = {"systemctl", "enable", u->v[i],
					      NULL};

			r = bake_guest_cmd(b, u->pos[i], "systemctl enable",
					   argv);
		}
		if (r == 0)
			r = enable_by_links(b, j, u->pos[i], u->v[i], file,
					    text, !have_systemctl);
		if (r < 0)
			return r;
	}
	return 0;
}
