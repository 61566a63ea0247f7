/* The links 'systemctl enable' makes, from a unit's [Install] section.
 * Pure: used by the bake when the guest has no systemctl. */
#ifndef SBX_UNITLINKS_H
#define SBX_UNITLINKS_H

#include <stddef.h>

struct strbuf;

/* The links 'systemctl enable' makes for unit (installed as file) from
 * the [Install] section of its text: "LINK\0TARGET\0" pairs appended to
 * out, their count returned. */
size_t unit_install_links(const char *text, const char *unit, const char *file,
			  struct strbuf *out);

#endif
