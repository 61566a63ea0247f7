/* A VM behind the proxy VM (use-proxy): the package manager, the
 * environment and each user's SSH client go through the proxies.  And the
 * GUI helper of a VM with waypipe.  Addresses and ports come from the
 * proxy VM's recipe, never from a second copy. */
#include <string.h>

#include "distro.h"
#include "escape.h"
#include "render-int.h"

#define GUI_HELPER "/usr/local/bin/sbx-gui"
/* The host's vsock CID (VMADDR_CID_HOST). */
#define HOST_CID 2

static void
render_env(struct rctx *c, const char *http)
{
	const struct use_proxy *up = &c->vm->use_proxy;
	struct strbuf sb = STRBUF_INIT;
	struct strbuf no = STRBUF_INIT;

	/* pam_env reads KEY=VALUE lines: a value cannot be quoted there,
	 * so only host names, addresses and CIDRs get in. */
	for (size_t i = 0; i < up->no_proxy.n; i++) {
		if (!esc_charset_ok(up->no_proxy.v[i], "._:/*-")) {
			r_refuse(c, up->no_proxy.pos[i], "no-proxy entry",
				 up->no_proxy.v[i],
				 "is not a host name, address or CIDR");
			continue;
		}
		sb_printf(&no, "%s%s", no.len ? "," : "", up->no_proxy.v[i]);
	}
	r_header(&sb, c, "#", "Every program's proxy settings.");
	sb_printf(&sb,
		  "http_proxy=%s\n"
		  "https_proxy=%s\n"
		  "no_proxy=%s\n"
		  "HTTP_PROXY=%s\n"
		  "HTTPS_PROXY=%s\n"
		  "NO_PROXY=%s\n",
		  http, http, no.buf ? no.buf : "", http, http,
		  no.buf ? no.buf : "");
	sb_release(&no);
	r_file(c, up->pos, "/etc/environment", "root", "root", 0644, &sb);
}

/* dnf5 (Fedora 41 and later) reads drop-ins from /etc/dnf/libdnf5.conf.d/
 * after /etc/dnf/dnf.conf, and so does PackageKit's libdnf.  A drop-in
 * leaves the distribution's dnf.conf (and /etc/yum.conf, a link to it)
 * untouched. */
static void
render_pkg_proxy(struct rctx *c, const char *http)
{
	const struct vm *vm = c->vm;
	struct strbuf sb = STRBUF_INIT;
	const struct distro_info *d = r_distro(c, vm->use_proxy.pos);

	if (d == NULL)
		return;
	if (d->pkg_proxy_syntax == DISTRO_PROXY_APT) {
		r_header(&sb, c, "//", "APT through the proxy VM.");
		sb_printf(&sb,
			  "Acquire::http::Proxy \"%s\";\n"
			  "Acquire::https::Proxy \"%s\";\n",
			  http, http);
		r_file(c, vm->use_proxy.pos, d->pkg_proxy_conf, "root", "root",
		       0644, &sb);
		return;
	}
	r_header(&sb, c, "#", "dnf through the proxy VM.");
	sb_printf(&sb, "[main]\nproxy=%s\n", http);
	r_file(c, vm->use_proxy.pos, d->pkg_proxy_conf, "root", "root", 0644,
	       &sb);
}

static void
render_ssh_config(struct rctx *c, const char *addr, unsigned port)
{
	const struct vm *vm = c->vm;
	const struct distro_info *d = r_distro(c, vm->use_proxy.pos);
	const char *pkg, *nc;
	bool have = false;

	if (d == NULL)
		return;
	pkg = d->openbsd_netcat_pkg;
	nc = d->openbsd_netcat;
	for (size_t i = 0; i < vm->packages.n; i++)
		have |= strcmp(vm->packages.v[i], pkg) == 0;
	if (!have)
		r_error(c, vm->use_proxy.pos,
			"SSH through the proxy needs OpenBSD netcat (%s): add "
			"'%s' to 'packages'",
			nc, pkg);

	for (size_t i = 0; i < vm->nusers; i++) {
		const struct user *u = &vm->users[i];
		CLEANUP_FREE char *path = NULL;
		struct strbuf sb = STRBUF_INIT;

		if (!esc_username_ok(u->name))
			continue; /* render_users refuses it */
		path = xasprintf("/home/%s/.ssh/config", u->name);

		r_header(&sb, c, "#",
			 "SSH goes through the proxy VM's SSH proxy (an "
			 "allow-list of hosts).");
		sb_printf(&sb,
			  "Host *\n"
			  "\tProxyCommand %s -X connect -x %s:%u %%h %%p\n"
			  "\t# The proxy drops idle connections.\n"
			  "\tServerAliveInterval 60\n",
			  nc, addr, port);
		r_file(c, vm->use_proxy.pos, path, u->name, u->name, 0600, &sb);
	}
}

static void
render_gui(struct rctx *c)
{
	const struct gui *g = &c->vm->gui;
	struct strbuf sb = STRBUF_INIT;

	sb_puts(&sb, "#!/bin/sh\n");
	r_header(&sb, c, "#",
		 "Runs a GUI app on the host's Wayland desktop through "
		 "waypipe over vsock.");
	sb_printf(&sb,
		  "set -eu\n"
		  "\n"
		  "if [ \"$#\" -eq 0 ]; then\n"
		  "\techo \"usage: sbx-gui APP [ARG...]\" >&2\n"
		  "\techo \"runs APP on the host's desktop (waypipe, vsock "
		  "port %u)\" >&2\n",
		  g->vsock_port);
	if (g->apps.n > 0) {
		struct strbuf apps = STRBUF_INIT;

		/* Inside double quotes: '$', '`', '"' and '\' escaped, so
		 * nothing in it is shell. */
		sb_puts(&apps, "apps:");
		for (size_t i = 0; i < g->apps.n; i++) {
			if (esc_has_ctl(g->apps.v[i]))
				r_refuse(c, g->apps.pos[i], "GUI app",
					 g->apps.v[i],
					 "has a control character");
			sb_printf(&apps, " %s", g->apps.v[i]);
		}
		sb_puts(&sb, "\techo \"");
		esc_sh_dquoted(&sb, apps.buf);
		sb_puts(&sb, "\" >&2\n");
		sb_release(&apps);
	}
	sb_printf(&sb,
		  "\texit 2\n"
		  "fi\n"
		  "exec waypipe --vsock -s %u:%u server -- \"$@\"\n",
		  HOST_CID, g->vsock_port);
	r_file(c, g->pos, GUI_HELPER, "root", "root", 0755, &sb);
}

void
render_dev(struct rctx *c)
{
	const struct vm *vm = c->vm;
	const struct vm *pvm = vm->use_proxy.target;

	if (vm->gui.waypipe && vm->gui.vsock_port != 0)
		render_gui(c);
	if (!vm->use_proxy.present || pvm == NULL)
		return;

	const struct nic *pin = vm_nic(pvm, NIC_INTERNAL);
	const struct proxy_server *ps = &pvm->proxy_server;
	CLEANUP_FREE char *http = NULL;
	char addr[ESC_IPV4_MAX];

	/* Written back from its numbers into every file below. */
	if (pin == NULL || !esc_ipv4(pin->address, addr)) {
		r_error(c, vm->use_proxy.vm_pos,
			"proxy VM '%s' has no internal IPv4 address",
			pvm->name);
		return;
	}
	if (ps->http.enabled) {
		http = xasprintf("http://%s:%u", addr, ps->http.publish);
		render_env(c, http);
		render_pkg_proxy(c, http);
	}
	if (ps->ssh.enabled)
		render_ssh_config(c, addr, ps->ssh.publish);
}
