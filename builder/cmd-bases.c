/* The bases 'fetch' and 'lock' act on; local bases (see cmd-bases.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cmd-bases.h"
#include "containers.h"
#include "digest.h"
#include "log.h"
#include "recipe.h"
#include "util.h"

size_t
cmd_bases_used(const struct recipe_set *set, size_t extra,
	       const struct base ***ret)
{
	const struct base **v = xcalloc(set->nbases + extra + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < set->nbases; i++)
		for (size_t j = 0; j < set->nvms; j++)
			if (set->vms[j].base_ref == &set->bases[i]) {
				v[n++] = &set->bases[i];
				break;
			}
	*ret = v;
	return n;
}

int
cmd_base_check_local(const char *dir, const struct base *b)
{
	CLEANUP_FREE char *p = path_join(dir, b->path);
	char hex[DIGEST_HEX_MAX];
	enum digest_alg alg;
	struct stat st;
	const char *want;
	int r;

	r = stat(p, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL : 0;
	if (r < 0) {
		log_error("base '%s' is the local file '%s': %s", b->name, p,
			  r == -EINVAL ? "not a regular file" : strerror(-r));
		return r;
	}
	if (b->checksum == NULL) {
		log_info("base '%s' is the local file '%s' (%lld bytes); local "
			 "bases are not downloaded or pinned",
			 b->name, p, (long long)st.st_size);
		return 0;
	}
	want = strchr(b->checksum, ':') + 1;
	alg = str_starts_with(b->checksum, "sha512:") ? DIGEST_SHA512
						      : DIGEST_SHA256;
	r = digest_file_hex(alg, p, hex);
	if (r < 0) {
		log_error("cannot read base '%s' ('%s'): %s", b->name, p,
			  strerror(-r));
		return r;
	}
	if (strcasecmp(hex, want) != 0) {
		log_error("base '%s': '%s' has %s:%s, not the recipe's '%s'",
			  b->name, p, digest_alg_name(alg), hex, b->checksum);
		return -EBADMSG;
	}
	log_info("base '%s' is the local file '%s', matching its checksum",
		 b->name, p);
	return 0;
}

int
cmd_container_images(struct lock *lk, const struct recipe_set *set,
		     const struct containers_opts *co, const char *verb,
		     bool list)
{
	struct strbuf errs = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0; i < set->nvms; i++) {
		struct ctimages got = {0};

		if (containers_vm(lk, set, &set->vms[i], co, &got, &errs) < 0)
			r = -EIO;
		for (size_t k = 0; list && k < got.n; k++)
			log_info("container image '%s': %s", got.v[k].ref,
				 got.v[k].digest);
		ctimages_release(&got);
	}
	if (r < 0)
		log_error("cannot %s container images:\n%.*s", verb,
			  (int)(errs.len > 0 ? errs.len - 1 : 0),
			  errs.buf ? errs.buf : "");
	sb_release(&errs);
	return r;
}
