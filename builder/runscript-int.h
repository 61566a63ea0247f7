/* Parts of run-VM.sh that runscript.c assembles, kept apart from it:
 * the options, --help, and the VM's state overlay (runscript-state.c).
 * Each appends sh text to SB; the names they set ($mode, $ephemeral,
 * $snap, $disk, $state, $stamp) are what the rest of the script uses. */
#ifndef SBX_RUNSCRIPT_INT_H
#define SBX_RUNSCRIPT_INT_H

#include <stdbool.h>

#include "util.h"

struct vm;

#define RUNSCRIPT_USAGE \
	"[--daemon] [--ephemeral] | --stop | --status | --reset | --help"

/* The paths of the image and its state, usage(), and the loop over the
 * script's arguments: sets $mode and $snap, exits 2 on a bad one. */
void runscript_emit_args(struct strbuf *sb, const struct vm *vm);
/* image_id() and prepare_state(): out/state/VM.qcow2 over the image,
 * moved aside when the image changed under it. */
void runscript_emit_state_helpers(struct strbuf *sb);
/* The "--help)" and "--reset)" arms of the script's case $mode. */
/* LINKS: lines about the VM's private links for --help, or NULL. */
void runscript_emit_help(struct strbuf *sb, const struct vm *vm,
			 const char *links);
void runscript_emit_reset(struct strbuf *sb);

/* The host-only SSH channel (runscript-ssh.c), for a VM with users: the
 * virtio-serial port's name in the guest (render-users.c serves it). */
#define RUNSCRIPT_SSH_PORT "org.sbx.ssh"
/* The proxy VM's egress log port (render-egress.c feeds it). */
#define RUNSCRIPT_EGRESS_PORT "org.sbx.egress"
bool runscript_has_ssh(const struct vm *vm);
/* $sshs, $cfg, $kh, $sshuser. */
void runscript_emit_ssh_vars(struct strbuf *sb, const struct vm *vm);
/* cq(), ssh_config(). */
void runscript_emit_ssh_helpers(struct strbuf *sb, const struct vm *vm);
/* The "ssh)", "--ssh-config)" and "--ssh-proxy)" arms. */
void runscript_emit_ssh_modes(struct strbuf *sb, const struct vm *vm);
/* The virtio-serial ports' QEMU options (SSH; the egress log of a proxy
 * VM into out/logs/egress.log), appended to a "set --" line. */
void runscript_emit_ssh_argv(struct strbuf *sb, const struct vm *vm);

#endif
