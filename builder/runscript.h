/* Run-script generation (pure): the POSIX sh scripts that start each VM
 * with QEMU, and run-all.sh.  Values in, text out; no I/O. */
#ifndef SBX_RUNSCRIPT_H
#define SBX_RUNSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

struct recipe_set;
struct vm;

/* The internal link VM's internal NIC joins: *ret_server is the VM that
 * listens on it (the proxy VM for a VM with use-proxy, else VM itself).
 * -ENOENT when VM has no internal NIC, -EINVAL when the proxy VM has
 * none. */
int runscript_link_server(const struct recipe_set *set, const struct vm *vm,
			  const struct vm **ret_server);

/* One internal link of a VM: a point-to-point segment, its own unix
 * socket in $rundir. */
struct runscript_link {
	char sock[48];	       /* "link-CLIENT.sock" (a VM name: <= 32) */
	char id[16];	       /* QEMU netdev id: "link", "link1", ... */
	char mac[18];	       /* VM's NIC on this link */
	bool server;	       /* VM listens (the proxy VM) */
	const struct vm *peer; /* the other end, NULL before any client */
};

/* The links VM's internal NIC makes, into RET (VM_MAX_LINKS entries): a
 * VM behind a proxy VM has one, to it, on a socket named after itself; a
 * proxy VM has one per VM behind it (vm_link_clients: its NIC, MAC and
 * socket each), or a lone one named after itself while none uses it.
 * Returns how many (0: no internal NIC), -EINVAL when a name or MAC is
 * unusable. */
int runscript_links(const struct recipe_set *set, const struct vm *vm,
		    struct runscript_link *ret);

/* The socket of VM's only link as a shell word, relative to $rundir (see
 * runscript_rundir): the script at its other end computes the same path,
 * e.g. "$rundir/link-dev.sock".  -E2BIG for a proxy VM with several. */
int runscript_link_socket(const struct recipe_set *set, const struct vm *vm,
			  char **ret_word);

/* The sh lines that set $rundir, the private (0700) run directory shared
 * by every script in one out/ directory: $XDG_RUNTIME_DIR/sbx-build/ID
 * (ID from the out/ path) or, without XDG_RUNTIME_DIR, out/run.  Needs
 * $here (the script's directory) to be set. */
const char *runscript_rundir(void);
/* Shell that stops with a message naming the missing image and how to get
 * it (sbx-build build VM, or qemu-img rebase) when $disk is a qcow2
 * overlay whose backing file is gone (runscript-disk.c).  Uses say() and
 * $disk, $vm. */
const char *runscript_disk_check(void);

/* out/run-VM.sh.  -EINVAL when a name cannot be used in a file name. */
int runscript_render(const struct recipe_set *set, const struct vm *vm,
		     char **ret_text);
/* out/run-all.sh: link servers first, then the others. */
int runscript_render_all(const struct recipe_set *set, char **ret_text);

/* The 64-bit guest the KVM probe boots (a multiboot image). */
extern const unsigned char runscript_kvm_probe[];
extern const size_t runscript_kvm_probe_len;

#endif
