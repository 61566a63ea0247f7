/* Overlay trees: overlays/<vm>/ copied verbatim into the guest root.  Only
 * directories, regular files and symlinks that stay inside the tree. */
#ifndef SBX_OVERLAY_H
#define SBX_OVERLAY_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct recipe_set;
struct vm;

enum overlay_type {
	OV_DIR,
	OV_REG,
	OV_SYMLINK,
};

struct overlay_entry {
	char *path; /* guest path, "/etc/motd" */
	char *src;  /* host path of the file */
	enum overlay_type type;
	unsigned mode; /* permission bits */
	uint64_t size;
	char *target; /* OV_SYMLINK */
};

struct overlay {
	struct overlay_entry *v; /* sorted by path: parents first */
	size_t n;
};

/* Scans PROJECT/REL, opened beneath PROJECT (open_beneath: -EXDEV when
 * REL or a symlink on its way leads out of the project) and walked without
 * following any symlink.  Fails with -EINVAL on a device, fifo or socket,
 * a symlink leading out of the tree or to a directory of the tree;
 * *ret_bad then names the offending host path and the reason (caller
 * frees).  Entries' src are PROJECT/REL/... */
int overlay_scan(const char *project, const char *rel, struct overlay *ret,
		 char **ret_bad);
void overlay_release(struct overlay *ov);

/* Validates vm->overlay: inside the project, a directory, and a tree
 * overlay_scan accepts.  Problems go to diags at the recipe's position. */
void overlay_check(const struct recipe_set *set, const struct vm *vm,
		   struct diag_list *diags);

/* True when a symlink at guest path 'link' with 'target' resolves inside
 * the root (absolute targets always do). */
int overlay_symlink_inside(const char *link, const char *target);

#endif
