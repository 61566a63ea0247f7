/* The distribution table: every entry complete, names and enum in step,
 * an unknown distribution found nowhere (no silent default). */
#include "testutil.h"

#include "distro.h"

static size_t
argv_len(const char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

static void
test_entries_complete(void **state)
{
	size_t n = 0;

	(void)state;
	for (size_t i = 0; distro_names[i] != NULL; i++, n++) {
		const struct distro_info *d = distro_find(distro_names[i]);

		assert_non_null(d);
		/* recipe-schema.c stores the index of the name as enum distro. */
		assert_int_equal(d->id, i);
		assert_ptr_equal(distro_get(d->id), d);
		assert_string_equal(d->name, distro_names[i]);
		assert_non_null(d->pkg_mgr);
		assert_non_null(d->tool);
		assert_true(argv_len(d->install) >= 2);
		assert_string_equal(d->install[argv_len(d->install) - 1],
				    "install");
		assert_non_null(d->install_offline);
		assert_true(argv_len(d->clean) >= 2);
		assert_true(argv_len(d->cache_dirs) >= 1);
		assert_true(argv_len(d->pin_dirs) >= 1);
		/* Pinned package files are kept with the cache. */
		for (size_t k = 0; d->pin_dirs[k] != NULL; k++) {
			bool kept = false;

			for (size_t m = 0; d->cache_dirs[m] != NULL; m++)
				kept |= strcmp(d->cache_dirs[m],
					       d->pin_dirs[k]) == 0;
			assert_true(kept);
		}
		assert_non_null(d->pkg_proxy_conf);
		assert_int_equal(d->pkg_proxy_conf[0], '/');
		assert_int_equal(d->nftables_conf[0], '/');
	}
	assert_int_equal(n, 2);
}

static void
test_facts(void **state)
{
	const struct distro_info *f = distro_get(DISTRO_FEDORA);
	const struct distro_info *d = distro_get(DISTRO_DEBIAN);

	(void)state;
	assert_string_equal(f->pkg_mgr, "dnf");
	assert_string_equal(f->install_offline, "--cacheonly");
	assert_null(f->update);
	assert_false(f->no_start_policy);
	assert_string_equal(f->nftables_conf, "/etc/sysconfig/nftables.conf");
	assert_true(f->signed_checksums);
	assert_true(f->releases_json);
	assert_string_equal(d->pkg_mgr, "apt");
	assert_string_equal(d->install_offline, "--no-download");
	assert_string_equal(d->update[argv_len(d->update) - 1], "update");
	assert_true(d->no_start_policy);
	assert_string_equal(d->nftables_conf, "/etc/nftables.conf");
	assert_int_equal(d->pkg_proxy_syntax, DISTRO_PROXY_APT);
	assert_int_equal(f->pkg_proxy_syntax, DISTRO_PROXY_DNF);
	assert_false(d->signed_checksums);
	assert_false(d->releases_json);
}

static void
test_unknown(void **state)
{
	(void)state;
	assert_null(distro_get((enum distro)2));
	assert_null(distro_get((enum distro) - 1));
	assert_null(distro_find("ubuntu"));
	assert_null(distro_find(""));
	assert_null(distro_find("Fedora"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_complete),
		cmocka_unit_test(test_facts),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
