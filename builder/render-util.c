/* The helpers every renderer shares: adding files to the VM's list
 * (checked paths and owners), reporting recipe problems, secrets, header
 * comments.  render.c (the dispatcher) and every render-*.c include
 * render-int.h and call in here; nothing here calls a renderer, so no two
 * render modules import each other. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distro.h"
#include "escape.h"
#include "render-int.h"

void
gfile_clear(struct gfile *g)
{
	free(g->path);
	free(g->owner);
	free(g->group);
	free(g->data);
	free(g->target);
	memset(g, 0, sizeof(*g));
}

void
gfiles_release(struct gfiles *f)
{
	for (size_t i = 0; i < f->n; i++)
		gfile_clear(&f->v[i]);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

const struct gfile *
gfiles_find(const struct gfiles *f, const char *path)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].path, path) == 0)
			return &f->v[i];
	return NULL;
}

void
gfiles_format_owners(const struct gfiles *f, struct strbuf *out)
{
	static const char *const type[] = {"file", "dir", "symlink"};

	for (size_t i = 0; i < f->n; i++) {
		const struct gfile *g = &f->v[i];

		sb_printf(out, "%04o %s:%s %s %s", g->mode, g->owner, g->group,
			  type[g->type], g->path);
		if (g->type == GFILE_SYMLINK)
			sb_printf(out, " -> %s", g->target);
		sb_putc(out, '\n');
	}
}

static struct gfile *
add(struct rctx *c, struct srcpos pos, const char *path, const char *owner,
    const char *group, unsigned mode)
{
	struct gfiles *f = c->f;
	struct gfile *g;

	/* Whatever the renderer made of the recipe: every path and owner
	 * ends up in file names and in the listing of owners. */
	if (!esc_guest_path_ok(path))
		r_refuse(c, pos, "guest path", path,
			 "is not a normalised absolute path");
	if (!esc_username_ok(owner))
		r_refuse(c, pos, "owner", owner, "is not a user name");
	if (!esc_username_ok(group))
		r_refuse(c, pos, "group", group, "is not a group name");
	f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
	g = &f->v[f->n++];
	memset(g, 0, sizeof(*g));
	g->pos = pos;
	g->path = xstrdup(path);
	g->owner = xstrdup(owner);
	g->group = xstrdup(group);
	g->mode = mode;
	return g;
}

struct gfile *
r_file(struct rctx *c, struct srcpos pos, const char *path, const char *owner,
       const char *group, unsigned mode, struct strbuf *text)
{
	struct gfile *g = add(c, pos, path, owner, group, mode);

	g->type = GFILE_REG;
	g->data = sb_detach(text, &g->len);
	return g;
}

void
r_text(struct rctx *c, struct srcpos pos, const char *path, unsigned mode,
       const char *text)
{
	struct strbuf sb = STRBUF_INIT;

	sb_puts(&sb, text);
	r_file(c, pos, path, "root", "root", mode, &sb);
}

void
r_dir(struct rctx *c, struct srcpos pos, const char *path, const char *owner,
      const char *group, unsigned mode)
{
	add(c, pos, path, owner, group, mode)->type = GFILE_DIR;
}

void
r_symlink(struct rctx *c, struct srcpos pos, const char *path,
	  const char *target)
{
	struct gfile *g = add(c, pos, path, "root", "root", 0777);

	g->type = GFILE_SYMLINK;
	g->target = xstrdup(target);
	if (esc_has_ctl(target))
		r_refuse(c, pos, "symlink target", target,
			 "has a control character");
}

void
r_error(struct rctx *c, struct srcpos pos, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	diag_add(c->diags, pos, "%s", sb.buf);
	sb_release(&sb);
	c->err = -EINVAL;
}

bool
r_refuse(struct rctx *c, struct srcpos pos, const char *what, const char *value,
	 const char *why)
{
	CLEANUP_FREE char *shown = esc_show(value ? value : "");

	r_error(c, pos, "%s '%s' %s", what, shown, why);
	return false;
}

char *
r_secret(struct rctx *c, struct srcpos pos, const char *name)
{
	const struct render_input *in = c->in;

	if (!esc_charset_ok(name, "._@+:-")) {
		r_refuse(c, pos, "secret name", name,
			 "is not a name ([A-Za-z0-9._@+:-])");
		return NULL;
	}
	if (in->placeholder_secrets)
		return xasprintf("(secret %s)", name);
	for (size_t i = 0; i < in->nsecrets; i++)
		if (strcmp(in->secrets[i].name, name) == 0) {
			if (esc_has_ctl(in->secrets[i].value)) {
				r_error(c, pos,
					"secret '%s' spans several lines",
					name);
				return NULL;
			}
			return xstrdup(in->secrets[i].value);
		}
	r_error(c, pos, "secret '%s' has no value (out/secrets/)", name);
	return NULL;
}

char *
ipv4_network(const char *addr, unsigned prefix)
{
	unsigned a[4];
	uint32_t v, mask;
	char tail;

	if (prefix > 32 || sscanf(addr, "%u.%u.%u.%u%c", &a[0], &a[1], &a[2],
				  &a[3], &tail) != 4)
		return NULL;
	for (int i = 0; i < 4; i++)
		if (a[i] > 255)
			return NULL;
	v = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
	mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
	v &= mask;
	return xasprintf("%u.%u.%u.%u/%u", v >> 24, (v >> 16) & 255,
			 (v >> 8) & 255, v & 255, prefix);
}

void
r_header(struct strbuf *sb, const struct rctx *c, const char *comment,
	 const char *what)
{
	sb_printf(sb, "%s %s\n", comment, what);
	sb_printf(sb,
		  "%s Generated by sbx-build from %s (VM '%s'); edit the "
		  "recipe, not this file.\n",
		  comment, c->vm->file, c->vm->name);
}

const struct distro_info *
r_distro(struct rctx *c, struct srcpos pos)
{
	const struct distro_info *d =
		c->vm->base_ref ? distro_get(c->vm->base_ref->distro) : NULL;

	if (d == NULL)
		r_error(c, pos, "VM '%s' has no base of a known distribution",
			c->vm->name);
	return d;
}
