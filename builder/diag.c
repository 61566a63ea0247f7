#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"

struct source {
	char *file, *text;
	size_t len;
};

struct diag {
	struct srcpos pos; /* pos.file is the diag's own copy */
	char *msg;	   /* FILE:LINE:COL: message */
	size_t seq;	   /* keeps insertion order among equal positions */
};

struct diag_list {
	struct diag *v;
	size_t n, cap;
	struct source *src;
	size_t nsrc, srccap;
};

struct diag_list *
diag_list_new(void)
{
	return xcalloc(1, sizeof(struct diag_list));
}

void
diag_list_free(struct diag_list *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].msg);
		free((char *)d->v[i].pos.file);
	}
	for (size_t i = 0; i < d->nsrc; i++) {
		free(d->src[i].file);
		free(d->src[i].text);
	}
	free(d->v);
	free(d->src);
	free(d);
}

void
diag_add_source(struct diag_list *d, const char *file, const char *text,
		size_t len)
{
	struct source *s;

	d->src = xgrow(d->src, &d->srccap, d->nsrc + 1, sizeof(*d->src));
	s = &d->src[d->nsrc++];
	s->file = xstrdup(file);
	s->text = xstrndup(text, len);
	s->len = len;
}

void
diag_add(struct diag_list *d, struct srcpos pos, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	struct diag *g;
	va_list ap;

	if (pos.file != NULL)
		sb_printf(&sb, "%s:%d:%d: ", pos.file, pos.line, pos.col);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	d->v = xgrow(d->v, &d->cap, d->n + 1, sizeof(*d->v));
	g = &d->v[d->n];
	g->pos = pos;
	g->pos.file = pos.file ? xstrdup(pos.file) : NULL;
	g->msg = sb_detach(&sb, NULL);
	g->seq = d->n++;
}

size_t
diag_count(const struct diag_list *d)
{
	return d == NULL ? 0 : d->n;
}

const char *
diag_message(const struct diag_list *d, size_t i)
{
	return i < diag_count(d) ? d->v[i].msg : NULL;
}

static int
cmp_diag(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int c;

	if (x->pos.file != NULL && y->pos.file != NULL &&
	    (c = strcmp(x->pos.file, y->pos.file)) != 0)
		return c;
	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const struct source *
find_source(const struct diag_list *d, const char *file)
{
	for (size_t i = 0; file != NULL && i < d->nsrc; i++)
		if (strcmp(d->src[i].file, file) == 0)
			return &d->src[i];
	return NULL;
}

static void
print_line(FILE *f, const struct source *s, int line, int col)
{
	const char *p = s->text, *end = s->text + s->len, *eol;

	for (int l = 1; l < line && p < end; l++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (p == NULL)
			return;
		p++;
	}
	if (p >= end)
		return;
	eol = memchr(p, '\n', (size_t)(end - p));
	if (eol == NULL)
		eol = end;
	fprintf(f, "  %.*s\n  ", (int)(eol - p), p);
	/* Keep tabs so the caret lines up under them. */
	for (int c = 1; c < col && p + c - 1 < eol; c++)
		fputc(p[c - 1] == '\t' ? '\t' : ' ', f);
	fputs("^\n", f);
}

void
diag_print(const struct diag_list *d, FILE *f)
{
	struct diag *sorted;

	if (diag_count(d) == 0)
		return;
	sorted = xmalloc(d->n * sizeof(*sorted));
	memcpy(sorted, d->v, d->n * sizeof(*sorted));
	qsort(sorted, d->n, sizeof(*sorted), cmp_diag);
	for (size_t i = 0; i < d->n; i++) {
		const struct source *s = find_source(d, sorted[i].pos.file);

		fprintf(f, "%s\n", sorted[i].msg);
		if (s != NULL && sorted[i].pos.line > 0)
			print_line(f, s, sorted[i].pos.line, sorted[i].pos.col);
	}
	fprintf(f, "sbx-build: %zu error%s\n", d->n, d->n == 1 ? "" : "s");
	free(sorted);
}
