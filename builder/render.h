/* Rendering: recipe in, every guest file out as bytes with path, owner,
 * group and mode.  Pure: no I/O, no randomness (secrets come in as
 * values).  Used by plan, render, seed and the image bake. */
#ifndef SBX_RENDER_H
#define SBX_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

struct strbuf;

struct recipe_set;
struct vm;

enum gfile_type {
	GFILE_REG,
	GFILE_DIR,
	GFILE_SYMLINK,
};

struct gfile {
	struct srcpos pos; /* the recipe line that asked for this file */
	char *path;	   /* absolute guest path */
	enum gfile_type type;
	char *owner, *group; /* names, resolved in the guest */
	unsigned mode;
	char *data; /* GFILE_REG contents (NUL-terminated) */
	size_t len;
	char *target; /* GFILE_SYMLINK */
};

struct gfiles {
	struct gfile *v; /* sorted by path */
	size_t n, cap;
};

/* Values generated outside the pure world (out/secrets/). */
struct render_secret {
	const char *name; /* "user:dev", "pihole-password", ... */
	const char *value;
};

/* The secret name of a user's generated password: "user:" NAME. */
#define RENDER_SECRET_USER "user:"

/* Container images are baked: the build puts each one (containers' "dir:"
 * layout, verified against sbx.lock's digest) in RENDER_IMAGE_DIR/NAME,
 * NAME being render_image_name of its reference; a Quadlet .image unit
 * loads it into podman's storage at boot and the containers never pull
 * (Pull=never) and never build. */
#define RENDER_IMAGE_DIR "/var/lib/sbx/images"

struct render_input {
	const struct recipe_set *set;
	const struct vm *vm;
	const struct render_secret *secrets;
	size_t nsecrets;
	/* plan and render: stand "(secret NAME)" in for every secret, so
	 * nothing secret is needed or shown. */
	bool placeholder_secrets;
	/* Template files, already read by the caller: template path (as in
	 * the recipe) -> text.  NULL entries mean "not found". */
	const char *const *template_names;
	const char *const *template_texts;
	size_t ntemplates;
};

/* The guest directory name of an image: "localhost/sbx-tinyproxy:latest"
 * -> "sbx-tinyproxy" (the last path component, tag or digest dropped);
 * also the name of its Quadlet .image unit. */
char *render_image_name(const char *ref);

/* Renders every file of in->vm.  Problems with the recipe (a template
 * variable that does not exist, a missing secret) go to diags with their
 * position; returns -EINVAL then. */
int render_vm(const struct render_input *in, struct gfiles *ret,
	      struct diag_list *diags);
void gfiles_release(struct gfiles *f);
/* The file at path, or NULL. */
const struct gfile *gfiles_find(const struct gfiles *f, const char *path);
/* One line per file: "MODE OWNER:GROUP TYPE PATH[ -> TARGET]", the
 * listing 'sbx-build render' writes as DIR/.owners. */
void gfiles_format_owners(const struct gfiles *f, struct strbuf *out);

#endif
