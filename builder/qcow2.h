/* The one fact the bake reads from a qcow2 header itself: its backing
 * file name (header: magic "QFI\xfb", version, backing file offset u64,
 * size u32; big-endian). */
#ifndef SBX_QCOW2_H
#define SBX_QCOW2_H

#include <stdbool.h>

/* True when the qcow2 image at path records backing as its backing
 * file; false for anything else (no file, not qcow2, another name). */
bool qcow2_backed_by(const char *path, const char *backing);

#endif
