/* sbx.lock: reading, writing, keeping other sections, and choosing between
 * the lock's pin and the recipe. */
#include <errno.h>
#include <stdbool.h>

#include "testutil.h"

#include "progress.h"
#include "digest.h"
#include "fetch.h"
#include "lock.h"
#include "recipe.h"
#include "ytree.h"

#define HEX1 "28680fe5b371a5a82ebf43a31926e086a168e59949d03969c5093e7071f90b7f"
#define FPR  "36F612DCF27F7D1A48A835E4DBFCF71C6D9F90A6"
#define URL1                                                               \
	"https://download.fedoraproject.org/pub/fedora/linux/releases/44/" \
	"Cloud/x86_64/images/Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2"

struct t {
	char *dir, *path;
};

static int
setup(void **state)
{
	struct t *t = xcalloc(1, sizeof(*t));

	t->dir = test_mkdtemp();
	t->path = path_join(t->dir, LOCK_FILE);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	free(t->path);
	test_rmdir(t->dir);
	free(t);
	return 0;
}

static struct lock *
load_ok(const char *path)
{
	struct diag_list *d = diag_list_new();
	struct lock *lk = NULL;
	int r = lock_load(path, d, &lk);

	for (size_t i = 0; i < diag_count(d); i++)
		fprintf(stderr, "%s\n", diag_message(d, i));
	assert_int_equal(r, 0);
	assert_int_equal(diag_count(d), 0);
	diag_list_free(d);
	return lk;
}

static void
pin_fedora(struct fetch_pin *p)
{
	memset(p, 0, sizeof(*p));
	p->url = xstrdup(URL1);
	p->file = xstrdup("Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2");
	p->size = 553648128;
	p->checksum = xstrdup("sha256:" HEX1);
	p->key_fingerprint = xstrdup(FPR);
}

static void
test_missing_is_empty(void **state)
{
	struct t *t = *state;
	struct lock *lk = load_ok(t->path);
	struct fetch_pin p;

	assert_int_equal(lock_nbases(lk), 0);
	assert_int_equal(lock_get_base(lk, "fedora-44", &p), -ENOENT);
	assert_false(lock_changed(lk));
	lock_free(lk);
}

static void
test_round_trip(void **state)
{
	struct t *t = *state;
	struct lock *lk = lock_new();
	struct fetch_pin a, b = {0}, got;
	CLEANUP_FREE char *text = NULL;

	pin_fedora(&a);
	b.url = xstrdup("https://cloud.debian.org/images/cloud/trixie/latest/"
			"debian-13-genericcloud-amd64.qcow2");
	b.file = xstrdup("debian-13-genericcloud-amd64.qcow2");
	b.checksum = xasprintf("sha512:%0128d", 7);
	lock_set_base(lk, "fedora-44", &a, NULL);
	lock_set_base(lk, "debian-13", &b, NULL);
	assert_true(lock_changed(lk));
	assert_int_equal(lock_save(lk, t->path), 0);
	assert_false(lock_changed(lk));
	lock_free(lk);

	text = test_read(t->path);
	assert_true(str_starts_with(text, "# sbx.lock"));
	assert_non_null(strstr(text, "\nversion: 1\nbases:\n  fedora-44:\n"));
	assert_non_null(strstr(text, "    key-fingerprint: " FPR "\n"));
	assert_non_null(strstr(text, "    size: 553648128\n"));
	assert_null(strstr(text, "recipe-url"));

	lk = load_ok(t->path);
	assert_int_equal(lock_nbases(lk), 2);
	assert_string_equal(lock_base_name(lk, 0), "fedora-44");
	assert_string_equal(lock_base_name(lk, 1), "debian-13");
	assert_int_equal(lock_get_base(lk, "fedora-44", &got), 0);
	assert_string_equal(got.url, a.url);
	assert_string_equal(got.file, a.file);
	assert_int_equal(got.size, a.size);
	assert_string_equal(got.checksum, a.checksum);
	assert_string_equal(got.key_fingerprint, FPR);
	fetch_pin_clear(&got);
	assert_int_equal(lock_get_base(lk, "debian-13", &got), 0);
	assert_int_equal(got.size, 0);
	assert_null(got.key_fingerprint);
	assert_string_equal(got.checksum, b.checksum);
	fetch_pin_clear(&got);

	/* Replacing keeps the order; removing drops the entry. */
	a.size = 1;
	lock_set_base(lk, "fedora-44", &a, NULL);
	assert_string_equal(lock_base_name(lk, 0), "fedora-44");
	assert_true(lock_remove_base(lk, "debian-13"));
	assert_false(lock_remove_base(lk, "debian-13"));
	assert_int_equal(lock_nbases(lk), 1);
	assert_int_equal(lock_save(lk, t->path), 0);
	lock_free(lk);
	lk = load_ok(t->path);
	assert_int_equal(lock_get_base(lk, "fedora-44", &got), 0);
	assert_int_equal(got.size, 1);
	fetch_pin_clear(&got);
	assert_int_equal(lock_get_base(lk, "debian-13", &got), -ENOENT);
	lock_free(lk);
	fetch_pin_clear(&a);
	fetch_pin_clear(&b);
}

static void
test_other_sections_kept(void **state)
{
	struct t *t = *state;
	struct lock *lk;
	struct fetch_pin a;
	struct ynode *pk;
	CLEANUP_FREE char *text = NULL;

	test_write(t->path, "version: 1\n"
			    "packages:\n"
			    "  dev:\n"
			    "  - curl-8.6.0-1.fc44\n"
			    "  - git-2.44.0-1.fc44\n"
			    "bases: {}\n"
			    "future:\n"
			    "  pihole: docker.io/pihole/pihole@sha256:abc\n");
	lk = load_ok(t->path);
	pin_fedora(&a);
	lock_set_base(lk, "fedora-44", &a, NULL);
	assert_int_equal(lock_save(lk, t->path), 0);
	lock_free(lk);

	text = test_read(t->path);
	assert_non_null(strstr(text,
			       "packages:\n  dev:\n  - curl-8.6.0-1.fc44\n"
			       "  - git-2.44.0-1.fc44\n"));
	assert_non_null(strstr(text, "future:\n  pihole: "));
	lk = load_ok(t->path);
	pk = lock_section(lk, "packages", false);
	assert_non_null(pk);
	assert_int_equal(ynode_map_len(pk), 1);
	assert_null(lock_section(lk, "nothing", false));
	assert_false(lock_changed(lk));
	assert_non_null(lock_section(lk, "new", true));
	assert_true(lock_changed(lk));
	/* lock --update drops the package pins, and only them. */
	assert_true(lock_remove_section(lk, "packages"));
	assert_false(lock_remove_section(lk, "packages"));
	assert_null(lock_section(lk, "packages", false));
	assert_non_null(lock_section(lk, "future", false));
	assert_int_equal(lock_nbases(lk), 1);
	lock_free(lk);
	fetch_pin_clear(&a);
}

/* Package pins: read back for the list they were made for, stale for
 * another list, replaced in place, malformed entries kept with their
 * position, versions quoted. */
static void
test_package_pins(void **state)
{
	struct t *t = *state;
	struct lock *lk = lock_new();
	struct lock_pkgs p = {0}, got = {0};
	CLEANUP_FREE char *text = NULL;

	lock_pkgs_add(&p, "/var/cache/apt/archives/hello_2.10-3_amd64.deb",
		      "hello", "2.10-3", "amd64", HEX1);
	assert_int_equal(lock_get_pkgs(lk, "dev", "hello", &got), -ENOENT);
	lock_set_pkgs(lk, "dev", "hello", &p);
	assert_true(lock_changed(lk));
	assert_int_equal(lock_save(lk, t->path), 0);
	lock_free(lk);
	text = test_read(t->path);
	assert_non_null(strstr(text, "for: \"hello\""));
	assert_non_null(strstr(text, "version: \"2.10-3\""));

	lk = load_ok(t->path);
	assert_int_equal(lock_get_pkgs(lk, "dev", "hello", &got), 0);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.v[0].name, "hello");
	assert_string_equal(got.v[0].version, "2.10-3");
	assert_string_equal(got.v[0].arch, "amd64");
	assert_string_equal(got.v[0].sha256, HEX1);
	assert_true(got.v[0].line > 0);
	lock_pkgs_release(&got);
	assert_int_equal(lock_get_pkgs(lk, "dev", "hello curl", &got), -ESTALE);
	assert_int_equal(got.n, 0);
	assert_int_equal(lock_get_pkgs(lk, "proxy", "hello", &got), -ENOENT);
	/* Another package list replaces the entry, not adds one. */
	lock_set_pkgs(lk, "dev", "hello curl", &p);
	assert_int_equal(ynode_map_len(lock_section(lk, "packages", false)), 1);
	assert_int_equal(lock_get_pkgs(lk, "dev", "hello", &got), -ESTALE);
	assert_int_equal(lock_get_pkgs(lk, "dev", "hello curl", &got), 0);
	lock_pkgs_release(&got);
	lock_free(lk);
	lock_pkgs_release(&p);

	/* A pin without its file is handed out as such, with its place. */
	test_write(t->path, "version: 1\n"
			    "packages:\n"
			    "  dev:\n"
			    "    for: \"hello\"\n"
			    "    files:\n"
			    "      - {name: hello}\n");
	lk = load_ok(t->path);
	assert_int_equal(lock_get_pkgs(lk, "dev", "hello", &got), 0);
	assert_int_equal(got.n, 1);
	assert_null(got.v[0].file);
	assert_null(got.v[0].sha256);
	assert_int_equal(got.v[0].line, 6);
	lock_pkgs_release(&got);
	lock_free(lk);
}

static bool
has_diag(const struct diag_list *d, const char *text)
{
	for (size_t i = 0; i < diag_count(d); i++)
		if (strstr(diag_message(d, i), text) != NULL)
			return true;
	return false;
}

static void
test_malformed(void **state)
{
	struct t *t = *state;
	struct diag_list *d = diag_list_new();
	struct lock *lk = NULL;

	test_write(t->path, "version: 2\n"
			    "bases:\n"
			    "  fedora-44:\n"
			    "    url: https://x/y.qcow2\n"
			    "    file: y.qcow2\n"
			    "    size: lots\n"
			    "    checksm: sha256:00\n");
	assert_int_equal(lock_load(t->path, d, &lk), -EINVAL);
	assert_null(lk);
	assert_int_equal(diag_count(d), 4);
	for (size_t i = 0; i < diag_count(d); i++)
		assert_true(str_starts_with(diag_message(d, i), t->path));
	assert_true(has_diag(d, ":1:10: unsupported lock version"));
	assert_true(has_diag(d, ":6:11: 'size' must be a number"));
	assert_true(has_diag(d, ":7:5: unknown key 'checksm' in base "
				"'fedora-44'"));
	assert_true(has_diag(d, ":3:3: base 'fedora-44' has no 'checksum'"));
	diag_list_free(d);

	d = diag_list_new();
	test_write(t->path, "bases: [1, 2]\n");
	assert_int_equal(lock_load(t->path, d, &lk), -EINVAL);
	assert_non_null(strstr(diag_message(d, 0), "'bases' must be a "
						   "mapping"));
	diag_list_free(d);

	d = diag_list_new();
	test_write(t->path, "bases: {a: 1\n");
	assert_int_equal(lock_load(t->path, d, &lk), -EINVAL);
	assert_true(diag_count(d) > 0);
	diag_list_free(d);
}

#define D1 "sha256:" HEX1
#define D2 "sha256:" "1111111111111111111111111111111111111111111111111111111111111111"

static void
test_containers(void **state)
{
	struct t *t = *state;
	struct lock *lk = lock_new();
	struct diag_list *d;
	const char *dg, *ctx;

	assert_int_equal(lock_get_container(lk, "docker.io/x/y:1", &dg, &ctx),
			 -ENOENT);
	lock_set_container(lk, "docker.io/x/y:1", D1, NULL);
	lock_set_container(lk, "localhost/b:latest", D1, D2);
	lock_set_container(lk, "docker.io/x/y:1", D2, NULL);
	assert_int_equal(lock_ncontainers(lk), 2);
	assert_int_equal(lock_save(lk, t->path), 0);
	lock_free(lk);

	lk = load_ok(t->path);
	assert_int_equal(lock_get_container(lk, "docker.io/x/y:1", &dg, &ctx),
			 0);
	assert_string_equal(dg, D2);
	assert_null(ctx);
	assert_int_equal(
		lock_get_container(lk, "localhost/b:latest", &dg, &ctx), 0);
	assert_string_equal(dg, D1);
	assert_string_equal(ctx, D2);
	assert_string_equal(lock_container_ref(lk, 1), "localhost/b:latest");
	assert_true(lock_remove_container(lk, "docker.io/x/y:1"));
	assert_false(lock_remove_container(lk, "docker.io/x/y:1"));
	assert_int_equal(lock_ncontainers(lk), 1);
	lock_free(lk);

	/* A malformed digest, an unknown key, a missing digest. */
	test_write(t->path, "containers:\n"
			    "  a:1:\n"
			    "    digest: sha256:00\n"
			    "  b:1:\n"
			    "    digets: " D1 "\n");
	d = diag_list_new();
	assert_int_equal(lock_load(t->path, d, &lk), -EINVAL);
	assert_true(has_diag(d, ":3:13: 'digest' must be sha256:"));
	assert_true(has_diag(d, ":5:5: unknown key 'digets' in container "
				"image 'b:1'"));
	assert_true(has_diag(d, ":4:3: container image 'b:1' has no "
				"'digest'"));
	diag_list_free(d);
}

static void
test_recipe_url(void **state)
{
	struct t *t = *state;
	struct lock *lk = lock_new();
	struct fetch_ctx *off = fetch_ctx_new(t->dir, FETCH_OFFLINE);
	struct fetch_pin a, got;
	struct base b = {0};

	/* 'lock --release 45' pinned another URL for the same recipe. */
	pin_fedora(&a);
	free(a.url);
	a.url = xstrdup("https://example.invalid/45/F45.qcow2");
	lock_set_base(lk, "fedora", &a, URL1);
	assert_string_equal(lock_base_recipe_url(lk, "fedora"), URL1);
	assert_int_equal(lock_save(lk, t->path), 0);
	lock_free(lk);
	lk = load_ok(t->path);
	assert_string_equal(lock_base_recipe_url(lk, "fedora"), URL1);

	/* The recipe still says URL1: the lock's pin wins, no network. */
	b.name = (char *)"fedora";
	b.distro = DISTRO_FEDORA;
	b.url = (char *)URL1;
	b.checksum_url = (char *)"https://example.invalid/CHECKSUM";
	b.checksum = (char *)"sha256:" HEX1;
	b.key_fingerprint = (char *)FPR;
	b.key_url = (char *)"https://example.invalid/fedora.gpg";
	assert_int_equal(lock_pin_base(lk, off, &b, &got), 0);
	assert_string_equal(got.url, a.url);
	fetch_pin_clear(&got);
	assert_false(lock_changed(lk));

	/* The recipe moved: offline, the recipe's own checksum is the pin
	 * and the lock is not rewritten from it. */
	b.url = (char *)"https://example.invalid/other/F44.qcow2";
	assert_int_equal(lock_pin_base(lk, off, &b, &got), 0);
	assert_string_equal(got.url, b.url);
	assert_string_equal(got.file, "F44.qcow2");
	assert_string_equal(got.checksum, b.checksum);
	fetch_pin_clear(&got);
	assert_false(lock_changed(lk));

	/* Without a recipe checksum, offline cannot resolve. */
	b.checksum = NULL;
	assert_int_equal(lock_pin_base(lk, off, &b, &got), -ENETUNREACH);

	fetch_pin_clear(&a);
	fetch_ctx_free(off);
	lock_free(lk);
}

static void
test_fetch_base_records_size(void **state)
{
	struct t *t = *state;
	CLEANUP_FREE char *img = path_join(t->dir, "img.qcow2");
	CLEANUP_FREE char *cache = path_join(t->dir, "cache");
	CLEANUP_FREE char *url = xasprintf("file://%s", img);
	CLEANUP_FREE char *path = NULL;
	char hex[DIGEST_HEX_MAX];
	struct fetch_ctx *ctx = fetch_ctx_new(cache, 0);
	struct lock *lk = lock_new();
	struct fetch_pin got;
	struct base b = {0};

	test_write(img, "not really a qcow2\n");
	digest_buffer_hex(DIGEST_SHA256, "not really a qcow2\n", 19, hex);
	b.name = (char *)"local";
	b.distro = DISTRO_DEBIAN;
	b.url = url;
	b.checksum = xasprintf("sha256:%s", hex);
	assert_int_equal(lock_fetch_base(lk, ctx, &b, &path), 0);
	assert_true(str_starts_with(path, cache));
	assert_int_equal(lock_get_base(lk, "local", &got), 0);
	assert_int_equal(got.size, 19);
	assert_string_equal(got.checksum, b.checksum);
	assert_string_equal(got.file, "img.qcow2");
	fetch_pin_clear(&got);
	free(b.checksum);
	lock_free(lk);
	fetch_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_is_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_package_pins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_sections_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recipe_url, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_containers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fetch_base_records_size,
						setup, teardown),
	};

	progress_enable(false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
