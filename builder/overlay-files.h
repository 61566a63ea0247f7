/* The overlay as guest files: 'render' writes them and 'seed' carries
 * them like the rendered ones, so both hold what the bake copies. */
#ifndef SBX_OVERLAY_FILES_H
#define SBX_OVERLAY_FILES_H

struct gfiles;
struct overlay;

/* Adds ov's entries to f as the bake copies them over the rendered
 * files: root-owned, with the overlay's modes (symlinks 0777); an overlay
 * entry replaces a rendered file of the same path, and a directory the
 * rendered files already have keeps its owner and mode.  f stays sorted
 * by path.  Reads each regular file; on failure returns -errno with
 * *ret_bad (free it) naming the host file. */
int overlay_add_files(struct gfiles *f, const struct overlay *ov,
		      char **ret_bad);

#endif
