/* YAML documents as a small tree whose every node keeps its source
 * position.  ytree.c is the only file that includes libyaml's header;
 * recipes, sbx.lock and manifests are all read and written through here. */
#ifndef SBX_YTREE_H
#define SBX_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode {
	enum ynode_kind kind;
	struct srcpos pos;
	bool quoted;	      /* scalar written with quotes: always a string */
	char *str;	      /* YNODE_SCALAR */
	struct ynode **items; /* YNODE_SEQ items; YNODE_MAP keys and values
				 interleaved: k0, v0, k1, v1, ... */
	size_t n;	      /* number of items (pairs * 2 for maps) */
	size_t cap;
};

/* Bounds on what a parse builds, each refused with a positioned error. */
struct ytree_limits {
	size_t max_depth;  /* nested sequences and mappings */
	size_t max_nodes;  /* scalars, sequences and mappings in all */
	size_t max_scalar; /* bytes in one scalar */
};

/* Parses one document from text.  Syntax errors, duplicate keys, keys that
 * are not scalars, anchors and aliases (refused: no alias bombs), a second
 * document and exceeded limits go to diags (the text is registered there
 * for quoting); returns -EINVAL then.  An empty document yields an empty
 * map.  file names the text in positions and must outlive the tree (pass
 * a string the caller keeps).  ytree_parse uses generous default limits
 * (depth 64, 1000000 nodes, 1 MiB scalars). */
int ytree_parse_limited(const char *file, const char *text, size_t len,
			const struct ytree_limits *lim, struct diag_list *diags,
			struct ynode **ret);
int ytree_parse(const char *file, const char *text, size_t len,
		struct diag_list *diags, struct ynode **ret);
void ynode_free(struct ynode *n);

/* Lookup in a map by key; NULL when absent or n is not a map. */
struct ynode *ynode_get(const struct ynode *map, const char *key);
static inline size_t
ynode_map_len(const struct ynode *map)
{
	return map->n / 2;
}

/* Building trees to emit. */
struct ynode *ynode_new_map(void);
struct ynode *ynode_new_seq(void);
struct ynode *ynode_new_str(const char *s);
/* Appends and returns the value; takes ownership of val. */
struct ynode *ynode_map_put(struct ynode *map, const char *key,
			    struct ynode *val);
struct ynode *ynode_seq_push(struct ynode *seq, struct ynode *val);
struct ynode *ynode_map_put_str(struct ynode *map, const char *key,
				const char *val);

/* Emits a tree as a YAML document (block style, keys in the given order,
 * strings quoted only where YAML needs it). */
int ytree_emit(const struct ynode *root, char **ret_text, size_t *ret_len);

#endif
