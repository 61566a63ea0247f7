/* sbx-build pull: fetch, verify and unpack a bundle from a registry. */
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "fetch.h"
#include "outputs.h"
#include "share.h"
#include "util.h"

static void
progress_line(void *opaque, const char *line)
{
	log_info("%s: %s", (const char *)opaque, line);
}

static void
report(const char *ref, const char *target, const struct unpack_info *info)
{
	if (info->signer != NULL)
		log_info("good signature from '%s'", info->signer);
	else if (info->is_signed)
		log_warn("'%s' is signed, but the signature was not checked "
			 "(no --allowed-signers)",
			 ref);
	else
		log_warn("'%s' is not signed; only its digests and checksums "
			 "were checked",
			 ref);
	log_info("pulled %u image%s into '%s'", info->n_vms,
		 info->n_vms == 1 ? "" : "s", target);
}

static const struct cmd_option pull_options[] = {
	CMD_UNPACK_OPTION_ROWS,
	{"tls-verify", 't', false, "true|false",
	 "false: do not verify the registry's TLS certificate"},
	{NULL, 0, false, NULL, NULL},
};

static enum cmd_status
exec_pull(int argc, char **argv)
{
	struct unpack_options uo = {0};
	struct unpack_info info = {0};
	struct share_opts so = {.on_line = progress_line, .opaque = "pull"};
	const char *dir = NULL, *ref;
	char digest[OCI_DIGEST_MAX], had[OCI_DIGEST_MAX];
	CLEANUP_FREE char *target = NULL;
	CLEANUP_FREE char *cache = NULL;
	CLEANUP_FREE char *why = NULL;
	int c, r;

	optind = 0;
	while ((c = cmd_getopt(&cmd_pull_entry, argc, argv)) != -1) {
		if (cmd_unpack_option(c, optarg, &dir, &uo))
			continue;
		switch (c) {
		case 't':
			if (share_opts_tls_verify(&so, optarg) < 0)
				return cmd_bad_option(&cmd_pull_entry);
			break;
		default:
			return cmd_bad_option(&cmd_pull_entry);
		}
	}
	if (!cmd_operands_ok(&cmd_pull_entry, argc - optind) ||
	    !cmd_unpack_options_ok(&cmd_pull_entry, &uo))
		return CMD_USAGE;
	ref = argv[optind];
	target = dir != NULL ? xstrdup(dir) : path_join(globals.dir, "out");
	/* A digest already pulled: nothing to ask the registry. */
	if (share_ref_parse(ref, digest) == 0 && digest[0] != '\0' &&
	    share_pulled(target, had) == 0 && strcmp(had, digest) == 0) {
		log_info("'%s' already holds %s", target, digest);
		return CMD_OK;
	}
	if (fetch_cache_dir(NULL, &cache) < 0) {
		log_error("cannot find a cache directory: set XDG_CACHE_HOME "
			  "or HOME");
		return CMD_ERROR;
	}
	so.cache_dir = cache;
	if (so.no_tls_verify)
		log_warn("not verifying the TLS certificate of '%s'", ref);
	r = share_pull(ref, target, &uo, &so, digest, &info, &why);
	if (r < 0) {
		log_error("cannot pull '%s': %s", ref,
			  why != NULL ? why : strerror(-r));
		return CMD_ERROR;
	}
	if (r == 1) {
		log_info("'%s' already holds %s", target, digest);
		return CMD_OK;
	}
	outputs_record_dir(target);
	if (outputs_record(target, SHARE_RECORD) < 0)
		log_warn("cannot record '%s' in '%s/%s', ignoring",
			 SHARE_RECORD, target, OUTPUTS_RECORD);
	report(ref, target, &info);
	unpack_info_clear(&info);
	return CMD_OK;
}

const struct cmd_entry cmd_pull_entry = {
	.name = "pull",
	.usage = "[-C DIR] [--allowed-signers FILE [--identity NAME]] "
		 "[--tls-verify=false] REF[@sha256:HEX]",
	.summary = "fetch, verify and unpack a bundle from an OCI registry",
	.min_args = 1,
	.max_args = 1,
	.flags = 0,
	.options = pull_options,
	.writes = "the bundle's images, run scripts, XML and manifests into "
		  "out/ or DIR",
	.example = "sbx-build pull --allowed-signers signers "
		   "registry.example.org/me/sbx:latest",
	.exec = exec_pull,
};
