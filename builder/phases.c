#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phases.h"
#include "util.h"

/* The bake's phases in the order it runs them. */
static const char *const order[] = {
	"launch", "inspect", "grow",  "packages", "images",   "users",
	"files",  "overlay", "units", "selinux",  "manifest", "shutdown",
};
#define NORDER (sizeof(order) / sizeof(order[0]))

struct cell {
	size_t vm, phase;
	double secs;
};

struct phases {
	char **vms, **names; /* columns; phases not in order[] */
	size_t nvms, nnames;
	struct cell *cells;
	size_t ncells;
};

struct phases *
phases_new(void)
{
	return xcalloc(1, sizeof(struct phases));
}

static size_t
find_or_add(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return i;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n] = xstrdup(s);
	return (*n)++;
}

/* Row of phase: its place in order[], then the others as first seen. */
static size_t
phase_row(struct phases *p, const char *phase)
{
	for (size_t i = 0; i < NORDER; i++)
		if (strcmp(order[i], phase) == 0)
			return i;
	return NORDER + find_or_add(&p->names, &p->nnames, phase);
}

void
phases_add(struct phases *p, const char *vm, const char *phase, double seconds)
{
	size_t c, row;

	if (strcmp(phase, "up to date") == 0)
		return;
	c = find_or_add(&p->vms, &p->nvms, vm);
	row = phase_row(p, phase);
	for (size_t i = 0; i < p->ncells; i++)
		if (p->cells[i].vm == c && p->cells[i].phase == row) {
			p->cells[i].secs += seconds;
			return;
		}
	p->cells = xrealloc(p->cells, (p->ncells + 1) * sizeof(*p->cells));
	p->cells[p->ncells++] = (struct cell){c, row, seconds};
}

/* Seconds of (vm, row); vm or row SIZE_MAX sums over all. */
static double
sum(const struct phases *p, size_t vm, size_t row, bool *any)
{
	double s = 0;

	*any = false;
	for (size_t i = 0; i < p->ncells; i++)
		if ((vm == SIZE_MAX || p->cells[i].vm == vm) &&
		    (row == SIZE_MAX || p->cells[i].phase == row)) {
			s += p->cells[i].secs;
			*any = true;
		}
	return s;
}

static void
row_out(const struct phases *p, struct strbuf *sb, const char *name, size_t row)
{
	bool any;

	sb_printf(sb, "%-10s", name);
	for (size_t c = 0; c <= p->nvms; c++) {
		double s = sum(p, c == p->nvms ? SIZE_MAX : c, row, &any);

		if (any)
			sb_printf(sb, " %8.1f", s);
		else
			sb_printf(sb, " %8s", "-");
	}
	sb_puts(sb, "\n");
}

char *
phases_table(const struct phases *p)
{
	struct strbuf sb = STRBUF_INIT;
	bool any;

	if (p->ncells == 0)
		return NULL;
	sb_printf(&sb, "%-10s", "phase");
	for (size_t c = 0; c < p->nvms; c++)
		sb_printf(&sb, " %8.8s", p->vms[c]);
	sb_printf(&sb, " %8s\n", "total");
	for (size_t r = 0; r < NORDER + p->nnames; r++) {
		(void)sum(p, SIZE_MAX, r, &any);
		if (!any)
			continue;
		row_out(p, &sb, r < NORDER ? order[r] : p->names[r - NORDER],
			r);
	}
	row_out(p, &sb, "total", SIZE_MAX);
	return sb_detach(&sb, NULL);
}

void
phases_free(struct phases *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nvms; i++)
		free(p->vms[i]);
	for (size_t i = 0; i < p->nnames; i++)
		free(p->names[i]);
	free(p->vms);
	free(p->names);
	free(p->cells);
	free(p);
}
