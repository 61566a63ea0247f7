/* Writes what a run of the sandbox needs next to the images: the run
 * scripts, the libvirt XML and out/host/.  Every file is written
 * atomically; errors are negative errnos. */
#ifndef SBX_OUTPUTS_H
#define SBX_OUTPUTS_H

#include <stdbool.h>

/* OUTDIR/.sbx-outputs lists, one a line, the files below OUTDIR that
 * sbx-build wrote (besides the per-VM names 'clean' derives from the
 * recipes), so that 'clean' removes those and nothing else. */
#define OUTPUTS_RECORD ".sbx-outputs"

struct recipe_set;
struct vm;

/* OUTDIR/run-VM.sh (0755) and OUTDIR/VM.xml (0644); creates OUTDIR and,
 * for a VM on the internal link, OUTDIR/run (0700, the libvirt link's
 * directory). */
int outputs_write_vm(const struct recipe_set *set, const struct vm *vm,
		     const char *outdir);
/* OUTDIR/run-all.sh (0755) and, when a VM has GUI apps,
 * OUTDIR/host/Containerfile and OUTDIR/host/compose.yaml. */
int outputs_write_all(const struct recipe_set *set, const char *outdir);

/* A name that may be recorded: relative, no "..", no newline. */
bool outputs_name_ok(const char *name);
/* Adds name (a path below outdir) to OUTDIR/.sbx-outputs unless listed. */
int outputs_record(const char *outdir, const char *name);
/* Records every regular file directly in OUTDIR (what unpack or pull
 * put there), so that 'clean' may remove it; warns when it cannot. */
void outputs_record_dir(const char *outdir);

/* Removes OUTDIR/.VM.qcow2.tmp-PID, the temporary image of a build that
 * was killed (SIGKILL, power loss) before it could clean up, for each PID
 * that is no longer a running process; a build still running keeps its
 * own.  Returns the number removed, or a negative errno. */
int outputs_remove_stale(const char *outdir, const char *vm);

#endif
