/* Run-script generation: out/run-VM.sh and out/run-all.sh as text.
 *
 * A script stands alone: POSIX sh, QEMU and coreutils, nothing of
 * sbx-build.  It finds its disk next to itself, so out/ can move.  Each
 * internal link is a unix socket in a 0700 directory that every script
 * of one out/ derives the same way (runscript_rundir, runscript_links),
 * never a TCP port: one per VM behind a proxy VM, which listens on all of
 * them, each with a NIC of its own. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recipe.h"
#include "escape.h"
#include "runscript.h"
#include "runscript-int.h"
#include "util.h"

/* The KVM probe.  /dev/kvm can open fine while KVM is unusable (nested
 * KVM here: QEMU aborts on an MSR, or the guest hangs on its way to
 * 64-bit mode while the BIOS still runs), so the script boots this
 * multiboot image with the -machine and -cpu it will use: it enters long
 * mode and writes 0x20 to isa-debug-exit, which makes QEMU exit 65.  It
 * must do so within 3 s: QEMU runs it in ~0.2 s with TCG or a healthy KVM;
 * the broken nested KVM here needs 5-7 s for it, and a Linux guest never
 * gets past its first mode switch.
 * Source (as --32; ld -m elf_i386 -Ttext=0x100000 --oformat=binary):
 *
 *	.set LOAD, 0x100000
 *	_start: .long 0x1badb002, 0x10000, -(0x1badb002 + 0x10000)
 *		.long LOAD, LOAD, 0, LOAD + 0x4000, LOAD + (entry - _start)
 *	entry:	cli; mov $LOAD + 0x1000, %edi; xor %eax, %eax
 *		mov $0xc00, %ecx; rep stosl		# zero 3 tables
 *		movl $LOAD + 0x2003, LOAD + 0x1000	# PML4 -> PDPT
 *		movl $LOAD + 0x3003, LOAD + 0x2000	# PDPT -> PD
 *		movl $0x83, LOAD + 0x3000		# 2 MiB identity page
 *		mov $LOAD + 0x1000, %eax; mov %eax, %cr3
 *		mov %cr4, %eax; or $0x20, %eax; mov %eax, %cr4	# PAE
 *		mov $0xc0000080, %ecx; rdmsr; or $0x100, %eax; wrmsr # LME
 *		mov %cr0, %eax; or $0x80000001, %eax; mov %eax, %cr0
 *		lgdt LOAD + (gdtr - _start); ljmp $8, $LOAD + (l64 - _start)
 *	.code64
 *	l64:	mov $0x20, %al; out %al, $0xf4; hlt
 *	.align 8
 *	gdt:	.quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff
 *	gdtr:	.word gdtr - gdt - 1; .long LOAD + (gdt - _start)
 */
const unsigned char runscript_kvm_probe[] = {
	0x02, 0xb0, 0xad, 0x1b, 0x00, 0x00, 0x01, 0x00, 0xfe, 0x4f, 0x51, 0xe4,
	0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x40, 0x10, 0x00, 0x20, 0x00, 0x10, 0x00, 0xfa, 0xbf, 0x00, 0x10,
	0x10, 0x00, 0x31, 0xc0, 0xb9, 0x00, 0x0c, 0x00, 0x00, 0xf3, 0xab, 0xc7,
	0x05, 0x00, 0x10, 0x10, 0x00, 0x03, 0x20, 0x10, 0x00, 0xc7, 0x05, 0x00,
	0x20, 0x10, 0x00, 0x03, 0x30, 0x10, 0x00, 0xc7, 0x05, 0x00, 0x30, 0x10,
	0x00, 0x83, 0x00, 0x00, 0x00, 0xb8, 0x00, 0x10, 0x10, 0x00, 0x0f, 0x22,
	0xd8, 0x0f, 0x20, 0xe0, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xe0, 0xb9, 0x80,
	0x00, 0x00, 0xc0, 0x0f, 0x32, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x30,
	0x0f, 0x20, 0xc0, 0x0d, 0x01, 0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0x0f,
	0x01, 0x15, 0xa8, 0x00, 0x10, 0x00, 0xea, 0x85, 0x00, 0x10, 0x00, 0x08,
	0x00, 0xb0, 0x20, 0xe6, 0xf4, 0xf4, 0x8d, 0xb6, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00,
	0x00, 0x9a, 0xaf, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00,
	0x17, 0x00, 0x90, 0x00, 0x10, 0x00,
};
const size_t runscript_kvm_probe_len = sizeof(runscript_kvm_probe);

/* VM names end up in file names and unquoted shell words. */
static bool
name_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 32 || *s == '-' || *s == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

int
runscript_link_server(const struct recipe_set *set, const struct vm *vm,
		      const struct vm **ret_server)
{
	const struct vm *server = vm;

	(void)set;
	if (vm_nic(vm, NIC_INTERNAL) == NULL)
		return -ENOENT;
	if (!vm->proxy_server.present && vm->use_proxy.present) {
		server = vm->use_proxy.target;
		if (server == NULL || vm_nic(server, NIC_INTERNAL) == NULL)
			return -EINVAL;
	}
	if (!name_ok(server->name))
		return -EINVAL;
	*ret_server = server;
	return 0;
}

/* One link: the socket named after NAME, netdev id "link" or "linkI". */
static void
link_fill(struct runscript_link *l, const char *name, size_t i, const char *mac,
	  bool server, const struct vm *peer)
{
	snprintf(l->sock, sizeof(l->sock), "link-%s.sock", name);
	if (i == 0)
		snprintf(l->id, sizeof(l->id), "link");
	else
		snprintf(l->id, sizeof(l->id), "link%u",
			 (unsigned)i); /* i < VM_MAX_LINKS */
	snprintf(l->mac, sizeof(l->mac), "%s", mac);
	l->server = server;
	l->peer = peer;
}

int
runscript_links(const struct recipe_set *set, const struct vm *vm,
		struct runscript_link *ret)
{
	const struct nic *in = vm_nic(vm, NIC_INTERNAL);
	const struct vm *server, *cl[VM_MAX_LINKS];
	size_t n;
	int r;

	r = runscript_link_server(set, vm, &server);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if (!name_ok(vm->name) || in->mac == NULL)
		return -EINVAL;
	/* A client: one link, named after itself. */
	if (server != vm) {
		link_fill(&ret[0], vm->name, 0, in->mac, false, server);
		return 1;
	}
	n = vm_link_clients(set, vm, cl, VM_MAX_LINKS);
	if (n > VM_MAX_LINKS)
		return -EINVAL;
	/* No client yet: the one link, named after the server. */
	if (n == 0) {
		link_fill(&ret[0], vm->name, 0, in->mac, true, NULL);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		CLEANUP_FREE char *ifname = NULL;
		char mac[18];

		if (!name_ok(cl[i]->name) || !nic_link_id(in, i, &ifname, mac))
			return -EINVAL;
		link_fill(&ret[i], cl[i]->name, i, mac, true, cl[i]);
	}
	return (int)n;
}

int
runscript_link_socket(const struct recipe_set *set, const struct vm *vm,
		      char **ret_word)
{
	struct runscript_link l[VM_MAX_LINKS];
	int n = runscript_links(set, vm, l);

	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	if (n > 1)
		return -E2BIG;
	*ret_word = xasprintf("$rundir/%s", l[0].sock);
	return 0;
}

const char *
runscript_rundir(void)
{
	return "if [ -n \"${XDG_RUNTIME_DIR:-}\" ]; then\n"
	       "\trundir=$XDG_RUNTIME_DIR/sbx-build/$(printf %s \"$here\" |"
	       " cksum | cut -d' ' -f1)\n"
	       "else\n"
	       "\trundir=$here/run\n"
	       "fi\n"
	       "(umask 077 && mkdir -p \"$rundir\") && chmod 0700 "
	       "\"$rundir\"\n";
}

static void
emit_probe(struct strbuf *sb)
{
	size_t col = 0, before;

	sb_puts(sb, "kvm_ok() { # KVM may open, yet crawl: a 64-bit guest "
		    "must be done in 3s\n"
		    "\tif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then "
		    "return 1; fi\n"
		    "\t{\n\t\tprintf '");
	for (size_t i = 0; i < runscript_kvm_probe_len; i++) {
		if (col >= 60) {
			sb_puts(sb, "'\n\t\tprintf '");
			col = 0;
		}
		before = sb->len;
		sb_printf(sb, "\\%o", runscript_kvm_probe[i]);
		col += sb->len - before;
	}
	sb_puts(sb, "'\n\t} >\"$rundir/kvm-probe\"\n"
		    "\tst=0\n"
		    "\ttimeout 3 \"$qemu\" -accel kvm -machine q35 -cpu host "
		    "-m 16 -nodefaults \\\n"
		    "\t\t-display none -kernel \"$rundir/kvm-probe\" \\\n"
		    "\t\t-device isa-debug-exit,iobase=0xf4,iosize=4 "
		    ">/dev/null 2>&1 || st=$?\n"
		    "\t[ \"$st\" -eq 65 ]\n"
		    "}\n");
}

static void
emit_forward(struct strbuf *sb, const struct forward *f)
{
	sb_printf(sb, ",hostfwd=%s:127.0.0.1:%u-:%u",
		  f->proto == PROTO_UDP ? "udp" : "tcp", f->host_port,
		  f->guest_port);
}

static bool
has_gui(const struct vm *vm)
{
	return vm->gui.waypipe;
}

/* The facts every part of one run script needs. */
struct rs {
	struct strbuf *sb;
	const struct vm *vm;
	const struct vm *server; /* the link's listener, or NULL */
	bool client;		 /* VM connects to server's link */
	bool gui;
	struct runscript_link links[VM_MAX_LINKS];
	size_t nlinks;
};

static void
emit_head(const struct rs *s)
{
	struct strbuf *sb = s->sb;

	sb_printf(sb,
		  "#!/bin/sh\n"
		  "# run-%s.sh: starts the sandbox VM '%s' with QEMU. "
		  "Written by sbx-build\n"
		  "# from ",
		  s->vm->name, s->vm->name);
	esc_sh_quote(sb, s->vm->file != NULL ? s->vm->file : "?");
	sb_printf(sb,
		  "; needs QEMU 7.2+, nothing of sbx-build.\n"
		  "# usage: run-%s.sh %s\n"
		  "set -eu\n"
		  "vm=%s mode='' ephemeral=''\n",
		  s->vm->name, RUNSCRIPT_USAGE, s->vm->name);
	sb_puts(sb, "here=$(CDPATH='' cd -- \"$(dirname -- \"$0\")\" && "
		    "pwd -P)\n"
		    "qemu=${SBX_QEMU:-qemu-system-x86_64}\n");
	sb_puts(sb, runscript_rundir());
	sb_puts(sb, "pidf=$rundir/$vm.pid qmp=$rundir/$vm.qmp "
		    "err=$rundir/$vm.err log=$here/logs/$vm.log\n");
	if (s->client)
		sb_printf(sb, "link=$rundir/%s\n", s->links[0].sock);
	if (s->gui)
		sb_puts(sb, "wp=$rundir/$vm.waypipe.pid\n");
	runscript_emit_ssh_vars(sb, s->vm);
	runscript_emit_args(sb, s->vm);
}

static void
emit_helpers(const struct rs *s)
{
	struct strbuf *sb = s->sb;

	sb_puts(sb,
		"say() { echo \"$vm: $*\" >&2; }\n"
		"q() { printf %s \"$1\" | sed 's/,/,,/g'; } # a value in a "
		"QEMU option\n"
		"running() { [ -f \"$pidf\" ] && kill -0 \"$(cat \"$pidf\")\" "
		"2>/dev/null; }\n"
		"qmp() { # QMP commands on stdin to the running VM\n"
		"\tif command -v socat >/dev/null; then socat - "
		"\"UNIX-CONNECT:$qmp\"\n"
		"\telse python3 -c 'import socket, sys, time\n"
		"s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
		"s.sendall(sys.stdin.buffer.read()); time.sleep(1)' "
		"\"$qmp\"; fi\n"
		"}\n");
	if (s->gui)
		sb_puts(sb, "stop_gui() { if [ -f \"$wp\" ]; then "
			    "kill \"$(cat \"$wp\")\" 2>/dev/null || :; "
			    "rm -f \"$wp\"; fi; }\n");
	if (s->vm->nusers > 0)
		/* The guest's sbx-ssh-keys.service says on the console
		 * (the log) whether the SMBIOS credential arrived. */
		sb_puts(sb,
			"key_status() { # the guest's word on the SSH key "
			"(console log)\n"
			"\tif [ ! -f \"$rundir/$vm.key\" ] || [ ! -f \"$log\" "
			"]; then return 0\n"
			"\telif grep -q 'sbx-ssh-keys: missing' \"$log\"; then "
			"say \"SSH key not received by the guest (kernel lacks "
			"dmi-sysfs?): log in on the console\"\n"
			"\telif grep -q 'sbx-ssh-keys: installed' \"$log\"; "
			"then echo \"$vm: SSH key installed ($(cat "
			"\"$rundir/$vm.key\"))\"\n"
			"\telse echo \"$vm: SSH key sent, not confirmed by the "
			"guest yet\"; fi\n"
			"}\n");
	runscript_emit_state_helpers(sb);
	runscript_emit_ssh_helpers(sb, s->vm);
	emit_probe(sb);
}

/* --help, --status, --stop, --reset: each ends the script. */
static void
emit_modes(const struct rs *s)
{
	struct strbuf *sb = s->sb;

	struct strbuf links = STRBUF_INIT;

	/* For --help: which links, on which sockets of the run directory. */
	if (s->client)
		sb_printf(&links,
			  "Private link: socket %s, served by '%s' (start "
			  "run-%s.sh first).\n",
			  s->links[0].sock, s->server->name, s->server->name);
	for (size_t i = 0; !s->client && i < s->nlinks; i++)
		sb_printf(
			&links, "%s%s (%s)", i == 0 ? "Private links: " : ", ",
			s->links[i].peer ? s->links[i].peer->name : "none yet",
			s->links[i].sock);
	if (!s->client && s->nlinks > 0)
		sb_puts(&links, ", one NIC each.\n");
	sb_puts(sb, "case $mode in\n");
	runscript_emit_help(sb, s->vm, links.buf);
	sb_release(&links);
	sb_printf(sb,
		  "--status)\n"
		  "\tif running; then echo \"$vm: running (pid $(cat "
		  "\"$pidf\"))\"%s; exit 0; fi\n",
		  s->vm->nusers > 0 ? "; key_status" : "");
	sb_puts(sb, "\techo \"$vm: stopped\"; exit 3 ;;\n"
		    "--stop)\n");
	if (s->gui)
		sb_puts(sb, "\tstop_gui\n");
	sb_puts(sb,
		"\tif ! running; then echo \"$vm: not running\"; exit 0; fi\n"
		"\tpid=$(cat \"$pidf\") t=${SBX_STOP_TIMEOUT:-60} i=0\n"
		"\t{ echo '{\"execute\":\"qmp_capabilities\"}'; echo "
		"'{\"execute\":\"system_powerdown\"}'; sleep 1; } |\n"
		"\t\tqmp >/dev/null 2>&1 || kill \"$pid\"\n"
		"\twhile kill -0 \"$pid\" 2>/dev/null; do\n"
		"\t\ti=$((i + 1)); sleep 1\n"
		"\t\tif [ \"$i\" -eq \"$t\" ]; then say \"no clean shutdown "
		"in ${t}s, killing it\"; kill \"$pid\"; fi\n"
		"\t\tif [ \"$i\" -eq $((t + 10)) ]; then kill -9 \"$pid\"; "
		"fi\n"
		"\tdone\n"
		"\techo \"$vm: stopped\"; exit 0 ;;\n");
	runscript_emit_reset(sb);
	runscript_emit_ssh_modes(sb, s->vm);
	sb_puts(sb, "esac\n");
}

/* Preconditions, the state overlay, the accelerator. */
static void
emit_prepare(const struct rs *s)
{
	struct strbuf *sb = s->sb;

	sb_puts(sb, "if running; then say \"already running (pid $(cat "
		    "\"$pidf\"))\"; exit 1; fi\n"
		    "if ! command -v \"$qemu\" >/dev/null; then say \"no "
		    "'$qemu': install QEMU (qemu-system-x86)\"; exit 1; fi\n"
		    "if [ ! -f \"$disk\" ]; then say \"no disk '$disk': build "
		    "it with sbx-build\"; exit 1; fi\n");
	/* Before the state overlay is made on it. */
	sb_puts(sb, runscript_disk_check());
	sb_puts(sb,
		"mkdir -p \"$here/logs\"\n"
		"prepare_state\n"
		"case ${SBX_ACCEL:-} in\n"
		"kvm | tcg) accel=$SBX_ACCEL ;;\n"
		"'') accel=kvm\n"
		"\tif ! kvm_ok; then accel=tcg; say \"KVM is not usable here, "
		"using TCG (slow); SBX_ACCEL=kvm forces it\"; fi ;;\n"
		"*) say \"SBX_ACCEL must be kvm or tcg\"; exit 2 ;;\n"
		"esac\n"
		"cpu=max\n"
		"if [ \"$accel\" = kvm ]; then cpu=host; fi\n");

	if (!s->client)
		return;
	/* The link's client side: reconnect where QEMU can. */
	sb_printf(sb,
		  "rc=''\n"
		  "case $(\"$qemu\" --version) in\n"
		  "*\"version 7.\"*) # no reconnect before 8.0: the "
		  "link must be up now\n"
		  "\ti=0\n"
		  "\twhile [ ! -S \"$link\" ]; do\n"
		  "\t\tif [ \"$i\" -eq 0 ]; then say \"waiting for the "
		  "link of '%s' (run-%s.sh)\"; fi\n"
		  "\t\ti=$((i + 1)); if [ \"$i\" -gt 60 ]; then say "
		  "\"no link after 60s\"; exit 1; fi\n"
		  "\t\tsleep 1\n"
		  "\tdone ;;\n"
		  "*\"version 8.\"* | *\"version 9.0\"* | *\"version "
		  "9.1\"*) rc=,reconnect=2 ;;\n"
		  "*) rc=,reconnect-ms=2000 ;;\n"
		  "esac\n",
		  s->server->name, s->server->name);
}

/* The QEMU command line, vsock included. */
static void
emit_argv(const struct rs *s)
{
	struct strbuf *sb = s->sb;
	const struct vm *vm = s->vm;
	uint64_t mib = (vm->memory + (1u << 20) - 1) >> 20;

	sb_printf(sb,
		  "set -- -name \"$vm\" -machine q35 -accel \"$accel\" -cpu "
		  "\"$cpu\" -m %" PRIu64 " -smp %u \\\n"
		  "\t-nodefaults -no-user-config -display none -rtc base=utc "
		  "\\\n"
		  "\t-drive \"if=virtio,format=qcow2,discard=unmap,file=$(q "
		  "\"$state\")$snap\" \\\n"
		  "\t-device virtio-rng-pci",
		  mib, vm->cpus);
	for (size_t i = 0; i < vm->nnics; i++) {
		const struct nic *n = &vm->nics[i];

		if (n->kind == NIC_USER) {
			sb_puts(sb, " \\\n\t-netdev "
				    "user,id=uplink,restrict=off");
			for (size_t j = 0; j < n->nforwards; j++)
				emit_forward(sb, &n->forwards[j]);
			sb_printf(sb,
				  " \\\n\t-device virtio-net-pci,"
				  "netdev=uplink,mac=%s",
				  n->mac);
		} else if (s->client) {
			sb_printf(sb,
				  " \\\n\t-netdev \"stream,id=link,server=off,"
				  "addr.type=unix,addr.path=$(q \"$link\")$rc\""
				  " \\\n\t-device virtio-net-pci,netdev=link,"
				  "mac=%s",
				  n->mac);
		} else {
			/* One NIC per VM behind this one, each on its own
			 * socket. */
			for (size_t j = 0; j < s->nlinks; j++)
				sb_printf(sb,
					  " \\\n\t-netdev \"stream,id=%s,"
					  "server=on,addr.type=unix,addr.path="
					  "$(q \"$rundir/%s\")\" \\\n\t-device "
					  "virtio-net-pci,netdev=%s,mac=%s",
					  s->links[j].id, s->links[j].sock,
					  s->links[j].id, s->links[j].mac);
		}
	}
	runscript_emit_ssh_argv(sb, vm);
	sb_puts(sb, " \\\n\t-qmp \"unix:$(q \"$qmp\"),server=on,wait=off\" "
		    "-pidfile \"$pidf\"\n");
	sb_printf(sb,
		  "if [ \"${SBX_VSOCK:-}\" != off ]; then set -- \"$@\" "
		  "-device vhost-vsock-pci,guest-cid=%" PRIu32 "; fi\n",
		  vm->cid);
}

/* The SSH key credential, the GUI's host half. */
static void
emit_extras(const struct rs *s)
{
	struct strbuf *sb = s->sb;

	if (s->vm->nusers > 0)
		sb_puts(sb,
			"key=${SBX_SSH_KEY:-}\n"
			"for f in \"${HOME:-/}\"/.ssh/id_*.pub; do\n"
			"\tif [ -z \"$key\" ] && [ -f \"$f\" ]; then key=$f; "
			"fi\n"
			"done\n"
			"rm -f \"$rundir/$vm.key\"\n"
			"if [ -z \"$key\" ]; then say \"no SSH key "
			"(~/.ssh/id_*.pub, SBX_SSH_KEY): log in on the "
			"console\"\n"
			"elif [ ! -r \"$key\" ]; then say \"cannot read SSH "
			"key '$key'\"; exit 1\n"
			"else\n"
			"\tprintf '%s\\n' \"$key\" >\"$rundir/$vm.key\"\n"
			"\tset -- \"$@\" -smbios \"type=11,value=io.systemd."
			"credential.binary:sbx.ssh.authorized_keys=$(base64 "
			"<\"$key\" | tr -d '\\n')\"\n"
			"fi\n");
	if (s->gui)
		sb_printf(
			sb,
			"stop_gui\n"
			"if [ \"${SBX_VSOCK:-}\" = off ]; then say \"no vsock:"
			" no GUI apps\"\n"
			"elif [ -z \"${WAYLAND_DISPLAY:-}\" ]; then say \"no "
			"WAYLAND_DISPLAY: no GUI apps\"\n"
			"elif waypipe --help 2>&1 | grep -q -- --vsock; then\n"
			"\twaypipe --vsock -s %" PRIu32 " client "
			">\"$here/logs/$vm-waypipe.log\" 2>&1 &\n"
			"\techo \"$!\" >\"$wp\"\n"
			"else\n"
			"\tsay \"GUI apps need waypipe 0.9+ on the host, or "
			"its container:\"\n"
			"\tsay \"  '$here/host/run-waypipe.sh' (or: podman "
			"compose -f '$here/host/compose.yaml' up -d)\"\n"
			"fi\n",
			s->vm->gui.vsock_port);
}

/* Console, start, errors explained. */
static void
emit_start(const struct rs *s)
{
	struct strbuf *sb = s->sb;

	sb_puts(sb,
		"if [ \"$mode\" = --daemon ]; then\n"
		"\tset -- \"$@\" -daemonize -chardev \"file,id=con,path=$(q "
		"\"$log\")\"\n"
		"else\n"
		"\tset -- \"$@\" -chardev \"stdio,id=con,mux=on,signal=off,"
		"logfile=$(q \"$log\")\" -mon chardev=con\n"
		"\tsay \"console here (Ctrl-a x quits), log in $log; "
		"clean stop: $0 --stop\"\n"
		"fi\n"
		"st=0\n"
		"\"$qemu\" \"$@\" -serial chardev:con 2>\"$err\" || st=$?\n"
		"cat \"$err\" >&2\n");
	if (s->gui)
		sb_puts(sb,
			"if [ \"$mode\" != --daemon ] || [ \"$st\" -ne 0 ]; "
			"then stop_gui; fi\n");
	sb_printf(sb,
		  "if grep -q 'guest cid' \"$err\"; then\n"
		  "\tsay \"vsock CID %" PRIu32 " is taken (another sandbox "
		  "running?): stop it, or change\"\n"
		  "\tsay \"vsock-cid in '",
		  s->vm->cid);
	/* Inside the double quotes of say's argument. */
	esc_sh_dquoted(sb, s->vm->file != NULL ? s->vm->file : "the recipe");
	sb_puts(sb,
		"' and run sbx-build again\"\n"
		"elif grep -q 'vhost device' \"$err\"; then\n"
		"\tsay \"no vsock: 'modprobe vhost_vsock' (root), or "
		"SBX_VSOCK=off to run without\"\n"
		"fi\n"
		"if [ \"$st\" -eq 0 ] && [ \"$mode\" = --daemon ]; then say "
		"\"started (pid $(cat \"$pidf\")), log in $log\"; fi\n"
		"exit \"$st\"\n");
}

int
runscript_render(const struct recipe_set *set, const struct vm *vm,
		 char **ret_text)
{
	struct strbuf sb = STRBUF_INIT;
	struct rs s = {.sb = &sb, .vm = vm, .gui = has_gui(vm)};
	int r;

	/* Names go into file names and unquoted words, the recipe file
	 * into comments and messages, MACs into QEMU's command line. */
	if (!name_ok(vm->name) || (vm->file != NULL && esc_has_ctl(vm->file)))
		return -EINVAL;
	for (size_t i = 0; i < vm->nnics; i++) {
		char mac[ESC_MAC_MAX];

		if (!esc_mac(vm->nics[i].mac, mac) ||
		    strcmp(mac, vm->nics[i].mac) != 0)
			return -EINVAL;
	}
	if (vm_nic(vm, NIC_INTERNAL) != NULL) {
		r = runscript_link_server(set, vm, &s.server);
		if (r < 0)
			return r;
		r = runscript_links(set, vm, s.links);
		if (r <= 0)
			return r < 0 ? r : -EINVAL;
		s.nlinks = (size_t)r;
	}
	s.client = s.server != NULL && s.server != vm;
	emit_head(&s);
	emit_helpers(&s);
	emit_modes(&s);
	emit_prepare(&s);
	emit_argv(&s);
	emit_extras(&s);
	emit_start(&s);
	*ret_text = sb_detach(&sb, NULL);
	return 0;
}

/* Link servers first: the others connect to them. */
static bool
is_server(const struct recipe_set *set, const struct vm *vm)
{
	const struct vm *server;

	return runscript_link_server(set, vm, &server) == 0 && server == vm;
}

int
runscript_render_all(const struct recipe_set *set, char **ret_text)
{
	struct strbuf sb = STRBUF_INIT, stop = STRBUF_INIT;
	const struct vm **order;
	size_t n = 0;

	if (set->nvms == 0)
		return -EINVAL;
	order = xcalloc(set->nvms, sizeof(*order));
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < set->nvms; i++)
			if (is_server(set, &set->vms[i]) == (pass == 0))
				order[n++] = &set->vms[i];
	for (size_t i = 0; i < n; i++) {
		if (!name_ok(order[i]->name)) {
			free(order);
			return -EINVAL;
		}
	}
	sb_puts(&sb, "#!/bin/sh\n"
		     "# run-all.sh: starts every sandbox VM:");
	for (size_t i = 0; i < n; i++)
		sb_printf(&sb, "%s %s", i == 0 ? "" : ",", order[i]->name);
	sb_puts(&sb, ".  The last one runs\n"
		     "# in the foreground unless --daemon.  Written by "
		     "sbx-build.\n"
		     "# usage: run-all.sh [--daemon | --stop | --status]\n"
		     "set -eu\n"
		     "here=$(CDPATH='' cd -- \"$(dirname -- \"$0\")\" && "
		     "pwd -P)\n"
		     "case ${1:-} in\n"
		     "--stop)\n");
	for (size_t i = n; i-- > 0;)
		sb_printf(&stop, "\t\"$here/run-%s.sh\" --stop\n",
			  order[i]->name);
	sb_puts(&sb, stop.buf);
	sb_puts(&sb, "\t;;\n"
		     "--status)\n"
		     "\tst=0\n");
	for (size_t i = 0; i < n; i++)
		sb_printf(&sb, "\t\"$here/run-%s.sh\" --status || st=$?\n",
			  order[i]->name);
	sb_puts(&sb, "\texit \"$st\" ;;\n"
		     "'' | --daemon)\n");
	for (size_t i = 0; i + 1 < n; i++)
		sb_printf(&sb,
			  "\t\"$here/run-%s.sh\" --status >/dev/null ||\n"
			  "\t\t\"$here/run-%s.sh\" --daemon\n",
			  order[i]->name, order[i]->name);
	sb_printf(&sb,
		  "\texec \"$here/run-%s.sh\" \"$@\" ;;\n"
		  "*) echo \"usage: $0 [--daemon | --stop | --status]\" >&2; "
		  "exit 2 ;;\n"
		  "esac\n",
		  order[n - 1]->name);
	sb_release(&stop);
	free(order);
	*ret_text = sb_detach(&sb, NULL);
	return 0;
}
