#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "schema.h"
#include "ytree.h"

struct mentry *
manifest_add(struct manifest *m, const char *path, char type)
{
	struct mentry *e;

	m->v = xgrow(m->v, &m->cap, m->n + 1, sizeof(*m->v));
	e = &m->v[m->n++];
	memset(e, 0, sizeof(*e));
	e->path = xstrdup(path);
	e->type = type;
	return e;
}

void
manifest_entry_set_target(struct mentry *e, const char *target)
{
	free(e->target);
	e->target = target ? xstrdup(target) : NULL;
}

void
manifest_entry_set_label(struct mentry *e, const char *label)
{
	free(e->label);
	e->label = label && *label ? xstrdup(label) : NULL;
}

static void
entry_release(struct mentry *e)
{
	free(e->path);
	free(e->target);
	free(e->label);
}

void
manifest_release(struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		entry_release(&m->v[i]);
	free(m->v);
	free(m->vm);
	memset(m, 0, sizeof(*m));
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct mentry *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	/* Stable for equal paths: keep insertion order via the address. */
	if (c != 0)
		return c;
	return x < y ? -1 : x > y;
}

/* A name with its control bytes as \xNN: a path with a line break in it
 * stays on its line.  Backslashes stay as they are (systemd's unit names
 * are full of "\x2d"), so every existing manifest keeps its digest. */
static char *
line_safe(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			sb_printf(&sb, "\\x%02x", (unsigned char)*s);
		else
			sb_putc(&sb, *s);
	}
	return sb_detach(&sb, NULL);
}

/* One canonical line per entry; the digest is taken over these. */
static void
entry_line(const struct mentry *e, struct strbuf *sb)
{
	CLEANUP_FREE char *path = line_safe(e->path);
	CLEANUP_FREE char *target = line_safe(e->target ? e->target : "");
	CLEANUP_FREE char *label = line_safe(e->label ? e->label : "-");

	sb_printf(sb, "%c %04o %u %u", e->type, e->mode, e->uid, e->gid);
	if (e->type == 'f')
		sb_printf(sb, " %" PRIu64 " %s", e->size, e->sha256);
	if (e->type == 'l')
		sb_printf(sb, " -> %s", target);
	sb_printf(sb, " %s %s\n", label, path);
}

void
manifest_finish(struct manifest *m)
{
	struct strbuf sb = STRBUF_INIT;
	size_t w = 0;

	qsort(m->v, m->n, sizeof(*m->v), cmp_entry);
	for (size_t i = 0; i < m->n; i++) {
		if (i + 1 < m->n &&
		    strcmp(m->v[i].path, m->v[i + 1].path) == 0) {
			entry_release(&m->v[i]);
			continue;
		}
		m->v[w++] = m->v[i];
	}
	m->n = w;
	for (size_t i = 0; i < m->n; i++)
		entry_line(&m->v[i], &sb);
	digest_buffer_hex(DIGEST_SHA256, sb.buf ? sb.buf : "", sb.len,
			  m->digest);
	sb_release(&sb);
}

int
manifest_to_text(const struct manifest *m, char **ret, size_t *ret_len)
{
	struct ynode *root = ynode_new_map(), *list;
	char buf[DIGEST_HEX_MAX + 16];
	int r;

	ynode_map_put_str(root, "vm", m->vm ? m->vm : "");
	snprintf(buf, sizeof(buf), "sha256:%s", m->digest);
	ynode_map_put_str(root, "digest", buf);
	list = ynode_map_put(root, "paths", ynode_new_seq());
	for (size_t i = 0; i < m->n; i++) {
		const struct mentry *e = &m->v[i];
		struct ynode *n = ynode_seq_push(list, ynode_new_map());

		ynode_map_put_str(n, "path", e->path);
		snprintf(buf, sizeof(buf), "%c", e->type);
		ynode_map_put_str(n, "type", buf);
		snprintf(buf, sizeof(buf), "%04o", e->mode);
		ynode_map_put_str(n, "mode", buf)->quoted = true;
		snprintf(buf, sizeof(buf), "%u", e->uid);
		ynode_map_put_str(n, "uid", buf);
		snprintf(buf, sizeof(buf), "%u", e->gid);
		ynode_map_put_str(n, "gid", buf);
		if (e->type == 'f') {
			snprintf(buf, sizeof(buf), "%" PRIu64, e->size);
			ynode_map_put_str(n, "size", buf);
			ynode_map_put_str(n, "sha256", e->sha256);
		}
		if (e->target != NULL)
			ynode_map_put_str(n, "target", e->target);
		if (e->label != NULL)
			ynode_map_put_str(n, "label", e->label);
	}
	r = ytree_emit(root, ret, ret_len);
	ynode_free(root);
	return r;
}

static const char *
get_str(const struct ynode *map, const char *key, struct diag_list *diags,
	bool required)
{
	const struct ynode *n = ynode_get(map, key);

	if (n == NULL || n->kind != YNODE_SCALAR) {
		if (required || n != NULL)
			diag_add(diags, map->pos, "'%s' missing or not a value",
				 key);
		return NULL;
	}
	return n->str;
}

int
manifest_parse(const char *file, const char *text, size_t len,
	       struct manifest *ret, struct diag_list *diags)
{
	struct manifest m = {0};
	struct ynode *root = NULL;
	const struct ynode *paths;
	const char *s;
	size_t before = diag_count(diags);
	int r;

	r = ytree_parse(file, text, len, diags, &root);
	if (r < 0)
		return r;
	s = get_str(root, "vm", diags, true);
	m.vm = xstrdup(s ? s : "");
	paths = ynode_get(root, "paths");
	if (paths == NULL || paths->kind != YNODE_SEQ) {
		diag_add(diags, root->pos, "'paths' missing or not a list");
		paths = NULL;
	}
	for (size_t i = 0; paths != NULL && i < paths->n; i++) {
		const struct ynode *it = paths->items[i];
		const char *path = get_str(it, "path", diags, true);
		const char *type = get_str(it, "type", diags, true);
		struct mentry *e;
		uint64_t v;

		if (path == NULL || type == NULL)
			continue;
		e = manifest_add(&m, path, type[0]);
		s = get_str(it, "mode", diags, true);
		e->mode = s ? (unsigned)strtoul(s, NULL, 8) : 0;
		s = get_str(it, "uid", diags, true);
		e->uid = s && parse_u64(s, &v) ? (unsigned)v : 0;
		s = get_str(it, "gid", diags, true);
		e->gid = s && parse_u64(s, &v) ? (unsigned)v : 0;
		if (e->type == 'f') {
			s = get_str(it, "size", diags, true);
			e->size = s && parse_u64(s, &v) ? v : 0;
			s = get_str(it, "sha256", diags, true);
			snprintf(e->sha256, sizeof(e->sha256), "%s",
				 s ? s : "");
		}
		manifest_entry_set_target(e,
					  get_str(it, "target", diags, false));
		manifest_entry_set_label(e, get_str(it, "label", diags, false));
	}
	ynode_free(root);
	if (diag_count(diags) > before) {
		manifest_release(&m);
		return -EINVAL;
	}
	manifest_finish(&m);
	*ret = m;
	return 0;
}

static void
diff_entry(const struct mentry *a, const struct mentry *b, struct strbuf *out,
	   size_t *count)
{
	struct strbuf what = STRBUF_INIT;

	if (a->type != b->type)
		sb_printf(&what, " type %c -> %c", a->type, b->type);
	if (a->mode != b->mode)
		sb_printf(&what, " mode %04o -> %04o", a->mode, b->mode);
	if (a->uid != b->uid || a->gid != b->gid)
		sb_printf(&what, " owner %u:%u -> %u:%u", a->uid, a->gid,
			  b->uid, b->gid);
	if (a->type == 'f' && b->type == 'f' &&
	    (a->size != b->size || strcmp(a->sha256, b->sha256) != 0))
		sb_printf(&what, " content sha256:%.12s -> sha256:%.12s",
			  a->sha256, b->sha256);
	if (a->type == 'l' && b->type == 'l' &&
	    strcmp(a->target ? a->target : "", b->target ? b->target : ""))
		sb_printf(&what, " target %s -> %s", a->target, b->target);
	if (strcmp(a->label ? a->label : "", b->label ? b->label : "") != 0)
		sb_printf(&what, " label %s -> %s", a->label ? a->label : "-",
			  b->label ? b->label : "-");
	if (what.len > 0) {
		sb_printf(out, "changed %s:%s\n", a->path, what.buf);
		(*count)++;
	}
	sb_release(&what);
}

size_t
manifest_diff(const struct manifest *want, const struct manifest *got,
	      struct strbuf *out)
{
	size_t i = 0, j = 0, count = 0;

	while (i < want->n || j < got->n) {
		int c = i == want->n  ? 1
			: j == got->n ? -1
				      : strcmp(want->v[i].path, got->v[j].path);

		if (c < 0) {
			sb_printf(out, "missing %s\n", want->v[i++].path);
			count++;
		} else if (c > 0) {
			sb_printf(out, "unexpected %s\n", got->v[j++].path);
			count++;
		} else {
			diff_entry(&want->v[i++], &got->v[j++], out, &count);
		}
	}
	return count;
}
