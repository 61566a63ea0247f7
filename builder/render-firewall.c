/* The proxy VM's firewall: the nftables ruleset (tables inet sbx and
 * bridge sbx) and the units that load it.  Every internal link of the
 * proxy VM (vm_link_clients) is covered: its NIC in the set of link
 * interfaces, and a client's address allowed on its own link only. */
#include <string.h>

#include "distro.h"
#include "escape.h"
#include "render-int.h"

#define NFT_RULESET   "/etc/nftables/sbx.nft"
#define FIREWALL_UNIT "sbx-firewall.service"
/* Our tables, and a command that removes them whether they exist or
 * not. */
#define NFT_DELETE                                                   \
	"'table inet sbx; delete table inet sbx; table bridge sbx; " \
	"delete table bridge sbx'"

/* The ruleset is ours alone: sbx-firewall.service loads it, reloads it
 * (the file replaces our two tables in one transaction) and removes them,
 * never anything else.  nftables.service is not used: on reload and stop
 * (and on start with Debian's default nftables.conf) it runs 'flush
 * ruleset', which removes netavark's NAT and port-forward tables too; the
 * published proxy ports are dead until the containers restart.  Its
 * configuration file is rendered without rules, and a drop-in puts back
 * podman's rules and ours after whatever it flushed. */
static void
render_firewall_units(struct rctx *c, struct srcpos pos)
{
	const struct distro_info *d = r_distro(c, pos);
	struct strbuf sb = STRBUF_INIT;

	if (d == NULL)
		return;

	r_header(&sb, c, "#",
		 "The proxy VM's firewall: the nftables tables 'inet sbx' "
		 "and 'bridge sbx'.\n# Reload and stop touch only these "
		 "tables, never podman's (netavark's).");
	sb_puts(&sb, "[Unit]\n"
		     "Description=sbx proxy VM firewall (nft tables inet sbx, "
		     "bridge sbx)\n"
		     "DefaultDependencies=no\n"
		     "Wants=network-pre.target\n"
		     "After=local-fs.target nftables.service\n"
		     "Before=network-pre.target shutdown.target\n"
		     "Conflicts=shutdown.target\n"
		     "\n"
		     "[Service]\n"
		     "Type=oneshot\n"
		     "RemainAfterExit=yes\n"
		     "StandardInput=null\n"
		     "ExecStart=nft -f " NFT_RULESET "\n"
		     "ExecReload=nft -f " NFT_RULESET "\n"
		     "ExecStop=nft " NFT_DELETE "\n"
		     "\n"
		     "[Install]\n"
		     "WantedBy=multi-user.target\n");
	r_file(c, pos, "/etc/systemd/system/" FIREWALL_UNIT, "root", "root",
	       0644, &sb);
	r_symlink(c, pos,
		  "/etc/systemd/system/multi-user.target.wants/" FIREWALL_UNIT,
		  "/etc/systemd/system/" FIREWALL_UNIT);

	r_header(&sb, c, "#",
		 "After nftables.service flushed the whole ruleset (reload, "
		 "stop, or a start\n# with a 'flush ruleset' in its "
		 "configuration), podman's rules and the\n# proxy VM's "
		 "firewall are put back.");
	sb_puts(&sb, "[Service]\n"
		     "ExecStartPost=-podman network reload --all\n"
		     "ExecStartPost=-nft -f " NFT_RULESET "\n"
		     "ExecReload=-podman network reload --all\n"
		     "ExecReload=-nft -f " NFT_RULESET "\n"
		     "ExecStopPost=-podman network reload --all\n"
		     "ExecStopPost=-nft -f " NFT_RULESET "\n");
	r_file(c, pos, "/etc/systemd/system/nftables.service.d/50-sbx.conf",
	       "root", "root", 0644, &sb);

	sb_puts(&sb, "#!/usr/sbin/nft -f\n");
	r_header(&sb, c, "#", "Read by nftables.service, if enabled.");
	sb_puts(&sb, "# The proxy VM's firewall is " FIREWALL_UNIT
		     " (" NFT_RULESET ").  No\n"
		     "# 'flush ruleset' here: it would remove podman's "
		     "(netavark's) tables too.\n");
	r_file(c, pos, d->nftables_conf, "root", "root", 0600, &sb);
}

static void
port_set(struct strbuf *sb, const uint16_t *ports, size_t n)
{
	sb_puts(sb, "{ ");
	for (size_t i = 0; i < n; i++)
		sb_printf(sb, "%s%u", i ? ", " : "", ports[i]);
	sb_puts(sb, " }");
}

/* What the ruleset is written from, every value already checked. */
struct fw {
	const struct nic *in, *up;
	const struct service *dns; /* with an address, or NULL */
	uint16_t vmports[2], cports[2], fwd[64];
	size_t nl, nfwd;
	struct strbuf ctr; /* "{ SUBNET, ... }": the podman networks */
	struct strbuf ifs; /* "NAME" or "{ "NAME", ... }": the links' NICs */
	struct render_link links[VM_MAX_LINKS];
	size_t nlinks; /* 0: the lone link of a proxy VM no VM uses yet */
	char inaddr[ESC_IPV4_MAX], dnsip[ESC_IPV4_MAX];
};

/* Every address in the ruleset is written back from its numbers and
 * every interface name is checked: nothing of the recipe reaches nft as
 * text.  A bad value is refused where it is rendered first (render_net,
 * render_proxy); here it only stops the ruleset (false). */
static bool
fw_facts(struct rctx *c, struct fw *f)
{
	const struct vm *vm = c->vm;
	const struct proxy_server *ps = &vm->proxy_server;
	const struct proxy_listener *ls[] = {&ps->http, &ps->ssh};
	const struct service *dns =
		ps->dns_service ? vm_service(vm, ps->dns_service) : NULL;
	char a[ESC_CIDR_MAX];
	bool bad = false;

	int nl = render_links(c, f->links);

	f->nlinks = nl > 0 ? (size_t)nl : 0;
	f->in = vm_nic(vm, NIC_INTERNAL);
	f->up = vm_nic(vm, NIC_USER);
	if (nl < 0 || !r_ifname_ok(f->in->name) ||
	    (f->up != NULL && !r_ifname_ok(f->up->name)) ||
	    !esc_ipv4(f->in->address, f->inaddr))
		return false;
	if (f->nlinks <= 1)
		sb_printf(&f->ifs, "\"%s\"",
			  nl == 1 ? f->links[0].ifname : f->in->name);
	for (size_t i = 0; f->nlinks > 1 && i < f->nlinks; i++)
		sb_printf(&f->ifs, "%s\"%s\"", i ? ", " : "{ ",
			  f->links[i].ifname);
	if (f->nlinks > 1)
		sb_puts(&f->ifs, " }");
	if (dns != NULL && dns->ip != NULL) {
		if (!esc_ipv4(dns->ip, f->dnsip))
			return false;
		f->dns = dns;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ls); i++) {
		if (!ls[i]->enabled)
			continue;
		f->vmports[f->nl] = ls[i]->publish;
		f->cports[f->nl++] = ls[i]->port;
	}
	for (size_t i = 0;
	     f->up != NULL && i < f->up->nforwards && f->nfwd < 64; i++)
		if (f->up->forwards[i].proto == PROTO_TCP)
			f->fwd[f->nfwd++] = f->up->forwards[i].guest_port;
	sb_puts(&f->ctr, "{ ");
	for (size_t i = 0; i < vm->nnetworks; i++) {
		bad |= !esc_cidr(vm->networks[i].subnet, a);
		sb_printf(&f->ctr, "%s%s", i ? ", " : "", a);
	}
	sb_puts(&f->ctr, " }");
	return !bad;
}

/* The comment, the table's sets. */
static void
fw_head(struct rctx *c, const struct fw *f, struct strbuf *sb)
{
	sb_puts(sb, "#!/usr/sbin/nft -f\n");
	r_header(sb, c, "#", "The proxy VM's firewall.");
	sb_puts(sb,
		"#\n"
		"# The VM never forwards between its NICs.  From the "
		"internal link only the\n"
		"# proxy ports are open: podman publishes them by DNAT to "
		"the containers, so\n"
		"# exactly that forward path is allowed.  Containers reach "
		"the internet on\n"
		"# the uplink, never a private address (QEMU's user "
		"networking maps one to\n"
		"# the host's loopback), except the DNS service asking its "
		"upstream.\n"
		"# Containers reach neither the VM itself nor, but for DNS, "
		"each other.\n"
		"# Podman (netavark) keeps its own tables; a drop here is "
		"final.\n"
		"\n"
		"table inet sbx\n"
		"delete table inet sbx\n"
		"\n"
		"table inet sbx {\n");
	if (f->nlinks > 0) {
		sb_puts(sb, "\t# Each VM behind this one has a link of its "
			    "own and sends from its own\n"
			    "\t# address only: the egress log names a client "
			    "by its address.\n"
			    "\tchain links {\n"
			    "\t\ttype filter hook prerouting priority raw; "
			    "policy accept;\n");
		for (size_t i = 0; i < f->nlinks; i++)
			sb_printf(sb,
				  "\t\tiifname \"%s\" ip saddr != %s counter "
				  "drop # %s\n",
				  f->links[i].ifname, f->links[i].addr,
				  f->links[i].client->name);
		sb_puts(sb, "\t}\n\n");
	}
	sb_printf(sb,
		  "\tset containers {\n"
		  "\t\ttype ipv4_addr\n"
		  "\t\tflags interval\n"
		  "\t\telements = %s\n"
		  "\t}\n"
		  "\n"
		  "\tset private {\n"
		  "\t\ttype ipv4_addr\n"
		  "\t\tflags interval\n"
		  "\t\telements = { 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, "
		  "127.0.0.0/8,\n"
		  "\t\t\t     169.254.0.0/16, 172.16.0.0/12, 192.168.0.0/16,\n"
		  "\t\t\t     224.0.0.0/3 }\n"
		  "\t}\n"
		  "\n",
		  f->ctr.buf);
}

/* The input chains.  False when a gateway address is bad. */
static bool
fw_input(const struct vm *vm, const struct fw *f, struct strbuf *sb)
{
	struct strbuf gw = STRBUF_INIT;
	char a[ESC_CIDR_MAX];
	bool bad = false;

	for (size_t i = 0; i < vm->nnetworks; i++) {
		if (vm->networks[i].gateway == NULL)
			continue;
		bad |= !esc_ipv4(vm->networks[i].gateway, a);
		sb_printf(&gw,
			  "\t\tip daddr %s meta l4proto { tcp, udp } "
			  "th dport 53 accept\n",
			  a);
	}
	sb_printf(sb,
		  "\tchain input {\n"
		  "\t\ttype filter hook input priority filter; policy "
		  "accept;\n"
		  "\t\tiifname %s jump input_internal\n"
		  "\t\tip saddr @containers jump input_containers\n"
		  "\t}\n"
		  "\n"
		  "\t# Containers talk to the world, never to the VM itself\n"
		  "\t# (but podman's DNS on the network's gateway).\n"
		  "\tchain input_containers {\n"
		  "\t\tct state established,related accept\n"
		  "\t\tct state invalid drop\n"
		  "%s"
		  "\t\tcounter drop\n"
		  "\t}\n"
		  "\n"
		  "\tchain input_internal {\n"
		  "\t\tct state established,related accept\n"
		  "\t\tct state invalid drop\n"
		  "\t\t# When podman's userland proxy, not DNAT, serves a "
		  "published port.\n"
		  "\t\tip daddr %s tcp dport ",
		  f->ifs.buf, gw.buf ? gw.buf : "", f->inaddr);
	sb_release(&gw);
	port_set(sb, f->vmports, f->nl);
	sb_puts(sb, " accept\n"
		    "\t\ticmp type echo-request limit rate 10/second accept\n"
		    "\t\tcounter drop\n"
		    "\t}\n"
		    "\n");
	return !bad;
}

/* The forward chains; the inet table ends. */
static void
fw_forward(const struct fw *f, struct strbuf *sb)
{
	const struct nic *up = f->up;

	sb_printf(sb,
		  "\tchain forward {\n"
		  "\t\ttype filter hook forward priority filter; policy "
		  "drop;\n"
		  "\t\tct state established,related accept\n"
		  "\t\tct state invalid drop\n"
		  "\t\tiifname %s jump forward_internal\n",
		  f->ifs.buf);
	if (up != NULL && f->nfwd > 0) {
		sb_printf(sb,
			  "\t\t# The host's 127.0.0.1 forwards, published "
			  "by podman.\n"
			  "\t\tiifname \"%s\" ct status dnat ip daddr "
			  "@containers "
			  "meta l4proto tcp ct original proto-dst ",
			  up->name);
		port_set(sb, f->fwd, f->nfwd);
		sb_puts(sb, " accept\n");
	}
	if (up != NULL) {
		if (f->dns != NULL)
			sb_printf(sb,
				  "\t\tip saddr %s oifname \"%s\" meta "
				  "l4proto { tcp, udp } th dport 53 accept\n",
				  f->dnsip, up->name);
		sb_printf(sb,
			  "\t\tip saddr @containers ip daddr @private drop\n"
			  "\t\tip saddr @containers oifname \"%s\" accept\n",
			  up->name);
	}
	sb_printf(sb,
		  "\t\tcounter drop\n"
		  "\t}\n"
		  "\n"
		  "\tchain forward_internal {\n"
		  "\t\tct status dnat ct original ip daddr %s meta l4proto "
		  "tcp ct original proto-dst ",
		  f->inaddr);
	port_set(sb, f->vmports, f->nl);
	sb_puts(sb, " ip daddr @containers tcp dport ");
	port_set(sb, f->cports, f->nl);
	sb_puts(sb, " accept\n"
		    "\t\tcounter drop\n"
		    "\t}\n"
		    "}\n");
}

/* Bridged traffic between two containers never reaches the inet hooks:
 * a proxy could reach the DNS service's admin UI.  Only DNS crosses the
 * bridge. */
static void
fw_bridge(const struct fw *f, struct strbuf *sb)
{
	sb_printf(sb,
		  "\n"
		  "table bridge sbx\n"
		  "delete table bridge sbx\n"
		  "\n"
		  "table bridge sbx {\n"
		  "\tchain forward {\n"
		  "\t\ttype filter hook forward priority filter; policy "
		  "accept;\n"
		  "\t\tip saddr %s ip daddr %s jump containers\n"
		  "\t}\n"
		  "\n"
		  "\tchain containers {\n",
		  f->ctr.buf, f->ctr.buf);
	if (f->dns != NULL)
		sb_printf(sb,
			  "\t\tip daddr %s meta l4proto { tcp, udp } th "
			  "dport 53 accept\n"
			  "\t\tip saddr %s meta l4proto { tcp, udp } th "
			  "sport 53 accept\n",
			  f->dnsip, f->dnsip);
	sb_puts(sb, "\t\tcounter drop\n"
		    "\t}\n"
		    "}\n");
}

/* The proxy VM's firewall.  Podman (netavark) keeps its own tables for
 * its NAT; this table only restricts: in nftables a drop in any base
 * chain is final, whatever another table accepted. */
void
render_firewall(struct rctx *c)
{
	const struct vm *vm = c->vm;
	const struct proxy_server *ps = &vm->proxy_server;
	struct fw f = {.ctr = STRBUF_INIT, .ifs = STRBUF_INIT};
	struct strbuf sb = STRBUF_INIT;
	bool ok;

	if (!ps->present || vm_nic(vm, NIC_INTERNAL) == NULL)
		return;
	ok = fw_facts(c, &f);
	if (ok) {
		fw_head(c, &f, &sb);
		ok = fw_input(vm, &f, &sb);
		fw_forward(&f, &sb);
		fw_bridge(&f, &sb);
	}
	sb_release(&f.ctr);
	sb_release(&f.ifs);
	render_links_free(f.links, f.nlinks);
	if (!ok) {
		sb_release(&sb);
		return;
	}
	if (f.nl == 0 || vm->nnetworks == 0) {
		r_error(c, ps->pos,
			"a proxy server needs an enabled proxy and a podman "
			"network");
		sb_release(&sb);
		return;
	}
	r_file(c, ps->pos, NFT_RULESET, "root", "root", 0600, &sb);
	render_firewall_units(c, ps->pos);
}
