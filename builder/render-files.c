/* The recipe's own 'files:': inline content or a template with {{name}}
 * variables, rendered last so they replace a generated file of the same
 * path. */
#include <string.h>

#include "render-int.h"

/* Template variables: {{name}}. */
static char *
template_var(const struct rctx *c, const char *name)
{
	const struct vm *vm = c->vm;
	const struct nic *in = vm_nic(vm, NIC_INTERNAL);
	const struct vm *pvm =
		vm->proxy_server.present ? vm : vm->use_proxy.target;
	const struct nic *pin = pvm ? vm_nic(pvm, NIC_INTERNAL) : NULL;

	if (strcmp(name, "vm") == 0)
		return xstrdup(vm->name);
	if (strcmp(name, "hostname") == 0)
		return xstrdup(vm->hostname);
	if (strcmp(name, "internal_address") == 0 && in != NULL)
		return xstrdup(in->address);
	if (pin == NULL)
		return NULL;
	if (strcmp(name, "proxy_address") == 0)
		return xstrdup(pin->address);
	if (strcmp(name, "http_proxy_port") == 0)
		return xasprintf("%u", pvm->proxy_server.http.publish);
	if (strcmp(name, "ssh_proxy_port") == 0)
		return xasprintf("%u", pvm->proxy_server.ssh.publish);
	if (strcmp(name, "http_proxy") == 0)
		return xasprintf("http://%s:%u", pin->address,
				 pvm->proxy_server.http.publish);
	return NULL;
}

static void
expand_template(struct rctx *c, const struct file_spec *fs, const char *text,
		struct strbuf *out)
{
	const char *p = text, *open, *close;

	while ((open = strstr(p, "{{")) != NULL) {
		CLEANUP_FREE char *name = NULL;
		CLEANUP_FREE char *val = NULL;
		const char *s, *e;

		sb_add(out, p, (size_t)(open - p));
		close = strstr(open + 2, "}}");
		if (close == NULL) {
			r_error(c, fs->pos, "template '%s': '{{' without '}}'",
				fs->template);
			return;
		}
		for (s = open + 2; *s == ' '; s++)
			;
		for (e = close; e > s && e[-1] == ' '; e--)
			;
		name = xstrndup(s, (size_t)(e - s));
		val = template_var(c, name);
		if (val == NULL)
			r_error(c, fs->pos,
				"template '%s': unknown variable '%s' (known: "
				"vm, hostname, internal_address, "
				"proxy_address, http_proxy_port, "
				"ssh_proxy_port, http_proxy)",
				fs->template, name);
		else
			sb_puts(out, val);
		p = close + 2;
	}
	sb_puts(out, p);
}

static void
drop_path(struct gfiles *f, const char *path)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].path, path) != 0)
			continue;
		gfile_clear(&f->v[i]);
		f->v[i] = f->v[--f->n];
		return;
	}
}

/* The recipe's own 'files:' come last and replace a generated file of the
 * same path: the recipe has the final word. */
void
render_recipe_files(struct rctx *c)
{
	const struct render_input *in = c->in;
	const struct vm *vm = c->vm;

	for (size_t i = 0; i < vm->nfiles; i++) {
		const struct file_spec *fs = &vm->files[i];
		struct strbuf sb = STRBUF_INIT;
		const char *text = NULL;

		if (fs->source == FILE_INLINE) {
			sb_puts(&sb, fs->content);
		} else {
			for (size_t j = 0; j < in->ntemplates; j++)
				if (strcmp(in->template_names[j],
					   fs->template) == 0)
					text = in->template_texts[j];
			if (text == NULL) {
				r_error(c, fs->pos, "template '%s' not found",
					fs->template);
				continue;
			}
			expand_template(c, fs, text, &sb);
		}
		drop_path(c->f, fs->path);
		r_file(c, fs->pos, fs->path, fs->owner, fs->group, fs->mode,
		       &sb);
	}
}
