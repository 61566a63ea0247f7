/* sbx-build push: publish out/ as a signed bundle in an OCI registry. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "fetch.h"
#include "progress.h"
#include "share.h"
#include "util.h"

/* skopeo's "Copying blob sha256:..." lines, one per layer. */
static void
progress_line(void *opaque, const char *line)
{
	log_info("%s: %s", (const char *)opaque, line);
}

static const struct cmd_option push_options[] = {
	{"sign", 's', false, "KEY",
	 "sign SHA256SUMS with this SSH key (ssh-keygen -Y sign)"},
	{"tls-verify", 't', false, "true|false",
	 "false: do not verify the registry's TLS certificate"},
	{NULL, 0, false, NULL, NULL},
};

static enum cmd_status
exec_push(int argc, char **argv)
{
	struct pack_options po = {0};
	struct share_opts so = {.on_line = progress_line, .opaque = "push"};
	struct push_info info = {0};
	const char *epoch = getenv("SOURCE_DATE_EPOCH"), *ref;
	char digest[OCI_DIGEST_MAX], human[32];
	CLEANUP_FREE char *out_dir = path_join(globals.dir, "out");
	CLEANUP_FREE char *lock = path_join(globals.dir, "sbx.lock");
	CLEANUP_FREE char *cache = NULL;
	CLEANUP_FREE char *why = NULL;
	int c, r;

	optind = 0;
	while ((c = cmd_getopt(&cmd_push_entry, argc, argv)) != -1) {
		switch (c) {
		case 's':
			po.sign_key = optarg;
			break;
		case 't':
			if (share_opts_tls_verify(&so, optarg) < 0)
				return cmd_bad_option(&cmd_push_entry);
			break;
		default:
			return cmd_bad_option(&cmd_push_entry);
		}
	}
	if (!cmd_operands_ok(&cmd_push_entry, argc - optind))
		return CMD_USAGE;
	ref = argv[optind];
	if (pack_parse_epoch(epoch, &po.mtime) < 0) {
		log_error("cannot use SOURCE_DATE_EPOCH '%s': not a number of "
			  "seconds",
			  epoch);
		return CMD_ERROR;
	}
	if (fetch_cache_dir(NULL, &cache) < 0) {
		log_error("cannot find a cache directory: set XDG_CACHE_HOME "
			  "or HOME");
		return CMD_ERROR;
	}
	so.cache_dir = cache;
	if (so.no_tls_verify)
		log_warn("not verifying the TLS certificate of '%s'", ref);
	r = share_push(out_dir, lock, ref, &po, &so, digest, &info, &why);
	if (r < 0) {
		log_error("cannot push '%s' to '%s': %s", out_dir, ref,
			  why != NULL ? why : strerror(-r));
		return CMD_ERROR;
	}
	log_info("pushed '%s' (%u layers, %s%s)", ref, info.n_layers,
		 progress_human(info.bytes, human, sizeof(human)),
		 po.sign_key ? ", signed" : "");
	printf("%s\n", digest);
	return CMD_OK;
}

const struct cmd_entry cmd_push_entry = {
	.name = "push",
	.usage = "[--sign KEY] [--tls-verify=false] REF",
	.summary = "publish out/ as a signed bundle in an OCI registry",
	.min_args = 1,
	.max_args = 1,
	.flags = 0,
	.options = push_options,
	.writes = "the bundle, as an OCI artifact at REF in the registry",
	.example = "sbx-build push --sign ~/.ssh/id_ed25519 "
		   "registry.example.org/me/sbx:latest",
	.exec = exec_push,
};
