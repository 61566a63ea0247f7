/* fsname: filesystem names as libguestfs gives them, and the btrfs
 * subvolume names it leaves in the kernel's naming (fsname.h). */
#include "testutil.h"

#include "fsname.h"

static void
test_device(void **state)
{
	CLEANUP_FREE char *a = fsname_device("btrfsvol:/dev/sdb2/root");
	CLEANUP_FREE char *b = fsname_device("btrfsvol:/dev/sdb2/a/b");
	CLEANUP_FREE char *c = fsname_device("/dev/sda1");
	CLEANUP_FREE char *d = fsname_device("btrfsvol:/dev/sdc3");

	(void)state;
	assert_string_equal(a, "/dev/sdb2");
	assert_string_equal(b, "/dev/sdb2");
	assert_string_equal(c, "/dev/sda1");
	assert_string_equal(d, "/dev/sdc3");
}

static void
free_pairs(char **pairs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(pairs[i]);
	free(pairs);
}

/* What libguestfs 1.48 returned on this machine when the appliance kernel
 * named the second drive (a btrfs Fedora layout) sda: the plain device is
 * translated, its subvolumes are not. */
static char *const swapped[] = {
	"/dev/sda1",
	"ext4",
	"/dev/sdb1",
	"unknown",
	"/dev/sdb2",
	"btrfs",
	"btrfsvol:/dev/sda2/root",
	"btrfs",
	"btrfsvol:/dev/sda2/home",
	"btrfs",
	"btrfsvol:/dev/sda2/var",
	"btrfs",
	NULL,
};

static void
test_swapped(void **state)
{
	char **pairs;
	size_t n = fsname_btrfs_pairs(swapped, &pairs);
	CLEANUP_FREE char *root = NULL, *home = NULL, *plain = NULL;

	(void)state;
	assert_int_equal(n, 2);
	assert_string_equal(pairs[0], "/dev/sda2");
	assert_string_equal(pairs[1], "/dev/sdb2");
	root = fsname_fix(pairs, n, "btrfsvol:/dev/sda2/root");
	home = fsname_fix(pairs, n, "btrfsvol:/dev/sda2/home");
	plain = fsname_fix(pairs, n, "/dev/sda1");
	assert_string_equal(root, "btrfsvol:/dev/sdb2/root");
	assert_string_equal(home, "btrfsvol:/dev/sdb2/home");
	assert_string_equal(plain, "/dev/sda1");
	free_pairs(pairs, n);
}

/* The usual case, and two btrfs drives each listed before its own
 * subvolumes: nothing to rename, nothing mixed up. */
static void
test_in_order(void **state)
{
	static char *const fss[] = {
		"/dev/sda2", "btrfs",	  "btrfsvol:/dev/sda2/root",
		"btrfs",     "/dev/sdb1", "vfat",
		"/dev/sdb2", "btrfs",	  "btrfsvol:/dev/sdb2/root",
		"btrfs",     NULL,
	};
	char **pairs;
	size_t n = fsname_btrfs_pairs(fss, &pairs);
	CLEANUP_FREE char *root = NULL;

	(void)state;
	assert_int_equal(n, 0);
	assert_null(pairs);
	root = fsname_fix(pairs, n, "btrfsvol:/dev/sdb2/root");
	assert_string_equal(root, "btrfsvol:/dev/sdb2/root");
	assert_int_equal(fsname_btrfs_pairs(NULL, &pairs), 0);
}

/* Two btrfs drives, both swapped: each subvolume goes to the device
 * listed right before it, never to a neighbour's. */
static void
test_two_swapped(void **state)
{
	static char *const fss[] = {
		"/dev/sda2",
		"btrfs",
		"btrfsvol:/dev/sdb2/root",
		"btrfs",
		"/dev/sdb2",
		"btrfs",
		"btrfsvol:/dev/sda2/root",
		"btrfs",
		"btrfsvol:/dev/sda2/var",
		"btrfs",
		NULL,
	};
	char **pairs;
	size_t n = fsname_btrfs_pairs(fss, &pairs);
	CLEANUP_FREE char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(n, 4);
	a = fsname_fix(pairs, n, "btrfsvol:/dev/sdb2/root");
	b = fsname_fix(pairs, n, "btrfsvol:/dev/sda2/var");
	assert_string_equal(a, "btrfsvol:/dev/sda2/root");
	assert_string_equal(b, "btrfsvol:/dev/sdb2/var");
	free_pairs(pairs, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device),
		cmocka_unit_test(test_swapped),
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_two_swapped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
