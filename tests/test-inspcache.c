/* inspcache: inspection results kept between bakes, keyed by the base,
 * with device names relative to the drive (inspcache.h). */
#include "testutil.h"

#include "inspcache.h"

static char *mps_fedora[] = {
	"/",	"btrfsvol:/dev/sdb4/root", "/home", "btrfsvol:/dev/sdb4/home",
	"/var", "btrfsvol:/dev/sdb4/var",  NULL,
};

static struct image_desc
fedora(void)
{
	struct image_desc d = {
		.os = {.type = "linux",
		       .distro = "fedora",
		       .product = "Fedora Linux 44 (Cloud Edition)",
		       .pkg_mgr = "dnf",
		       .root = "btrfsvol:/dev/sdb4/root",
		       .root_fs = "btrfs",
		       .major = 44},
		.uuid = "0b7e5a9c-1111-2222-3333-444455556666",
		.ptable = "gpt",
		.partnum = 4,
		.last = true,
		.mps = mps_fedora,
		.nmps = 6,
	};
	return d;
}

/* Written on drive sdb, read back on sda: every name follows the drive. */
static void
test_round_trip(void **state)
{
	struct image_desc d = fedora(), back = {0};
	CLEANUP_FREE char *text = NULL;

	(void)state;
	assert_int_equal(inspcache_format(&d, "/dev/sdb", &text), 0);
	assert_null(strstr(text, "/dev/"));
	assert_non_null(strstr(text, "root btrfsvol:@4/root\n"));
	assert_int_equal(inspcache_parse(text, "/dev/sda", &back), 0);
	assert_string_equal(back.os.product, d.os.product);
	assert_string_equal(back.os.pkg_mgr, "dnf");
	assert_string_equal(back.os.root, "btrfsvol:/dev/sda4/root");
	assert_string_equal(back.os.root_fs, "btrfs");
	assert_string_equal(back.uuid, d.uuid);
	assert_int_equal(back.os.major, 44);
	assert_string_equal(back.ptable, "gpt");
	assert_int_equal(back.partnum, 4);
	assert_true(back.last);
	assert_int_equal(back.nmps, 6);
	assert_string_equal(back.mps[2], "/home");
	assert_string_equal(back.mps[5], "btrfsvol:/dev/sda4/var");
	assert_null(back.mps[6]);
	image_desc_release(&back);
}

/* A name on another drive (or a longer device name) is not written. */
static void
test_other_drive(void **state)
{
	struct image_desc d = fedora();
	char *text = NULL;

	(void)state;
	assert_int_equal(inspcache_format(&d, "/dev/sda", &text), -EINVAL);
	d.os.root = "/dev/sdbb1";
	assert_int_equal(inspcache_format(&d, "/dev/sdb", &text), -EINVAL);
	assert_null(text);
}

static void
bad(const char *text)
{
	struct image_desc d = {0};

	assert_int_equal(inspcache_parse(text, "/dev/sda", &d), -EINVAL);
}

#define HEAD                                                          \
	"sbx-build inspection 1\ntype linux\ndistro debian\nproduct " \
	"Debian\npkg-mgr apt\nmajor 12\nroot-fs ext4\nuuid u\n"       \
	"ptable gpt\npartnum 1\nlast 1\n"

/* The file is outside input: anything it would not have written. */
static void
test_parse_refuses(void **state)
{
	struct image_desc d = {0};

	(void)state;
	assert_int_equal(
		inspcache_parse(HEAD "root @1\nmount / @1\n", "/dev/sdc", &d),
		0);
	assert_string_equal(d.mps[1], "/dev/sdc1");
	image_desc_release(&d);
	bad("sbx-build inspection 2\n");
	bad(HEAD "mount / @1\n");		  /* no root */
	bad(HEAD "root @1\n");			  /* no mount */
	bad(HEAD "root @1\nmount /var @1\n");	  /* "/" not first */
	bad(HEAD "root /dev/sda1\nmount / @1\n"); /* absolute */
	bad(HEAD "root @1\nmount / /dev/sdb1\n"); /* another drive */
	bad(HEAD "root @1x\nmount / @1\n");	  /* not a partition */
	bad(HEAD "root @1\nmount / @1\nmount /x/../y @2\n");
	bad(HEAD "root @1\nmount / @1\nmount x @2\n"); /* relative */
	bad(HEAD "root btrfsvol:@4/../../x\nmount / @1\n");
	bad(HEAD "root @1\nroot @1\nmount / @1\n"); /* twice */
	bad(HEAD "root @1\nmount / @1\nextra 1\n"); /* unknown key */
	bad(HEAD "root @1\nmount / @1\nmajor x\n");
	bad(HEAD "root @1\nmount / @1\nproduct a\tb\n");
	bad(HEAD "root @1\nmount / @1\nptable sun\n");
	bad(HEAD "root @1\nmount / @1\nlast 2\n");
	bad(HEAD "root @1\nmount / @1\npartnum -1\n");
	bad("");
}

/* The key follows the base's identity and the libguestfs version. */
static void
test_key(void **state)
{
	char a[DIGEST_HEX_MAX], b[DIGEST_HEX_MAX], c[DIGEST_HEX_MAX],
		d[DIGEST_HEX_MAX];

	(void)state;
	inspcache_key("1.48.6", "sha256:aa", a);
	inspcache_key("1.48.6", "sha256:aa", b);
	inspcache_key("1.48.6", "sha256:ab", c);
	inspcache_key("1.50.1", "sha256:aa", d);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_other_drive),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
