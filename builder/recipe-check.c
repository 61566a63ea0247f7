/* Recipes, the checks across fields and VMs: what no single key's
 * validator can see (references between VMs, subnets, addresses, unique
 * CIDs and MACs), and the base files a recipe names.  Every problem is a
 * diagnostic at the node that caused it; all are collected. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recipe-int.h"
#include "recipe.h"
#include "util.h"
#include "validate.h"

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

void
recipe_check_base(const struct base *b, struct diag_list *diags)
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

/* The VM's name, its base and its vsock CID. */
static void
check_identity(struct recipe_set *set, struct vm *vm, struct diag_list *diags)
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
}

/* At most one NIC of each kind; an internal one has an address and no
 * forwards. */
static void
check_nics(const struct vm *vm, struct diag_list *diags)
{
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
					 recipe_nic_kinds[nic->kind]);
	}
}

/* Service i: unique name, its image's unit, its network and address, its
 * DNS server (an address or service:NAME, resolved here). */
static void
check_service(struct vm *vm, size_t i, struct diag_list *diags)
{
	struct service *s = &vm->services[i];
	const char *cand[64];
	size_t n;
	uint32_t a;

	if (s->name == NULL)
		return;
	for (size_t j = 0; j < i; j++)
		if (vm->services[j].name != NULL &&
		    strcmp(s->name, vm->services[j].name) == 0)
			diag_add(diags, s->pos, "service '%s' is listed twice",
				 s->name);
	check_service_image(vm, i, diags);
	if (s->network != NULL) {
		const struct pnetwork *net = NULL;

		n = 0;
		for (size_t j = 0; j < vm->nnetworks && n < 64; j++) {
			if (vm->networks[j].name == NULL)
				continue;
			cand[n++] = vm->networks[j].name;
			if (strcmp(vm->networks[j].name, s->network) == 0)
				net = &vm->networks[j];
		}
		if (net == NULL)
			unresolved(diags, s->network_pos, "network", s->network,
				   cand, n);
		else if (s->ip != NULL && net->subnet != NULL &&
			 valid_subnet(net->subnet) && valid_ipv4(s->ip) &&
			 !ipv4_in_subnet(s->ip, net->subnet))
			diag_add(diags, s->ip_pos,
				 "service '%s': 'ip' %s is not in "
				 "network '%s' (%s)",
				 s->name, s->ip, net->name, net->subnet);
	}
	if (s->ip != NULL && !parse_ipv4(s->ip, &a))
		diag_add(diags, s->pos,
			 "service '%s': 'ip' must be an IPv4 address", s->name);
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

static void
check_proxy_server(const struct vm *vm, struct diag_list *diags)
{
	const struct proxy_server *ps = &vm->proxy_server;
	const char *cand[64];
	size_t n;

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
		unresolved(diags, ps->pos, "service", ps->dns_service, cand, n);
	}
	if (vm_nic(vm, NIC_INTERNAL) == NULL)
		diag_add(diags, ps->pos,
			 "a proxy server needs an internal NIC");
}

/* use-proxy: the proxy VM exists, serves, and shares our subnet; no
 * user-mode NIC bypasses it. */
static void
check_use_proxy(struct recipe_set *set, struct vm *vm, struct diag_list *diags)
{
	const char *cand[64];
	size_t n;

	struct vm *t = recipe_find_vm(set, vm->use_proxy.vm);

	if (t == NULL) {
		for (n = 0; n < set->nvms && n < 64; n++)
			cand[n] = set->vms[n].name;
		unresolved(diags, vm->use_proxy.vm_pos, "VM", vm->use_proxy.vm,
			   cand, n);
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
			  !same_subnet(a->address, b->address, a->prefix)))
			diag_add(diags, a->address_pos,
				 "address %s/%u is not on the proxy "
				 "VM's subnet (%s/%u)",
				 a->address, a->prefix, b->address, b->prefix);
	}
	if (vm_nic(vm, NIC_USER) != NULL)
		diag_add(diags, vm_nic(vm, NIC_USER)->pos,
			 "a VM behind a proxy must not have a "
			 "user-mode NIC: it would bypass the proxy");
}

static void
check_files(const struct vm *vm, struct diag_list *diags)
{
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

/* Every cross-field rule of a VM, collected into one diag list in recipe
 * order. */
void
recipe_check_vm(struct recipe_set *set, struct vm *vm, struct diag_list *diags)
{
	check_identity(set, vm, diags);
	check_nics(vm, diags);
	check_users(vm, diags);
	check_networks(vm, diags);
	check_static_ips(vm, diags);
	for (size_t i = 0; i < vm->nservices; i++)
		check_service(vm, i, diags);
	if (vm->proxy_server.present)
		check_proxy_server(vm, diags);
	if (vm->use_proxy.present && vm->use_proxy.vm != NULL)
		check_use_proxy(set, vm, diags);
	check_files(vm, diags);
}

/* The NIC of any VM of the set with MAC, or NULL. */
static const struct nic *
mac_owner(const struct recipe_set *set, const char *mac,
	  const struct vm **ret_vm)
{
	for (size_t i = 0; i < set->nvms; i++)
		for (size_t j = 0; j < set->vms[i].nnics; j++)
			if (set->vms[i].nics[j].mac != NULL &&
			    strcmp(set->vms[i].nics[j].mac, mac) == 0) {
				*ret_vm = &set->vms[i];
				return &set->vms[i].nics[j];
			}
	return NULL;
}

/* A proxy VM's links (vm_link_clients): not too many, each NIC's name
 * and MAC usable and unique, each client address a host of its subnet
 * (distinct addresses: recipe_check_unique). */
static void
check_links(const struct recipe_set *set, const struct vm *proxy,
	    struct diag_list *diags)
{
	const struct nic *in = vm_nic(proxy, NIC_INTERNAL);
	const struct vm *cl[VM_MAX_LINKS];
	size_t n = vm_link_clients(set, proxy, cl, VM_MAX_LINKS);

	if (in == NULL || in->mac == NULL || in->name == NULL)
		return;
	if (n > VM_MAX_LINKS) {
		diag_add(diags, in->pos,
			 "%zu VMs use proxy VM '%s'; at most %d (one NIC "
			 "each)",
			 n, proxy->name, VM_MAX_LINKS);
		n = VM_MAX_LINKS;
	}
	for (size_t i = 0; i < n; i++) {
		const struct nic *a = vm_nic(cl[i], NIC_INTERNAL);
		const struct nic *dup;
		const struct vm *owner;
		CLEANUP_FREE char *name = NULL;
		char mac[18];
		uint32_t x, host;

		if (a->address != NULL && a->prefix <= 30 &&
		    parse_ipv4(a->address, &x)) {
			host = x & (0xffffffffu >> a->prefix);
			if (host == 0 || host == 0xffffffffu >> a->prefix)
				diag_add(diags, a->address_pos,
					 "address %s/%u is the %s address of "
					 "its subnet, not a host's",
					 a->address, a->prefix,
					 host == 0 ? "network" : "broadcast");
		}
		if (i == 0)
			continue;
		if (!nic_link_id(in, i, &name, mac)) {
			diag_add(diags, in->pos,
				 "NIC name '%s' leaves no room for the link "
				 "to VM '%s': '%s%zu' is over 15 bytes",
				 in->name, cl[i]->name, in->name, i);
			continue;
		}
		dup = mac_owner(set, mac, &owner);
		if (dup != NULL)
			diag_add(diags, in->mac_pos,
				 "the link to VM '%s' takes MAC %s (this MAC "
				 "plus %zu), which VM '%s' uses (%s:%d)",
				 cl[i]->name, mac, i, owner->name,
				 dup->mac_pos.file, dup->mac_pos.line);
	}
}

/* Two VMs must not share a CID, a MAC address or an internal address;
 * a proxy VM's links (check_links). */
void
recipe_check_unique(struct recipe_set *set, struct diag_list *diags)
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
	for (size_t i = 0; i < set->nvms; i++)
		if (set->vms[i].proxy_server.present)
			check_links(set, &set->vms[i], diags);
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
