#include <stdbool.h>
#include <string.h>

#include "unitlinks.h"
#include "util.h"

size_t
unit_install_links(const char *text, const char *unit, const char *file,
		   struct strbuf *out)
{
	CLEANUP_FREE char *copy = xstrdup(text);
	bool install = false;
	size_t n = 0;
	char *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		const char *kind = NULL;
		char *v, *vsave = NULL;

		while (*l == ' ' || *l == '\t')
			l++;
		if (*l == '[') {
			install = strncmp(l, "[Install]", 9) == 0;
			continue;
		}
		if (!install)
			continue;
		if (str_starts_with(l, "WantedBy="))
			kind = "wants";
		else if (str_starts_with(l, "RequiredBy="))
			kind = "requires";
		else if (!str_starts_with(l, "Alias="))
			continue;
		v = strchr(l, '=') + 1;
		for (char *t = strtok_r(v, " \t\r", &vsave); t != NULL;
		     t = strtok_r(NULL, " \t\r", &vsave)) {
			if (kind != NULL)
				sb_printf(out, "/etc/systemd/system/%s.%s/%s",
					  t, kind, unit);
			else
				sb_printf(out, "/etc/systemd/system/%s", t);
			sb_putc(out, '\0');
			sb_puts(out, file);
			sb_putc(out, '\0');
			n++;
		}
	}
	return n;
}
