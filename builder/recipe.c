/* Recipes: read recipes/ *.yaml, decode them through the schemas below,
 * resolve references between VMs and check what no single field can. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "distro.h"
#include "overlay.h"
#include "recipe.h"
#include "schema.h"
#include "util.h"
#include "validate.h"
#include "ytree.h"

/* One recipe file: a VM, bases, or both. */
struct recipe_doc {
	struct srcpos pos;
	struct base *bases;
	size_t nbases;
	bool has_vm;
	struct vm vm;
};

#define HINT_NAME                                                         \
	"a name of lower-case letters, digits, '.', '_' or '-' starting " \
	"with a letter or digit, at most 63 long"
#define HINT_VM_NAME "a VM name"
#define HINT_ACCOUNT                                                      \
	"a user or group name of lower-case letters, digits, '_' or '-' " \
	"starting with a letter or '_', at most 32 long"
#define HINT_ENV_NAME	"a variable name of letters, digits and '_'"
#define HINT_GUEST_PATH "without '.', '..', '//' or a trailing '/'"
#define HINT_PROJECT_PATH \
	"a path relative to the project directory, without '..'"

static const char *const nic_kinds[] = {"user", "internal", NULL};
static const char *const protos[] = {"tcp", "udp", NULL};

static const struct field base_fields[] = {
	{.key = "distro",
	 .type = F_ENUM,
	 .required = true,
	 .values = distro_names,
	 .offset = offsetof(struct base, distro)},
	{.key = "url",
	 .type = F_STR,
	 .valid = valid_url,
	 .hint = "an https://, http:// or file:// URL",
	 .offset = offsetof(struct base, url)},
	{.key = "path",
	 .type = F_STR,
	 .valid = valid_project_path,
	 .hint = HINT_PROJECT_PATH,
	 .offset = offsetof(struct base, path)},
	{.key = "checksum-url",
	 .type = F_STR,
	 .valid = valid_url,
	 .hint = "an https://, http:// or file:// URL",
	 .offset = offsetof(struct base, checksum_url)},
	{.key = "checksum",
	 .type = F_STR,
	 .offset = offsetof(struct base, checksum)},
	{.key = "key-fingerprint",
	 .type = F_STR,
	 .offset = offsetof(struct base, key_fingerprint)},
	{.key = "key-url",
	 .type = F_STR,
	 .valid = valid_url,
	 .hint = "an https://, http:// or file:// URL",
	 .offset = offsetof(struct base, key_url)},
	{0},
};
static const struct schema base_schema = {"base", 0, base_fields};

static bool
decode_password(const struct field *f, const struct ynode *n, void *obj,
		struct diag_list *diags)
{
	struct user *u = obj;

	if (n->kind != YNODE_SCALAR) {
		diag_add(diags, n->pos, "'%s' must be a value", f->key);
		return false;
	}
	if (strcmp(n->str, "random") == 0) {
		u->password = PASSWORD_RANDOM;
	} else if (strcmp(n->str, "locked") == 0) {
		u->password = PASSWORD_LOCKED;
	} else if (valid_password_hash(n->str)) {
		u->password = PASSWORD_HASH;
		u->password_hash = xstrdup(n->str);
	} else {
		diag_add(diags, n->pos,
			 "'password' must be 'random', 'locked' or a crypt "
			 "hash such as '$y$...', never a clear-text password");
		return false;
	}
	return true;
}

static const struct field user_fields[] = {
	{.key = "name",
	 .type = F_STR,
	 .required = true,
	 .valid = valid_account_name,
	 .hint = HINT_ACCOUNT,
	 .offset = offsetof(struct user, name)},
	{.key = "password",
	 .type = F_CUSTOM,
	 .decode = decode_password,
	 .def = "locked"},
	{.key = "groups",
	 .type = F_STRLIST,
	 .valid = valid_account_name,
	 .hint = "group names (" HINT_ACCOUNT ")",
	 .offset = offsetof(struct user, groups)},
	{.key = "ssh-keys",
	 .type = F_STRLIST,
	 .valid = valid_ssh_key,
	 .hint = "public keys such as 'ssh-ed25519 AAAA... comment', one "
		 "line each",
	 .offset = offsetof(struct user, ssh_keys)},
	{.key = "shell",
	 .type = F_STR,
	 .valid = valid_guest_path,
	 .hint = "an absolute path such as /bin/bash",
	 .offset = offsetof(struct user, shell)},
	{.key = "sudo",
	 .type = F_BOOL,
	 .def = "false",
	 .offset = offsetof(struct user, sudo)},
	{0},
};
static const struct schema user_schema = {"user", 0, user_fields};

/* "127.0.0.1:8080" */
static bool
decode_host(const struct field *f, const struct ynode *n, void *obj,
	    struct diag_list *diags)
{
	struct forward *fw = obj;
	const char *colon;
	uint64_t port;
	uint32_t a;

	(void)f;
	if (n->kind == YNODE_SCALAR && (colon = strrchr(n->str, ':'))) {
		CLEANUP_FREE char *addr =
			xstrndup(n->str, (size_t)(colon - n->str));

		if (parse_ipv4(addr, &a) && parse_u64(colon + 1, &port) &&
		    port >= 1 && port <= 65535) {
			if (strcmp(addr, "127.0.0.1") != 0) {
				diag_add(diags, n->pos,
					 "forwards listen on 127.0.0.1 only, "
					 "not '%s'",
					 addr);
				return false;
			}
			fw->host_addr = xstrdup(addr);
			fw->host_port = (uint16_t)port;
			return true;
		}
	}
	diag_add(diags, n->pos,
		 "'host' must be ADDRESS:PORT such as 127.0.0.1:8080");
	return false;
}

static const struct field forward_fields[] = {
	{.key = "host",
	 .type = F_CUSTOM,
	 .required = true,
	 .decode = decode_host},
	{.key = "guest",
	 .type = F_U16,
	 .required = true,
	 .offset = offsetof(struct forward, guest_port)},
	{.key = "proto",
	 .type = F_ENUM,
	 .values = protos,
	 .def = "tcp",
	 .offset = offsetof(struct forward, proto)},
	{0},
};
static const struct schema forward_schema = {"forward", 0, forward_fields};

static bool
decode_mac(const struct field *f, const struct ynode *n, void *obj,
	   struct diag_list *diags)
{
	struct nic *nic = obj;

	(void)f;
	nic->mac_pos = n->pos;
	if (n->kind != YNODE_SCALAR || !parse_mac(n->str)) {
		diag_add(diags, n->pos,
			 "'mac' must be a MAC address such as "
			 "52:54:00:12:34:56");
		return false;
	}
	nic->mac = xstrdup(n->str);
	for (char *p = nic->mac; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	if (strtoul(nic->mac, NULL, 16) & 1) {
		diag_add(diags, n->pos,
			 "'mac' %s is a multicast address; use a unicast "
			 "one such as 52:54:00:...",
			 n->str);
		return false;
	}
	return true;
}

static bool
decode_address(const struct field *f, const struct ynode *n, void *obj,
	       struct diag_list *diags)
{
	struct nic *nic = obj;
	uint32_t a;
	unsigned prefix;

	(void)f;
	nic->address_pos = n->pos;
	if (n->kind != YNODE_SCALAR || !parse_cidr(n->str, &a, &prefix) ||
	    prefix > 30) {
		diag_add(diags, n->pos,
			 "'address' must be an IPv4 address with a prefix "
			 "such as 192.168.76.11/24");
		return false;
	}
	nic->address = xstrndup(n->str, strcspn(n->str, "/"));
	nic->prefix = prefix;
	return true;
}

static const struct field nic_fields[] = {
	{.key = "name",
	 .type = F_STR,
	 .required = true,
	 .valid = valid_ifname,
	 .hint = "an interface name (1-15 letters, digits, '-' or '_')",
	 .offset = offsetof(struct nic, name)},
	{.key = "type",
	 .type = F_ENUM,
	 .required = true,
	 .values = nic_kinds,
	 .offset = offsetof(struct nic, kind)},
	{.key = "mac",
	 .type = F_CUSTOM,
	 .required = true,
	 .decode = decode_mac},
	{.key = "address", .type = F_CUSTOM, .decode = decode_address},
	{.key = "forwards",
	 .type = F_LIST,
	 .sub = &forward_schema,
	 .elem_size = sizeof(struct forward),
	 .offset = offsetof(struct nic, forwards),
	 .count_off = offsetof(struct nic, nforwards)},
	{0},
};
static const struct schema nic_schema = {"NIC", 0, nic_fields};

static const struct field pnetwork_fields[] = {
	{.key = "name",
	 .type = F_STR,
	 .required = true,
	 .valid = valid_name,
	 .hint = HINT_NAME,
	 .offset = offsetof(struct pnetwork, name)},
	{.key = "subnet",
	 .type = F_STR,
	 .required = true,
	 .offset = offsetof(struct pnetwork, subnet),
	 .pos_off = offsetof(struct pnetwork, subnet_pos)},
	{.key = "gateway",
	 .type = F_STR,
	 .valid = valid_ipv4,
	 .hint = "an IPv4 address such as 10.0.21.1",
	 .offset = offsetof(struct pnetwork, gateway),
	 .pos_off = offsetof(struct pnetwork, gateway_pos)},
	{0},
};
static const struct schema pnetwork_schema = {"network", 0, pnetwork_fields};

static const struct field secret_fields[] = {
	{.key = "name",
	 .type = F_STR,
	 .required = true,
	 .valid = valid_name,
	 .hint = HINT_NAME,
	 .offset = offsetof(struct secret, name)},
	{.key = "env",
	 .type = F_STR,
	 .required = true,
	 .valid = valid_env_name,
	 .hint = HINT_ENV_NAME,
	 .offset = offsetof(struct secret, env)},
	{.key = "generate",
	 .type = F_BOOL,
	 .def = "true",
	 .offset = offsetof(struct secret, generate)},
	{0},
};
static const struct schema secret_schema = {"secret", 0, secret_fields};

static const struct field service_fields[] = {
	{.key = "name",
	 .type = F_STR,
	 .required = true,
	 .valid = valid_name,
	 .hint = HINT_NAME,
	 .offset = offsetof(struct service, name)},
	{.key = "image",
	 .type = F_STR,
	 .required = true,
	 .valid = valid_image_ref,
	 .hint = "an image reference such as "
		 "docker.io/library/alpine:3.20[@sha256:HEX]",
	 .offset = offsetof(struct service, image)},
	{.key = "build",
	 .type = F_STR,
	 .valid = valid_guest_path,
	 .hint = "an absolute guest path (a directory of the "
		 "overlay) " HINT_GUEST_PATH,
	 .offset = offsetof(struct service, build)},
	{.key = "ports",
	 .type = F_STRLIST,
	 .valid = valid_port_spec,
	 .hint = "VMPORT:CONTAINERPORT or ADDRESS:VMPORT:CONTAINERPORT",
	 .offset = offsetof(struct service, ports)},
	{.key = "network",
	 .type = F_STR,
	 .valid = valid_name,
	 .hint = HINT_NAME,
	 .offset = offsetof(struct service, network),
	 .pos_off = offsetof(struct service, network_pos)},
	{.key = "ip",
	 .type = F_STR,
	 .valid = valid_ipv4,
	 .hint = "an IPv4 address such as 10.0.21.2",
	 .offset = offsetof(struct service, ip),
	 .pos_off = offsetof(struct service, ip_pos)},
	{.key = "dns",
	 .type = F_STR,
	 .offset = offsetof(struct service, dns),
	 .pos_off = offsetof(struct service, dns_pos)},
	{.key = "volumes",
	 .type = F_STRLIST,
	 .valid = valid_volume,
	 .hint = "SOURCE:DEST[:OPTIONS] with absolute paths (or a volume "
		 "name as SOURCE) and options such as ro,Z",
	 .offset = offsetof(struct service, volumes)},
	{.key = "env",
	 .type = F_KVMAP,
	 .valid = valid_env_value,
	 .hint = "one line without control characters",
	 .valid_key = valid_env_name,
	 .key_hint = HINT_ENV_NAME,
	 .offset = offsetof(struct service, env),
	 .count_off = offsetof(struct service, nenv)},
	{.key = "secrets",
	 .type = F_LIST,
	 .sub = &secret_schema,
	 .elem_size = sizeof(struct secret),
	 .offset = offsetof(struct service, secrets),
	 .count_off = offsetof(struct service, nsecrets)},
	{.key = "restart",
	 .type = F_STR,
	 .def = "always",
	 .valid = valid_restart,
	 .hint = "one of 'no', 'always', 'on-success', 'on-failure', "
		 "'on-abnormal', 'on-watchdog' or 'on-abort'",
	 .offset = offsetof(struct service, restart)},
	{0},
};
static const struct schema service_schema = {"service", 0, service_fields};

static const struct field listener_fields[] = {
	{.key = "enabled",
	 .type = F_BOOL,
	 .def = "true",
	 .offset = offsetof(struct proxy_listener, enabled)},
	{.key = "port",
	 .type = F_U16,
	 .required = true,
	 .offset = offsetof(struct proxy_listener, port)},
	{.key = "publish",
	 .type = F_U16,
	 .required = true,
	 .offset = offsetof(struct proxy_listener, publish)},
	{.key = "connect-ports",
	 .type = F_U16LIST,
	 .required = true,
	 .offset = offsetof(struct proxy_listener, connect_ports),
	 .count_off = offsetof(struct proxy_listener, nconnect_ports)},
	{.key = "allow-list",
	 .type = F_BOOL,
	 .def = "false",
	 .offset = offsetof(struct proxy_listener, allow_list)},
	{.key = "domains",
	 .type = F_STRLIST,
	 .valid = valid_domain,
	 .hint = "domain names such as example.com or .example.com (with "
		 "its subdomains), not URLs, ports or IP addresses",
	 .offset = offsetof(struct proxy_listener, domains),
	 .pos_off = offsetof(struct proxy_listener, domains_pos)},
	{.key = "service",
	 .type = F_STR,
	 .required = true,
	 .valid = valid_name,
	 .hint = HINT_NAME,
	 .offset = offsetof(struct proxy_listener, service)},
	{0},
};
static const struct schema listener_schema = {"proxy listener", 0,
					      listener_fields};

static const struct field proxy_server_fields[] = {
	{.key = "http",
	 .type = F_STRUCT,
	 .required = true,
	 .sub = &listener_schema,
	 .offset = offsetof(struct proxy_server, http)},
	{.key = "ssh",
	 .type = F_STRUCT,
	 .required = true,
	 .sub = &listener_schema,
	 .offset = offsetof(struct proxy_server, ssh)},
	{.key = "dns",
	 .type = F_STR,
	 .valid = valid_name,
	 .hint = HINT_NAME,
	 .offset = offsetof(struct proxy_server, dns_service)},
	{.key = "admin-port",
	 .type = F_U16,
	 .offset = offsetof(struct proxy_server, admin_port)},
	{0},
};
static const struct schema proxy_server_schema = {
	"proxy-server", offsetof(struct proxy_server, present),
	proxy_server_fields};

static const struct field use_proxy_fields[] = {
	{.key = "vm",
	 .type = F_STR,
	 .required = true,
	 .valid = valid_vm_name,
	 .hint = HINT_VM_NAME,
	 .offset = offsetof(struct use_proxy, vm),
	 .pos_off = offsetof(struct use_proxy, vm_pos)},
	{.key = "no-proxy",
	 .type = F_STRLIST,
	 .valid = valid_no_proxy,
	 .hint = "domain names (example.com, .example.com), IPv4 addresses "
		 "or IPv4 CIDRs, not URLs or ports",
	 .offset = offsetof(struct use_proxy, no_proxy)},
	{0},
};
static const struct schema use_proxy_schema = {
	"use-proxy", offsetof(struct use_proxy, present), use_proxy_fields};

static const struct field gui_fields[] = {
	{.key = "waypipe",
	 .type = F_BOOL,
	 .def = "true",
	 .offset = offsetof(struct gui, waypipe)},
	{.key = "vsock-port",
	 .type = F_U32,
	 .min = 1,
	 .max = 0xfffffffe,
	 .def = "4000",
	 .offset = offsetof(struct gui, vsock_port)},
	{.key = "apps",
	 .type = F_STRLIST,
	 .valid = valid_app_name,
	 .hint = "app names of letters, digits, '.', '_', '+' or '-'",
	 .offset = offsetof(struct gui, apps)},
	{0},
};
static const struct schema gui_schema = {"gui", 0, gui_fields};

static bool
decode_file_body(const struct field *f, const struct ynode *n, void *obj,
		 struct diag_list *diags)
{
	struct file_spec *fs = obj;

	if (n->kind != YNODE_SCALAR) {
		diag_add(diags, n->pos, "'%s' must be a string", f->key);
		return false;
	}
	if (strcmp(f->key, "content") == 0) {
		fs->source = FILE_INLINE;
		fs->content = xstrdup(n->str);
		return true;
	}
	fs->source = FILE_TEMPLATE;
	fs->template = xstrdup(n->str);
	if (!valid_project_path(n->str)) {
		CLEANUP_FREE char *v = shown(n->str);

		diag_add(diags, n->pos, "'template' must be %s, not '%s'",
			 HINT_PROJECT_PATH, v);
		return false;
	}
	return true;
}

static const struct field file_fields[] = {
	{.key = "path",
	 .type = F_STR,
	 .required = true,
	 .valid = valid_guest_path,
	 .hint = "an absolute guest path " HINT_GUEST_PATH,
	 .offset = offsetof(struct file_spec, path)},
	{.key = "content", .type = F_CUSTOM, .decode = decode_file_body},
	{.key = "template", .type = F_CUSTOM, .decode = decode_file_body},
	{.key = "owner",
	 .type = F_STR,
	 .def = "root",
	 .valid = valid_account_name,
	 .hint = HINT_ACCOUNT,
	 .offset = offsetof(struct file_spec, owner)},
	{.key = "group",
	 .type = F_STR,
	 .def = "root",
	 .valid = valid_account_name,
	 .hint = HINT_ACCOUNT,
	 .offset = offsetof(struct file_spec, group)},
	{.key = "mode",
	 .type = F_MODE,
	 .def = "0644",
	 .offset = offsetof(struct file_spec, mode)},
	{0},
};
static const struct schema file_schema = {"file", 0, file_fields};

/* base: NAME, or an inline base definition. */
static bool
decode_vm_base(const struct field *f, const struct ynode *n, void *obj,
	       struct diag_list *diags)
{
	struct recipe_doc *doc = obj;
	struct base *b;

	(void)f;
	doc->vm.base_pos = n->pos;
	if (n->kind == YNODE_SCALAR) {
		doc->vm.base = xstrdup(n->str);
		return true;
	}
	if (n->kind != YNODE_MAP) {
		diag_add(diags, n->pos,
			 "'base' must be a base name or a mapping");
		return false;
	}
	/* An inline base is private to this VM: it takes the name "@VM". */
	doc->bases = xrealloc(doc->bases, (doc->nbases + 1) * sizeof(*b));
	b = &doc->bases[doc->nbases++];
	memset(b, 0, sizeof(*b));
	doc->vm.base = xstrdup("@inline");
	b->name = xstrdup("@inline");
	return schema_decode(&base_schema, n, b, diags);
}

#define VMF(m) (offsetof(struct recipe_doc, vm) + offsetof(struct vm, m))

static const struct field doc_fields[] = {
	{.key = "bases",
	 .type = F_NAMEMAP,
	 .sub = &base_schema,
	 .elem_size = sizeof(struct base),
	 .offset = offsetof(struct recipe_doc, bases),
	 .count_off = offsetof(struct recipe_doc, nbases),
	 .name_off = offsetof(struct base, name),
	 .valid_key = valid_name,
	 .key_hint = HINT_NAME},
	{.key = "vm",
	 .type = F_STR,
	 .offset = VMF(name),
	 .pos_off = VMF(name_pos)},
	{.key = "base", .type = F_CUSTOM, .decode = decode_vm_base},
	{.key = "disk",
	 .type = F_SIZE,
	 .min = 1ull << 30,
	 .max = 64ull << 40,
	 .align = 512,
	 .offset = VMF(disk)},
	{.key = "memory",
	 .type = F_SIZE,
	 .min = 256ull << 20,
	 .max = 16ull << 40,
	 .align = 1ull << 20,
	 .offset = VMF(memory)},
	{.key = "cpus",
	 .type = F_UINT,
	 .min = 1,
	 .max = 256,
	 .offset = VMF(cpus)},
	{.key = "hostname",
	 .type = F_STR,
	 .valid = valid_hostname,
	 .hint = "a host name of letters, digits and '-' in dot-separated "
		 "labels (RFC 1123)",
	 .offset = VMF(hostname)},
	{.key = "vsock-cid",
	 .type = F_U32,
	 .min = 3,
	 .max = 0xfffffffe,
	 .offset = VMF(cid),
	 .pos_off = VMF(cid_pos)},
	{.key = "users",
	 .type = F_LIST,
	 .sub = &user_schema,
	 .elem_size = sizeof(struct user),
	 .offset = VMF(users),
	 .count_off = VMF(nusers)},
	{.key = "nics",
	 .type = F_LIST,
	 .sub = &nic_schema,
	 .elem_size = sizeof(struct nic),
	 .offset = VMF(nics),
	 .count_off = VMF(nnics)},
	{.key = "packages",
	 .type = F_STRLIST,
	 .valid = valid_package_name,
	 .hint = "package names (letters, digits, '+', '.', '_', '~', ':' "
		 "or '-', starting with a letter or digit)",
	 .offset = VMF(packages)},
	{.key = "networks",
	 .type = F_LIST,
	 .sub = &pnetwork_schema,
	 .elem_size = sizeof(struct pnetwork),
	 .offset = VMF(networks),
	 .count_off = VMF(nnetworks)},
	{.key = "services",
	 .type = F_LIST,
	 .sub = &service_schema,
	 .elem_size = sizeof(struct service),
	 .offset = VMF(services),
	 .count_off = VMF(nservices)},
	{.key = "proxy-server",
	 .type = F_STRUCT,
	 .sub = &proxy_server_schema,
	 .offset = VMF(proxy_server)},
	{.key = "use-proxy",
	 .type = F_STRUCT,
	 .sub = &use_proxy_schema,
	 .offset = VMF(use_proxy)},
	{.key = "gui",
	 .type = F_STRUCT,
	 .sub = &gui_schema,
	 .offset = VMF(gui)},
	{.key = "files",
	 .type = F_LIST,
	 .sub = &file_schema,
	 .elem_size = sizeof(struct file_spec),
	 .offset = VMF(files),
	 .count_off = VMF(nfiles)},
	{.key = "overlay",
	 .type = F_STR,
	 .valid = valid_one_line,
	 .offset = VMF(overlay),
	 .pos_off = VMF(overlay_pos)},
	{.key = "units",
	 .type = F_STRLIST,
	 .valid = valid_unit_name,
	 .hint = "systemd unit names such as sshd.service",
	 .offset = VMF(units)},
	{0},
};
static const struct schema doc_schema = {"recipe", 0, doc_fields};

enum {
	DEFAULT_DISK = 20ull << 30,
	DEFAULT_MEMORY = 4ull << 30,
	DEFAULT_CPUS = 4,
};

static void
strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->pos);
}

static void
base_free(struct base *b)
{
	free(b->name);
	free(b->url);
	free(b->path);
	free(b->checksum_url);
	free(b->checksum);
	free(b->key_fingerprint);
	free(b->key_url);
}

static void
listener_free(struct proxy_listener *l)
{
	free(l->connect_ports);
	strlist_free(&l->domains);
	free(l->service);
}

static void
service_free(struct service *s)
{
	free(s->name);
	free(s->image);
	free(s->build);
	strlist_free(&s->ports);
	free(s->network);
	free(s->ip);
	free(s->dns);
	free(s->dns_resolved);
	strlist_free(&s->volumes);
	for (size_t i = 0; i < s->nenv; i++) {
		free(s->env[i].key);
		free(s->env[i].value);
	}
	free(s->env);
	for (size_t i = 0; i < s->nsecrets; i++) {
		free(s->secrets[i].name);
		free(s->secrets[i].env);
	}
	free(s->secrets);
	free(s->restart);
}

static void
vm_free(struct vm *vm)
{
	free(vm->file);
	free(vm->name);
	free(vm->base);
	free(vm->hostname);
	for (size_t i = 0; i < vm->nusers; i++) {
		struct user *u = &vm->users[i];

		free(u->name);
		free(u->password_hash);
		strlist_free(&u->groups);
		strlist_free(&u->ssh_keys);
		free(u->shell);
	}
	free(vm->users);
	for (size_t i = 0; i < vm->nnics; i++) {
		struct nic *n = &vm->nics[i];

		free(n->name);
		free(n->mac);
		free(n->address);
		for (size_t j = 0; j < n->nforwards; j++)
			free(n->forwards[j].host_addr);
		free(n->forwards);
	}
	free(vm->nics);
	strlist_free(&vm->packages);
	for (size_t i = 0; i < vm->nnetworks; i++) {
		free(vm->networks[i].name);
		free(vm->networks[i].subnet);
		free(vm->networks[i].gateway);
	}
	free(vm->networks);
	for (size_t i = 0; i < vm->nservices; i++)
		service_free(&vm->services[i]);
	free(vm->services);
	listener_free(&vm->proxy_server.http);
	listener_free(&vm->proxy_server.ssh);
	free(vm->proxy_server.dns_service);
	free(vm->use_proxy.vm);
	strlist_free(&vm->use_proxy.no_proxy);
	strlist_free(&vm->gui.apps);
	for (size_t i = 0; i < vm->nfiles; i++) {
		struct file_spec *fs = &vm->files[i];

		free(fs->path);
		free(fs->content);
		free(fs->template);
		free(fs->owner);
		free(fs->group);
	}
	free(vm->files);
	free(vm->overlay);
	strlist_free(&vm->units);
}

void
recipe_set_free(struct recipe_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->nbases; i++)
		base_free(&set->bases[i]);
	for (size_t i = 0; i < set->nvms; i++)
		vm_free(&set->vms[i]);
	for (size_t i = 0; i < set->nfiles; i++)
		free(set->files[i]);
	free(set->bases);
	free(set->vms);
	free(set->files);
	free(set->dir);
	free(set);
}

struct vm *
recipe_find_vm(const struct recipe_set *set, const char *name)
{
	for (size_t i = 0; i < set->nvms; i++)
		if (strcmp(set->vms[i].name, name) == 0)
			return &set->vms[i];
	return NULL;
}

struct base *
recipe_find_base(const struct recipe_set *set, const char *name)
{
	for (size_t i = 0; i < set->nbases; i++)
		if (strcmp(set->bases[i].name, name) == 0)
			return &set->bases[i];
	return NULL;
}

const struct nic *
vm_nic(const struct vm *vm, enum nic_kind kind)
{
	for (size_t i = 0; i < vm->nnics; i++)
		if (vm->nics[i].kind == kind)
			return &vm->nics[i];
	return NULL;
}

const struct service *
vm_service(const struct vm *vm, const char *name)
{
	for (size_t i = 0; name != NULL && i < vm->nservices; i++)
		if (vm->services[i].name != NULL &&
		    strcmp(vm->services[i].name, name) == 0)
			return &vm->services[i];
	return NULL;
}

/* --- checks across fields and VMs ------------------------------------ */

static void
unresolved(struct diag_list *diags, struct srcpos pos, const char *what,
	   const char *name, const char *const *cand, size_t n)
{
	const char *hint = did_you_mean(name, cand, n);

	if (hint != NULL)
		diag_add(diags, pos, "unknown %s '%s' (did you mean '%s'?)",
			 what, name, hint);
	else
		diag_add(diags, pos, "unknown %s '%s'", what, name);
}

static void
check_base(const struct base *b, struct diag_list *diags)
{
	if ((b->url == NULL) == (b->path == NULL))
		diag_add(diags, b->pos,
			 "base '%s' needs exactly one of 'url' or 'path'",
			 b->name);
	if (b->url != NULL && b->checksum_url == NULL && b->checksum == NULL)
		diag_add(diags, b->pos,
			 "base '%s' downloads without 'checksum-url' or "
			 "'checksum': it could not be verified",
			 b->name);
	if (b->checksum != NULL) {
		const char *colon = strchr(b->checksum, ':');
		size_t want = str_starts_with(b->checksum, "sha256:")	? 64
			      : str_starts_with(b->checksum, "sha512:") ? 128
									: 0;

		if (colon == NULL || want == 0 || strlen(colon + 1) != want ||
		    strspn(colon + 1, "0123456789abcdef") != want)
			diag_add(diags, b->pos,
				 "base '%s': 'checksum' must be sha256:HEX "
				 "or sha512:HEX in lower case",
				 b->name);
	}
	if (b->key_fingerprint != NULL &&
	    (strlen(b->key_fingerprint) != 40 ||
	     strspn(b->key_fingerprint, "0123456789ABCDEFabcdef") != 40))
		diag_add(diags, b->pos,
			 "base '%s': 'key-fingerprint' must be 40 hex "
			 "digits",
			 b->name);
}

static bool
same_subnet(const char *a, const char *b, unsigned prefix)
{
	uint32_t x, y, mask = prefix == 0 ? 0 : ~0u << (32 - prefix);

	return parse_ipv4(a, &x) && parse_ipv4(b, &y) &&
	       (x & mask) == (y & mask);
}

/* An allow-list without domains denies everything; domains without an
 * allow-list are ignored: both are mistakes, not configurations. */
static void
check_listener(const struct vm *vm, const struct proxy_listener *l,
	       struct diag_list *diags)
{
	const char *cand[64];
	size_t n = 0;

	if (l->allow_list && l->domains.n == 0)
		diag_add(diags, l->pos,
			 "'allow-list: true' without 'domains' would deny "
			 "every host; list the domains");
	if (!l->allow_list && l->domains.n > 0)
		diag_add(diags, l->domains_pos,
			 "'domains' without 'allow-list: true' would be "
			 "ignored; set 'allow-list: true' or remove them");
	if (l->service == NULL || vm_service(vm, l->service) != NULL)
		return;
	for (size_t i = 0; i < vm->nservices && n < 64; i++)
		if (vm->services[i].name != NULL)
			cand[n++] = vm->services[i].name;
	unresolved(diags, l->pos, "service", l->service, cand, n);
}

static void
check_users(const struct vm *vm, struct diag_list *diags)
{
	for (size_t i = 0; i < vm->nusers; i++) {
		const struct user *u = &vm->users[i];

		if (u->name == NULL)
			continue;
		if (reserved_user_name(u->name))
			diag_add(diags, u->pos,
				 "user '%s' is a system account; a recipe "
				 "creates ordinary users only",
				 u->name);
		for (size_t j = 0; j < i; j++)
			if (vm->users[j].name != NULL &&
			    strcmp(u->name, vm->users[j].name) == 0)
				diag_add(diags, u->pos,
					 "user '%s' is listed twice", u->name);
	}
}

static void
check_networks(const struct vm *vm, struct diag_list *diags)
{
	for (size_t i = 0; i < vm->nnetworks; i++) {
		const struct pnetwork *net = &vm->networks[i];

		if (net->name == NULL || net->subnet == NULL)
			continue;
		for (size_t j = 0; j < i; j++)
			if (vm->networks[j].name != NULL &&
			    strcmp(vm->networks[j].name, net->name) == 0)
				diag_add(diags, net->pos,
					 "network '%s' is listed twice",
					 net->name);
		if (!valid_subnet(net->subnet)) {
			diag_add(diags, net->subnet_pos,
				 "network '%s': 'subnet' must be a CIDR such "
				 "as 10.0.21.0/24",
				 net->name);
			continue;
		}
		if (net->gateway != NULL && valid_ipv4(net->gateway) &&
		    !ipv4_in_subnet(net->gateway, net->subnet))
			diag_add(diags, net->gateway_pos,
				 "network '%s': 'gateway' %s is not in "
				 "subnet %s",
				 net->name, net->gateway, net->subnet);
	}
}

char *
pnetwork_dynamic_range(const struct pnetwork *net)
{
	uint32_t a;
	unsigned p;

	if (net->subnet == NULL || !valid_subnet(net->subnet) ||
	    !parse_cidr(net->subnet, &a, &p) || p > 29)
		return NULL;
	a |= 1u << (31 - p);
	return xasprintf("%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff,
			 (a >> 8) & 0xff, a & 0xff, p + 1);
}

/* A static 'ip' in the dynamic range could be taken by a container that
 * happens to start first: the service would then fail to start. */
static void
check_static_ips(const struct vm *vm, struct diag_list *diags)
{
	for (size_t i = 0; i < vm->nservices; i++) {
		const struct service *s = &vm->services[i];
		CLEANUP_FREE char *range = NULL;

		if (s->ip == NULL || s->network == NULL || !valid_ipv4(s->ip))
			continue;
		for (size_t j = 0; j < vm->nnetworks && range == NULL; j++)
			if (vm->networks[j].name != NULL &&
			    strcmp(vm->networks[j].name, s->network) == 0)
				range = pnetwork_dynamic_range(
					&vm->networks[j]);
		if (range != NULL && ipv4_in_subnet(s->ip, range))
			diag_add(diags, s->ip_pos,
				 "service '%s': 'ip' %s is in the range podman "
				 "hands out to other containers (%s); use an "
				 "address of the subnet's lower half",
				 s->name, s->ip, range);
	}
}

/* The Quadlet unit of an image is named after the last component of its
 * reference without tag or digest (as render-proxy.c names it): two
 * services may share it only for the same image and build. */
static size_t
image_unit_span(const char *ref, const char **ret_start)
{
	const char *s = strrchr(ref, '/');

	s = s ? s + 1 : ref;
	*ret_start = s;
	return strcspn(s, ":@");
}

static void
check_service_image(const struct vm *vm, size_t i, struct diag_list *diags)
{
	const struct service *s = &vm->services[i];
	const char *a, *b;
	size_t na, nb;

	if (s->image == NULL)
		return;
	na = image_unit_span(s->image, &a);
	for (size_t j = 0; j < i; j++) {
		const struct service *t = &vm->services[j];

		if (t->image == NULL || t->name == NULL)
			continue;
		nb = image_unit_span(t->image, &b);
		if (na != nb || strncmp(a, b, na) != 0)
			continue;
		if (strcmp(s->image, t->image) != 0 ||
		    (s->build != NULL && t->build != NULL &&
		     strcmp(s->build, t->build) != 0))
			diag_add(diags, s->pos,
				 "services '%s' and '%s' name different "
				 "images or builds that would share the unit "
				 "'%.*s'",
				 t->name, s->name, (int)na, a);
	}
}

/* Long (about 200 lines): every cross-field rule of a VM, collected into
 * one diag list in recipe order; candidates to move into validate.c when
 * recipe.c (1,600 lines) is split. */
static void
check_vm(struct recipe_set *set, struct vm *vm, struct diag_list *diags)
{
	const char *cand[64];
	size_t n;

	/* The name makes file names (out/NAME.qcow2) and shell words. */
	if (!valid_vm_name(vm->name)) {
		CLEANUP_FREE char *v = shown(vm->name);

		diag_add(diags, vm->name_pos,
			 "VM name '%s' must be lower-case letters, digits, "
			 "'.', '_' or '-', start with a letter or digit, and "
			 "be at most 32 long",
			 v);
	}

	if (vm->base == NULL) {
		diag_add(diags, vm->pos,
			 "missing required key 'base' in VM "
			 "'%s'",
			 vm->name);
	} else {
		vm->base_ref = recipe_find_base(set, vm->base);
		if (vm->base_ref == NULL) {
			for (n = 0; n < set->nbases && n < 64; n++)
				cand[n] = set->bases[n].name;
			unresolved(diags, vm->base_pos, "base", vm->base, cand,
				   n);
		}
	}
	if (vm->cid_pos.line == 0)
		diag_add(diags, vm->pos,
			 "missing required key 'vsock-cid' in VM '%s'",
			 vm->name);
	if (vm->nnics == 0)
		diag_add(diags, vm->pos, "VM '%s' has no NIC", vm->name);
	for (size_t i = 0; i < vm->nnics; i++) {
		const struct nic *nic = &vm->nics[i];

		if (nic->name == NULL)
			continue;
		/* address_pos is set when the key was given (even if bad). */
		if (nic->kind == NIC_INTERNAL && nic->address_pos.line == 0)
			diag_add(diags, nic->pos,
				 "internal NIC '%s' needs an 'address'",
				 nic->name);
		if (nic->kind == NIC_INTERNAL && nic->nforwards > 0)
			diag_add(diags, nic->forwards[0].pos,
				 "only the user-mode NIC has forwards");
		for (size_t j = 0; j < i; j++)
			if (vm->nics[j].kind == nic->kind)
				diag_add(diags, nic->pos,
					 "VM '%s' has two %s NICs", vm->name,
					 nic_kinds[nic->kind]);
	}
	check_users(vm, diags);
	check_networks(vm, diags);
	check_static_ips(vm, diags);
	for (size_t i = 0; i < vm->nservices; i++) {
		struct service *s = &vm->services[i];
		uint32_t a;

		if (s->name == NULL)
			continue;
		for (size_t j = 0; j < i; j++)
			if (vm->services[j].name != NULL &&
			    strcmp(s->name, vm->services[j].name) == 0)
				diag_add(diags, s->pos,
					 "service '%s' is listed twice",
					 s->name);
		check_service_image(vm, i, diags);
		if (s->network != NULL) {
			const struct pnetwork *net = NULL;

			n = 0;
			for (size_t j = 0; j < vm->nnetworks && n < 64; j++) {
				if (vm->networks[j].name == NULL)
					continue;
				cand[n++] = vm->networks[j].name;
				if (strcmp(vm->networks[j].name, s->network) ==
				    0)
					net = &vm->networks[j];
			}
			if (net == NULL)
				unresolved(diags, s->network_pos, "network",
					   s->network, cand, n);
			else if (s->ip != NULL && net->subnet != NULL &&
				 valid_subnet(net->subnet) &&
				 valid_ipv4(s->ip) &&
				 !ipv4_in_subnet(s->ip, net->subnet))
				diag_add(diags, s->ip_pos,
					 "service '%s': 'ip' %s is not in "
					 "network '%s' (%s)",
					 s->name, s->ip, net->name,
					 net->subnet);
		}
		if (s->ip != NULL && !parse_ipv4(s->ip, &a))
			diag_add(diags, s->pos,
				 "service '%s': 'ip' must be an IPv4 address",
				 s->name);
		if (s->dns != NULL && str_starts_with(s->dns, "service:")) {
			const struct service *t =
				vm_service(vm, s->dns + strlen("service:"));

			if (t == NULL || t->ip == NULL)
				diag_add(diags, s->dns_pos,
					 "'dns' names service '%s', which is "
					 "not a service of this VM with an "
					 "'ip'",
					 s->dns + strlen("service:"));
			else
				s->dns_resolved = xstrdup(t->ip);
		} else if (s->dns != NULL) {
			if (!parse_ipv4(s->dns, &a))
				diag_add(diags, s->dns_pos,
					 "'dns' must be an IPv4 address or "
					 "service:NAME");
			else
				s->dns_resolved = xstrdup(s->dns);
		}
	}
	if (vm->proxy_server.present) {
		const struct proxy_server *ps = &vm->proxy_server;

		check_listener(vm, &ps->http, diags);
		check_listener(vm, &ps->ssh, diags);
		if (!ps->http.enabled && !ps->ssh.enabled)
			diag_add(diags, ps->pos,
				 "a proxy server needs at least one enabled "
				 "proxy");
		if (vm->nnetworks == 0)
			diag_add(diags, ps->pos,
				 "a proxy server needs a podman network "
				 "('networks')");
		if (ps->http.publish == ps->ssh.publish)
			diag_add(diags, ps->ssh.pos,
				 "the http and ssh proxies both publish "
				 "port %u",
				 ps->ssh.publish);
		if (ps->dns_service != NULL &&
		    vm_service(vm, ps->dns_service) == NULL) {
			for (n = 0; n < vm->nservices && n < 64; n++)
				cand[n] = vm->services[n].name;
			unresolved(diags, ps->pos, "service", ps->dns_service,
				   cand, n);
		}
		if (vm_nic(vm, NIC_INTERNAL) == NULL)
			diag_add(diags, ps->pos,
				 "a proxy server needs an internal NIC");
	}
	if (vm->use_proxy.present && vm->use_proxy.vm != NULL) {
		struct vm *t = recipe_find_vm(set, vm->use_proxy.vm);

		if (t == NULL) {
			for (n = 0; n < set->nvms && n < 64; n++)
				cand[n] = set->vms[n].name;
			unresolved(diags, vm->use_proxy.vm_pos, "VM",
				   vm->use_proxy.vm, cand, n);
		} else if (!t->proxy_server.present) {
			diag_add(diags, vm->use_proxy.vm_pos,
				 "VM '%s' has no 'proxy-server'", t->name);
		} else {
			const struct nic *a = vm_nic(vm, NIC_INTERNAL);
			const struct nic *b = vm_nic(t, NIC_INTERNAL);

			vm->use_proxy.target = t;
			if (a == NULL)
				diag_add(diags, vm->use_proxy.pos,
					 "'use-proxy' needs an internal NIC");
			else if (b != NULL && a->address != NULL &&
				 b->address != NULL &&
				 (a->prefix != b->prefix ||
				  !same_subnet(a->address, b->address,
					       a->prefix)))
				diag_add(diags, a->address_pos,
					 "address %s/%u is not on the proxy "
					 "VM's subnet (%s/%u)",
					 a->address, a->prefix, b->address,
					 b->prefix);
		}
		if (vm_nic(vm, NIC_USER) != NULL)
			diag_add(diags, vm_nic(vm, NIC_USER)->pos,
				 "a VM behind a proxy must not have a "
				 "user-mode NIC: it would bypass the proxy");
	}
	for (size_t i = 0; i < vm->nfiles; i++) {
		const struct file_spec *fs = &vm->files[i];

		if (fs->path == NULL)
			continue;
		for (size_t j = 0; j < i; j++)
			if (vm->files[j].path != NULL &&
			    strcmp(vm->files[j].path, fs->path) == 0)
				diag_add(diags, fs->pos,
					 "file '%s' is listed twice (first at "
					 "line %d)",
					 fs->path, vm->files[j].pos.line);
		if (fs->content == NULL && fs->template == NULL)
			diag_add(diags, fs->pos,
				 "file '%s' needs 'content' or 'template'",
				 fs->path);
	}
}

/* Two VMs must not share a CID, a MAC address or an internal address. */
static void
check_unique(struct recipe_set *set, struct diag_list *diags)
{
	for (size_t i = 0; i < set->nvms; i++) {
		struct vm *a = &set->vms[i];

		for (size_t j = 0; j < i; j++) {
			struct vm *b = &set->vms[j];

			if (a->cid != 0 && a->cid == b->cid)
				diag_add(diags, a->cid_pos,
					 "vsock CID %u is already used by VM "
					 "'%s' (%s:%d)",
					 a->cid, b->name, b->cid_pos.file,
					 b->cid_pos.line);
			for (size_t k = 0; k < a->nnics; k++) {
				for (size_t l = 0; l < b->nnics; l++) {
					const struct nic *x = &a->nics[k];
					const struct nic *y = &b->nics[l];

					if (x->mac && y->mac &&
					    strcmp(x->mac, y->mac) == 0)
						diag_add(diags, x->mac_pos,
							 "MAC %s is already "
							 "used by VM '%s' "
							 "(%s:%d)",
							 x->mac, b->name,
							 y->mac_pos.file,
							 y->mac_pos.line);
					if (x->address && y->address &&
					    strcmp(x->address, y->address) == 0)
						diag_add(diags, x->address_pos,
							 "address %s is "
							 "already used by VM "
							 "'%s' (%s:%d)",
							 x->address, b->name,
							 y->address_pos.file,
							 y->address_pos.line);
				}
			}
		}
	}
}

static int
cmp_vm(const void *a, const void *b)
{
	return strcmp(((const struct vm *)a)->name,
		      ((const struct vm *)b)->name);
}

static void
apply_defaults(struct recipe_set *set, struct vm *vm, struct diag_list *diags)
{
	if (vm->disk == 0)
		vm->disk = DEFAULT_DISK;
	if (vm->memory == 0)
		vm->memory = DEFAULT_MEMORY;
	if (vm->cpus == 0)
		vm->cpus = DEFAULT_CPUS;
	if (vm->hostname == NULL) {
		vm->hostname = xasprintf("sbx-%s", vm->name);
		for (char *p = vm->hostname; *p; p++)
			if (*p == '_')
				*p = '-';
		if (valid_vm_name(vm->name) && !valid_hostname(vm->hostname))
			diag_add(diags, vm->name_pos,
				 "the host name '%s' made from the VM name is "
				 "not valid; give 'hostname'",
				 vm->hostname);
	}
	if (vm->overlay == NULL) {
		CLEANUP_FREE char *rel = xasprintf("overlays/%s", vm->name);
		CLEANUP_FREE char *abs = path_join(set->dir, rel);
		struct stat st;

		if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode))
			vm->overlay = xstrdup(rel);
	}
}

/* Adds one decoded document to the set, moving its parts. */
static void
adopt(struct recipe_set *set, struct recipe_doc *doc, const char *file,
      struct diag_list *diags)
{
	for (size_t i = 0; i < doc->nbases; i++) {
		struct base *b = &doc->bases[i];
		struct base *prev;

		if (strcmp(b->name, "@inline") == 0) {
			free(b->name);
			b->name = xasprintf("@%s",
					    doc->vm.name ? doc->vm.name : file);
			if (doc->vm.base != NULL) {
				free(doc->vm.base);
				doc->vm.base = xstrdup(b->name);
			}
		}
		prev = recipe_find_base(set, b->name);
		if (prev != NULL) {
			diag_add(diags, b->pos,
				 "base '%s' is already defined at %s:%d",
				 b->name, prev->pos.file, prev->pos.line);
			base_free(b);
			continue;
		}
		set->bases =
			xrealloc(set->bases, (set->nbases + 1) * sizeof(*b));
		set->bases[set->nbases++] = *b;
	}
	free(doc->bases);
	if (!doc->has_vm)
		return;
	if (doc->vm.name == NULL) {
		diag_add(diags, doc->pos,
			 "missing required key 'vm' (the VM's name)");
		vm_free(&doc->vm);
		return;
	}
	if (recipe_find_vm(set, doc->vm.name) != NULL) {
		diag_add(diags, doc->pos, "VM '%s' is defined twice",
			 doc->vm.name);
		vm_free(&doc->vm);
		return;
	}
	doc->vm.pos = doc->pos;
	/* The recipe's name inside the project ("recipes/dev.yaml"), so what
	 * is generated from it does not depend on where the project is. */
	{
		size_t n = strlen(set->dir);

		if (strncmp(file, set->dir, n) == 0 && file[n] == '/')
			file += n + 1;
	}
	doc->vm.file = xstrdup(file);
	set->vms = xrealloc(set->vms, (set->nvms + 1) * sizeof(struct vm));
	set->vms[set->nvms++] = doc->vm;
}

static bool
doc_has_vm(const struct ynode *root)
{
	for (size_t i = 0; i + 1 < root->n; i += 2)
		if (strcmp(root->items[i]->str, "bases") != 0)
			return true;
	return false;
}

/* What one recipe file may hold (README, "Recipes"). */
enum { RECIPE_MAX_BYTES = 1 << 20 };
static const struct ytree_limits recipe_limits = {
	.max_depth = 16,
	.max_nodes = 20000,
	.max_scalar = 256 << 10,
};

int
recipe_set_load_texts(const char *dir, const char *const *names,
		      const char *const *texts, size_t n,
		      struct recipe_set **ret, struct diag_list **ret_diags)
{
	struct diag_list *diags = diag_list_new();
	struct recipe_set *set = xcalloc(1, sizeof(*set));

	*ret_diags = diags;
	set->dir = xstrdup(dir);
	set->files = xcalloc(n + 1, sizeof(*set->files));
	for (size_t i = 0; i < n; i++)
		set->files[set->nfiles++] = xstrdup(names[i]);
	for (size_t i = 0; i < n; i++) {
		struct recipe_doc doc = {0};
		struct ynode *root = NULL;
		const char *file = set->files[i];

		if (strlen(texts[i]) > RECIPE_MAX_BYTES) {
			diag_add(diags, (struct srcpos){file, 1, 1},
				 "recipe larger than %d bytes",
				 RECIPE_MAX_BYTES);
			continue;
		}
		if (ytree_parse_limited(file, texts[i], strlen(texts[i]),
					&recipe_limits, diags, &root) < 0)
			continue;
		if (root->kind != YNODE_MAP) {
			diag_add(diags, root->pos,
				 "a recipe must be a mapping of keys");
			ynode_free(root);
			continue;
		}
		doc.has_vm = doc_has_vm(root);
		schema_decode(&doc_schema, root, &doc, diags);
		ynode_free(root);
		adopt(set, &doc, file, diags);
	}
	if (set->nvms > 1)
		qsort(set->vms, set->nvms, sizeof(*set->vms), cmp_vm);
	for (size_t i = 0; i < set->nbases; i++)
		check_base(&set->bases[i], diags);
	for (size_t i = 0; i < set->nvms; i++)
		apply_defaults(set, &set->vms[i], diags);
	for (size_t i = 0; i < set->nvms; i++)
		check_vm(set, &set->vms[i], diags);
	check_unique(set, diags);
	for (size_t i = 0; i < set->nvms; i++)
		overlay_check(set, &set->vms[i], diags);
	if (diag_count(diags) > 0) {
		recipe_set_free(set);
		return -EINVAL;
	}
	*ret = set;
	return 0;
}

/* Reads one recipe: a regular file (a FIFO or device is refused without
 * blocking on it) of at most RECIPE_MAX_BYTES, without NUL bytes.
 * Problems with the content are diagnostics (-EINVAL); I/O errors are
 * returned. */
static int
read_recipe(const char *path, char **ret_text, struct diag_list *diags)
{
	struct srcpos pos = {path, 1, 1};
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_add(diags, pos, "recipe is not a regular file");
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > RECIPE_MAX_BYTES) {
		diag_add(diags, pos, "recipe larger than %d bytes",
			 RECIPE_MAX_BYTES);
		close(fd);
		return -EINVAL;
	}
	/* One byte more than allowed tells a file that grew meanwhile. */
	buf = xmalloc(RECIPE_MAX_BYTES + 2);
	for (;;) {
		ssize_t k = read(fd, buf + len, RECIPE_MAX_BYTES + 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0 || (len += (size_t)k) > RECIPE_MAX_BYTES)
			break;
	}
	close(fd);
	if (r == 0 && len > RECIPE_MAX_BYTES) {
		diag_add(diags, pos, "recipe larger than %d bytes",
			 RECIPE_MAX_BYTES);
		r = -EINVAL;
	}
	buf[len] = '\0';
	if (r == 0 && strlen(buf) != len) {
		diag_add(diags, (struct srcpos){path, 1, 1},
			 "recipe contains a NUL byte");
		r = -EINVAL;
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_text = buf;
	return 0;
}

int
recipe_check_base_files(const struct recipe_set *set, struct diag_list *diags)
{
	size_t before = diag_count(diags);

	for (size_t i = 0; i < set->nbases; i++) {
		const struct base *b = &set->bases[i];
		CLEANUP_FREE char *abs = NULL;
		unsigned char magic[4] = {0};
		struct stat st;
		int fd;

		if (b->path == NULL)
			continue;
		abs = path_join(set->dir, b->path);
		fd = open(abs, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			diag_add(diags, b->pos,
				 "base '%s': cannot open '%s': %s", b->name,
				 b->path, strerror(errno));
			continue;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			diag_add(diags, b->pos,
				 "base '%s': '%s' is not a regular file",
				 b->name, b->path);
		} else if (!(read(fd, magic, 4) == 4 &&
			     memcmp(magic, "QFI\xfb", 4) == 0) &&
			   (st.st_size == 0 || st.st_size % 512 != 0)) {
			diag_add(diags, b->pos,
				 "base '%s': '%s' is neither a qcow2 image nor "
				 "a raw disk image (a non-empty multiple of "
				 "512 bytes)",
				 b->name, b->path);
		}
		close(fd);
	}
	return diag_count(diags) > before ? -EINVAL : 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
recipe_set_load(const char *dir, struct recipe_set **ret,
		struct diag_list **ret_diags)
{
	CLEANUP_FREE char *rdir = path_join(dir, "recipes");
	char **names = NULL, **texts = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	*ret_diags = diag_list_new();
	d = opendir(rdir);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !str_ends_with(de->d_name, ".yaml"))
			continue;
		names = xgrow(names, &cap, n + 1, sizeof(*names));
		names[n++] = path_join(rdir, de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	texts = xcalloc(n + 1, sizeof(*texts));
	for (size_t i = 0; i < n && r == 0; i++)
		r = read_recipe(names[i], &texts[i], *ret_diags);
	if (r == 0 && n == 0) {
		diag_add(*ret_diags, (struct srcpos){rdir, 0, 0},
			 "no recipes (*.yaml) found");
		r = -EINVAL;
	}
	if (r == 0) {
		diag_list_free(*ret_diags);
		r = recipe_set_load_texts(dir, (const char *const *)names,
					  (const char *const *)texts, n, ret,
					  ret_diags);
	}
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		free(texts[i]);
	}
	free(names);
	free(texts);
	return r;
}
