/* Run-script parts (pure): the options, --help, and the state overlay.
 *
 * A VM never runs on its built image: out/state/VM.qcow2 is a qcow2
 * overlay backed by it (relative path ../VM.qcow2, so out/ can move),
 * made by qemu-img at the first start.  out/state/VM.image records what
 * the overlay was made on (out/VM.inputs, the image's size and mtime);
 * when the image changed since, the old state is moved aside as
 * out/state/VM.qcow2.old-DATE, never deleted.  --reset deletes the
 * state, --ephemeral runs on it with snapshot=on (changes are dropped at
 * stop). */
#include "recipe.h"
#include "runscript-int.h"

void
runscript_emit_args(struct strbuf *sb, const struct vm *vm)
{
	bool ssh = runscript_has_ssh(vm);

	sb_printf(sb,
		  "qemu_img=${SBX_QEMU_IMG:-qemu-img}\n"
		  "disk=$here/$vm.qcow2 state=$here/state/$vm.qcow2 "
		  "stamp=$here/state/$vm.image snap=''\n"
		  "usage() { echo \"usage: $0 %s\" >&2; }\n",
		  ssh ? RUNSCRIPT_USAGE " | ssh [ARG...]" : RUNSCRIPT_USAGE);
	/* ssh takes the rest of the line as its own. */
	if (ssh)
		sb_puts(sb, "case ${1:-} in\n"
			    "ssh | --ssh-proxy | --ssh-config) mode=$1; shift "
			    ";;\n"
			    "esac\n"
			    "[ -n \"$mode\" ] ||\n");
	sb_puts(sb, "for a in \"$@\"; do\n"
		    "\tcase $a in\n"
		    "\t--daemon | --stop | --status | --reset | --help)\n"
		    "\t\tif [ -n \"$mode\" ]; then usage; exit 2; fi\n"
		    "\t\tmode=$a ;;\n"
		    "\t--ephemeral) ephemeral=1 snap=,snapshot=on ;;\n"
		    "\t*) usage; exit 2 ;;\n"
		    "\tesac\n"
		    "done\n");
}

void
runscript_emit_state_helpers(struct strbuf *sb)
{
	sb_puts(sb,
		"image_id() { # what the state was made on\n"
		"\tprintf '%s %s %s\\n' \"$(cat \"$here/$vm.inputs\" "
		"2>/dev/null || :)\" \\\n"
		"\t\t\"$(wc -c <\"$disk\")\" \"$(date -r \"$disk\" +%s)\"\n"
		"}\n"
		"prepare_state() { # out/state/VM.qcow2 over the image\n"
		"\tid=$(image_id)\n"
		"\tif [ -f \"$state\" ] && [ \"$(cat \"$stamp\" 2>/dev/null "
		"|| :)\" != \"$id\" ]; then\n"
		"\t\told=$state.old-$(date +%Y%m%d-%H%M%S)\n"
		"\t\tmv \"$state\" \"$old\" && rm -f \"$stamp\" "
		"\"$here/state/$vm.known_hosts\"\n"
		"\t\tsay \"the image was rebuilt: its old state no longer "
		"fits, kept as\"\n"
		"\t\tsay \"  '$old' (delete it when its files are saved); "
		"starting from the new image\"\n"
		"\tfi\n"
		"\tif [ ! -f \"$state\" ]; then\n"
		"\t\tif ! command -v \"$qemu_img\" >/dev/null; then say "
		"\"no '$qemu_img': install QEMU (qemu-utils)\"; exit 1; fi\n"
		"\t\t(umask 077 && mkdir -p \"$here/state\")\n"
		"\t\t\"$qemu_img\" create -q -f qcow2 -F qcow2 -b "
		"\"../$vm.qcow2\" \"$state\"\n"
		"\t\tprintf '%s\\n' \"$id\" >\"$stamp\"\n"
		"\tfi\n"
		"\tif [ -n \"$ephemeral\" ]; then say \"ephemeral: this run's "
		"changes are dropped when it stops\"; fi\n"
		"}\n");
}

void
runscript_emit_help(struct strbuf *sb, const struct vm *vm, const char *links)
{
	bool ssh = runscript_has_ssh(vm);

	sb_printf(sb,
		  "--help)\n"
		  "\tcat <<'EOF'\n"
		  "usage: run-%s.sh %s\n"
		  "Starts the sandbox VM '%s' with QEMU, on its state "
		  "out/state/%s.qcow2\n"
		  "(an overlay of the built image out/%s.qcow2, made at the "
		  "first start).\n"
		  "  (none)       run in the foreground: the console is this "
		  "terminal (Ctrl-a x quits)\n"
		  "  --daemon     run in the background; console in "
		  "out/logs/%s.log\n"
		  "  --ephemeral  this run's changes to the state are dropped "
		  "when it stops\n"
		  "  --stop       shut down cleanly (ACPI), kill after "
		  "SBX_STOP_TIMEOUT seconds\n"
		  "  --status     say whether it runs (exit 0) or not (exit "
		  "3)\n"
		  "  --reset      discard the state: the next start is the "
		  "built image again\n"
		  "  --help       this text\n",
		  vm->name,
		  ssh ? RUNSCRIPT_USAGE " | ssh [ARG...]" : RUNSCRIPT_USAGE,
		  vm->name, vm->name, vm->name, vm->name);
	if (ssh)
		sb_printf(sb,
			  "  ssh [ARG...] ssh into the running VM as '%s' over "
			  "a host-only channel\n"
			  "               (virtio-serial, no network); ARGs go "
			  "to ssh, e.g. a command\n"
			  "  --ssh-config print the path of an ssh_config for "
			  "host sbx-%s:\n"
			  "               scp -F \"$(run-%s.sh --ssh-config)\" "
			  "FILE sbx-%s:\n"
			  "               rsync -e \"ssh -F $(run-%s.sh "
			  "--ssh-config)\" DIR/ sbx-%s:DIR/\n",
			  vm->users[0].name, vm->name, vm->name, vm->name,
			  vm->name, vm->name);
	if (links != NULL)
		sb_puts(sb, links);
	sb_printf(sb,
		  "A rebuilt image moves an old state aside "
		  "(out/state/%s.qcow2.old-DATE).\n"
		  "Environment:\n"
		  "  SBX_ACCEL=kvm|tcg     accelerator (default: KVM when it "
		  "works, else TCG)\n"
		  "  SBX_QEMU=PROGRAM      QEMU (default "
		  "qemu-system-x86_64)\n"
		  "  SBX_QEMU_IMG=PROGRAM  qemu-img (default qemu-img)\n"
		  "  SBX_SSH_KEY=FILE.pub  the key the VM's users accept "
		  "(default ~/.ssh/id_*.pub)\n"
		  "  SBX_VSOCK=off         no vsock device (no GUI apps)\n"
		  "  SBX_STOP_TIMEOUT=N    seconds --stop waits (default "
		  "60)\n"
		  "  XDG_RUNTIME_DIR       where sockets and the pid file go "
		  "(else out/run)\n"
		  "EOF\n"
		  "\texit 0 ;;\n",
		  vm->name);
}

void
runscript_emit_reset(struct strbuf *sb)
{
	sb_puts(sb,
		"--reset)\n"
		"\tif running; then say \"running: stop it first ($0 "
		"--stop)\"; exit 1; fi\n"
		"\tif [ -f \"$state\" ]; then\n"
		"\t\trm -f \"$state\" \"$stamp\" "
		"\"$here/state/$vm.known_hosts\"\n"
		"\t\techo \"$vm: state discarded: the next start is the built "
		"image\"\n"
		"\telse echo \"$vm: no state: the next start is the built "
		"image\"; fi\n"
		"\texit 0 ;;\n");
}
