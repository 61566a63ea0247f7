/* Everything a VM's plan needs from the outside world: template files and
 * the overlay tree are read here, then the pure render and plan run. */
#ifndef SBX_PREPARE_H
#define SBX_PREPARE_H

#include <stdbool.h>

#include "plan.h"
#include "render.h"

struct recipe_set;
struct vm;

/* Builds vm's plan.  With secrets == NULL, placeholders stand in for every
 * secret (plan, render).  Recipe problems go to diags (-EINVAL); I/O
 * failures return the negative errno with a message in diags. */
int prepare_plan(const struct recipe_set *set, const struct vm *vm,
		 const struct render_secret *secrets, size_t nsecrets,
		 struct plan *ret, struct diag_list *diags);

#endif
