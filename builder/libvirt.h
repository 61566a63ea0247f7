/* libvirt domain XML (pure): out/VM.xml, the equivalent of out/run-VM.sh
 * for virsh and virt-manager users (qemu:///session). */
#ifndef SBX_LIBVIRT_H
#define SBX_LIBVIRT_H

struct recipe_set;
struct vm;

/* OUTDIR is the absolute path of out/: libvirt wants absolute paths for
 * the disk, the console log and the link socket (OUTDIR/run/).  -EINVAL
 * when OUTDIR is relative or a name is unusable. */
int libvirt_render(const struct recipe_set *set, const struct vm *vm,
		   const char *outdir, char **ret_xml);

#endif
