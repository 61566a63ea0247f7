/* sbx.lock through ytree.h: the whole document is kept as a tree, so the
 * sections other modules own survive a rewrite untouched. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fetch.h"
#include "images.h"
#include "lock.h"
#include "schema.h"
#include "recipe.h"
#include "util.h"
#include "ytree.h"

#define LOCK_VERSION "1"

struct lock {
	char *file; /* positions in root point here */
	struct ynode *root;
	bool changed;
};

static const char *const pin_keys[] = {
	"url",	      "file", "size", "checksum", "key-fingerprint",
	"recipe-url", NULL,
};

struct lock *
lock_new(void)
{
	struct lock *lk = xcalloc(1, sizeof(*lk));

	lk->file = xstrdup(LOCK_FILE);
	lk->root = ynode_new_map();
	ynode_map_put_str(lk->root, "version", LOCK_VERSION);
	return lk;
}

void
lock_free(struct lock *lk)
{
	if (lk == NULL)
		return;
	ynode_free(lk->root);
	free(lk->file);
	free(lk);
}

static const char *
scalar(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	return v != NULL && v->kind == YNODE_SCALAR ? v->str : NULL;
}

static bool
known_key(const char *k)
{
	for (size_t i = 0; pin_keys[i] != NULL; i++)
		if (strcmp(pin_keys[i], k) == 0)
			return true;
	return false;
}

static void
check_pin(const struct ynode *key, const struct ynode *e,
	  struct diag_list *diags)
{
	const char *name = key->str;
	static const char *const required[] = {"url", "file", "checksum"};
	uint64_t size;

	if (e->kind != YNODE_MAP) {
		diag_add(diags, e->pos, "base '%s' must be a mapping", name);
		return;
	}
	for (size_t i = 0; i + 1 < e->n; i += 2) {
		const struct ynode *k = e->items[i], *v = e->items[i + 1];

		if (!known_key(k->str))
			diag_add(diags, k->pos, "unknown key '%s' in base '%s'",
				 k->str, name);
		else if (v->kind != YNODE_SCALAR)
			diag_add(diags, v->pos, "'%s' must be a string",
				 k->str);
	}
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (scalar(e, required[i]) == NULL)
			diag_add(diags, key->pos, "base '%s' has no '%s'", name,
				 required[i]);
	if (ynode_get(e, "size") != NULL &&
	    !parse_u64(scalar(e, "size"), &size))
		diag_add(diags, ynode_get(e, "size")->pos,
			 "'size' must be a number of bytes");
}

static void
check_container(const struct ynode *key, const struct ynode *e,
		struct diag_list *diags)
{
	if (e->kind != YNODE_MAP) {
		diag_add(diags, e->pos,
			 "container image '%s' must be a mapping", key->str);
		return;
	}
	for (size_t i = 0; i + 1 < e->n; i += 2) {
		const struct ynode *k = e->items[i], *v = e->items[i + 1];

		if (strcmp(k->str, "digest") != 0 &&
		    strcmp(k->str, "context") != 0)
			diag_add(diags, k->pos,
				 "unknown key '%s' in container image '%s'",
				 k->str, key->str);
		else if (v->kind != YNODE_SCALAR || !images_digest_ok(v->str))
			diag_add(diags, v->pos,
				 "'%s' must be sha256: and 64 lower-case hex "
				 "digits",
				 k->str);
	}
	if (scalar(e, "digest") == NULL)
		diag_add(diags, key->pos,
			 "container image '%s' has no 'digest'", key->str);
}

int
lock_load(const char *path, struct diag_list *diags, struct lock **ret)
{
	struct lock *lk;
	const struct ynode *v, *bases;
	char *text = NULL;
	size_t len, before = diag_count(diags);
	int r;

	r = read_file(path, &text, &len);
	if (r == -ENOENT) {
		*ret = lock_new();
		return 0;
	}
	if (r < 0)
		return r;
	lk = xcalloc(1, sizeof(*lk));
	lk->file = xstrdup(path);
	r = ytree_parse(lk->file, text, len, diags, &lk->root);
	free(text);
	if (r < 0) {
		lock_free(lk);
		return r;
	}
	if (lk->root->kind != YNODE_MAP) {
		diag_add(diags, lk->root->pos, "'%s' must be a mapping", path);
		goto fail;
	}
	v = ynode_get(lk->root, "version");
	if (v != NULL &&
	    (v->kind != YNODE_SCALAR || strcmp(v->str, LOCK_VERSION) != 0))
		diag_add(diags, v->pos,
			 "unsupported lock version (this sbx-build reads "
			 "version " LOCK_VERSION ")");
	bases = ynode_get(lk->root, "bases");
	if (bases != NULL && bases->kind != YNODE_MAP)
		diag_add(diags, bases->pos, "'bases' must be a mapping");
	else if (bases != NULL)
		for (size_t i = 0; i + 1 < bases->n; i += 2)
			check_pin(bases->items[i], bases->items[i + 1], diags);
	v = ynode_get(lk->root, "containers");
	if (v != NULL && v->kind != YNODE_MAP)
		diag_add(diags, v->pos, "'containers' must be a mapping");
	else if (v != NULL)
		for (size_t i = 0; i + 1 < v->n; i += 2)
			check_container(v->items[i], v->items[i + 1], diags);
	if (diag_count(diags) > before)
		goto fail;
	*ret = lk;
	return 0;
fail:
	lock_free(lk);
	return -EINVAL;
}

static struct ynode *
bases_map(const struct lock *lk)
{
	struct ynode *b = ynode_get(lk->root, "bases");

	return b != NULL && b->kind == YNODE_MAP ? b : NULL;
}

int
lock_get_base(const struct lock *lk, const char *name, struct fetch_pin *ret)
{
	const struct ynode *e = ynode_get(bases_map(lk), name);
	const char *url = scalar(e, "url"), *file = scalar(e, "file");
	const char *sum = scalar(e, "checksum");
	const char *fpr = scalar(e, "key-fingerprint");
	uint64_t size = 0;

	if (url == NULL || file == NULL || sum == NULL)
		return -ENOENT;
	if (scalar(e, "size") != NULL && !parse_u64(scalar(e, "size"), &size))
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	ret->url = xstrdup(url);
	ret->file = xstrdup(file);
	ret->size = size;
	ret->checksum = xstrdup(sum);
	ret->key_fingerprint = fpr != NULL ? xstrdup(fpr) : NULL;
	return 0;
}

static struct ynode *
pin_node(const struct fetch_pin *pin, const char *recipe_url)
{
	struct ynode *m = ynode_new_map();
	char size[32];

	ynode_map_put_str(m, "url", pin->url);
	ynode_map_put_str(m, "file", pin->file);
	if (pin->size != 0) {
		snprintf(size, sizeof(size), "%" PRIu64, pin->size);
		ynode_map_put_str(m, "size", size);
	}
	ynode_map_put_str(m, "checksum", pin->checksum);
	if (pin->key_fingerprint != NULL)
		ynode_map_put_str(m, "key-fingerprint", pin->key_fingerprint);
	if (recipe_url != NULL && strcmp(recipe_url, pin->url) != 0)
		ynode_map_put_str(m, "recipe-url", recipe_url);
	return m;
}

/* The index of key's key node in map, or map->n. */
static size_t
map_index(const struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; i + 1 < map->n; i += 2)
		if (strcmp(map->items[i]->str, key) == 0)
			return i;
	return map->n;
}

struct ynode *
lock_section(struct lock *lk, const char *key, bool create)
{
	struct ynode *s = ynode_get(lk->root, key);

	if (s != NULL || !create)
		return s;
	lk->changed = true;
	return ynode_map_put(lk->root, key, ynode_new_map());
}

bool
lock_remove_section(struct lock *lk, const char *key)
{
	size_t i = map_index(lk->root, key);

	if (i == lk->root->n)
		return false;
	ynode_free(lk->root->items[i]);
	ynode_free(lk->root->items[i + 1]);
	memmove(&lk->root->items[i], &lk->root->items[i + 2],
		(lk->root->n - i - 2) * sizeof(*lk->root->items));
	lk->root->n -= 2;
	lk->changed = true;
	return true;
}

const char *
lock_base_recipe_url(const struct lock *lk, const char *name)
{
	const struct ynode *e = ynode_get(bases_map(lk), name);
	const char *u = scalar(e, "recipe-url");

	return u != NULL ? u : scalar(e, "url");
}

void
lock_set_base(struct lock *lk, const char *name, const struct fetch_pin *pin,
	      const char *recipe_url)
{
	struct ynode *bases = lock_section(lk, "bases", true);
	size_t i = map_index(bases, name);

	lk->changed = true;
	if (i == bases->n) {
		ynode_map_put(bases, name, pin_node(pin, recipe_url));
		return;
	}
	ynode_free(bases->items[i + 1]);
	bases->items[i + 1] = pin_node(pin, recipe_url);
}

bool
lock_remove_base(struct lock *lk, const char *name)
{
	struct ynode *bases = bases_map(lk);
	size_t i;

	if (bases == NULL || (i = map_index(bases, name)) == bases->n)
		return false;
	ynode_free(bases->items[i]);
	ynode_free(bases->items[i + 1]);
	memmove(&bases->items[i], &bases->items[i + 2],
		(bases->n - i - 2) * sizeof(*bases->items));
	bases->n -= 2;
	lk->changed = true;
	return true;
}

size_t
lock_nbases(const struct lock *lk)
{
	const struct ynode *b = bases_map(lk);

	return b != NULL ? ynode_map_len(b) : 0;
}

const char *
lock_base_name(const struct lock *lk, size_t i)
{
	return bases_map(lk)->items[2 * i]->str;
}

bool
lock_changed(const struct lock *lk)
{
	return lk->changed;
}

void
lock_mark_changed(struct lock *lk)
{
	lk->changed = true;
}

static struct ynode *
containers_map(const struct lock *lk)
{
	struct ynode *c = ynode_get(lk->root, "containers");

	return c != NULL && c->kind == YNODE_MAP ? c : NULL;
}

int
lock_get_container(const struct lock *lk, const char *ref,
		   const char **ret_digest, const char **ret_context)
{
	const struct ynode *e = ynode_get(containers_map(lk), ref);
	const char *d = scalar(e, "digest");

	if (!images_digest_ok(d))
		return -ENOENT;
	*ret_digest = d;
	*ret_context = scalar(e, "context");
	return 0;
}

void
lock_set_container(struct lock *lk, const char *ref, const char *digest,
		   const char *context)
{
	struct ynode *sec = lock_section(lk, "containers", true);
	struct ynode *e = ynode_new_map();
	size_t i = map_index(sec, ref);

	ynode_map_put_str(e, "digest", digest);
	if (context != NULL)
		ynode_map_put_str(e, "context", context);
	if (i < sec->n) {
		ynode_free(sec->items[i + 1]);
		sec->items[i + 1] = e;
	} else {
		ynode_map_put(sec, ref, e);
	}
	lk->changed = true;
}

size_t
lock_ncontainers(const struct lock *lk)
{
	const struct ynode *c = containers_map(lk);

	return c != NULL ? ynode_map_len(c) : 0;
}

const char *
lock_container_ref(const struct lock *lk, size_t i)
{
	return containers_map(lk)->items[2 * i]->str;
}

bool
lock_remove_container(struct lock *lk, const char *ref)
{
	struct ynode *c = containers_map(lk);
	size_t i;

	if (c == NULL || (i = map_index(c, ref)) == c->n)
		return false;
	ynode_free(c->items[i]);
	ynode_free(c->items[i + 1]);
	memmove(&c->items[i], &c->items[i + 2],
		(c->n - i - 2) * sizeof(*c->items));
	c->n -= 2;
	lk->changed = true;
	return true;
}

int
lock_save(struct lock *lk, const char *path)
{
	static const char header[] =
		"# sbx.lock: the exact base images, packages and container\n"
		"# images this project builds from.  Written by "
		"'sbx-build lock';\n# commit it.\n";
	struct strbuf sb = STRBUF_INIT;
	char *text;
	size_t len;
	int r;

	if (ynode_get(lk->root, "version") == NULL)
		ynode_map_put_str(lk->root, "version", LOCK_VERSION);
	r = ytree_emit(lk->root, &text, &len);
	if (r < 0)
		return r;
	sb_puts(&sb, header);
	/* Drop the emitter's document start marker; the header says it. */
	if (str_starts_with(text, "---\n"))
		sb_add(&sb, text + 4, len - 4);
	else
		sb_add(&sb, text, len);
	free(text);
	r = write_file_atomic(path, sb.buf, sb.len, 0644);
	sb_release(&sb);
	if (r == 0)
		lk->changed = false;
	return r;
}

static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

int
lock_pin_base(struct lock *lk, struct fetch_ctx *ctx, const struct base *b,
	      struct fetch_pin *ret)
{
	struct fetch_pin pin;
	int r;

	r = lock_get_base(lk, b->name, &pin);
	if (r == 0) {
		/* Stale when the recipe now names another URL or, for the
		 * same URL, pins another checksum. */
		bool stale = !same(lock_base_recipe_url(lk, b->name), b->url) ||
			     (same(pin.url, b->url) && b->checksum != NULL &&
			      !same(pin.checksum, b->checksum));

		if (!stale) {
			*ret = pin;
			return 0;
		}
		fetch_pin_clear(&pin);
	}
	r = fetch_resolve(ctx, b, &pin);
	if (r < 0)
		return r;
	if (!(fetch_ctx_flags(ctx) & FETCH_OFFLINE))
		lock_set_base(lk, b->name, &pin, NULL);
	*ret = pin;
	return 0;
}

int
lock_fetch_base(struct lock *lk, struct fetch_ctx *ctx, const struct base *b,
		char **ret_path)
{
	struct fetch_pin pin;
	struct stat st;
	char *path;
	int r;

	r = lock_pin_base(lk, ctx, b, &pin);
	if (r < 0)
		return r;
	r = fetch_image(ctx, &pin, &path, NULL);
	/* Record the size of a pinned image once it is known. */
	if (r == 0 && pin.size == 0 && stat(path, &st) == 0 &&
	    lock_base_recipe_url(lk, b->name) != NULL) {
		CLEANUP_FREE char *src =
			xstrdup(lock_base_recipe_url(lk, b->name));

		pin.size = (uint64_t)st.st_size;
		lock_set_base(lk, b->name, &pin, src);
	}
	fetch_pin_clear(&pin);
	if (r < 0)
		return r;
	*ret_path = path;
	return 0;
}

void
lock_pkgs_release(struct lock_pkgs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].file);
		free(p->v[i].name);
		free(p->v[i].version);
		free(p->v[i].arch);
		free(p->v[i].sha256);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
lock_pkgs_add(struct lock_pkgs *p, const char *file, const char *name,
	      const char *version, const char *arch, const char *sha256)
{
	struct lock_pkg *k;

	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	k = &p->v[p->n++];
	memset(k, 0, sizeof(*k));
	k->file = dup_or_null(file);
	k->name = dup_or_null(name);
	k->version = dup_or_null(version);
	k->arch = dup_or_null(arch);
	k->sha256 = dup_or_null(sha256);
}

int
lock_get_pkgs(const struct lock *lk, const char *vm, const char *list,
	      struct lock_pkgs *ret)
{
	const struct ynode *sec = ynode_get(lk->root, "packages");
	const struct ynode *e = sec != NULL && sec->kind == YNODE_MAP
					? ynode_get(sec, vm)
					: NULL;
	const struct ynode *files;
	const char *f;
	struct lock_pkgs p = {0};

	if (e == NULL || e->kind != YNODE_MAP)
		return -ENOENT;
	f = scalar(e, "for");
	files = ynode_get(e, "files");
	if (f == NULL || strcmp(f, list) != 0 || files == NULL ||
	    files->kind != YNODE_SEQ)
		return -ESTALE;
	for (size_t i = 0; i < files->n; i++) {
		const struct ynode *pin = files->items[i];

		lock_pkgs_add(&p, scalar(pin, "file"), scalar(pin, "name"),
			      scalar(pin, "version"), scalar(pin, "arch"),
			      scalar(pin, "sha256"));
		p.v[p.n - 1].line = pin->pos.line;
		p.v[p.n - 1].col = pin->pos.col;
	}
	*ret = p;
	return 0;
}

void
lock_set_pkgs(struct lock *lk, const char *vm, const char *list,
	      const struct lock_pkgs *p)
{
	struct ynode *sec = lock_section(lk, "packages", true);
	struct ynode *e = ynode_new_map(), *seq = ynode_new_seq();
	size_t i = map_index(sec, vm);

	ynode_map_put_str(e, "for", list)->quoted = true;
	for (size_t k = 0; k < p->n; k++) {
		struct ynode *pin = ynode_seq_push(seq, ynode_new_map());

		ynode_map_put_str(pin, "file", p->v[k].file);
		ynode_map_put_str(pin, "name", p->v[k].name);
		ynode_map_put_str(pin, "version", p->v[k].version)->quoted =
			true;
		ynode_map_put_str(pin, "arch", p->v[k].arch);
		ynode_map_put_str(pin, "sha256", p->v[k].sha256);
	}
	ynode_map_put(e, "files", seq);
	/* A stale entry (another package list) is replaced in place. */
	if (i < sec->n) {
		ynode_free(sec->items[i + 1]);
		sec->items[i + 1] = e;
	} else {
		ynode_map_put(sec, vm, e);
	}
	lk->changed = true;
}
