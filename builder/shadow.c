#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "shadow.h"
#include "util.h"

int
shadow_set(const char *shadow, const char *user, const char *hash, char **ret)
{
	struct strbuf out = STRBUF_INIT;
	size_t nl = strlen(user);
	bool found = false;

	for (const char *l = shadow; *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);

		if (strncmp(l, user, nl) == 0 && l[nl] == ':') {
			const char *rest =
				memchr(l + nl + 1, ':', len - nl - 1);

			found = true;
			sb_printf(&out, "%s:%s", user, hash);
			if (rest != NULL)
				sb_add(&out, rest, (size_t)(l + len - rest));
		} else {
			sb_add(&out, l, len);
		}
		sb_putc(&out, '\n');
		l += len + (end != NULL);
	}
	if (!found) {
		sb_release(&out);
		return -ENOENT;
	}
	*ret = sb_detach(&out, NULL);
	return 0;
}
