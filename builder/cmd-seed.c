/* sbx-build seed VM: write out/VM-seed.iso, a NoCloud seed (cidata) with
 * the same files the bake writes, for booting the stock image with
 * cloud-init instead.  Uses (or generates) the secrets in out/secrets/. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "overlay-files.h"
#include "plan.h"
#include "prepare.h"
#include "recipe.h"
#include "secrets.h"
#include "seed.h"

static enum cmd_status
exec_seed(int argc, char **argv)
{
	CLEANUP_FREE char *sd = path_join(globals.dir, "out/secrets");
	CLEANUP_FREE char *out_dir = path_join(globals.dir, "out");
	CLEANUP_FREE char *iso = NULL;
	struct secret_store secrets = {0};
	struct seed_docs docs = {0};
	struct diag_list *diags;
	struct plan plan;
	const struct vm *vm;
	char **hashes = NULL;
	char *bad = NULL;
	enum cmd_status st = CMD_ERROR;
	int r;

	optind = 0;
	if (cmd_getopt(&cmd_seed_entry, argc, argv) != -1)
		return cmd_bad_option(&cmd_seed_entry);
	if (!cmd_operands_ok(&cmd_seed_entry, argc - optind))
		return CMD_USAGE;
	vm = recipe_find_vm(globals.recipes, argv[optind]);
	if (vm == NULL) {
		log_error("no VM named '%s' in the recipes", argv[optind]);
		return CMD_ERROR;
	}
	r = secrets_load(sd, vm, &secrets, &bad);
	if (r < 0) {
		log_error("cannot use the secret '%s': %s", bad,
			  r == -EPERM ? "readable by others (chmod 600 it, "
					"or remove it)"
				      : strerror(-r));
		free(bad);
		return CMD_ERROR;
	}
	diags = diag_list_new();
	r = prepare_plan(globals.recipes, vm, secrets.v, secrets.n, &plan,
			 diags);
	if (r < 0) {
		diag_print(diags, stderr);
		diag_list_free(diags);
		secret_store_release(&secrets);
		return CMD_ERROR;
	}
	diag_list_free(diags);
	r = overlay_add_files(&plan.files, &plan.overlay, &bad);
	if (r < 0) {
		log_error("cannot read the overlay file '%s': %s", bad,
			  strerror(-r));
		free(bad);
		plan_release(&plan);
		secret_store_release(&secrets);
		return CMD_ERROR;
	}
	hashes = xcalloc(vm->nusers + 1, sizeof(*hashes));
	for (size_t i = 0; i < vm->nusers; i++) {
		const struct user *u = &vm->users[i];
		CLEANUP_FREE char *name = NULL;

		if (u->password == PASSWORD_HASH) {
			hashes[i] = xstrdup(u->password_hash);
			continue;
		}
		if (u->password != PASSWORD_RANDOM)
			continue;
		name = xasprintf(RENDER_SECRET_USER "%s", u->name);
		r = password_hash(secret_store_get(&secrets, name), &hashes[i]);
		if (r < 0) {
			log_error("cannot hash the password of user '%s': %s",
				  u->name, strerror(-r));
			goto out;
		}
	}
	seed_build(vm, &plan.files, (const char *const *)hashes, &docs);
	iso = xasprintf("%s/%s-seed.iso", out_dir, vm->name);
	r = mkdir_p(out_dir, 0755);
	if (r < 0) {
		log_error("cannot create '%s': %s", out_dir, strerror(-r));
		goto out;
	}
	r = seed_write_iso(iso, &docs, &bad);
	if (r < 0) {
		log_error("%s", bad);
		free(bad);
		goto out;
	}
	log_info("wrote '%s'", iso);
	st = CMD_OK;
out:
	for (size_t i = 0; i < vm->nusers; i++)
		free(hashes[i]);
	free(hashes);
	seed_docs_release(&docs);
	plan_release(&plan);
	secret_store_release(&secrets);
	return st;
}

const struct cmd_entry cmd_seed_entry = {
	.name = "seed",
	.usage = "VM",
	.summary = "write a cloud-init NoCloud seed ISO for VM",
	.min_args = 1,
	.max_args = 1,
	.operands = CMD_OPERAND_VM,
	.writes = "out/VM-seed.iso",
	.example = "sbx-build seed dev",
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_seed,
};
