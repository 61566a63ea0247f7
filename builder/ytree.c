/* libyaml in, libyaml out: the only file that includes <yaml.h>. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "util.h"
#include "ytree.h"

enum { MAX_DEPTH = 64 };

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

static struct ynode *
convert(yaml_document_t *doc, yaml_node_t *yn, const char *file, int depth,
	struct diag_list *diags)
{
	struct ynode *n;

	if (depth > MAX_DEPTH) {
		diag_add(diags, mark_pos(file, yn->start_mark),
			 "nesting deeper than %d levels", MAX_DEPTH);
		return NULL;
	}
	switch (yn->type) {
	case YAML_SCALAR_NODE:
		n = ynode_new(YNODE_SCALAR);
		n->str = xstrndup((const char *)yn->data.scalar.value,
				  yn->data.scalar.length);
		n->quoted = yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		break;
	case YAML_SEQUENCE_NODE:
		n = ynode_new(YNODE_SEQ);
		for (yaml_node_item_t *it = yn->data.sequence.items.start;
		     it < yn->data.sequence.items.top; it++) {
			struct ynode *c =
				convert(doc, yaml_document_get_node(doc, *it),
					file, depth + 1, diags);
			if (c == NULL) {
				ynode_free(n);
				return NULL;
			}
			push(n, c);
		}
		break;
	case YAML_MAPPING_NODE:
		n = ynode_new(YNODE_MAP);
		for (yaml_node_pair_t *p = yn->data.mapping.pairs.start;
		     p < yn->data.mapping.pairs.top; p++) {
			struct ynode *k, *v;

			k = convert(doc, yaml_document_get_node(doc, p->key),
				    file, depth + 1, diags);
			v = convert(doc, yaml_document_get_node(doc, p->value),
				    file, depth + 1, diags);
			if (k == NULL || v == NULL) {
				ynode_free(k);
				ynode_free(v);
				ynode_free(n);
				return NULL;
			}
			if (k->kind != YNODE_SCALAR) {
				diag_add(diags, k->pos,
					 "a key must be a plain string");
			} else {
				const struct ynode *prev = NULL;

				for (size_t i = 0; i < n->n; i += 2)
					if (strcmp(n->items[i]->str, k->str) ==
					    0)
						prev = n->items[i];
				if (prev != NULL)
					diag_add(diags, k->pos,
						 "duplicate key '%s' (first at "
						 "line %d)",
						 k->str, prev->pos.line);
			}
			push(n, k);
			push(n, v);
		}
		break;
	default:
		n = ynode_new(YNODE_SCALAR);
		n->str = xstrdup("");
		break;
	}
	n->pos = mark_pos(file, yn->start_mark);
	return n;
}

int
ytree_parse(const char *file, const char *text, size_t len,
	    struct diag_list *diags, struct ynode **ret)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct ynode *tree = NULL;
	size_t before = diag_count(diags);

	diag_add_source(diags, file, text, len);
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		struct srcpos p = mark_pos(file, parser.problem_mark);

		diag_add(diags, p, "syntax error: %s%s%s",
			 parser.problem ? parser.problem : "invalid YAML",
			 parser.context ? " " : "",
			 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		tree = ynode_new(YNODE_MAP);
		tree->pos = (struct srcpos){file, 1, 1};
	} else {
		tree = convert(&doc, root, file, 0, diags);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (tree == NULL || diag_count(diags) > before) {
		ynode_free(tree);
		return -EINVAL;
	}
	*ret = tree;
	return 0;
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
