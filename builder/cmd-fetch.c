/* sbx-build fetch: download and verify base images into the cache. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd-bases.h"
#include "cmd.h"
#include "containers.h"
#include "fetch.h"
#include "lock.h"
#include "recipe.h"
#include "util.h"

struct fetch_opts {
	const char *cache;
	const char *from;
	unsigned flags;
};

static void
log_failure(struct fetch_ctx *ctx, const struct base *b,
	    const struct fetch_pin *pin, int r, bool from)
{
	const char *why = *fetch_error(ctx) ? fetch_error(ctx) : strerror(-r);

	if (r == -ENOENT && pin != NULL &&
	    (fetch_ctx_flags(ctx) & FETCH_OFFLINE) && !from)
		log_error("cannot fetch base '%s' offline: %s; run "
			  "'sbx-build fetch %s' on a connected machine, or "
			  "download '%s' by hand and run 'sbx-build fetch "
			  "--from FILE %s'",
			  b->name, why, b->name, pin->url, b->name);
	else if (r == -ENETUNREACH)
		log_error("cannot fetch base '%s' offline: %s; sbx.lock has "
			  "no pin for it (run 'sbx-build lock' on a connected "
			  "machine)",
			  b->name, why);
	else if (r == -EBADMSG && !from)
		log_error("cannot fetch base '%s': %s (if the published "
			  "image changed on purpose, run 'sbx-build lock "
			  "--update')",
			  b->name, why);
	else
		log_error("cannot fetch base '%s': %s", b->name, why);
}

static int
fetch_one(struct lock *lk, struct fetch_ctx *ctx, const struct base *b,
	  const char *from)
{
	struct fetch_pin pin = {0};
	CLEANUP_FREE char *path = NULL;
	bool downloaded = false;
	struct stat st;
	int r;

	r = lock_pin_base(lk, ctx, b, &pin);
	if (r < 0) {
		log_failure(ctx, b, NULL, r, from != NULL);
		return r;
	}
	if (from != NULL)
		r = fetch_import(ctx, &pin, from, &path);
	else
		r = fetch_image(ctx, &pin, &path, &downloaded);
	if (r < 0) {
		log_failure(ctx, b, &pin, r, from != NULL);
		fetch_pin_clear(&pin);
		return r;
	}
	/* The lock learns the size once the image is here. */
	if (pin.size == 0 && stat(path, &st) == 0 &&
	    lock_base_recipe_url(lk, b->name) != NULL) {
		CLEANUP_FREE char *src =
			xstrdup(lock_base_recipe_url(lk, b->name));

		pin.size = (uint64_t)st.st_size;
		lock_set_base(lk, b->name, &pin, src);
	}
	if (from != NULL)
		log_info("imported '%s' for base '%s': %s", from, b->name,
			 path);
	else
		log_info("base '%s' %s: %s", b->name,
			 downloaded ? "downloaded" : "is cached", path);
	fetch_pin_clear(&pin);
	return 0;
}

static const struct cmd_option fetch_options[] = {
	{"offline", 'o', false, NULL,
	 "open no connection: check the cache against sbx.lock"},
	{"cache", 'c', false, "DIR",
	 "the cache (default $XDG_CACHE_HOME/sbx-build)"},
	{"allow-http", 'H', false, NULL, "allow plain http URLs"},
	{"from", 'f', false, "FILE",
	 "import FILE, copied by hand, as the one BASE named"},
	{NULL, 0, false, NULL, NULL},
};

static enum cmd_status
exec_fetch(int argc, char **argv)
{
	const struct recipe_set *set = globals.recipes;
	struct fetch_opts o = {0};
	const struct base **want;
	struct fetch_ctx *ctx = NULL;
	struct lock *lk = NULL;
	CLEANUP_FREE char *cache = NULL, *lock_path = NULL;
	enum cmd_status st = CMD_OK;
	size_t n = 0, m;
	int c, r;

	optind = 0;
	while ((c = cmd_getopt(&cmd_fetch_entry, argc, argv)) != -1) {
		switch (c) {
		case 'o':
			o.flags |= FETCH_OFFLINE;
			break;
		case 'c':
			o.cache = optarg;
			break;
		case 'f':
			o.from = optarg;
			break;
		case 'H':
			o.flags |= FETCH_ALLOW_HTTP;
			break;
		default:
			return cmd_bad_option(&cmd_fetch_entry);
		}
	}
	if (!cmd_operands_ok(&cmd_fetch_entry, argc - optind))
		return CMD_USAGE;

	/* No BASE: the bases the VMs use. */
	n = cmd_bases_used(set, (size_t)(argc - optind), &want);
	if (optind < argc) {
		n = 0;
		for (int i = optind; i < argc; i++) {
			const struct base *b = recipe_find_base(set, argv[i]);

			if (b == NULL) {
				log_error("no base named '%s' in the recipes",
					  argv[i]);
				st = CMD_ERROR;
			} else {
				want[n++] = b;
			}
		}
	}
	if (st != CMD_OK)
		goto out;
	if (o.from != NULL && argc - optind != 1) {
		log_error("fetch: --from imports one image: name exactly one "
			  "BASE");
		cmd_usage(&cmd_fetch_entry);
		st = CMD_USAGE;
		goto out;
	}
	/* A local base is checked, not fetched (cmd-bases.h). */
	m = n;
	n = 0;
	for (size_t i = 0; i < m; i++) {
		if (want[i]->url != NULL) {
			want[n++] = want[i];
		} else if (o.from != NULL) {
			log_error("fetch: base '%s' is the local file '%s'; "
				  "--from is for a downloaded base",
				  want[i]->name, want[i]->path);
			st = CMD_USAGE;
		} else if (cmd_base_check_local(globals.dir, want[i]) < 0) {
			st = CMD_ERROR;
		}
	}
	/* Without BASE, the container images follow even when every base
	 * is local. */
	if (st != CMD_OK || (n == 0 && optind < argc))
		goto out;

	r = fetch_cache_dir(o.cache, &cache);
	if (r < 0) {
		log_error("cannot find a cache directory: set XDG_CACHE_HOME "
			  "or HOME, or pass --cache DIR");
		st = CMD_ERROR;
		goto out;
	}
	lock_path = path_join(globals.dir, LOCK_FILE);
	lk = cmd_lock_load(lock_path);
	if (lk == NULL) {
		st = CMD_ERROR;
		goto out;
	}

	ctx = fetch_ctx_new(cache, o.flags);
	fetch_ctx_set_dir(ctx, globals.dir);
	for (size_t i = 0; i < n; i++)
		if (fetch_one(lk, ctx, want[i], o.from) < 0)
			st = CMD_ERROR;
	if (optind == argc && o.from == NULL) {
		/* Pulled, built and verified as a build would. */
		struct containers_opts co = {.mode = CONTAINERS_READY,
					     .cache = cache,
					     .offline =
						     o.flags & FETCH_OFFLINE};

		if (cmd_container_images(lk, globals.recipes, &co, "fetch",
					 true) < 0)
			st = CMD_ERROR;
	}
	if (lock_changed(lk)) {
		r = lock_save(lk, lock_path);
		if (r < 0) {
			log_error("cannot write '%s': %s", lock_path,
				  strerror(-r));
			st = CMD_ERROR;
		}
	}
out:
	fetch_ctx_free(ctx);
	lock_free(lk);
	free(want);
	return st;
}

const struct cmd_entry cmd_fetch_entry = {
	.name = "fetch",
	.usage = "[--offline] [--cache DIR] [--allow-http] [--from FILE] "
		 "[BASE...]",
	.summary = "download and verify base and container images into the "
		   "cache",
	.min_args = 0,
	.max_args = -1,
	.options = fetch_options,
	.operands = CMD_OPERAND_BASE,
	.writes = "the base and container images into the cache; their pins "
		  "into sbx.lock",
	.example = "sbx-build fetch\nsbx-build fetch --from "
		   "~/Downloads/Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2 "
		   "fedora-44",
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_fetch,
};
