/* skopeo.c: copies between OCI layouts and registries through skopeo. */
#include <errno.h>
#include <string.h>

#include "run.h"
#include "skopeo.h"
#include "util.h"

/* Splits skopeo's stdout into lines for o->on_line. */
struct lines {
	const struct skopeo_opts *o;
	struct strbuf part;
};

static void
on_out(void *opaque, const char *buf, size_t n)
{
	struct lines *l = opaque;

	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n' && buf[i] != '\r') {
			if (l->part.len < 4096)
				sb_putc(&l->part, buf[i]);
			continue;
		}
		if (l->part.len > 0 && l->o->on_line != NULL)
			l->o->on_line(l->o->opaque, l->part.buf);
		l->part.len = 0;
		if (l->part.buf != NULL)
			l->part.buf[0] = '\0';
	}
}

int
skopeo_copy(const char *src, const char *dst, const char *digest_file,
	    const struct skopeo_opts *o, char **ret_err)
{
	const char *argv[12];
	struct strbuf err = STRBUF_INIT;
	struct lines l = {.o = o, .part = STRBUF_INIT};
	struct run_opts ro = {.on_out = on_out, .opaque = &l, .err = &err};
	size_t n = 0;
	int r;

	argv[n++] = "skopeo";
	argv[n++] = "copy";
	argv[n++] = "--preserve-digests";
	argv[n++] = "--retry-times=3";
	if (digest_file != NULL) {
		argv[n++] = "--digestfile";
		argv[n++] = digest_file;
	}
	if (o->no_tls_verify) {
		argv[n++] = str_starts_with(src, "docker://")
				    ? "--src-tls-verify=false"
				    : "--dest-tls-verify=false";
	}
	argv[n++] = "--";
	argv[n++] = src;
	argv[n++] = dst;
	argv[n] = NULL;
	r = run_program(argv, &ro);
	on_out(&l, "\n", 1);
	sb_release(&l.part);
	if (r != 0) {
		if (ret_err != NULL)
			*ret_err = run_failure(argv, r, &err);
		r = r < 0 ? r : -EIO;
	}
	sb_release(&err);
	return r;
}
