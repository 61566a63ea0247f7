/* Networking: NIC names pinned by MAC (systemd .link files) and the
 * NetworkManager keyfiles; a proxy VM's internal NIC becomes one NIC per
 * VM behind it (vm_link_clients).  The firewall: render-firewall.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "distro.h"
#include "escape.h"
#include "render-int.h"

bool
r_ifname_ok(const char *s)
{
	size_t n = strlen(s);

	/* A leading '-' reads as an option to ip(8) and nmcli. */
	if (n == 0 || n > 15 || *s == '-')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

int
render_links(const struct rctx *c, struct render_link *ret)
{
	const struct vm *vm = c->vm;
	const struct nic *in = vm_nic(vm, NIC_INTERNAL);
	const struct vm *cl[VM_MAX_LINKS];
	size_t n;

	if (!vm->proxy_server.present || in == NULL || c->in->set == NULL)
		return 0;
	n = vm_link_clients(c->in->set, vm, cl, VM_MAX_LINKS);
	if (n > VM_MAX_LINKS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct nic *a = vm_nic(cl[i], NIC_INTERNAL);

		ret[i].client = cl[i];
		ret[i].ifname = NULL;
		if (a->address == NULL || !esc_ipv4(a->address, ret[i].addr) ||
		    !nic_link_id(in, i, &ret[i].ifname, ret[i].mac) ||
		    !r_ifname_ok(ret[i].ifname)) {
			render_links_free(ret, i + 1);
			return -1;
		}
	}
	return (int)n;
}

void
render_links_free(struct render_link *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].ifname);
		l[i].ifname = NULL;
	}
}

/* The NIC is renamed to the recipe's name (a proxy VM's further links:
 * NAME1, NAME2, ...) on first sight, matched by the MAC the run script
 * gives it, so keyfiles and the firewall can rely on "internal" and
 * "uplink".  10- sorts before the distribution's 99-default.link; the
 * first matching file wins. */
static void
render_link(struct rctx *c, struct srcpos pos, const char *name,
	    const char *mac)
{
	CLEANUP_FREE char *path =
		xasprintf("/etc/systemd/network/10-sbx-%s.link", name);
	struct strbuf sb = STRBUF_INIT;

	r_header(&sb, c, "#", "Names the NIC with this MAC address.");
	sb_printf(&sb,
		  "[Match]\n"
		  "MACAddress=%s\n"
		  "Type=ether\n"
		  "\n"
		  "[Link]\n"
		  "Name=%s\n",
		  mac, name);
	r_file(c, pos, path, "root", "root", 0644, &sb);
}

/* NAME's keyfile.  PEER (a proxy VM's link to one VM): the VM's address
 * as a /32 and a host route to PEER only, so that each link reaches its
 * own client and no other; else the recipe's address/prefix. */
static void
render_keyfile(struct rctx *c, const struct nic *n, const char *name,
	       const char *mac, const char *peer)
{
	char addr[ESC_IPV4_MAX];

	CLEANUP_FREE char *path = xasprintf(
		"/etc/NetworkManager/system-connections/sbx-%s.nmconnection",
		name);
	struct strbuf sb = STRBUF_INIT;

	r_header(&sb, c, "#",
		 n->kind == NIC_USER ? "The uplink: DHCP from QEMU's user "
				       "networking."
		 : peer != NULL	     ? "The private link to one VM behind this "
				       "one: a static address, a\n# route to that "
				       "VM alone, no DNS."
				     : "The private link between the VMs: a "
				       "static address, no route, no DNS.");
	sb_printf(&sb,
		  "[connection]\n"
		  "id=%s\n"
		  "type=ethernet\n"
		  "autoconnect=true\n"
		  "autoconnect-priority=100\n"
		  "\n"
		  "[ethernet]\n"
		  "mac-address=%s\n"
		  "\n",
		  name, mac);
	if (n->kind == NIC_USER) {
		sb_puts(&sb, "[ipv4]\n"
			     "method=auto\n"
			     "\n"
			     "[ipv6]\n"
			     "method=auto\n");
	} else if (!esc_ipv4(n->address, addr) || n->prefix > 32) {
		r_refuse(c, n->address_pos, "address", n->address,
			 "is not an IPv4 address");
		sb_release(&sb);
		return;
	} else {
		sb_puts(&sb, "[ipv4]\n"
			     "method=manual\n");
		if (peer != NULL)
			sb_printf(&sb,
				  "address1=%s/32\n"
				  "route1=%s/32\n",
				  addr, peer);
		else
			sb_printf(&sb, "address1=%s/%u\n", addr, n->prefix);
		sb_puts(&sb, "never-default=true\n"
			     "ignore-auto-routes=true\n"
			     "ignore-auto-dns=true\n"
			     "may-fail=false\n"
			     "\n"
			     "[ipv6]\n"
			     "method=disabled\n");
	}
	r_file(c, n->pos, path, "root", "root", 0600, &sb);
}

void
render_net(struct rctx *c)
{
	const struct vm *vm = c->vm;
	struct render_link links[VM_MAX_LINKS];
	int nl = render_links(c, links);

	for (size_t i = 0; i < vm->nnics; i++) {
		const struct nic *n = &vm->nics[i];
		char mac[ESC_MAC_MAX];

		if (!esc_mac(n->mac, mac)) {
			r_refuse(c, n->mac_pos, "MAC address", n->mac,
				 "is not of the form xx:xx:xx:xx:xx:xx");
			continue;
		}
		if (!r_ifname_ok(n->name)) {
			r_refuse(c, n->pos, "NIC name", n->name,
				 "is not a usable interface name (1-15 "
				 "letters, digits, '-' or '_', not starting "
				 "with '-')");
			continue;
		}
		if (n->kind != NIC_INTERNAL || nl == 0) {
			render_link(c, n->pos, n->name, mac);
			render_keyfile(c, n, n->name, mac, NULL);
			continue;
		}
		if (nl < 0) {
			r_error(c, n->pos,
				"the links to the VMs behind this one cannot "
				"be named (NIC name, MAC or their addresses)");
			continue;
		}
		for (int j = 0; j < nl; j++) {
			render_link(c, n->pos, links[j].ifname, links[j].mac);
			render_keyfile(c, n, links[j].ifname, links[j].mac,
				       links[j].addr);
		}
	}
	if (nl > 0)
		render_links_free(links, (size_t)nl);
}
