/* sbx-build pack: pack out/ into a signed, shareable bundle. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "pack.h"
#include "util.h"

#define DEFAULT_BUNDLE "sbx-bundle.tar.zst"

static const struct cmd_option pack_options[] = {
	{"output", 'o', true, "FILE",
	 "the bundle (default out/" DEFAULT_BUNDLE ")"},
	{"sign", 's', false, "KEY",
	 "sign SHA256SUMS with this SSH key (ssh-keygen -Y sign)"},
	{NULL, 0, false, NULL, NULL},
};

static enum cmd_status
exec_pack(int argc, char **argv)
{
	struct pack_options po = {0};
	const char *output = NULL, *epoch = getenv("SOURCE_DATE_EPOCH");
	CLEANUP_FREE char *out_dir = path_join(globals.dir, "out");
	CLEANUP_FREE char *lock = path_join(globals.dir, "sbx.lock");
	CLEANUP_FREE char *bundle = NULL;
	CLEANUP_FREE char *why = NULL;
	int c, r;

	optind = 0;
	while ((c = cmd_getopt(&cmd_pack_entry, argc, argv)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 's':
			po.sign_key = optarg;
			break;
		default:
			return cmd_bad_option(&cmd_pack_entry);
		}
	}
	if (!cmd_operands_ok(&cmd_pack_entry, argc - optind))
		return CMD_USAGE;
	if (pack_parse_epoch(epoch, &po.mtime) < 0) {
		log_error("cannot use SOURCE_DATE_EPOCH '%s': not a number of "
			  "seconds",
			  epoch);
		return CMD_ERROR;
	}
	/* -o is relative to the current directory, like any path operand;
	 * the default lives in out/, next to what it packs. */
	bundle = output != NULL ? xstrdup(output)
				: path_join(out_dir, DEFAULT_BUNDLE);
	r = pack_bundle(out_dir, lock, bundle, &po, &why);
	if (r < 0) {
		log_error("cannot pack '%s': %s", out_dir,
			  why != NULL ? why : strerror(-r));
		return CMD_ERROR;
	}
	log_info("wrote '%s'%s", bundle, po.sign_key ? " (signed)" : "");
	return CMD_OK;
}

const struct cmd_entry cmd_pack_entry = {
	.name = "pack",
	.usage = "[-o FILE] [--sign KEY]",
	.summary = "pack out/ into a signed, shareable bundle",
	.min_args = 0,
	.max_args = 0,
	.flags = 0,
	.options = pack_options,
	.writes = "the bundle: out/" DEFAULT_BUNDLE " or FILE",
	.example =
		"sbx-build pack --sign ~/.ssh/id_ed25519 -o /tmp/sbx.tar.zst",
	.exec = exec_pack,
};
