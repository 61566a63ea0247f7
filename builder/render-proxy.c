/* The proxy VM's services: tinyproxy configurations and allow-lists, the
 * Podman Quadlet units (network, baked images, containers)
 * and the root-only environment files that carry the service secrets. */
#include <ctype.h>
#include <string.h>

#include "escape.h"
#include "render-int.h"

#define QUADLET_DIR "/etc/containers/systemd"
#define TINYPROXY   "/etc/sbx/tinyproxy"
#define SECRETS_DIR "/etc/sbx/secrets"
/* Where the container sees its configuration (the Containerfile's
 * ENTRYPOINT reads /etc/tinyproxy/tinyproxy.conf). */
#define TINYPROXY_CT "/etc/tinyproxy"

/* A domain of an allow-list: "github.com", or ".github.com" /
 * "*.github.com" for the domain and every name under it. */
static bool
domain_ok(const char *d)
{
	if (str_starts_with(d, "*."))
		d += 2;
	else if (*d == '.')
		d++;
	if (*d == '\0' || *d == '.' || *d == '-')
		return false;
	for (; *d; d++)
		if (!isalnum((unsigned char)*d) && *d != '-' && *d != '.')
			return false;
	return true;
}

static void
regex_quote(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '.')
			sb_putc(sb, '\\');
		sb_putc(sb, (char)tolower((unsigned char)*s));
	}
}

/* Tinyproxy matches each pattern (a POSIX basic regular expression, case
 * insensitive) anywhere in the host name, so every pattern is anchored:
 * "github.com" must not let "github.com.evil.example" through. */
static void
render_filter(struct rctx *c, const struct proxy_listener *l, const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	r_header(&sb, c, "#",
		 "Tinyproxy allow-list: the only hosts this proxy reaches.");
	for (size_t i = 0; i < l->domains.n; i++) {
		const char *d = l->domains.v[i];
		bool sub = false;

		if (!domain_ok(d)) {
			CLEANUP_FREE char *shown = esc_show(d);

			r_error(c, l->domains.pos[i],
				"'%s' is not a domain name (for a domain and "
				"its subdomains write '.example.com')",
				shown);
			continue;
		}
		if (str_starts_with(d, "*.")) {
			d += 2;
			sub = true;
		} else if (*d == '.') {
			d++;
			sub = true;
		}
		sb_putc(&sb, '^');
		regex_quote(&sb, d);
		sb_puts(&sb, "$\n");
		if (sub) {
			sb_puts(&sb, "\\.");
			regex_quote(&sb, d);
			sb_puts(&sb, "$\n");
		}
	}
	r_file(c, l->pos, path, "root", "root", 0644, &sb);
}

static void
render_tinyproxy(struct rctx *c, const struct proxy_listener *l,
		 const char *what, const char *allow)
{
	CLEANUP_FREE char *dir = NULL;
	CLEANUP_FREE char *conf = NULL;
	CLEANUP_FREE char *filter = NULL;
	CLEANUP_FREE char *head = xasprintf("Tinyproxy: %s.", what);
	struct strbuf sb = STRBUF_INIT;

	/* Everything else in tinyproxy.conf is a number or a constant; the
	 * domains go through domain_ok. */
	if (!esc_filename_ok(l->service)) {
		r_refuse(c, l->pos, "service", l->service,
			 "is not a name ([A-Za-z0-9._@+-])");
		return;
	}
	dir = xasprintf(TINYPROXY "/%s", l->service);
	conf = xasprintf("%s/tinyproxy.conf", dir);
	filter = xasprintf("%s/filter", dir);

	r_dir(c, l->pos, dir, "root", "root", 0755);
	r_header(&sb, c, "#", head);
	sb_puts(&sb, "# Runs in a container as the image's 'tinyproxy' user; "
		     "logs go to the journal.\n\n");
	sb_printf(&sb,
		  "Port %u\n"
		  "Timeout 600\n"
		  "MaxClients 100\n"
		  "LogLevel Info\n"
		  "DisableViaHeader Yes\n"
		  "\n"
		  "# Only the internal links (podman's DNAT keeps the "
		  "client's address).\n"
		  "%s"
		  "\n"
		  "# CONNECT only to these ports.\n",
		  l->port, allow);
	for (size_t i = 0; i < l->nconnect_ports; i++)
		sb_printf(&sb, "ConnectPort %u\n", l->connect_ports[i]);
	if (l->allow_list) {
		sb_puts(&sb, "\n# Only the hosts of the allow-list.\n"
			     "Filter \"" TINYPROXY_CT "/filter\"\n"
			     "FilterDefaultDeny Yes\n");
		render_filter(c, l, filter);
	}
	r_file(c, l->pos, conf, "root", "root", 0644, &sb);
}

/* The Allow lines: the address of each VM behind this one (their links),
 * or the internal subnet NET while none uses it. */
static char *
tinyproxy_allow(const char *net, const struct render_link *l, size_t n)
{
	struct strbuf sb = STRBUF_INIT;

	if (n == 0)
		sb_printf(&sb, "Allow %s\n", net);
	for (size_t i = 0; i < n; i++)
		sb_printf(&sb, "# %s\nAllow %s\n", l[i].client->name,
			  l[i].addr);
	return sb_detach(&sb, NULL);
}

char *
render_image_name(const char *ref)
{
	const char *s = strrchr(ref, '/');
	const char *e;

	s = s ? s + 1 : ref;
	e = strpbrk(s, ":@");
	return e ? xstrndup(s, (size_t)(e - s)) : xstrdup(s);
}

/* The image source of a service: its Quadlet Image= value, the .image
 * unit that loads the baked image (added the first time it is seen). */
static char *
render_image(struct rctx *c, const struct service *s)
{
	CLEANUP_FREE char *unit = render_image_name(s->image);
	CLEANUP_FREE char *path = xasprintf(QUADLET_DIR "/%s.image", unit);
	struct strbuf sb = STRBUF_INIT;
	const struct gfile *g = gfiles_find(c->f, path);

	if (g != NULL) {
		/* Services sharing the image share its unit. */
		if (strstr(g->data, s->image) == NULL ||
		    (s->build != NULL) != (strstr(g->data, "(built") != NULL))
			r_error(c, s->pos,
				"services '%s' and another one name different "
				"images '%s' as one unit '%s'",
				s->name, s->image, path);
		return xasprintf("%s.image", unit);
	}
	if (s->build != NULL && s->build[0] != '/') {
		r_error(c, s->pos,
			"'build' of service '%s' must be an absolute path in "
			"the guest (a directory of the overlay)",
			s->name);
		return xstrdup(s->image);
	}
	r_header(&sb, c, "#",
		 "Loads an image the build baked in (pinned in sbx.lock).");
	if (s->build != NULL)
		sb_printf(&sb, "# (built from %s at build time)\n", s->build);
	/* A tag cannot carry the recipe's digest: the name alone.  A "dir:"
	 * layout carries no name, so the image podman loads is tagged with
	 * it by its ID, which the bake wrote beside the layout ($$: systemd
	 * hands the shell one $). */
	sb_printf(&sb,
		  "[Image]\n"
		  "Image=dir:" RENDER_IMAGE_DIR "/%s\n"
		  "ImageTag=%.*s\n"
		  "\n"
		  "[Service]\n"
		  "ExecStartPost=/bin/sh -c 'exec podman tag "
		  "\"$$(cat " RENDER_IMAGE_DIR "/%s.id)\" %.*s'\n",
		  unit, (int)strcspn(s->image, "@"), s->image, unit,
		  (int)strcspn(s->image, "@"), s->image);
	r_file(c, s->pos, path, "root", "root", 0644, &sb);
	return xasprintf("%s.image", unit);
}

static const struct proxy_listener *
service_listener(const struct vm *vm, const struct service *s)
{
	const struct proxy_server *ps = &vm->proxy_server;

	if (!ps->present)
		return NULL;
	if (ps->http.enabled && strcmp(ps->http.service, s->name) == 0)
		return &ps->http;
	if (ps->ssh.enabled && strcmp(ps->ssh.service, s->name) == 0)
		return &ps->ssh;
	return NULL;
}

/* Characters of the values a unit takes as one word, with no quoting:
 * image references, guest paths, volumes, published ports. */
#define IMAGE_CHARS  "._/:@-"
#define PATH_CHARS   "._/+@-"
#define VOLUME_CHARS "._/:,=+@-"
#define PORT_CHARS   ".:/-"

static bool
restart_ok(const char *s)
{
	static const char *const v[] = {
		"no",	       "on-success", "on-failure", "on-abnormal",
		"on-watchdog", "on-abort",   "always",
	};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		if (strcmp(s, v[i]) == 0)
			return true;
	return false;
}

/* Everything of a service that goes into a unit, an environment file or
 * a file name, checked: each problem is reported, false if any. */
static bool
service_ok(struct rctx *c, const struct service *s)
{
	CLEANUP_FREE char *unit = NULL;
	int err = c->err;
	char ip[ESC_IPV4_MAX];

	c->err = 0;
	if (!esc_filename_ok(s->name))
		r_refuse(c, s->pos, "service name", s->name,
			 "is not a name ([A-Za-z0-9._@+-], not starting "
			 "with '-' or '.')");
	if (!esc_charset_ok(s->image, IMAGE_CHARS) || s->image[0] == '/' ||
	    s->image[0] == '.' || strstr(s->image, "..") != NULL ||
	    strstr(s->image, "//") != NULL)
		r_refuse(c, s->pos, "image", s->image,
			 "is not an image reference");
	else if (!esc_filename_ok(unit = render_image_name(s->image)))
		r_refuse(c, s->pos, "image", s->image,
			 "does not end in a name ([A-Za-z0-9._@+-])");
	if (s->build != NULL && (!esc_guest_path_ok(s->build) ||
				 !esc_charset_ok(s->build, PATH_CHARS)))
		r_refuse(c, s->pos, "build directory", s->build,
			 "is not an absolute guest path of [A-Za-z0-9._/+@-]");
	if (s->network != NULL && !esc_filename_ok(s->network))
		r_refuse(c, s->network_pos, "network", s->network,
			 "is not a name ([A-Za-z0-9._@+-])");
	if (s->ip != NULL && !esc_ipv4(s->ip, ip))
		r_refuse(c, s->pos, "ip", s->ip, "is not an IPv4 address");
	if (s->dns_resolved != NULL && !esc_ipv4(s->dns_resolved, ip))
		r_refuse(c, s->dns_pos, "dns", s->dns_resolved,
			 "is not an IPv4 address");
	for (size_t i = 0; i < s->ports.n; i++)
		if (!esc_charset_ok(s->ports.v[i], PORT_CHARS))
			r_refuse(c, s->ports.pos[i], "port", s->ports.v[i],
				 "is not [IP:]VMPORT:CONTAINERPORT");
	for (size_t i = 0; i < s->volumes.n; i++)
		if (!esc_charset_ok(s->volumes.v[i], VOLUME_CHARS))
			r_refuse(c, s->volumes.pos[i], "volume",
				 s->volumes.v[i],
				 "is not SOURCE:PATH[:OPTIONS] of "
				 "[A-Za-z0-9._/:,=+@-]");
	for (size_t i = 0; i < s->nenv; i++)
		if (!esc_env_name_ok(s->env[i].key))
			r_refuse(c, s->env[i].pos, "environment variable",
				 s->env[i].key,
				 "is not a name ([A-Za-z_][A-Za-z0-9_]*)");
	for (size_t i = 0; i < s->nsecrets; i++)
		if (!esc_env_name_ok(s->secrets[i].env))
			r_refuse(c, s->secrets[i].pos, "environment variable",
				 s->secrets[i].env,
				 "is not a name ([A-Za-z_][A-Za-z0-9_]*)");
	if (s->restart != NULL && !restart_ok(s->restart))
		r_refuse(c, s->pos, "restart", s->restart,
			 "is not a systemd Restart= value (no, on-success, "
			 "on-failure, on-abnormal, on-watchdog, on-abort, "
			 "always)");
	if (c->err == 0) {
		c->err = err;
		return true;
	}
	return false;
}

static void
render_container(struct rctx *c, const struct service *s)
{
	const struct vm *vm = c->vm;
	const struct proxy_listener *l = service_listener(vm, s);
	const struct nic *in = vm_nic(vm, NIC_INTERNAL);
	const struct service *dns_svc = NULL;
	const char *dns = s->dns_resolved;
	CLEANUP_FREE char *path =
		xasprintf(QUADLET_DIR "/%s.container", s->name);
	CLEANUP_FREE char *image = render_image(c, s);
	struct strbuf sb = STRBUF_INIT;
	char ip[ESC_IPV4_MAX], dnsip[ESC_IPV4_MAX];

	if (s->dns != NULL && str_starts_with(s->dns, "service:"))
		dns_svc = vm_service(vm, s->dns + strlen("service:"));
	/* The proxies resolve through the proxy server's DNS service. */
	if (dns == NULL && l != NULL && vm->proxy_server.dns_service) {
		dns_svc = vm_service(vm, vm->proxy_server.dns_service);
		dns = dns_svc ? dns_svc->ip : NULL;
	}

	r_header(&sb, c, "#", "A podman service, started at boot.");
	sb_printf(&sb,
		  "[Unit]\n"
		  "Description=sbx service %s\n"
		  "Wants=network-online.target\n"
		  "After=network-online.target\n",
		  s->name);
	if (dns_svc != NULL && dns_svc != s && esc_filename_ok(dns_svc->name))
		sb_printf(&sb, "Wants=%s.service\nAfter=%s.service\n",
			  dns_svc->name, dns_svc->name);
	sb_printf(&sb,
		  "\n"
		  "[Container]\n"
		  "ContainerName=%s\n"
		  "Image=%s\n",
		  s->name, image);
	sb_puts(&sb, "Pull=never\n");
	if (s->network != NULL)
		sb_printf(&sb, "Network=%s.network\n", s->network);
	if (s->ip != NULL && esc_ipv4(s->ip, ip))
		sb_printf(&sb, "IP=%s\n", ip);
	if (dns != NULL && esc_ipv4(dns, dnsip))
		sb_printf(&sb, "DNS=%s\n", dnsip);
	if (l != NULL && in != NULL && esc_ipv4(in->address, ip))
		sb_printf(&sb, "PublishPort=%s:%u:%u\n", ip, l->publish,
			  l->port);
	for (size_t i = 0; i < s->ports.n; i++)
		sb_printf(&sb, "PublishPort=%s\n", s->ports.v[i]);
	for (size_t i = 0; i < s->nenv; i++)
		esc_unit_env(&sb, s->env[i].key, s->env[i].value);
	if (s->nsecrets > 0) {
		CLEANUP_FREE char *envf =
			xasprintf(SECRETS_DIR "/%s.env", s->name);
		struct strbuf e = STRBUF_INIT;

		sb_printf(&sb, "EnvironmentFile=%s\n", envf);
		r_header(&e, c, "#",
			 "Secrets of the service, generated at build time "
			 "(out/secrets/).");
		for (size_t i = 0; i < s->nsecrets; i++) {
			const struct secret *sec = &s->secrets[i];
			CLEANUP_FREE char *v = r_secret(c, sec->pos, sec->name);

			if (v != NULL)
				sb_printf(&e, "%s=%s\n", sec->env, v);
		}
		r_file(c, s->pos, envf, "root", "root", 0600, &e);
	}
	if (l != NULL)
		sb_printf(&sb,
			  "Volume=" TINYPROXY "/%s:" TINYPROXY_CT ":ro,Z\n",
			  s->name);
	for (size_t i = 0; i < s->volumes.n; i++) {
		const char *v = s->volumes.v[i];
		const char *colon = strchr(v, ':');

		sb_printf(&sb, "Volume=%s\n", v);
		/* podman does not create a missing bind-mount source. */
		if (v[0] == '/' && colon != NULL) {
			CLEANUP_FREE char *host =
				xstrndup(v, (size_t)(colon - v));

			r_dir(c, s->pos, host, "root", "root", 0755);
		}
	}
	sb_printf(&sb,
		  "\n"
		  "[Service]\n"
		  "Restart=%s\n"
		  "# The first start loads the baked image.\n"
		  "TimeoutStartSec=900\n"
		  "\n"
		  "[Install]\n"
		  "WantedBy=multi-user.target\n",
		  s->restart ? s->restart : "always");
	r_file(c, s->pos, path, "root", "root", 0644, &sb);
}

void
render_proxy(struct rctx *c)
{
	const struct vm *vm = c->vm;
	const struct proxy_server *ps = &vm->proxy_server;
	bool any_secret = false;

	if (ps->present) {
		const struct nic *in = vm_nic(vm, NIC_INTERNAL);
		CLEANUP_FREE char *net =
			in ? ipv4_network(in->address, in->prefix) : NULL;
		CLEANUP_FREE char *allow = NULL;
		struct render_link links[VM_MAX_LINKS];
		int nl = render_links(c, links);

		if (net == NULL) {
			r_error(c, ps->pos,
				"a proxy server needs an internal NIC with an "
				"IPv4 address");
			render_links_free(links, nl > 0 ? (size_t)nl : 0);
			return;
		}
		if (nl < 0)
			return; /* render_net said why */
		allow = tinyproxy_allow(net, links, (size_t)nl);
		render_links_free(links, (size_t)nl);
		r_dir(c, ps->pos, "/etc/sbx", "root", "root", 0755);
		r_dir(c, ps->pos, TINYPROXY, "root", "root", 0755);
		if (ps->http.enabled)
			render_tinyproxy(c, &ps->http,
					 "the HTTP(S) proxy of the dev VMs",
					 allow);
		if (ps->ssh.enabled)
			render_tinyproxy(c, &ps->ssh,
					 "the SSH proxy of the dev VMs "
					 "(allow-listed hosts)",
					 allow);
	}
	for (size_t i = 0; i < vm->nnetworks; i++) {
		const struct pnetwork *n = &vm->networks[i];
		CLEANUP_FREE char *path = NULL;
		CLEANUP_FREE char *range = NULL;
		struct strbuf sb = STRBUF_INIT;
		char subnet[ESC_CIDR_MAX], gw[ESC_IPV4_MAX];
		bool ok = true;

		if (!esc_filename_ok(n->name))
			ok = r_refuse(c, n->pos, "network name", n->name,
				      "is not a name ([A-Za-z0-9._@+-], not "
				      "starting with '-' or '.')");
		if (!esc_cidr(n->subnet, subnet))
			ok = r_refuse(c, n->subnet_pos, "subnet", n->subnet,
				      "is not an IPv4 CIDR (A.B.C.D/N)");
		if (n->gateway != NULL && !esc_ipv4(n->gateway, gw))
			ok = r_refuse(c, n->pos, "gateway", n->gateway,
				      "is not an IPv4 address");
		if (!ok)
			continue;
		path = xasprintf(QUADLET_DIR "/%s.network", n->name);
		range = pnetwork_dynamic_range(n);
		r_header(&sb, c, "#", "A podman bridge for the services.");
		if (range != NULL)
			sb_puts(&sb, "# Containers without a static IP get "
				     "one of IPRange (the upper half of\n"
				     "# the subnet): a restart never takes "
				     "the lower half's static addresses.\n");
		sb_printf(&sb, "[Network]\nSubnet=%s\n", subnet);
		if (n->gateway != NULL)
			sb_printf(&sb, "Gateway=%s\n", gw);
		if (range != NULL)
			sb_printf(&sb, "IPRange=%s\n", range);
		r_file(c, n->pos, path, "root", "root", 0644, &sb);
	}
	for (size_t i = 0; i < vm->nservices; i++)
		any_secret |= vm->services[i].nsecrets > 0;
	if (any_secret) {
		if (!ps->present)
			r_dir(c, vm->pos, "/etc/sbx", "root", "root", 0755);
		r_dir(c, vm->pos, SECRETS_DIR, "root", "root", 0700);
	}
	for (size_t i = 0; i < vm->nservices; i++)
		if (service_ok(c, &vm->services[i]))
			render_container(c, &vm->services[i]);
}
