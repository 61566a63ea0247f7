#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recipe.h"
#include "schema.h"
#include "util.h"
#include "validate.h"

#define MEMBER(base, off, type) ((type *)((char *)(base) + (off)))

bool
parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*ret = v;
	return true;
}

bool
parse_size(const char *s, uint64_t *ret)
{
	static const char units[] = "KMGT";
	char *end;
	unsigned long long v;
	const char *u;
	uint64_t mult = 1;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return false;
	if (*end != '\0') {
		u = strchr(units, toupper((unsigned char)*end));
		if (u == NULL)
			return false;
		for (const char *p = units; p <= u; p++)
			mult *= 1024;
		end++;
		/* Accept "G", "GB" and "GiB" alike: all are binary here. */
		if (strcmp(end, "iB") != 0 && strcmp(end, "B") != 0 &&
		    *end != '\0')
			return false;
	}
	if (v == 0 || v > UINT64_MAX / mult)
		return false;
	*ret = v * mult;
	return true;
}

bool
parse_ipv4(const char *s, uint32_t *ret)
{
	struct in_addr a;

	if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
		return false;
	*ret = ntohl(a.s_addr);
	return true;
}

bool
parse_cidr(const char *s, uint32_t *ret_addr, unsigned *ret_prefix)
{
	const char *slash = strchr(s, '/');
	CLEANUP_FREE char *addr = NULL;
	uint64_t prefix;

	if (slash == NULL)
		return false;
	addr = xstrndup(s, (size_t)(slash - s));
	if (!parse_ipv4(addr, ret_addr) || !parse_u64(slash + 1, &prefix) ||
	    prefix < 1 || prefix > 32)
		return false;
	*ret_prefix = (unsigned)prefix;
	return true;
}

bool
parse_mac(const char *s)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

const char *
did_you_mean(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit = strlen(word) / 3 + 1;

	if (limit < 2)
		limit = 2;
	for (size_t i = 0; i < n; i++) {
		size_t d;

		/* A candidate without a name was reported where it is. */
		if (candidates[i] == NULL)
			continue;
		d = levenshtein(word, candidates[i]);

		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

bool
ynode_is_null(const struct ynode *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (n->kind != YNODE_SCALAR || n->quoted)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (strcmp(n->str, nulls[i]) == 0)
			return true;
	return false;
}

char *
shown(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;

	for (; *s && n < 60; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			sb_puts(&sb, "\\n");
		else if (c == '\t')
			sb_puts(&sb, "\\t");
		else if (c < 0x20 || c == 0x7f)
			sb_printf(&sb, "\\x%02x", c);
		else
			sb_putc(&sb, (char)c);
	}
	if (*s)
		sb_puts(&sb, "...");
	return sb_detach(&sb, NULL);
}

/* A string value's common rules, then the field's validator. */
static bool
string_ok(const char *s, bool (*valid)(const char *))
{
	return strlen(s) <= VALID_STR_MAX && valid_one_line(s) &&
	       (valid == NULL || valid(s));
}

static const char *
kind_name(enum ynode_kind k)
{
	switch (k) {
	case YNODE_SEQ:
		return "a list";
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SCALAR:
	default:
		return "a value";
	}
}

static bool
want_kind(const struct field *f, const struct ynode *n, enum ynode_kind k,
	  struct diag_list *diags)
{
	if (n->kind == k)
		return true;
	diag_add(diags, n->pos, "'%s' must be %s, not %s", f->key, kind_name(k),
		 kind_name(n->kind));
	return false;
}

static bool
bad_value(const struct field *f, const struct ynode *n, const char *expect,
	  struct diag_list *diags)
{
	CLEANUP_FREE char *v = shown(n->str);

	diag_add(diags, n->pos, "'%s' must be %s, not '%s'", f->key, expect, v);
	return false;
}

static const char *
hint_of(const char *hint)
{
	return hint != NULL ? hint : "one line of at most 4096 characters";
}

static bool decode_value(const struct field *f, const struct ynode *n,
			 void *obj, struct diag_list *diags);

static bool
decode_strlist(const struct field *f, const struct ynode *n, void *obj,
	       struct diag_list *diags)
{
	struct strlist *l = MEMBER(obj, f->offset, struct strlist);
	bool ok = true;

	if (!want_kind(f, n, YNODE_SEQ, diags))
		return false;
	l->v = xcalloc(n->n + 1, sizeof(*l->v));
	l->pos = xcalloc(n->n + 1, sizeof(*l->pos));
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];

		if (it->kind != YNODE_SCALAR) {
			diag_add(diags, it->pos,
				 "items of '%s' must be strings, not %s",
				 f->key, kind_name(it->kind));
			ok = false;
			continue;
		}
		if (ynode_is_null(it) || !string_ok(it->str, f->valid)) {
			CLEANUP_FREE char *v = shown(it->str);

			diag_add(diags, it->pos,
				 "items of '%s' must be %s, not '%s'", f->key,
				 hint_of(f->hint), v);
			ok = false;
		}
		l->pos[l->n] = it->pos;
		l->v[l->n++] = xstrdup(it->str);
	}
	return ok;
}

static bool
decode_u16list(const struct field *f, const struct ynode *n, void *obj,
	       struct diag_list *diags)
{
	uint16_t **v = MEMBER(obj, f->offset, uint16_t *);
	size_t *count = MEMBER(obj, f->count_off, size_t);
	bool ok = true;

	if (!want_kind(f, n, YNODE_SEQ, diags))
		return false;
	*v = xcalloc(n->n + 1, sizeof(**v));
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		uint64_t p;

		if (it->kind != YNODE_SCALAR || !parse_u64(it->str, &p) ||
		    p < 1 || p > 65535) {
			diag_add(diags, it->pos,
				 "items of '%s' must be port numbers 1-65535",
				 f->key);
			ok = false;
			continue;
		}
		(*v)[(*count)++] = (uint16_t)p;
	}
	return ok;
}

static bool
decode_list(const struct field *f, const struct ynode *n, void *obj,
	    struct diag_list *diags)
{
	void **v = MEMBER(obj, f->offset, void *);
	size_t *count = MEMBER(obj, f->count_off, size_t);
	bool ok = true;

	if (!want_kind(f, n, YNODE_SEQ, diags))
		return false;
	*v = xcalloc(n->n + 1, f->elem_size);
	for (size_t i = 0; i < n->n; i++) {
		void *elem = (char *)*v + *count * f->elem_size;

		if (n->items[i]->kind != YNODE_MAP) {
			diag_add(diags, n->items[i]->pos,
				 "items of '%s' must be mappings, not %s",
				 f->key, kind_name(n->items[i]->kind));
			ok = false;
			continue;
		}
		ok &= schema_decode(f->sub, n->items[i], elem, diags);
		(*count)++;
	}
	return ok;
}

static bool
decode_namemap(const struct field *f, const struct ynode *n, void *obj,
	       struct diag_list *diags)
{
	void **v = MEMBER(obj, f->offset, void *);
	size_t *count = MEMBER(obj, f->count_off, size_t);
	bool ok = true;

	if (!want_kind(f, n, YNODE_MAP, diags))
		return false;
	*v = xcalloc(ynode_map_len(n) + 1, f->elem_size);
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		void *elem = (char *)*v + *count * f->elem_size;
		const struct ynode *val = n->items[i + 1];

		if (f->valid_key != NULL && !f->valid_key(n->items[i]->str)) {
			CLEANUP_FREE char *k = shown(n->items[i]->str);

			diag_add(diags, n->items[i]->pos,
				 "names in '%s' must be %s, not '%s'", f->key,
				 f->key_hint, k);
			ok = false;
			continue;
		}
		if (val->kind != YNODE_MAP) {
			diag_add(diags, val->pos,
				 "'%s' in '%s' must be a mapping, not %s",
				 n->items[i]->str, f->key,
				 kind_name(val->kind));
			ok = false;
			continue;
		}
		ok &= schema_decode(f->sub, val, elem, diags);
		*MEMBER(elem, f->name_off, char *) = xstrdup(n->items[i]->str);
		/* The element's position is its name's. */
		*(struct srcpos *)elem = n->items[i]->pos;
		(*count)++;
	}
	return ok;
}

static bool
decode_kvmap(const struct field *f, const struct ynode *n, void *obj,
	     struct diag_list *diags)
{
	struct kv **v = MEMBER(obj, f->offset, struct kv *);
	size_t *count = MEMBER(obj, f->count_off, size_t);
	bool ok = true;

	if (!want_kind(f, n, YNODE_MAP, diags))
		return false;
	*v = xcalloc(ynode_map_len(n) + 1, sizeof(**v));
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *val = n->items[i + 1];
		struct kv *kv = &(*v)[*count];

		if (val->kind != YNODE_SCALAR) {
			diag_add(diags, val->pos,
				 "'%s' in '%s' must be a string, not %s",
				 n->items[i]->str, f->key,
				 kind_name(val->kind));
			ok = false;
			continue;
		}
		if (f->valid_key != NULL && !f->valid_key(n->items[i]->str)) {
			CLEANUP_FREE char *k = shown(n->items[i]->str);

			diag_add(diags, n->items[i]->pos,
				 "keys of '%s' must be %s, not '%s'", f->key,
				 f->key_hint, k);
			ok = false;
			continue;
		}
		if (ynode_is_null(val)) {
			diag_add(diags, val->pos,
				 "'%s' in '%s' has no value (write \"\" for "
				 "an empty string)",
				 n->items[i]->str, f->key);
			ok = false;
			continue;
		}
		if (!string_ok(val->str, f->valid)) {
			CLEANUP_FREE char *sv = shown(val->str);

			diag_add(diags, val->pos,
				 "'%s' in '%s' must be %s, not '%s'",
				 n->items[i]->str, f->key, hint_of(f->hint),
				 sv);
			ok = false;
			continue;
		}
		kv->key = xstrdup(n->items[i]->str);
		kv->value = xstrdup(val->str);
		kv->pos = n->items[i]->pos;
		(*count)++;
	}
	return ok;
}

/* "256M", "64T", "1536K": the largest unit that divides v. */
static char *
size_str(uint64_t v)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && v != 0 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	return u < 0 ? xasprintf("%llu", (unsigned long long)v)
		     : xasprintf("%llu%c", (unsigned long long)v, units[u]);
}

static bool
size_in_bounds(const struct field *f, const struct ynode *n, uint64_t v,
	       struct diag_list *diags)
{
	CLEANUP_FREE char *lo = NULL;
	CLEANUP_FREE char *hi = NULL;
	CLEANUP_FREE char *al = NULL;
	bool bare = strspn(n->str, "0123456789") == strlen(n->str);

	if (f->max == 0)
		return true;
	lo = size_str(f->min);
	hi = size_str(f->max);
	if (v < f->min || v > f->max) {
		if (bare && v < f->min)
			diag_add(diags, n->pos,
				 "'%s' must be from %s to %s, not '%s' (a "
				 "number without a unit is bytes; did you mean "
				 "'%sG'?)",
				 f->key, lo, hi, n->str, n->str);
		else
			diag_add(diags, n->pos,
				 "'%s' must be from %s to %s, not '%s'", f->key,
				 lo, hi, n->str);
		return false;
	}
	if (f->align != 0 && v % f->align != 0) {
		al = size_str(f->align);
		diag_add(diags, n->pos,
			 "'%s' must be a multiple of %s bytes, not '%s'",
			 f->key, al, n->str);
		return false;
	}
	return true;
}

static bool
decode_scalar(const struct field *f, const struct ynode *n, void *obj,
	      struct diag_list *diags)
{
	uint64_t v;

	if (!want_kind(f, n, YNODE_SCALAR, diags))
		return false;
	switch (f->type) {
	case F_STR:
		/* Kept even when bad: no "missing" errors follow. */
		*MEMBER(obj, f->offset, char *) = xstrdup(n->str);
		if (!string_ok(n->str, f->valid))
			return bad_value(f, n, hint_of(f->hint), diags);
		return true;
	case F_BOOL:
		if (strcmp(n->str, "true") == 0 || strcmp(n->str, "yes") == 0)
			*MEMBER(obj, f->offset, bool) = true;
		else if (strcmp(n->str, "false") == 0 ||
			 strcmp(n->str, "no") == 0)
			*MEMBER(obj, f->offset, bool) = false;
		else
			return bad_value(f, n, "true or false", diags);
		return true;
	case F_U16:
		if (!parse_u64(n->str, &v) || v < 1 || v > 65535)
			return bad_value(f, n, "a port number 1-65535", diags);
		*MEMBER(obj, f->offset, uint16_t) = (uint16_t)v;
		return true;
	case F_UINT:
	case F_U32:
		if (!parse_u64(n->str, &v) || v < f->min || v > f->max) {
			diag_add(diags, n->pos,
				 "'%s' must be a whole number from %llu to "
				 "%llu, not '%s'",
				 f->key, (unsigned long long)f->min,
				 (unsigned long long)f->max, n->str);
			return false;
		}
		if (f->type == F_UINT)
			*MEMBER(obj, f->offset, unsigned) = (unsigned)v;
		else
			*MEMBER(obj, f->offset, uint32_t) = (uint32_t)v;
		return true;
	case F_SIZE:
		if (!parse_size(n->str, &v))
			return bad_value(f, n, "a size such as 20G or 512M",
					 diags);
		if (!size_in_bounds(f, n, v, diags))
			return false;
		*MEMBER(obj, f->offset, uint64_t) = v;
		return true;
	case F_MODE: {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(n->str, &end, 8);
		if (*n->str == '\0' || *end != '\0' || errno != 0 || m > 07777)
			return bad_value(f, n, "an octal mode such as 0644",
					 diags);
		*MEMBER(obj, f->offset, unsigned) = (unsigned)m;
		return true;
	}
	case F_ENUM: {
		struct strbuf sb = STRBUF_INIT;

		for (int i = 0; f->values[i] != NULL; i++) {
			if (strcmp(n->str, f->values[i]) == 0) {
				*MEMBER(obj, f->offset, int) = i;
				return true;
			}
		}
		for (int i = 0; f->values[i] != NULL; i++)
			sb_printf(&sb, "%s'%s'", i ? " or " : "one of ",
				  f->values[i]);
		bad_value(f, n, sb.buf, diags);
		sb_release(&sb);
		return false;
	}
	default:
		return false;
	}
}

static bool
decode_value(const struct field *f, const struct ynode *n, void *obj,
	     struct diag_list *diags)
{
	if (f->pos_off != 0)
		*MEMBER(obj, f->pos_off, struct srcpos) = n->pos;
	if (ynode_is_null(n)) {
		diag_add(diags, n->pos, "'%s' has no value", f->key);
		return false;
	}
	switch (f->type) {
	case F_STRLIST:
		return decode_strlist(f, n, obj, diags);
	case F_U16LIST:
		return decode_u16list(f, n, obj, diags);
	case F_STRUCT:
		if (!want_kind(f, n, YNODE_MAP, diags))
			return false;
		return schema_decode(f->sub, n, MEMBER(obj, f->offset, void),
				     diags);
	case F_LIST:
		return decode_list(f, n, obj, diags);
	case F_NAMEMAP:
		return decode_namemap(f, n, obj, diags);
	case F_KVMAP:
		return decode_kvmap(f, n, obj, diags);
	case F_CUSTOM:
		return f->decode(f, n, obj, diags);
	default:
		return decode_scalar(f, n, obj, diags);
	}
}

static void
unknown_key(const struct schema *s, const struct ynode *key,
	    struct diag_list *diags)
{
	const char *cand[64];
	CLEANUP_FREE char *k = shown(key->str);
	const char *hint;
	size_t n = 0;

	for (const struct field *f = s->fields; f->key && n < 64; f++)
		cand[n++] = f->key;
	hint = strlen(key->str) > 64 ? NULL : did_you_mean(key->str, cand, n);
	if (hint != NULL)
		diag_add(diags, key->pos,
			 "unknown key '%s' in %s (did you mean '%s'?)", k,
			 s->what, hint);
	else
		diag_add(diags, key->pos, "unknown key '%s' in %s", k, s->what);
}

bool
schema_decode(const struct schema *s, const struct ynode *map, void *obj,
	      struct diag_list *diags)
{
	bool ok = true;

	*(struct srcpos *)obj = map->pos;
	if (s->present_off != 0)
		*MEMBER(obj, s->present_off, bool) = true;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *key = map->items[i];
		const struct field *f;

		for (f = s->fields; f->key != NULL; f++)
			if (strcmp(f->key, key->str) == 0)
				break;
		if (f->key == NULL) {
			unknown_key(s, key, diags);
			ok = false;
		}
	}
	for (const struct field *f = s->fields; f->key != NULL; f++) {
		const struct ynode *val = ynode_get(map, f->key);

		if (val != NULL) {
			ok &= decode_value(f, val, obj, diags);
		} else if (f->required) {
			diag_add(diags, map->pos,
				 "missing required key '%s' "
				 "in %s",
				 f->key, s->what);
			ok = false;
		} else if (f->def != NULL) {
			struct ynode d = {.kind = YNODE_SCALAR,
					  .pos = map->pos,
					  .str = (char *)f->def};

			ok &= decode_value(f, &d, obj, diags);
		}
	}
	return ok;
}
