/* Which VMs of one out/ directory run: the run scripts' pid files
 * (runscript.c: $rundir/VM.pid, in out/run or
 * $XDG_RUNTIME_DIR/sbx-build/CKSUM), each checked against the process it
 * names, so a stale file or a reused pid is not "running". */
#ifndef SBX_VMPID_H
#define SBX_VMPID_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* POSIX cksum(1)'s CRC of LEN bytes at P: the run scripts name their
 * run directory with it. */
uint32_t vmpid_cksum(const void *p, size_t len);

struct vmpid {
	char *name; /* the VM, from VM.pid */
	pid_t pid;
};

/* The running VMs of OUT (*ret_v, *ret_n; free with vmpid_free).
 * Returns 0 or a negative errno. */
int vmpid_running(const char *out, struct vmpid **ret_v, size_t *ret_n);
void vmpid_free(struct vmpid *v, size_t n);

#endif
