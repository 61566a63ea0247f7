#include <string.h>

#include "inputs.h"
#include "plan.h"

static void
add_str(struct digest *d, const char *tag, const char *s)
{
	/* Length-prefixed so no two input lists hash alike. */
	char len[32];

	snprintf(len, sizeof(len), "%s:%zu:", tag, s ? strlen(s) : 0);
	digest_update(d, len, strlen(len));
	if (s != NULL)
		digest_update(d, s, strlen(s));
}

int
inputs_digest(const struct plan *p, const char *base_checksum,
	      const char *extra, char hex[DIGEST_HEX_MAX])
{
	struct strbuf text = STRBUF_INIT;
	struct digest *d = digest_new(DIGEST_SHA256);
	char fh[DIGEST_HEX_MAX];
	int r = 0;

	add_str(d, "version", SBX_VERSION);
	plan_format_image(p, &text);
	add_str(d, "plan", text.buf);
	sb_release(&text);
	for (size_t i = 0; i < p->files.n; i++) {
		const struct gfile *g = &p->files.v[i];

		add_str(d, "file", g->path);
		digest_update(d, g->data ? g->data : "", g->len);
	}
	for (size_t i = 0; i < p->overlay.n && r == 0; i++) {
		const struct overlay_entry *e = &p->overlay.v[i];

		if (e->type != OV_REG)
			continue;
		r = digest_file_hex(DIGEST_SHA256, e->src, fh);
		add_str(d, "overlay", e->path);
		add_str(d, "sha256", fh);
	}
	add_str(d, "base", base_checksum);
	add_str(d, "extra", extra);
	if (r == 0)
		digest_final_hex(d, hex);
	digest_free(d);
	return r;
}
