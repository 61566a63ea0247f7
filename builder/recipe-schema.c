/* Recipes, the key tables: what each mapping of a recipe file may hold,
 * with the validator and hint of every value, and the few decoders the
 * table cannot express (passwords, host forwards, MACs, addresses, file
 * bodies, a VM's base).  recipe-load.c decodes a file through
 * recipe_doc_schema (recipe-int.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "distro.h"
#include "recipe-int.h"
#include "recipe.h"
#include "schema.h"
#include "util.h"
#include "validate.h"
#include "ytree.h"

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

const char *const recipe_nic_kinds[] = {"user", "internal", NULL};
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
	 .values = recipe_nic_kinds,
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
const struct schema recipe_doc_schema = {"recipe", 0, doc_fields};
