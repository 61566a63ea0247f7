/* Table-driven decoding of YAML trees into C structs.  A schema lists the
 * keys a mapping may hold; decoding reports unknown keys (with a "did you
 * mean"), wrong types, bad values and missing required keys, every one as
 * a diagnostic with its position, and carries on so that all problems are
 * found in one pass. */
#ifndef SBX_SCHEMA_H
#define SBX_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "ytree.h"

enum field_type {
	F_STR,	   /* char * */
	F_BOOL,	   /* bool */
	F_UINT,	   /* unsigned, within [min, max] */
	F_U16,	   /* uint16_t port, 1-65535 */
	F_U32,	   /* uint32_t, within [min, max] */
	F_SIZE,	   /* uint64_t bytes from "20G", "512M", "4096" */
	F_MODE,	   /* unsigned, octal "0644" */
	F_ENUM,	   /* int: index of the value in .values */
	F_STRLIST, /* struct strlist from a sequence of strings */
	F_U16LIST, /* uint16_t * + size_t count, ports */
	F_STRUCT,  /* nested mapping decoded in place with .sub */
	F_LIST,	   /* sequence of mappings: array of .elem_size + count */
	F_NAMEMAP, /* mapping NAME: {...}: array + count, name at .name_off */
	F_KVMAP,   /* mapping of strings: struct kv * + count */
	F_CUSTOM,  /* .decode does it */
};

struct schema;
struct field;

/* Decodes n into the field at base + f->offset.  Returns false after
 * adding a diagnostic. */
typedef bool (*field_decode_fn)(const struct field *f, const struct ynode *n,
				void *base, struct diag_list *diags);

struct field {
	const char *key;
	enum field_type type;
	size_t offset;
	size_t pos_off; /* where to store the value's srcpos; 0: none */
	bool required;
	const char *def; /* default, decoded like a value when absent */
	const struct schema *sub;
	size_t elem_size;	   /* F_LIST, F_NAMEMAP */
	size_t count_off;	   /* F_LIST, F_NAMEMAP, F_KVMAP, F_U16LIST */
	size_t name_off;	   /* F_NAMEMAP: char * name in the element */
	uint64_t min, max;	   /* F_UINT, F_U32; F_SIZE when max != 0 */
	uint64_t align;		   /* F_SIZE: a multiple of this, or 0 */
	const char *const *values; /* F_ENUM, NULL-terminated */
	field_decode_fn decode;	   /* F_CUSTOM */
	/* F_STR, F_STRLIST items, F_KVMAP values: a validator (validate.h)
	 * and what a good value looks like, for the message "'KEY' must be
	 * HINT, not 'VALUE'".  F_KVMAP keys and F_NAMEMAP names use
	 * valid_key and key_hint. */
	bool (*valid)(const char *s);
	const char *hint;
	bool (*valid_key)(const char *s);
	const char *key_hint;
};

/* Every struct a schema decodes into starts with 'struct srcpos pos',
 * which receives the mapping's position.  Member offset 0 is therefore
 * never a value's, and 0 in pos_off / present_off means "not stored". */
struct schema {
	const char *what;   /* "VM", "user", ... for messages */
	size_t present_off; /* bool set when the mapping was given; 0: none */
	const struct field *fields; /* terminated by key == NULL */
};

/* Every string value is one line (no control characters) and at most
 * VALID_STR_MAX bytes unless its field is F_CUSTOM; a plain null (empty,
 * '~', 'null') is "no value" and an error for every field. */

/* Decodes map into obj.  Returns false when any diagnostic was added. */
bool schema_decode(const struct schema *s, const struct ynode *map, void *obj,
		   struct diag_list *diags);

/* Scalar parsers, shared with custom decoders and other YAML readers.
 * Each returns false on a malformed (or NULL) value, no diagnostic. */
bool parse_size(const char *s, uint64_t *ret);
bool parse_u64(const char *s, uint64_t *ret);
bool parse_ipv4(const char *s, uint32_t *ret);
/* "A.B.C.D/N" */
bool parse_cidr(const char *s, uint32_t *ret_addr, unsigned *ret_prefix);
/* Six colon-separated hex pairs. */
bool parse_mac(const char *s);
/* Whether a scalar is YAML's null: plain "", "~", "null", "Null", "NULL". */
bool ynode_is_null(const struct ynode *n);
/* The value for a message: control characters escaped, at most 60
 * characters ("..." after).  Returns a new string. */
char *shown(const char *s);
/* The closest of candidates to word when it is close enough, else NULL. */
const char *did_you_mean(const char *word, const char *const *candidates,
			 size_t n);

#endif
