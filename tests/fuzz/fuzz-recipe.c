/* libFuzzer target for the recipe loader: what 'sbx-build check' runs on
 * recipes/ *.yaml, then what 'plan' and 'render' run on each VM it accepts.
 *
 * The input is split at NUL bytes into up to MAX_DOCS recipe files
 * (recipes/a.yaml, recipes/b.yaml, ...), so one input can hold bases in
 * one file and VMs in another, as a real project does.  A real recipe
 * cannot hold a NUL (the loader refuses it), so no input is lost to the
 * split.  Diagnostics are printed to /dev/null so the source quoting and
 * caret code runs too.
 *
 * The project directory (overlays, templates) is $SBX_FUZZ_PROJECT, by
 * default the current directory: run from the top of the tree.  With
 * SBX_FUZZ_STRICT=1 a recipe set that the loader accepts but plan/render
 * rejects aborts: the loader should catch every recipe problem where it
 * reads the value ('check' runs plan too, so it refuses them either way).
 * A VM with templates is exempt: the files it names do not exist here.
 * SBX_FUZZ_VERBOSE=1 prints the diagnostics and what loaded to stderr.
 *
 * Built with -fsanitize=fuzzer by 'make fuzz'; tests/fuzz/replay.c drives
 * the same function from files for 'make check-fuzz-regress'. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "plan.h"
#include "prepare.h"
#include "recipe.h"

enum { MAX_DOCS = 8 };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *project = ".";
static FILE *devnull; /* where diagnostics go */
static int strict, verbose;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *p = getenv("SBX_FUZZ_PROJECT");
	const char *s = getenv("SBX_FUZZ_STRICT");
	const char *v = getenv("SBX_FUZZ_VERBOSE");

	(void)argc;
	(void)argv;
	if (p != NULL && *p != '\0')
		project = p;
	strict = s != NULL && strcmp(s, "1") == 0;
	verbose = v != NULL && strcmp(v, "1") == 0;
	devnull = verbose ? stderr : fopen("/dev/null", "w");
	if (devnull == NULL) {
		perror("/dev/null");
		abort();
	}
	return 0;
}

static bool
has_templates(const struct vm *vm)
{
	for (size_t i = 0; i < vm->nfiles; i++)
		if (vm->files[i].source == FILE_TEMPLATE)
			return true;
	return false;
}

static void
plan_each_vm(const struct recipe_set *set)
{
	for (size_t i = 0; i < set->nvms; i++) {
		struct diag_list *diags = diag_list_new();
		struct plan plan;
		int r;

		r = prepare_plan(set, &set->vms[i], NULL, 0, &plan, diags);
		diag_print(diags, devnull);
		if (verbose)
			fprintf(stderr, "VM '%s': plan %s\n", set->vms[i].name,
				r == 0 ? "ok" : "rejected");
		if (r == 0) {
			plan_release(&plan);
		} else if (strict && !has_templates(&set->vms[i])) {
			fprintf(stderr, "accepted by the loader, rejected by "
					"plan:\n");
			diag_print(diags, stderr);
			abort();
		}
		diag_list_free(diags);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[MAX_DOCS] = {
		"recipes/a.yaml", "recipes/b.yaml", "recipes/c.yaml",
		"recipes/d.yaml", "recipes/e.yaml", "recipes/f.yaml",
		"recipes/g.yaml", "recipes/h.yaml",
	};
	const char *texts[MAX_DOCS];
	struct recipe_set *set = NULL;
	struct diag_list *diags = NULL;
	char *copy;
	size_t n = 0, start = 0;

	if (devnull == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	/* NUL-terminated copy; every NUL in it ends one document. */
	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size && n < MAX_DOCS; i++) {
		if (copy[i] != '\0')
			continue;
		texts[n++] = copy + start;
		start = i + 1;
	}
	if (recipe_set_load_texts(project, names, texts, n, &set, &diags) ==
	    0) {
		if (verbose)
			fprintf(stderr, "%zu file(s): loaded, %zu VM(s)\n", n,
				set->nvms);
		plan_each_vm(set);
		recipe_set_free(set);
	}
	diag_print(diags, devnull);
	diag_list_free(diags);
	free(copy);
	return 0;
}
