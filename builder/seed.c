/* NoCloud seed documents (pure) and the seed ISO (xorriso). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "escape.h"
#include "recipe.h"
#include "render.h"
#include "run.h"
#include "seed.h"
#include "util.h"

char *
base64_encode(const void *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1);
	char *o = out;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < len ? tab[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

bool
seed_skips(const char *path)
{
	return strcmp(path, "/etc/cloud/cloud-init.disabled") == 0 ||
	       strcmp(path, "/etc/machine-id") == 0 ||
	       str_starts_with(path, "/etc/NetworkManager/system-connections/");
}

/* A YAML double-quoted scalar. */
static void
yq(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			sb_printf(sb, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			sb_printf(sb, "\\x%02x", ch);
		else
			sb_putc(sb, (char)ch);
	}
	sb_putc(sb, '"');
}

static void
cmd(struct strbuf *sb, const char *const *argv)
{
	sb_puts(sb, "  - [");
	for (size_t i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			sb_puts(sb, ", ");
		yq(sb, argv[i]);
	}
	sb_puts(sb, "]\n");
}

static void
user_data_users(struct strbuf *sb, const struct vm *vm,
		const char *const *hashes)
{
	if (vm->nusers == 0)
		return;
	/* No "default": the image's stock user is not created. */
	sb_puts(sb, "users:\n");
	for (size_t i = 0; i < vm->nusers; i++) {
		const struct user *u = &vm->users[i];

		sb_puts(sb, "  - name: ");
		yq(sb, u->name);
		sb_putc(sb, '\n');
		if (u->groups.n > 0) {
			sb_puts(sb, "    groups: [");
			for (size_t j = 0; j < u->groups.n; j++) {
				sb_puts(sb, j ? ", " : "");
				yq(sb, u->groups.v[j]);
			}
			sb_puts(sb, "]\n");
		}
		if (u->shell != NULL) {
			sb_puts(sb, "    shell: ");
			yq(sb, u->shell);
			sb_putc(sb, '\n');
		}
		if (hashes[i] != NULL) {
			sb_puts(sb, "    lock_passwd: false\n"
				    "    hashed_passwd: ");
			yq(sb, hashes[i]);
			sb_putc(sb, '\n');
		} else {
			sb_puts(sb, "    lock_passwd: true\n");
		}
	}
}

/* The recipe's packages, installed by cloud-init's package module before
 * runcmd starts the services (the files, among them a proxy drop-in for
 * the package manager, are written before it). */
static void
user_data_packages(struct strbuf *sb, const struct vm *vm)
{
	if (vm->packages.n == 0)
		return;
	sb_puts(sb, "packages:\n");
	for (size_t i = 0; i < vm->packages.n; i++) {
		sb_puts(sb, "  - ");
		yq(sb, vm->packages.v[i]);
		sb_putc(sb, '\n');
	}
}

static void
user_data_files(struct strbuf *sb, const struct gfiles *files)
{
	sb_puts(sb, "write_files:\n");
	for (size_t i = 0; i < files->n; i++) {
		const struct gfile *g = &files->v[i];
		CLEANUP_FREE char *b64 = NULL;
		CLEANUP_FREE char *owner = NULL;
		char mode[8];

		if (g->type != GFILE_REG || seed_skips(g->path))
			continue;
		b64 = base64_encode(g->data, g->len);
		owner = xasprintf("%s:%s", g->owner, g->group);
		snprintf(mode, sizeof(mode), "0%o", g->mode);
		sb_puts(sb, "  - path: ");
		yq(sb, g->path);
		sb_puts(sb, "\n    owner: ");
		yq(sb, owner);
		sb_puts(sb, "\n    permissions: ");
		yq(sb, mode);
		sb_puts(sb, "\n    encoding: b64\n    content: ");
		yq(sb, b64);
		sb_putc(sb, '\n');
		/* Users exist only from the users module on: write their
		 * files in the final stage. */
		if (strcmp(g->owner, "root") != 0 ||
		    strcmp(g->group, "root") != 0)
			sb_puts(sb, "    defer: true\n");
	}
}

static void
user_data_runcmd(struct strbuf *sb, const struct vm *vm,
		 const struct gfiles *files)
{
	sb_puts(sb, "runcmd:\n");
	for (size_t i = 0; i < files->n; i++) {
		const struct gfile *g = &files->v[i];
		char mode[8];

		snprintf(mode, sizeof(mode), "0%o", g->mode);
		if (g->type == GFILE_DIR) {
			const char *argv[] = {
				"install", "-d", "-m",	   mode,    "-o",
				g->owner,  "-g", g->group, g->path, NULL};
			cmd(sb, argv);
		} else if (g->type == GFILE_SYMLINK) {
			const char *argv[] = {"ln", "-sfn", g->target, g->path,
					      NULL};
			cmd(sb, argv);
		}
	}
	{
		const char *argv[] = {"systemctl", "daemon-reload", NULL};
		cmd(sb, argv);
	}
	for (size_t i = 0; i < vm->units.n; i++) {
		const char *argv[] = {"systemctl", "enable", "--now",
				      vm->units.v[i], NULL};
		cmd(sb, argv);
	}
	for (size_t i = 0; i < files->n; i++) {
		const struct gfile *g = &files->v[i];
		const char *unit = strrchr(g->path, '/') + 1;
		const char *argv[] = {"systemctl", "start", "--no-block", unit,
				      NULL};

		if (g->type == GFILE_SYMLINK && strstr(g->path, ".wants/"))
			cmd(sb, argv);
	}
	/* Quadlet units are generated by daemon-reload, started here. */
	for (size_t i = 0; i < vm->nservices; i++) {
		CLEANUP_FREE char *unit =
			xasprintf("%s.service", vm->services[i].name);
		const char *argv[] = {"systemctl", "start", "--no-block", unit,
				      NULL};

		cmd(sb, argv);
	}
}

static char *
network_config(const struct vm *vm)
{
	struct strbuf sb = STRBUF_INIT;

	sb_puts(&sb, "version: 2\nethernets:\n");
	for (size_t i = 0; i < vm->nnics; i++) {
		const struct nic *n = &vm->nics[i];

		sb_puts(&sb, "  ");
		esc_yaml(&sb, n->name);
		sb_puts(&sb, ":\n    match:\n      macaddress: ");
		yq(&sb, n->mac);
		sb_puts(&sb, "\n    set-name: ");
		esc_yaml(&sb, n->name);
		sb_putc(&sb, '\n');
		if (n->kind == NIC_USER) {
			sb_puts(&sb, "    dhcp4: true\n");
		} else {
			CLEANUP_FREE char *a =
				xasprintf("%s/%u", n->address ? n->address : "",
					  n->prefix);

			/* No gateway, no nameservers: only the proxy. */
			sb_puts(&sb, "    dhcp4: false\n"
				     "    dhcp6: false\n"
				     "    accept-ra: false\n"
				     "    addresses: [");
			yq(&sb, a);
			sb_puts(&sb, "]\n");
		}
	}
	return sb_detach(&sb, NULL);
}

void
seed_build(const struct vm *vm, const struct gfiles *files,
	   const char *const *hashes, struct seed_docs *ret)
{
	struct strbuf sb = STRBUF_INIT;
	char hex[DIGEST_HEX_MAX];
	/* A comment ends at a line break: none gets in. */
	CLEANUP_FREE char *file = esc_show(vm->file ? vm->file : "");
	CLEANUP_FREE char *name = esc_show(vm->name);
	CLEANUP_FREE char *id = NULL;

	sb_printf(&sb,
		  "#cloud-config\n"
		  "# Generated by sbx-build from %s (VM '%s'): the files "
		  "the bake would write.\n",
		  file, name);
	sb_puts(&sb, "hostname: ");
	yq(&sb, vm->hostname);
	sb_puts(&sb, "\npreserve_hostname: false\n"
		     "ssh_pwauth: false\n"
		     "disable_root: true\n");
	user_data_users(&sb, vm, hashes);
	user_data_packages(&sb, vm);
	user_data_files(&sb, files);
	user_data_runcmd(&sb, vm, files);
	ret->user_data = sb_detach(&sb, NULL);
	ret->network_config = network_config(vm);

	/* A new instance id whenever the seed changes: cloud-init runs
	 * again for a new seed, not for the same one. */
	sb_puts(&sb, ret->user_data);
	sb_puts(&sb, ret->network_config);
	digest_buffer_hex(DIGEST_SHA256, sb.buf, sb.len, hex);
	sb_release(&sb);
	id = xasprintf("sbx-%s-%.16s", vm->name, hex);
	sb_puts(&sb, "instance-id: ");
	esc_yaml(&sb, id);
	sb_puts(&sb, "\nlocal-hostname: ");
	yq(&sb, vm->hostname);
	sb_putc(&sb, '\n');
	ret->meta_data = sb_detach(&sb, NULL);
}

void
seed_docs_release(struct seed_docs *d)
{
	free(d->user_data);
	free(d->meta_data);
	free(d->network_config);
	memset(d, 0, sizeof(*d));
}

int
seed_write_iso(const char *iso, const struct seed_docs *d, char **ret_err)
{
	CLEANUP_FREE char *copy = xstrdup(iso);
	CLEANUP_FREE char *tmpl = xasprintf("%s/.seed-XXXXXX", dirname(copy));
	CLEANUP_FREE char *files = NULL;
	CLEANUP_FREE char *out = NULL;
	const struct {
		const char *name, *text;
	} docs[] = {
		{"user-data", d->user_data},
		{"meta-data", d->meta_data},
		{"network-config", d->network_config},
	};
	char *msg = NULL;
	int r;

	if (mkdtemp(tmpl) == NULL) {
		r = -errno;
		if (ret_err != NULL)
			*ret_err = xasprintf("cannot create '%s': %s", tmpl,
					     strerror(-r));
		return r;
	}
	files = path_join(tmpl, "cidata");
	out = path_join(tmpl, "seed.iso");
	r = mkdir(files, 0700) < 0 ? -errno : 0;
	if (r < 0)
		msg = xasprintf("cannot create '%s': %s", files, strerror(-r));
	for (size_t i = 0; i < ARRAY_SIZE(docs) && r == 0; i++) {
		CLEANUP_FREE char *p = path_join(files, docs[i].name);

		r = write_file_atomic(p, docs[i].text, strlen(docs[i].text),
				      0600);
		if (r < 0)
			msg = xasprintf("cannot write '%s': %s", p,
					strerror(-r));
	}
	if (r == 0) {
		const char *argv[] = {
			"xorriso", "-as",   "mkisofs", "-quiet",
			"-output", out,	    "-volid",  "cidata",
			"-joliet", "-rock", files,     NULL,
		};

		struct strbuf log = STRBUF_INIT;
		struct run_opts o = {.out = &log, .err_to_out = true};

		r = run_program(argv, &o);
		if (r == -ENOENT)
			msg = xstrdup("xorriso is not installed");
		else if (r != 0)
			msg = run_failure(argv, r, &log);
		if (r > 0)
			r = -EIO;
		sb_release(&log);
	}
	if (r == 0 && chmod(out, 0600) < 0) {
		r = -errno;
		msg = xasprintf("cannot change the mode of '%s': %s", out,
				strerror(-r));
	}
	if (r == 0 && rename(out, iso) < 0) {
		r = -errno;
		msg = xasprintf("cannot rename '%s' to '%s': %s", out, iso,
				strerror(-r));
	}
	rm_rf(tmpl);
	if (r < 0 && ret_err != NULL)
		*ret_err = msg ? msg
			       : xasprintf("cannot write '%s': %s", iso,
					   strerror(-r));
	else
		free(msg);
	return r;
}
