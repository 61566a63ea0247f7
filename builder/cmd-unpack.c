/* sbx-build unpack: verify and unpack a bundle. */
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "outputs.h"
#include "pack.h"
#include "util.h"

static const struct cmd_option unpack_options[] = {
	CMD_UNPACK_OPTION_ROWS,
	{NULL, 0, false, NULL, NULL},
};

int
cmd_unpack_option(int c, const char *arg, const char **dir,
		  struct unpack_options *uo)
{
	switch (c) {
	case 'C':
		*dir = arg;
		return 1;
	case 'a':
		uo->allowed_signers = arg;
		return 1;
	case 'I':
		uo->identity = arg;
		return 1;
	}
	return 0;
}

bool
cmd_unpack_options_ok(const struct cmd_entry *e,
		      const struct unpack_options *uo)
{
	if (uo->identity != NULL && uo->allowed_signers == NULL) {
		log_error("--identity needs --allowed-signers");
		cmd_usage(e);
		return false;
	}
	return true;
}

static enum cmd_status
exec_unpack(int argc, char **argv)
{
	struct unpack_options uo = {0};
	struct unpack_info info = {0};
	const char *dir = NULL, *bundle;
	CLEANUP_FREE char *target = NULL;
	CLEANUP_FREE char *why = NULL;
	int c, r;

	optind = 0;
	while ((c = cmd_getopt(&cmd_unpack_entry, argc, argv)) != -1)
		if (!cmd_unpack_option(c, optarg, &dir, &uo))
			return cmd_bad_option(&cmd_unpack_entry);
	if (!cmd_operands_ok(&cmd_unpack_entry, argc - optind) ||
	    !cmd_unpack_options_ok(&cmd_unpack_entry, &uo))
		return CMD_USAGE;
	bundle = argv[optind];
	/* By default the images land where a build would put them. */
	target = dir != NULL ? xstrdup(dir) : path_join(globals.dir, "out");
	r = unpack_bundle(bundle, target, &uo, &info, &why);
	if (r < 0) {
		log_error("cannot unpack '%s': %s", bundle,
			  why != NULL ? why : strerror(-r));
		return CMD_ERROR;
	}
	outputs_record_dir(target);
	if (info.signer != NULL)
		log_info("good signature from '%s'", info.signer);
	else if (info.is_signed)
		log_warn("'%s' is signed, but the signature was not checked "
			 "(no --allowed-signers)",
			 bundle);
	else
		log_warn("'%s' is not signed; only its checksums were checked",
			 bundle);
	log_info("unpacked %u image%s into '%s'", info.n_vms,
		 info.n_vms == 1 ? "" : "s", target);
	unpack_info_clear(&info);
	return CMD_OK;
}

const struct cmd_entry cmd_unpack_entry = {
	.name = "unpack",
	.usage = "[-C DIR] [--allowed-signers FILE [--identity NAME]] FILE",
	.summary = "verify and unpack a bundle",
	.min_args = 1,
	.max_args = 1,
	.flags = 0,
	.options = unpack_options,
	.operands = CMD_OPERAND_FILE,
	.writes = "the bundle's images, run scripts, XML and manifests into "
		  "out/ or DIR",
	.example = "sbx-build unpack --allowed-signers signers "
		   "--identity me@example.org sbx.tar.zst",
	.exec = exec_unpack,
};
