/* libyaml in, libyaml out: the only file that includes <yaml.h>. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "util.h"
#include "ytree.h"

static const struct ytree_limits default_limits = {
	.max_depth = 64,
	.max_nodes = 1000000,
	.max_scalar = 1 << 20,
};

static struct ynode *
ynode_new(enum ynode_kind kind)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	return n;
}

void
ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->items[i]);
	free(n->items);
	free(n->str);
	free(n);
}

static void
push(struct ynode *parent, struct ynode *child)
{
	parent->items = xgrow(parent->items, &parent->cap, parent->n + 1,
			      sizeof(*parent->items));
	parent->items[parent->n++] = child;
}

static struct srcpos
mark_pos(const char *file, yaml_mark_t m)
{
	struct srcpos p = {file, (int)m.line + 1, (int)m.column + 1};

	return p;
}

/* The tree under construction: the open sequences and mappings. */
struct loader {
	const char *file;
	const struct ytree_limits *lim;
	struct diag_list *diags;
	struct ynode *root;
	struct ynode **stack;
	size_t depth, cap, nodes, ndocs;
};

struct keyref {
	const struct ynode *key;
	size_t index;
};

static int
cmp_keyref(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key->str, y->key->str);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Duplicate keys, found by sorting: a mapping may have many keys. */
static void
check_duplicates(const struct ynode *map, struct diag_list *diags)
{
	size_t n = map->n / 2;
	struct keyref *v;

	if (n < 2)
		return;
	v = xmalloc(n * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = (struct keyref){map->items[2 * i], i};
	qsort(v, n, sizeof(*v), cmp_keyref);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (strcmp(v[i].key->str, v[first].key->str) != 0) {
			first = i;
			continue;
		}
		diag_add(diags, v[i].key->pos,
			 "duplicate key '%s' (first at line %d)", v[i].key->str,
			 v[first].key->pos.line);
	}
	free(v);
}

/* Adds a new node under the innermost open container (or as the root).
 * Returns false after a diagnostic. */
static bool
attach(struct loader *ld, struct ynode *n)
{
	struct ynode *parent;

	if (++ld->nodes > ld->lim->max_nodes) {
		diag_add(ld->diags, n->pos, "more than %zu YAML nodes",
			 ld->lim->max_nodes);
		ynode_free(n);
		return false;
	}
	if (ld->depth == 0) {
		ld->root = n;
		return true;
	}
	parent = ld->stack[ld->depth - 1];
	if (parent->kind == YNODE_MAP && parent->n % 2 == 0 &&
	    n->kind != YNODE_SCALAR) {
		diag_add(ld->diags, n->pos,
			 "a key must be a plain string, "
			 "not a list or mapping");
		ynode_free(n);
		return false;
	}
	push(parent, n);
	return true;
}

static bool
open_node(struct loader *ld, struct ynode *n)
{
	if (ld->depth >= ld->lim->max_depth) {
		diag_add(ld->diags, n->pos, "nesting deeper than %zu levels",
			 ld->lim->max_depth);
		ynode_free(n);
		return false;
	}
	if (!attach(ld, n))
		return false;
	ld->stack =
		xgrow(ld->stack, &ld->cap, ld->depth + 1, sizeof(*ld->stack));
	ld->stack[ld->depth++] = n;
	return true;
}

static bool
no_anchor(struct loader *ld, const yaml_char_t *anchor, yaml_mark_t m)
{
	if (anchor == NULL)
		return true;
	diag_add(ld->diags, mark_pos(ld->file, m),
		 "YAML anchors ('&%s') and aliases are not supported; write "
		 "the value out",
		 (const char *)anchor);
	return false;
}

/* One event into the tree.  Returns 1 to go on, 0 at the end of the
 * stream, -1 after a diagnostic. */
static int
load_event(struct loader *ld, const yaml_event_t *ev)
{
	struct srcpos pos = mark_pos(ld->file, ev->start_mark);
	struct ynode *n;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (ld->ndocs++ > 0) {
			diag_add(ld->diags, pos,
				 "a second YAML document in one file; give "
				 "each in a file of its own");
			return -1;
		}
		return 1;
	case YAML_ALIAS_EVENT:
		diag_add(ld->diags, pos,
			 "YAML aliases ('*%s') and anchors are not supported; "
			 "write the value out",
			 (const char *)ev->data.alias.anchor);
		return -1;
	case YAML_SCALAR_EVENT:
		if (!no_anchor(ld, ev->data.scalar.anchor, ev->start_mark))
			return -1;
		if (ev->data.scalar.length > ld->lim->max_scalar) {
			diag_add(ld->diags, pos, "value longer than %zu bytes",
				 ld->lim->max_scalar);
			return -1;
		}
		n = ynode_new(YNODE_SCALAR);
		n->pos = pos;
		n->str = xstrndup((const char *)ev->data.scalar.value,
				  ev->data.scalar.length);
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		if (strlen(n->str) != ev->data.scalar.length) {
			diag_add(ld->diags, pos, "value contains a NUL byte");
			ynode_free(n);
			return -1;
		}
		return attach(ld, n) ? 1 : -1;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (!no_anchor(ld,
			       ev->type == YAML_SEQUENCE_START_EVENT
				       ? ev->data.sequence_start.anchor
				       : ev->data.mapping_start.anchor,
			       ev->start_mark))
			return -1;
		n = ynode_new(ev->type == YAML_SEQUENCE_START_EVENT
				      ? YNODE_SEQ
				      : YNODE_MAP);
		n->pos = pos;
		return open_node(ld, n) ? 1 : -1;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = ld->stack[--ld->depth];
		if (n->kind == YNODE_MAP)
			check_duplicates(n, ld->diags);
		return 1;
	default:
		return 1;
	}
}

int
ytree_parse_limited(const char *file, const char *text, size_t len,
		    const struct ytree_limits *lim, struct diag_list *diags,
		    struct ynode **ret)
{
	struct loader ld = {.file = file, .lim = lim, .diags = diags};
	yaml_parser_t parser;
	size_t before = diag_count(diags);
	int r = 1;

	diag_add_source(diags, file, text, len);
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (r > 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			struct srcpos p = mark_pos(file, parser.problem_mark);

			diag_add(diags, p, "syntax error: %s%s%s",
				 parser.problem ? parser.problem
						: "invalid YAML",
				 parser.context ? " " : "",
				 parser.context ? parser.context : "");
			break;
		}
		r = load_event(&ld, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	free(ld.stack);
	if (r != 0 || diag_count(diags) > before) {
		ynode_free(ld.root);
		return -EINVAL;
	}
	if (ld.root == NULL) {
		ld.root = ynode_new(YNODE_MAP);
		ld.root->pos = (struct srcpos){file, 1, 1};
	}
	*ret = ld.root;
	return 0;
}

int
ytree_parse(const char *file, const char *text, size_t len,
	    struct diag_list *diags, struct ynode **ret)
{
	return ytree_parse_limited(file, text, len, &default_limits, diags,
				   ret);
}

struct ynode *
ynode_get(const struct ynode *map, const char *key)
{
	if (map == NULL || map->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (strcmp(map->items[i]->str, key) == 0)
			return map->items[i + 1];
	return NULL;
}

struct ynode *
ynode_new_map(void)
{
	return ynode_new(YNODE_MAP);
}

struct ynode *
ynode_new_seq(void)
{
	return ynode_new(YNODE_SEQ);
}

struct ynode *
ynode_new_str(const char *s)
{
	struct ynode *n = ynode_new(YNODE_SCALAR);

	n->str = xstrdup(s);
	return n;
}

struct ynode *
ynode_map_put(struct ynode *map, const char *key, struct ynode *val)
{
	push(map, ynode_new_str(key));
	push(map, val);
	return val;
}

struct ynode *
ynode_seq_push(struct ynode *seq, struct ynode *val)
{
	push(seq, val);
	return val;
}

struct ynode *
ynode_map_put_str(struct ynode *map, const char *key, const char *val)
{
	return ynode_map_put(map, key, ynode_new_str(val));
}

static int
write_handler(void *data, unsigned char *buf, size_t size)
{
	sb_add(data, (const char *)buf, size);
	return 1;
}

static int
emit_node(yaml_emitter_t *em, const struct ynode *n)
{
	yaml_event_t ev;
	int ok;

	switch (n->kind) {
	case YNODE_SCALAR:
		ok = yaml_scalar_event_initialize(
			&ev, NULL, NULL, (yaml_char_t *)n->str,
			(int)strlen(n->str), 1, 1,
			n->quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
				  : YAML_ANY_SCALAR_STYLE);
		return ok && yaml_emitter_emit(em, &ev) ? 0 : -EIO;
	case YNODE_SEQ:
		ok = yaml_sequence_start_event_initialize(
			&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		break;
	case YNODE_MAP:
	default:
		ok = yaml_mapping_start_event_initialize(
			&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		break;
	}
	if (!ok || !yaml_emitter_emit(em, &ev))
		return -EIO;
	for (size_t i = 0; i < n->n; i++)
		if (emit_node(em, n->items[i]) < 0)
			return -EIO;
	if (n->kind == YNODE_SEQ)
		ok = yaml_sequence_end_event_initialize(&ev);
	else
		ok = yaml_mapping_end_event_initialize(&ev);
	return ok && yaml_emitter_emit(em, &ev) ? 0 : -EIO;
}

int
ytree_emit(const struct ynode *root, char **ret_text, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	yaml_emitter_t em;
	yaml_event_t ev;
	int r = -EIO;

	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output(&em, write_handler, &sb);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	if (emit_node(&em, root) < 0)
		goto out;
	if (!yaml_document_end_event_initialize(&ev, 1) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_stream_end_event_initialize(&ev) ||
	    !yaml_emitter_emit(&em, &ev) || !yaml_emitter_flush(&em))
		goto out;
	r = 0;
out:
	yaml_emitter_delete(&em);
	if (r < 0) {
		sb_release(&sb);
		return r;
	}
	*ret_text = sb_detach(&sb, ret_len);
	return 0;
}
