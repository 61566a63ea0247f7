/* The images step: every container image the VM's services need, made
 * ready on the host before the appliance started (containers.h), is
 * uploaded into RENDER_IMAGE_DIR/NAME in containers' "dir:" layout, where
 * the rendered Quadlet .image unit loads it at boot.  No network, no
 * podman in the appliance. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "bake-int.h"
#include "containers.h"
#include "images.h"
#include "progress.h"
#include "render.h"

/* Uploads the files of one layout (flat: manifest.json, version, one
 * file per blob). */
static int
upload_layout(struct bake *b, struct vmjob *j, const struct ctimage *c,
	      const char *guest, uint64_t *bytes)
{
	DIR *d = opendir(c->dir);
	struct dirent *e;
	int r = 0;

	if (d == NULL)
		return bake_fail(b, j->vm->pos, -errno, "cannot read '%s': %s",
				 c->dir, strerror(errno));
	while (r == 0 && (e = readdir(d)) != NULL) {
		CLEANUP_FREE char *src = path_join(c->dir, e->d_name);
		CLEANUP_FREE char *dst = NULL;
		struct stat st;

		if (lstat(src, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		dst = xasprintf("%s/%s", guest, e->d_name);
		r = image_upload(b->im, src, dst);
		if (r < 0)
			bake_fail(b, j->vm->pos, r,
				  "cannot upload container image '%s' to '%s': "
				  "%s",
				  c->ref, dst, image_error(b->im));
		else
			r = image_chmod(b->im, dst, 0644);
		if (r == 0)
			job_wrote(j, dst, false);
		*bytes += (uint64_t)st.st_size;
	}
	closedir(d);
	return r;
}

/* RENDER_IMAGE_DIR/NAME.id: the ID podman gives the image it loads from
 * the layout (a "dir:" layout carries no name), which the .image unit
 * tags with the name the containers ask for. */
static int
write_image_id(struct bake *b, struct vmjob *j, const struct ctimage *c)
{
	CLEANUP_FREE char *id = NULL;
	CLEANUP_FREE char *err = NULL;
	CLEANUP_FREE char *path = NULL;
	CLEANUP_FREE char *text = NULL;
	int r = images_config_id(c->dir, &id, &err);

	if (r < 0)
		return bake_fail(b, j->vm->pos, r, "container image '%s': %s",
				 c->ref, err);
	path = xasprintf(RENDER_IMAGE_DIR "/%s.id", c->name);
	text = xasprintf("%s\n", id);
	return job_write_root_file(b, j, path, text, 0644);
}

int
bake_step_images(struct bake *b, struct vmjob *j, struct strbuf *detail)
{
	uint64_t bytes = 0;
	char h[32];
	int r = 0;

	if (j->images.n == 0) {
		sb_puts(detail, "none");
		return 0;
	}
	r = job_ensure_parent(b, j, j->vm->pos, RENDER_IMAGE_DIR "/x");
	for (size_t i = 0; r == 0 && i < j->images.n; i++) {
		const struct ctimage *c = &j->images.v[i];
		CLEANUP_FREE char *guest =
			xasprintf(RENDER_IMAGE_DIR "/%s", c->name);

		r = image_mkdir(b->im, guest, 0755);
		if (r < 0)
			return bake_fail(b, j->vm->pos, r,
					 "cannot create '%s': %s", guest,
					 image_error(b->im));
		job_wrote(j, guest, false);
		r = upload_layout(b, j, c, guest, &bytes);
		if (r == 0)
			r = write_image_id(b, j, c);
		sb_printf(detail, "%s%s@%.19s", i ? " " : "", c->ref,
			  c->digest);
	}
	sb_printf(detail, " (%s)", progress_human(bytes, h, sizeof(h)));
	return r;
}
