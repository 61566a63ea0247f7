/* Between the recipe modules only (recipe.c the model, recipe-schema.c
 * the key tables, recipe-check.c the cross checks, recipe-load.c the
 * reading): other modules use recipe.h. */
#ifndef SBX_RECIPE_INT_H
#define SBX_RECIPE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "recipe.h"
#include "schema.h"

/* One recipe file: a VM, bases, or both. */
struct recipe_doc {
	struct srcpos pos;
	struct base *bases;
	size_t nbases;
	bool has_vm;
	struct vm vm;
};

/* recipe-schema.c: the keys of one recipe file, decoded into a struct
 * recipe_doc.  An inline base is named "@inline" here; adopting the
 * document renames it "@VM". */
extern const struct schema recipe_doc_schema;
/* The names of enum nic_kind, for messages. */
extern const char *const recipe_nic_kinds[];

/* recipe.c: free what one base or VM owns (not the struct itself). */
void recipe_base_free(struct base *b);
void recipe_vm_free(struct vm *vm);

/* recipe-check.c: add a diagnostic for each rule broken.  A VM is checked
 * after its defaults are applied, within the whole set (references to
 * other VMs); recipe_check_unique compares the VMs with each other. */
void recipe_check_base(const struct base *b, struct diag_list *diags);
void recipe_check_vm(struct recipe_set *set, struct vm *vm,
		     struct diag_list *diags);
void recipe_check_unique(struct recipe_set *set, struct diag_list *diags);

#endif
