/* sbx-build lock: write or refresh sbx.lock. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-bases.h"
#include "cmd.h"
#include "containers.h"
#include "distro.h"
#include "fetch.h"
#include "lock.h"
#include "recipe.h"
#include "util.h"

struct lock_opts {
	bool update;
	const char *release;
	const char *key;
	const char *cache;
	const char *releases_url;
	unsigned flags;
};

static const char *
fedora_arch(const char *url)
{
	return strstr(url, "aarch64") != NULL ? "aarch64" : "x86_64";
}

static int
lock_one(struct lock *lk, struct fetch_ctx *ctx, const struct base *b,
	 const struct lock_opts *o)
{
	struct fetch_pin pin = {0}, old = {0};
	const struct distro_info *d = distro_get(b->distro);
	bool release = d != NULL && d->releases_json &&
		       (o->release != NULL || o->update);
	bool had = lock_get_base(lk, b->name, &old) == 0;
	int r;

	if (release) {
		const char *fpr = o->key ? o->key : b->key_fingerprint;

		r = fetch_fedora_release(ctx, o->releases_url, o->release,
					 fedora_arch(b->url), b->key_url, fpr,
					 &pin);
		if (r == 0)
			lock_set_base(lk, b->name, &pin, b->url);
	} else if (o->update) {
		r = fetch_resolve(ctx, b, &pin);
		if (r == 0)
			lock_set_base(lk, b->name, &pin, NULL);
	} else {
		r = lock_pin_base(lk, ctx, b, &pin);
	}
	if (r < 0) {
		const char *why =
			*fetch_error(ctx) ? fetch_error(ctx) : strerror(-r);

		if (r == -EKEYREJECTED && release && o->key == NULL)
			log_error("cannot lock base '%s': %s (a new Fedora "
				  "release is signed by a new key: check its "
				  "fingerprint, then pass --key FINGERPRINT)",
				  b->name, why);
		else
			log_error("cannot lock base '%s': %s", b->name, why);
		fetch_pin_clear(&old);
		return r;
	}
	if (!had || strcmp(old.checksum, pin.checksum) != 0 ||
	    strcmp(old.url, pin.url) != 0)
		log_info("base '%s': %s (%s)", b->name, pin.file, pin.checksum);
	fetch_pin_clear(&old);
	fetch_pin_clear(&pin);
	return 0;
}

/* Removes the container pins whose reference is not a line of
 * wanted. */
static void
forget_containers(struct lock *lk, const struct strbuf *wanted)
{
	for (size_t i = lock_ncontainers(lk); i-- > 0;) {
		const char *ref = lock_container_ref(lk, i);
		const char *p = wanted->buf;
		size_t len = strlen(ref);
		bool used = false;

		while (!used && p != NULL && *p != '\0') {
			const char *nl = strchr(p, '\n');

			used = (size_t)(nl - p) == len &&
			       memcmp(p, ref, len) == 0;
			p = nl + 1;
		}
		if (used)
			continue;
		log_info("container image '%s': no VM uses it, its pin is "
			 "removed",
			 ref);
		lock_remove_container(lk, ref);
	}
}

/* Pins every VM's images and their Containerfiles' FROMs; then forgets
 * the pins no VM wants (only when all resolved: a failure may hide a
 * wanted one). */
static int
lock_containers(struct lock *lk, const struct recipe_set *set,
		const char *cache, bool update)
{
	struct strbuf wanted = STRBUF_INIT;
	struct containers_opts co = {.mode = CONTAINERS_PIN,
				     .cache = cache,
				     .update = update,
				     .wanted = &wanted};
	int r = cmd_container_images(lk, set, &co, "lock", false);

	if (r == 0)
		forget_containers(lk, &wanted);
	sb_release(&wanted);
	return r;
}

static const struct cmd_option lock_options[] = {
	{"update", 'u', false, NULL,
	 "pin what is published now, and drop the package pins"},
	{"release", 'r', false, "N", "pin Fedora release N (releases.json)"},
	{"key", 'k', false, "FINGERPRINT",
	 "the OpenPGP key a new Fedora release is signed with"},
	{"cache", 'c', false, "DIR",
	 "the cache (default $XDG_CACHE_HOME/sbx-build)"},
	{"allow-http", 'H', false, NULL, "allow plain http URLs"},
	{"releases-url", 'R', false, "URL",
	 "where Fedora's releases.json is (for a mirror)"},
	{NULL, 0, false, NULL, NULL},
};

static enum cmd_status
exec_lock(int argc, char **argv)
{
	const struct recipe_set *set = globals.recipes;
	struct lock_opts o = {.releases_url = FEDORA_RELEASES_URL};
	struct fetch_ctx *ctx = NULL;
	struct lock *lk = NULL;
	CLEANUP_FREE char *cache = NULL, *lock_path = NULL;
	enum cmd_status st = CMD_OK;
	const struct base **want = NULL;
	size_t n;
	int c, r;

	optind = 0;
	while ((c = cmd_getopt(&cmd_lock_entry, argc, argv)) != -1) {
		switch (c) {
		case 'u':
			o.update = true;
			break;
		case 'r':
			o.release = optarg;
			break;
		case 'k':
			o.key = optarg;
			break;
		case 'c':
			o.cache = optarg;
			break;
		case 'H':
			o.flags |= FETCH_ALLOW_HTTP;
			break;
		case 'R':
			o.releases_url = optarg;
			break;
		default:
			return cmd_bad_option(&cmd_lock_entry);
		}
	}
	if (!cmd_operands_ok(&cmd_lock_entry, argc - optind))
		return CMD_USAGE;
	if (o.release != NULL &&
	    (strspn(o.release, "0123456789") != strlen(o.release) ||
	     *o.release == '\0')) {
		log_error("lock: --release wants a Fedora release number, not "
			  "'%s'",
			  o.release);
		return CMD_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		if (recipe_find_base(set, argv[i]) == NULL) {
			log_error("no base named '%s' in the recipes", argv[i]);
			return CMD_ERROR;
		}
	}

	r = fetch_cache_dir(o.cache, &cache);
	if (r < 0) {
		log_error("cannot find a cache directory: set XDG_CACHE_HOME "
			  "or HOME, or pass --cache DIR");
		return CMD_ERROR;
	}
	lock_path = path_join(globals.dir, LOCK_FILE);
	lk = cmd_lock_load(lock_path);
	if (lk == NULL)
		return CMD_ERROR;

	ctx = fetch_ctx_new(cache, o.flags);
	fetch_ctx_set_dir(ctx, globals.dir);
	/* No BASE: the bases the VMs use. */
	n = cmd_bases_used(set, (size_t)(argc - optind), &want);
	if (optind < argc) {
		n = 0;
		for (int i = optind; i < argc; i++)
			want[n++] = recipe_find_base(set, argv[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (want[i]->url == NULL)
			log_info("base '%s' is the local file '%s': not pinned "
				 "(its path, size and time go into "
				 "out/VM.inputs)",
				 want[i]->name, want[i]->path);
		else if (lock_one(lk, ctx, want[i], &o) < 0)
			st = CMD_ERROR;
	}
	if (optind == argc) {
		/* Forget bases the recipes no longer define. */
		for (size_t i = lock_nbases(lk); i-- > 0;) {
			const struct base *b =
				recipe_find_base(set, lock_base_name(lk, i));

			if (b == NULL || b->url == NULL)
				lock_remove_base(lk, lock_base_name(lk, i));
		}
		/* --update refreshes on purpose: the next online build pins
		 * the newest packages afresh. */
		if (o.update && lock_remove_section(lk, "packages"))
			log_info("package pins dropped; the next online build "
				 "pins them again");
		if (lock_containers(lk, set, cache, o.update) < 0)
			st = CMD_ERROR;
	}
	/* A partial failure still records what did resolve. */
	if (lock_changed(lk)) {
		r = lock_save(lk, lock_path);
		if (r < 0) {
			log_error("cannot write '%s': %s", lock_path,
				  strerror(-r));
			st = CMD_ERROR;
		}
	} else if (st == CMD_OK) {
		log_verbose("'%s' is up to date", lock_path);
	}
	fetch_ctx_free(ctx);
	lock_free(lk);
	free(want);
	return st;
}

const struct cmd_entry cmd_lock_entry = {
	.name = "lock",
	.usage = "[--update] [--release N [--key FINGERPRINT]] [--cache DIR] "
		 "[--allow-http] [--releases-url URL] [BASE...]",
	.summary = "write or refresh sbx.lock",
	.min_args = 0,
	.max_args = -1,
	.options = lock_options,
	.operands = CMD_OPERAND_BASE,
	.writes = "sbx.lock",
	.example = "sbx-build lock\nsbx-build lock --release 44 fedora-44",
	.flags = CMD_NEEDS_RECIPES,
	.exec = exec_lock,
};
