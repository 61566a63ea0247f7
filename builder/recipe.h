/* The recipe model: what the YAML files under recipes/ say, parsed,
 * validated and with every reference resolved.  Every node keeps the
 * source position it came from, so a later failure can still say which
 * line asked for it. */
#ifndef SBX_RECIPE_H
#define SBX_RECIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct strlist {
	char **v;
	struct srcpos *pos; /* one per item */
	size_t n;
};

/* A base image: a named download (url + signed checksum file) or a local
 * file.  Defined under 'bases:' in any recipe file. */
enum distro {
	DISTRO_FEDORA,
	DISTRO_DEBIAN,
};

struct base {
	struct srcpos pos;
	char *name; /* "@VM" for a base given inline in a VM */
	enum distro distro;
	char *url;	       /* https://, http:// or file:// (NULL if path) */
	char *path;	       /* local image; relative to the project dir */
	char *checksum_url;    /* CHECKSUM / SHA512SUMS file */
	char *checksum;	       /* pinned "sha256:HEX" / "sha512:HEX", or NULL */
	char *key_fingerprint; /* OpenPGP fingerprint (40 hex), or NULL */
	char *key_url;	       /* where the signing keys are published */
};

enum password_kind {
	PASSWORD_LOCKED = 0,
	PASSWORD_RANDOM, /* generated at build time, kept in out/secrets/ */
	PASSWORD_HASH,	 /* a crypt(3) hash given in the recipe */
};

struct user {
	struct srcpos pos;
	char *name;
	enum password_kind password;
	char *password_hash; /* PASSWORD_HASH */
	struct strlist groups;
	struct strlist ssh_keys; /* public keys baked in (prefer run time) */
	char *shell;		 /* NULL: distribution default */
	bool sudo;		 /* passwordless sudo via /etc/sudoers.d */
};

/* A host port forwarded to the guest on the user-mode NIC. */
struct forward {
	struct srcpos pos;
	char *host_addr; /* always 127.0.0.1 (validated) */
	uint16_t host_port, guest_port;
	enum { PROTO_TCP, PROTO_UDP } proto;
};

enum nic_kind {
	NIC_USER,     /* QEMU user-mode networking: the uplink */
	NIC_INTERNAL, /* the private link between the VMs */
};

struct nic {
	struct srcpos pos;
	char *name; /* connection name inside the guest */
	enum nic_kind kind;
	char *mac; /* "52:54:00:xx:xx:xx", lower-case */
	struct srcpos mac_pos;
	/* NIC_INTERNAL: static address. */
	char *address;	 /* "192.168.76.11" */
	unsigned prefix; /* 24 */
	struct srcpos address_pos;
	struct forward *forwards; /* NIC_USER */
	size_t nforwards;
};

/* A podman network (Quadlet .network). */
struct pnetwork {
	struct srcpos pos;
	char *name;
	char *subnet; /* CIDR */
	struct srcpos subnet_pos;
	char *gateway; /* NULL: podman's choice */
	struct srcpos gateway_pos;
};

struct kv {
	char *key, *value;
	struct srcpos pos;
};

struct secret {
	struct srcpos pos;
	char *name;    /* podman secret name */
	char *env;     /* handed to the container as this variable */
	bool generate; /* random at build time, kept in out/secrets/ */
};

/* A podman service (Quadlet .container, started at boot). */
struct service {
	struct srcpos pos;
	char *name;
	char *image;	      /* reference, e.g. docker.io/pihole/pihole:TAG */
	char *build;	      /* directory with a Containerfile (in overlay) */
	struct strlist ports; /* "VMPORT:CONTAINERPORT" or "IP:VMPORT:CPORT" */
	char *network;	      /* a pnetwork name */
	struct srcpos network_pos;
	char *ip; /* fixed address on that network */
	struct srcpos ip_pos;
	char *dns; /* IP, or "service:NAME" resolved to its ip */
	struct srcpos dns_pos;
	char *dns_resolved;
	struct strlist volumes; /* "HOSTPATH:CPATH[:opts]" */
	struct kv *env;
	size_t nenv;
	struct secret *secrets;
	size_t nsecrets;
	char *restart; /* systemd Restart=, default "always" */
};

/* One tinyproxy instance. */
struct proxy_listener {
	struct srcpos pos;
	bool enabled;
	uint16_t port;	  /* tinyproxy's port inside the container */
	uint16_t publish; /* port on the VM's internal address */
	uint16_t *connect_ports;
	size_t nconnect_ports;
	bool allow_list; /* Filter + FilterDefaultDeny */
	struct strlist domains;
	struct srcpos domains_pos;
	char *service; /* the service that runs it */
};

/* proxy-server: this VM runs the proxies (the proxy VM). */
struct proxy_server {
	struct srcpos pos;
	bool present;
	struct proxy_listener http, ssh;
	char *dns_service;   /* service that answers DNS for the proxies */
	uint16_t admin_port; /* Pi-hole admin UI on the VM (forwarded) */
};

/* use-proxy: this VM reaches the world through another VM's proxies. */
struct use_proxy {
	struct srcpos pos;
	bool present;
	char *vm; /* reference to the proxy VM */
	struct srcpos vm_pos;
	struct vm *target; /* resolved */
	struct strlist no_proxy;
};

struct gui {
	struct srcpos pos;
	bool waypipe;
	uint32_t vsock_port; /* waypipe's vsock port, default 4000 */
	struct strlist apps; /* desktop apps offered by the helper */
};

enum file_source {
	FILE_INLINE,
	FILE_TEMPLATE, /* a file under the project, {{vars}} substituted */
};

struct file_spec {
	struct srcpos pos;
	char *path; /* absolute guest path */
	enum file_source source;
	char *content;	     /* FILE_INLINE */
	char *template;	     /* FILE_TEMPLATE: project-relative path */
	char *owner, *group; /* default root */
	unsigned mode;	     /* default 0644 */
};

struct vm {
	struct srcpos pos;
	char *file; /* recipe file, relative to the project dir */
	char *name; /* [a-z0-9][a-z0-9._-]*, at most 32: used in file names */
	struct srcpos name_pos;
	char *base; /* base name */
	struct srcpos base_pos;
	struct base *base_ref; /* resolved */
	uint64_t disk;	       /* bytes; default 20 GiB */
	uint64_t memory;       /* bytes; default 4 GiB */
	unsigned cpus;	       /* default 4 */
	char *hostname;
	uint32_t cid; /* vsock guest CID (>= 3) */
	struct srcpos cid_pos;
	struct user *users;
	size_t nusers;
	struct nic *nics;
	size_t nnics;
	struct strlist packages;
	struct pnetwork *networks;
	size_t nnetworks;
	struct service *services;
	size_t nservices;
	struct proxy_server proxy_server;
	struct use_proxy use_proxy;
	struct gui gui;
	struct file_spec *files;
	size_t nfiles;
	char *overlay; /* project-relative dir, default overlays/NAME */
	struct srcpos overlay_pos;
	struct strlist units; /* systemd units to enable */
};

struct recipe_set {
	char *dir; /* the project directory */
	struct base *bases;
	size_t nbases;
	struct vm *vms; /* sorted by name */
	size_t nvms;
	char **files; /* the recipe files read, sorted */
	size_t nfiles;
};

/* Reads DIR/recipes/ *.yaml (sorted), decodes, resolves references and
 * validates.  On any problem returns -EINVAL with every problem in
 * *ret_diags (allocated on every return; free it).  I/O failures return
 * the negative errno. */
int recipe_set_load(const char *dir, struct recipe_set **ret,
		    struct diag_list **ret_diags);
/* The same from in-memory documents: names[i] is the file name used in
 * positions, texts[i] its content.  For tests and embedded defaults. */
int recipe_set_load_texts(const char *dir, const char *const *names,
			  const char *const *texts, size_t n,
			  struct recipe_set **ret,
			  struct diag_list **ret_diags);
void recipe_set_free(struct recipe_set *set);
/* What 'check' adds to loading: each base given by 'path' is a regular
 * file under the project that looks like a disk image (qcow2 magic, or
 * raw: a non-empty multiple of 512 bytes).  Returns -EINVAL after adding
 * diagnostics. */
int recipe_check_base_files(const struct recipe_set *set,
			    struct diag_list *diags);

struct vm *recipe_find_vm(const struct recipe_set *set, const char *name);
struct base *recipe_find_base(const struct recipe_set *set, const char *name);
/* The NIC of a kind, or NULL. */
const struct nic *vm_nic(const struct vm *vm, enum nic_kind kind);
const struct service *vm_service(const struct vm *vm, const char *name);
/* The links of a proxy VM: one per VM with an internal NIC whose use-proxy
 * names it (its clients), in the set's order (by name).  Each link is a
 * point-to-point segment of its own: its own socket (link-CLIENT.sock),
 * its own NIC on the proxy VM, carrying the proxy VM's internal address;
 * the clients never share a segment.  Stores at most MAX clients in RET
 * (which may be NULL when MAX is 0) and returns how many there are. */
#define VM_MAX_LINKS 16
size_t vm_link_clients(const struct recipe_set *set, const struct vm *proxy,
		       const struct vm **ret, size_t max);
/* Link I's NIC on the proxy VM, derived from its internal NIC N: link 0
 * is N itself; link I > 0 is named NAME followed by I and has N's MAC with
 * I added to its last byte.  *ret_name is allocated; false (nothing
 * allocated) when the name would be over 15 bytes or N's MAC is not
 * xx:xx:xx:xx:xx:xx. */
bool nic_link_id(const struct nic *n, size_t i, char **ret_name,
		 char ret_mac[18]);
/* The addresses podman hands out to containers without a static 'ip' on
 * NET: the upper half of its subnet, as a CIDR; static addresses belong in
 * the lower half.  NULL when the subnet is invalid or too small to split
 * (a prefix above 29). */
char *pnetwork_dynamic_range(const struct pnetwork *net);

#endif
