/* Which bases 'fetch' and 'lock' act on, and what they do with a local
 * one.  A base given as 'path:' is not downloaded and not pinned in
 * sbx.lock: its identity is its path, size and modification time, which
 * the build records in out/VM.inputs.  'fetch' checks that it is there
 * (and matches the recipe's 'checksum:' when one is given); 'lock' says
 * it is local and leaves it out. */
#ifndef SBX_CMD_BASES_H
#define SBX_CMD_BASES_H

#include <stdbool.h>
#include <stddef.h>

struct base;
struct recipe_set;

/* The bases the VMs use, each once, in the order the recipes define them:
 * what 'fetch' and 'lock' without a BASE act on.  Returns how many;
 * *ret (free it) has room for nbases + extra more. */
size_t cmd_bases_used(const struct recipe_set *set, size_t extra,
		      const struct base ***ret);
/* For a local base: checks that its file is there and, when the recipe
 * gives 'checksum:', that it matches; logs the result.  0 or -errno
 * (-EBADMSG: the checksum differs). */
int cmd_base_check_local(const char *dir, const struct base *b);

struct containers_opts;
struct lock;
/* Every VM's container images through containers_vm with co ('fetch':
 * made ready in the cache, each logged when list; 'lock': pinned).  What
 * failed is logged once as "cannot VERB container images:" and every
 * reason; -EIO then. */
int cmd_container_images(struct lock *lk, const struct recipe_set *set,
			 const struct containers_opts *co, const char *verb,
			 bool list);

#endif
