/* The run script's check of its disk's backing file (runscript.h). */
#include "runscript.h"

/* A built image is a qcow2 overlay naming its base (in the cache, or a
 * local base) in its header: bytes 0-3 "QFI\373", 8-15 the name's offset,
 * 16-19 its length, big-endian.  When that file is gone QEMU says only
 * "Could not open backing file"; this says which image and how to get it
 * back.  Plain od and dd: the script needs nothing but QEMU. */
const char *
runscript_disk_check(void)
{
	/* Four lines: the scripts stay short enough to read. */
	return "# shellcheck disable=SC2046 # the header's bytes, one word "
	       "each\n"
	       "backing() { f=$1; set -- $(od -An -tu1 -v -N20 -- \"$f\" "
	       "2>/dev/null); [ $# -eq 20 ] && [ \"$1.$2.$3.$4\" = "
	       "81.70.73.251 ] || return 0; o=0; for b in \"$9\" \"${10}\" "
	       "\"${11}\" \"${12}\" \"${13}\" \"${14}\" \"${15}\" \"${16}\"; "
	       "do o=$((o * 256 + b)); done; n=$(((${17} << 24) + (${18} << "
	       "16) + (${19} << 8) + ${20})); if [ \"$o\" -gt 0 ] && [ \"$n\" "
	       "-gt 0 ] && [ \"$n\" -lt 4096 ]; then dd if=\"$f\" bs=1 "
	       "skip=\"$o\" count=\"$n\" 2>/dev/null; fi; }\n"
	       "base=$(backing \"$disk\") basep=''; case $base in '' | *://* "
	       "| json:*) ;; /*) basep=$base ;; *) basep=$(dirname -- "
	       "\"$disk\")/$base ;; esac\n"
	       "if [ -n \"$basep\" ] && [ ! -e \"$basep\" ]; then say \"the "
	       "disk '$disk' is an overlay on the base image '$base', which "
	       "is missing: rebuild the disk with 'sbx-build build $vm' (it "
	       "fetches the base again), or point the disk at a copy of that "
	       "image with 'qemu-img rebase -u -F qcow2 -b COPY $disk' (-F "
	       "raw for a raw base)\"; exit 1; fi\n";
}
