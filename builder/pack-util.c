/* Bundles, what packing and unpacking share: a failure's words, the
 * names and modes a member may have, SOURCE_DATE_EPOCH. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pack-int.h"
#include "pack.h"
#include "tarindex.h"
#include "util.h"

/* Trailing whitespace off, for one-line messages from tools. */
char *
pack_chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
			 s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* A bundle member name: 1..128 of [A-Za-z0-9._+-], not starting with '.'
 * or '-'.  No '/', so every member sits at the bundle's top level. */
bool
pack_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_LEN || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '+' || c == '-'))
			return false;
	}
	return true;
}

/* Run scripts are executable, nothing else is.  Unpack derives the mode
 * from the name, not from the (unauthenticated) tar header. */
mode_t
pack_member_mode(const char *name)
{
	return str_starts_with(name, "run-") && str_ends_with(name, ".sh")
		       ? 0755
		       : 0644;
}

int
pack_parse_epoch(const char *s, int64_t *ret)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0') {
		*ret = 0;
		return 0;
	}
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	*ret = v;
	return 0;
}

void
unpack_info_clear(struct unpack_info *info)
{
	if (info == NULL)
		return;
	free(info->signer);
	*info = (struct unpack_info){0};
}

void
tar_index_free(struct tar_member *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}
