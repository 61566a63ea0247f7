/* Run-script parts (pure): the host-only SSH channel.
 *
 * No network path: QEMU's virtio-serial port org.sbx.ssh is a unix socket
 * on the host side ($rundir/VM-ssh.sock, in the 0700 run directory) and
 * /dev/virtio-ports/org.sbx.ssh in the guest, where sshd -i serves it
 * (render-users.c, sbx-ssh-serial.service).  The host's ssh reaches it
 * through "run-VM.sh --ssh-proxy" as its ProxyCommand; one ssh_config
 * ($rundir/VM.ssh_config, "run-VM.sh --ssh-config" prints its path) serves
 * ssh, scp and rsync -e, with a control master so several sessions share
 * the one port.  The key is the one the run script handed over as a
 * credential (SBX_SSH_KEY or ~/.ssh/id_*.pub, its private half beside
 * it); the VM's host key is learnt at first use into
 * out/state/VM.known_hosts, which goes with the state.  vsock is not
 * used: it needs /dev/vhost-vsock, which not every host has. */
#include "recipe.h"
#include "escape.h"
#include "runscript-int.h"

bool
runscript_has_ssh(const struct vm *vm)
{
	return vm->nusers > 0 && esc_username_ok(vm->users[0].name);
}

void
runscript_emit_ssh_vars(struct strbuf *sb, const struct vm *vm)
{
	if (!runscript_has_ssh(vm))
		return;
	sb_printf(sb,
		  "sshs=$rundir/$vm-ssh.sock cfg=$rundir/$vm.ssh_config "
		  "kh=$here/state/$vm.known_hosts sshuser=%s\n",
		  vm->users[0].name);
}

void
runscript_emit_ssh_helpers(struct strbuf *sb, const struct vm *vm)
{
	if (!runscript_has_ssh(vm))
		return;
	sb_puts(sb,
		"cq() { # a value in ssh_config: quoted, %% doubled\n"
		"\tcase $1 in *'\"'* | *\"\n"
		"\"*) say \"cannot use '$1' in an ssh_config\"; exit 1 ;; "
		"esac\n"
		"\tprintf '\"%s\"' \"$(printf %s \"$1\" | sed 's/%/%%/g')\"\n"
		"}\n"
		"ssh_config() { # $cfg: ssh -F $cfg sbx-$vm\n"
		"\tid=''\n"
		"\tif [ -f \"$rundir/$vm.key\" ]; then id=$(cat "
		"\"$rundir/$vm.key\"); id=${id%.pub}; fi\n"
		"\t{\n"
		"\t\techo \"Host sbx-$vm\"\n"
		"\t\techo \"  User $sshuser\"\n"
		"\t\techo \"  ProxyCommand sh $(cq \"$here/run-$vm.sh\") "
		"--ssh-proxy\"\n"
		"\t\techo \"  UserKnownHostsFile $(cq \"$kh\")\"\n"
		"\t\techo \"  StrictHostKeyChecking accept-new\"\n"
		"\t\techo \"  HostKeyAlias sbx-$vm\"\n"
		"\t\techo \"  ControlMaster auto\"\n"
		"\t\techo \"  ControlPath $(cq \"$rundir/$vm-ssh.%C\")\"\n"
		"\t\techo \"  ControlPersist 60\"\n"
		"\t\tif [ -f \"$id\" ]; then echo \"  IdentityFile $(cq "
		"\"$id\")\"; echo \"  IdentitiesOnly yes\"; fi\n"
		"\t} >\"$cfg\"\n"
		"}\n");
}

void
runscript_emit_ssh_modes(struct strbuf *sb, const struct vm *vm)
{
	if (!runscript_has_ssh(vm))
		return;
	sb_puts(sb,
		"ssh)\n"
		"\tif ! running; then say \"not running: start it first ($0 "
		"--daemon)\"; exit 1; fi\n"
		"\tssh_config\n"
		"\texec ssh -F \"$cfg\" \"sbx-$vm\" \"$@\" ;;\n"
		"--ssh-config)\n"
		"\tssh_config; echo \"$cfg\"; exit 0 ;;\n"
		"--ssh-proxy) # ssh's ProxyCommand: stdio to the port\n"
		"\tif command -v socat >/dev/null; then exec socat - "
		"\"UNIX-CONNECT:$sshs\"; fi\n"
		"\texec python3 -c 'import os, socket, sys, threading\n"
		"s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
		"def up():\n"
		"    while True:\n"
		"        d = os.read(0, 65536)\n"
		"        if not d:\n"
		"            s.shutdown(socket.SHUT_WR); return\n"
		"        s.sendall(d)\n"
		"threading.Thread(target=up, daemon=True).start()\n"
		"while True:\n"
		"    d = s.recv(65536)\n"
		"    if not d:\n"
		"        break\n"
		"    os.write(1, d)' \"$sshs\" ;;\n");
}

void
runscript_emit_ssh_argv(struct strbuf *sb, const struct vm *vm)
{
	bool ssh = runscript_has_ssh(vm), egress = vm->proxy_server.present;

	if (!ssh && !egress)
		return;
	sb_puts(sb, " \\\n\t-device virtio-serial-pci,id=vser");
	if (ssh)
		sb_puts(sb,
			" -chardev \"socket,id=sshch,path=$(q \"$sshs\"),"
			"server=on,wait=off\" \\\n\t-device virtserialport,"
			"bus=vser.0,chardev=sshch,name=" RUNSCRIPT_SSH_PORT);
	/* The proxy VM's egress log (render-egress.c), appended as it
	 * comes. */
	if (egress)
		sb_puts(sb,
			" \\\n\t-chardev \"file,id=egress,path=$(q "
			"\"$here/logs/egress.log\"),append=on\" \\\n\t-device "
			"virtserialport,bus=vser.0,chardev=egress,"
			"name=" RUNSCRIPT_EGRESS_PORT);
}
