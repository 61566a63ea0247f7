/* sbx-build verify: recompute an image's manifest through libguestfs (one
 * appliance, the drive read-only) and compare it with out/VM.manifest. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bake.h"
#include "cmd.h"
#include "manifest.h"
#include "util.h"

/* IMAGE's manifest: "out/dev.qcow2" -> "out/dev.manifest". */
static char *
manifest_path(const char *image)
{
	size_t n = strlen(image);

	if (str_ends_with(image, ".qcow2"))
		n -= strlen(".qcow2");
	return xasprintf("%.*s.manifest", (int)n, image);
}

static const struct cmd_option verify_options[] = {
	{"accel", 'a', false, "kvm|tcg", "the appliance's accelerator"},
	{"manifest", 'm', false, "FILE",
	 "the manifest (default: IMAGE's .qcow2 replaced by .manifest)"},
	{NULL, 0, false, NULL, NULL},
};

static enum cmd_status
exec_verify(int argc, char **argv)
{
	enum image_accel accel = IMAGE_ACCEL_AUTO;
	CLEANUP_FREE char *mpath = NULL, *text = NULL, *err = NULL;
	const char *image, *mopt = NULL;
	struct manifest want = {0}, got = {0};
	struct strbuf diff = STRBUF_INIT;
	struct diag_list *diags;
	size_t len, ndiff;
	int c, r;

	optind = 0;
	while ((c = cmd_getopt(&cmd_verify_entry, argc, argv)) != -1) {
		switch (c) {
		case 'a':
			if (strcmp(optarg, "kvm") == 0) {
				accel = IMAGE_ACCEL_KVM;
			} else if (strcmp(optarg, "tcg") == 0) {
				accel = IMAGE_ACCEL_TCG;
			} else {
				log_error("--accel must be 'kvm' or 'tcg', not "
					  "'%s'",
					  optarg);
				cmd_usage(&cmd_verify_entry);
				return CMD_USAGE;
			}
			break;
		case 'm':
			mopt = optarg;
			break;
		default:
			return cmd_bad_option(&cmd_verify_entry);
		}
	}
	if (!cmd_operands_ok(&cmd_verify_entry, argc - optind))
		return CMD_USAGE;
	image = argv[optind];
	mpath = mopt != NULL ? xstrdup(mopt) : manifest_path(image);
	r = read_file(mpath, &text, &len);
	if (r < 0) {
		log_error("cannot read '%s': %s", mpath, strerror(-r));
		return CMD_ERROR;
	}
	diags = diag_list_new();
	r = manifest_parse(mpath, text, len, &want, diags);
	if (r < 0) {
		diag_print(diags, stderr);
		diag_list_free(diags);
		return CMD_ERROR;
	}
	diag_list_free(diags);
	r = bake_verify(image, &want, accel, log_get_level() >= LOG_DEBUG, &got,
			&err);
	if (r < 0) {
		log_error("cannot verify '%s': %s", image,
			  err != NULL ? err : strerror(-r));
		manifest_release(&want);
		return CMD_ERROR;
	}
	ndiff = manifest_diff(&want, &got, &diff);
	if (ndiff > 0) {
		fputs(diff.buf, stdout);
		log_error("'%s' differs from '%s' in %zu place%s", image, mpath,
			  ndiff, ndiff == 1 ? "" : "s");
	} else {
		log_info("'%s' matches '%s' (%zu paths, sha256:%s)", image,
			 mpath, got.n, got.digest);
	}
	sb_release(&diff);
	manifest_release(&want);
	manifest_release(&got);
	return ndiff > 0 ? CMD_ERROR : CMD_OK;
}

const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.usage = "[--accel kvm|tcg] [--manifest FILE] IMAGE",
	.summary = "compare an image with its manifest",
	.min_args = 1,
	.max_args = 1,
	.flags = 0,
	.options = verify_options,
	.operands = CMD_OPERAND_IMAGE,
	.writes = "nothing; one line per difference goes to stdout",
	.example = "sbx-build verify out/dev.qcow2",
	.exec = exec_verify,
};
