/* out/VM.xml: a libvirt domain equivalent to out/run-VM.sh.
 *
 * libvirt expresses the disk, the console log, vsock and the RNG.  It has
 * no port forwarding for QEMU's user-mode (slirp) backend (<portForward>
 * is passt's) and no unix-socket stream link (its socket interfaces are
 * TCP or UDP), so those two NICs go to QEMU verbatim through the qemu
 * namespace's <qemu:commandline>, and the XML says so in a comment. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "escape.h"
#include "libvirt.h"
#include "recipe.h"
#include "runscript.h"
#include "util.h"

/* A QEMU option value: commas doubled. */
static char *
qemu_value(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		if (*s == ',')
			sb_putc(&sb, ',');
		sb_putc(&sb, *s);
	}
	return sb_detach(&sb, NULL);
}

static void
qemu_arg(struct strbuf *sb, const char *value)
{
	sb_puts(sb, "    <qemu:arg value='");
	esc_xml(sb, value);
	sb_puts(sb, "'/>\n");
}

static void
user_nic(struct strbuf *sb, const struct nic *n)
{
	struct strbuf v = STRBUF_INIT;

	sb_puts(&v, "user,id=uplink,restrict=off");
	for (size_t j = 0; j < n->nforwards; j++)
		sb_printf(&v, ",hostfwd=%s:127.0.0.1:%u-:%u",
			  n->forwards[j].proto == PROTO_UDP ? "udp" : "tcp",
			  n->forwards[j].host_port, n->forwards[j].guest_port);
	qemu_arg(sb, "-netdev");
	qemu_arg(sb, v.buf);
	sb_release(&v);
}

/* The internal links (runscript_links): a -netdev and a -device each. */
static void
link_nics(struct strbuf *sb, const char *outdir, const struct runscript_link *l,
	  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		CLEANUP_FREE char *sock = NULL, *esc = NULL, *v = NULL,
				  *dev = NULL;

		sock = xasprintf("%s/run/%s", outdir, l[i].sock);
		esc = qemu_value(sock);
		v = xasprintf("stream,id=%s,server=%s,addr.type=unix,"
			      "addr.path=%s",
			      l[i].id, l[i].server ? "on" : "off", esc);
		qemu_arg(sb, "-netdev");
		qemu_arg(sb, v);
		dev = xasprintf("virtio-net-pci,netdev=%s,mac=%s", l[i].id,
				l[i].mac);
		qemu_arg(sb, "-device");
		qemu_arg(sb, dev);
	}
}

/* Long (about 140 lines): one straight pass over the domain XML in
 * document order, easier to check against libvirt's schema than pieces. */
int
libvirt_render(const struct recipe_set *set, const struct vm *vm,
	       const char *outdir, char **ret_xml)
{
	struct strbuf sb = STRBUF_INIT;
	const struct vm *server = NULL;
	struct runscript_link links[VM_MAX_LINKS];
	size_t nlinks = 0;
	CLEANUP_FREE char *disk = NULL, *log = NULL;
	int r;

	/* The VM name goes into comments (where "--" is not XML) and
	 * file names, MACs and the output directory into QEMU arguments
	 * (XML-escaped, but control bytes are not XML at all). */
	if (outdir == NULL || outdir[0] != '/' || esc_has_ctl(outdir) ||
	    !esc_filename_ok(vm->name) || strstr(vm->name, "--") != NULL)
		return -EINVAL;
	for (size_t i = 0; i < vm->nnics; i++) {
		char mac[ESC_MAC_MAX];

		if (!esc_mac(vm->nics[i].mac, mac) ||
		    strcmp(mac, vm->nics[i].mac) != 0)
			return -EINVAL;
	}
	if (vm_nic(vm, NIC_INTERNAL) != NULL) {
		r = runscript_link_server(set, vm, &server);
		if (r < 0)
			return r;
		r = runscript_links(set, vm, links);
		if (r <= 0)
			return r < 0 ? r : -EINVAL;
		nlinks = (size_t)r;
	}
	disk = xasprintf("%s/%s.qcow2", outdir, vm->name);
	log = xasprintf("%s/logs/%s.log", outdir, vm->name);

	sb_printf(&sb,
		  "<!-- The sandbox VM '%s' for libvirt (qemu:///session), "
		  "written by sbx-build:\n"
		  "       virsh define %s.xml && virsh start sbx-%s\n"
		  "     The same machine as run-%s.sh, except:\n"
		  "     - the NICs are QEMU arguments (<qemu:commandline> "
		  "below): libvirt has\n"
		  "       no port forwarding for the user-mode (slirp) backend "
		  "and no unix\n"
		  "       socket stream link.  Forwards listen on 127.0.0.1 "
		  "only.\n",
		  vm->name, vm->name, vm->name, vm->name);
	if (server != NULL) {
		sb_puts(&sb, "     - the internal link");
		for (size_t i = 0; i < nlinks; i++)
			sb_printf(&sb, "%s%s", i == 0 ? "s: run/" : ", run/",
				  links[i].sock);
		sb_printf(
			&sb,
			" next to this file\n"
			"       (run/ is 0700), not the scripts' ones: do not "
			"mix the two.  Start\n"
			"       sbx-%s first; QEMU before 8.0 does not "
			"reconnect.\n",
			server->name);
	}
	sb_puts(&sb,
		"     - the SSH key credential is per user, never written "
		"here; add it with\n"
		"       virsh edit: <sysinfo type='smbios'><oemStrings><entry>"
		"io.systemd.\n"
		"       credential.binary:sbx.ssh.authorized_keys=BASE64"
		"</entry></oemStrings>\n"
		"       </sysinfo> and <smbios mode='sysinfo'/> in <os>.\n");
	if (vm->gui.waypipe)
		sb_printf(
			&sb,
			"     - GUI apps need the host half of waypipe (0.9+, "
			"vsock port %" PRIu32 ") as\n"
			"       run-%s.sh starts it, or host/compose.yaml.\n",
			vm->gui.vsock_port, vm->name);
	sb_puts(&sb,
		"     Paths are absolute: after moving out/, run sbx-build "
		"again.  Where KVM is\n"
		"     unusable, change type='kvm' to type='qemu'. -->\n");

	sb_puts(&sb,
		"<domain type='kvm' "
		"xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n");
	sb_printf(&sb,
		  "  <name>sbx-%s</name>\n"
		  "  <memory unit='KiB'>%" PRIu64 "</memory>\n"
		  "  <vcpu>%u</vcpu>\n"
		  "  <os>\n"
		  "    <type arch='x86_64' machine='q35'>hvm</type>\n"
		  "    <boot dev='hd'/>\n"
		  "  </os>\n"
		  "  <features>\n"
		  "    <acpi/>\n"
		  "    <apic/>\n"
		  "  </features>\n"
		  "  <cpu mode='host-passthrough'/>\n"
		  "  <clock offset='utc'/>\n"
		  "  <on_poweroff>destroy</on_poweroff>\n"
		  "  <devices>\n"
		  "    <disk type='file' device='disk'>\n"
		  "      <driver name='qemu' type='qcow2' discard='unmap'/>\n"
		  "      <source file='",
		  vm->name, (vm->memory + 1023) / 1024, vm->cpus);
	esc_xml(&sb, disk);
	sb_puts(&sb, "'/>\n"
		     "      <target dev='vda' bus='virtio'/>\n"
		     "    </disk>\n"
		     "    <serial type='pty'>\n"
		     "      <log file='");
	esc_xml(&sb, log);
	sb_printf(&sb,
		  "' append='off'/>\n"
		  "    </serial>\n"
		  "    <console type='pty'/>\n"
		  "    <rng model='virtio'>\n"
		  "      <backend model='random'>/dev/urandom</backend>\n"
		  "    </rng>\n"
		  "    <vsock model='virtio'>\n"
		  "      <cid auto='no' address='%" PRIu32 "'/>\n"
		  "    </vsock>\n"
		  "    <memballoon model='none'/>\n"
		  "  </devices>\n"
		  "  <qemu:commandline>\n",
		  vm->cid);
	for (size_t i = 0; i < vm->nnics; i++) {
		const struct nic *n = &vm->nics[i];
		CLEANUP_FREE char *dev = NULL;

		if (n->kind != NIC_USER) {
			link_nics(&sb, outdir, links, nlinks);
			continue;
		}
		user_nic(&sb, n);
		dev = xasprintf("virtio-net-pci,netdev=uplink,mac=%s", n->mac);
		qemu_arg(&sb, "-device");
		qemu_arg(&sb, dev);
	}
	sb_puts(&sb, "  </qemu:commandline>\n"
		     "</domain>\n");
	*ret_xml = sb_detach(&sb, NULL);
	return 0;
}
