/* Bundles, SHA256SUMS: the strict parser unpack trusts nothing without.
 * Pure: no I/O. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pack-int.h"
#include "pack.h"
#include "util.h"

void
pack_sums_free(struct sums *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
}

struct sum *
pack_sums_find(struct sums *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

/* "# size <bytes>  <name>": 1 with the size and name; 0 when line is
 * another comment; -1 when it is a malformed size line. */
static int
size_line(const char *p, const char *nl, uint64_t *ret_size,
	  const char **ret_name)
{
	uint64_t v = 0;

	if (!str_starts_with(p, SIZE_PREFIX))
		return 0;
	p += strlen(SIZE_PREFIX);
	if (p >= nl || *p < '0' || *p > '9')
		return -1;
	for (; p < nl && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX >> 4) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (nl - p < 3 || p[0] != ' ' || p[1] != ' ')
		return -1;
	*ret_size = v;
	*ret_name = p + 2;
	return 1;
}

/* Strict: "<64 lower-case hex>  <name>\n" lines, names unique and valid,
 * and for each name a "# size <bytes>  <name>\n" line; other lines that
 * start with '#' are comments. */
int
pack_sums_parse(const char *text, size_t len, struct sums *s, char **ret_err)
{
	const char *p = text, *end = text + len;
	struct sums sizes = {0};
	unsigned line = 0;
	int r = 0;

	while (r == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *name = p + SHA256_HEX + 2;
		CLEANUP_FREE char *n = NULL;
		uint64_t size;
		int k;

		line++;
		if (nl == NULL) {
			r = ret_errf(ret_err, -EBADMSG,
				     "SHA256SUMS line %u: no final newline",
				     line);
			break;
		}
		if (*p == '#') {
			k = size_line(p, nl, &size, &name);
			if (k < 0) {
				r = ret_errf(ret_err, -EBADMSG,
					     "SHA256SUMS line %u: not '# size "
					     "<bytes>  <name>'",
					     line);
				break;
			}
			if (k > 0 && !pack_name_ok(name, (size_t)(nl - name))) {
				r = ret_errf(
					ret_err, -EBADMSG,
					"SHA256SUMS line %u: unsafe file name",
					line);
				break;
			}
			if (k > 0) {
				n = xstrndup(name, (size_t)(nl - name));
				if (pack_sums_find(&sizes, n) != NULL) {
					r = ret_errf(
						ret_err, -EBADMSG,
						"SHA256SUMS line %u: size of "
						"'%s' given twice",
						line, n);
					break;
				}
				sizes.v = xgrow(sizes.v, &sizes.cap,
						sizes.n + 1, sizeof(*sizes.v));
				sizes.v[sizes.n++] =
					(struct sum){.name = n, .size = size};
				n = NULL;
			}
			p = nl + 1;
			continue;
		}
		if (nl - p < SHA256_HEX + 3 || p[SHA256_HEX] != ' ' ||
		    p[SHA256_HEX + 1] != ' ' ||
		    strspn(p, "0123456789abcdef") != SHA256_HEX) {
			r = ret_errf(ret_err, -EBADMSG,
				     "SHA256SUMS line %u: not '<sha256>  "
				     "<name>'",
				     line);
			break;
		}
		if (!pack_name_ok(name, (size_t)(nl - name))) {
			r = ret_errf(ret_err, -EBADMSG,
				     "SHA256SUMS line %u: unsafe file name",
				     line);
			break;
		}
		n = xstrndup(name, (size_t)(nl - name));
		if (strcmp(n, PACK_SUMS_NAME) == 0 ||
		    strcmp(n, PACK_SIG_NAME) == 0 ||
		    pack_sums_find(s, n) != NULL) {
			r = ret_errf(ret_err, -EBADMSG,
				     "SHA256SUMS line %u: '%s' listed twice "
				     "or reserved",
				     line, n);
			break;
		}
		s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
		s->v[s->n] = (struct sum){.name = n};
		n = NULL;
		memcpy(s->v[s->n].hex, p, SHA256_HEX);
		s->v[s->n].hex[SHA256_HEX] = '\0';
		s->n++;
		p = nl + 1;
	}
	if (r == 0 && s->n == 0)
		r = ret_errf(ret_err, -EBADMSG, "SHA256SUMS is empty");
	for (size_t i = 0; r == 0 && i < sizes.n; i++) {
		struct sum *m = pack_sums_find(s, sizes.v[i].name);

		if (m == NULL) {
			r = ret_errf(ret_err, -EBADMSG,
				     "SHA256SUMS gives a size for '%s' but no "
				     "checksum",
				     sizes.v[i].name);
			break;
		}
		m->size = sizes.v[i].size;
		m->sized = true;
	}
	for (size_t i = 0; r == 0 && i < s->n; i++)
		if (!s->v[i].sized)
			r = ret_errf(
				ret_err, -EBADMSG,
				"SHA256SUMS gives no size for '%s' (a bundle "
				"from sbx-build before sizes were recorded: "
				"pack it again)",
				s->v[i].name);
	pack_sums_free(&sizes);
	return r;
}
