/* inspquick: the quick inspection's judgement (inspquick.h) on the facts
 * a drive gives: /etc/os-release, /etc/fstab and blkid's view of each
 * partition.  Whatever it does not recognise must give up (-ENOTSUP with
 * a reason), so that libguestfs's full inspection takes over. */
#include "testutil.h"

#include "inspquick.h"

static void
test_part_of(void **state)
{
	(void)state;
	assert_true(inspquick_part_of("/dev/sda1", "/dev/sda"));
	assert_true(inspquick_part_of("/dev/sda12", "/dev/sda"));
	assert_false(inspquick_part_of("/dev/sda", "/dev/sda"));
	assert_false(inspquick_part_of("/dev/sdab1", "/dev/sda"));
	assert_false(inspquick_part_of("/dev/sdb1", "/dev/sda"));
	assert_true(inspquick_root_type("ext4"));
	assert_true(inspquick_root_type("btrfs"));
	assert_true(inspquick_root_type("xfs"));
	assert_false(inspquick_root_type("vfat"));
	assert_false(inspquick_root_type(""));
	assert_true(inspquick_known_type(""));
	assert_true(inspquick_known_type("vfat"));
	assert_true(inspquick_known_type("swap"));
	assert_true(inspquick_known_type("ext4"));
	assert_false(inspquick_known_type("LVM2_member"));
	assert_false(inspquick_known_type("crypto_LUKS"));
	assert_false(inspquick_known_type("linux_raid_member"));
}

static const char fedora_os[] =
	"NAME=\"Fedora Linux\"\n"
	"VERSION=\"44 (Cloud Edition)\"\n"
	"ID=fedora\n"
	"VERSION_ID=44\n"
	"PRETTY_NAME=\"Fedora Linux 44 (Cloud Edition)\"\n";
static const char debian_os[] =
	"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
	"NAME=\"Debian GNU/Linux\"\n"
	"VERSION_ID=\"12\"\n"
	"ID=debian\n";

static void
test_os_fedora(void **state)
{
	struct image_os os;
	CLEANUP_FREE char *why = NULL;

	(void)state;
	assert_int_equal(inspquick_os(fedora_os, NULL, &os, &why), 0);
	assert_null(why);
	assert_string_equal(os.type, "linux");
	assert_string_equal(os.distro, "fedora");
	assert_string_equal(os.product, "Fedora Linux 44 (Cloud Edition)");
	assert_string_equal(os.pkg_mgr, "dnf");
	assert_int_equal(os.major, 44);
	assert_null(os.root);
	/* Fedora has no version file: one given is ignored. */
	image_os_release(&os);
	assert_int_equal(inspquick_os(fedora_os, "7.1\n", &os, &why), 0);
	assert_string_equal(os.product, "Fedora Linux 44 (Cloud Edition)");
	assert_int_equal(os.major, 44);
	image_os_release(&os);
}

/* As libguestfs: Debian's product is its /etc/debian_version. */
static void
test_os_debian(void **state)
{
	struct image_os os;
	CLEANUP_FREE char *why = NULL;

	(void)state;
	assert_int_equal(inspquick_os(debian_os, "12.15\n", &os, &why), 0);
	assert_string_equal(os.distro, "debian");
	assert_string_equal(os.product, "12.15");
	assert_string_equal(os.pkg_mgr, "apt");
	assert_int_equal(os.major, 12);
	image_os_release(&os);
	/* testing: no number in the version file, the major from os-release */
	assert_int_equal(inspquick_os(debian_os, "trixie/sid\n", &os, &why), 0);
	assert_string_equal(os.product, "trixie/sid");
	assert_int_equal(os.major, 12);
	image_os_release(&os);
	/* no version file */
	assert_int_equal(inspquick_os(debian_os, NULL, &os, &why), 0);
	assert_string_equal(os.product, "Debian GNU/Linux 12 (bookworm)");
	image_os_release(&os);
}

static void
test_os_quoting(void **state)
{
	struct image_os os;
	CLEANUP_FREE char *why = NULL;
	static const char text[] =
		"# a comment\n"
		"  ID='fedora'\n"
		"VERSION_ID=43\n"
		"VERSION_ID=\"44.1\"\n"
		"PRETTY_NAME=\"Fedora \\\"Cloud\\\" $x \\n\"\n";

	(void)state;
	assert_int_equal(inspquick_os(text, NULL, &os, &why), 0);
	assert_string_equal(os.distro, "fedora");
	/* A shell keeps a backslash before n in double quotes. */
	assert_string_equal(os.product, "Fedora \"Cloud\" $x \\n");
	assert_int_equal(os.major, 44); /* the last assignment wins */
	image_os_release(&os);
}

static void
test_os_gives_up(void **state)
{
	struct image_os os;
	char *why = NULL;

	(void)state;
	assert_int_equal(inspquick_os("ID=ubuntu\nVERSION_ID=24.04\n"
				      "PRETTY_NAME=Ubuntu\n",
				      NULL, &os, &why),
			 -ENOTSUP);
	assert_non_null(strstr(why, "'ubuntu'"));
	free(why);
	why = NULL;
	assert_int_equal(inspquick_os("PRETTY_NAME=x\n", NULL, &os, &why),
			 -ENOTSUP);
	assert_non_null(strstr(why, "'(none)'"));
	free(why);
	why = NULL;
	/* No version: libguestfs would look further. */
	assert_int_equal(inspquick_os("ID=fedora\nPRETTY_NAME=Rawhide\n", NULL,
				      &os, &why),
			 -ENOTSUP);
	assert_non_null(strstr(why, "VERSION_ID"));
	free(why);
	why = NULL;
	assert_int_equal(inspquick_os("ID=fedora\nVERSION_ID=rawhide\n"
				      "PRETTY_NAME=Rawhide\n",
				      NULL, &os, &why),
			 -ENOTSUP);
	free(why);
}

/* Fedora Cloud 44's layout: BIOS boot, EFI, and a btrfs with root, home,
 * var and boot subvolumes. */
static char *const fed_subvols[] = {
	"root", "home", "var", "boot", "root/var/lib/machines", NULL};
static const struct inspquick_fs fed[] = {
	{.dev = "/dev/sdb1",
	 .type = "",
	 .uuid = "",
	 .label = "",
	 .partuuid = "11111111-0000-0000-0000-000000000001",
	 .scheme = "gpt",
	 .number = 1,
	 .start = 2048,
	 .size = 2048},
	{.dev = "/dev/sdb2",
	 .type = "vfat",
	 .uuid = "7B77-95E7",
	 .label = "EFI",
	 .partuuid = "11111111-0000-0000-0000-000000000002",
	 .scheme = "gpt",
	 .number = 2,
	 .start = 4096,
	 .size = 204800},
	{.dev = "/dev/sdb3",
	 .type = "btrfs",
	 .uuid = "f8bec63d-62ed-4aa4-893b-c2180e1011b7",
	 .label = "fedora",
	 .partuuid = "11111111-0000-0000-0000-000000000003",
	 .subvols = fed_subvols,
	 .scheme = "gpt",
	 .number = 3,
	 .start = 208896,
	 .size = 9000000},
};
#define FED_ROOT "btrfsvol:/dev/sdb3/root"

static void
free_mps(char **mps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(mps[i]);
	free(mps);
}

/* fstab resolved among fs: the pairs as "mp=fs;mp=fs", or "!" + why. */
static char *
mounts(const char *fstab, const char *root, const struct inspquick_fs *fs,
       size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char **mps = NULL, *why = NULL;
	size_t nmps = 0;
	int r = inspquick_mounts(fstab, root, fs, n, &mps, &nmps, &why);

	if (r < 0) {
		assert_int_equal(r, -ENOTSUP);
		assert_non_null(why);
		sb_printf(&sb, "!%s", why);
		free(why);
		return sb_detach(&sb, NULL);
	}
	assert_null(why);
	assert_null(mps[nmps]);
	for (size_t i = 0; i < nmps; i += 2)
		sb_printf(&sb, "%s%s=%s", i ? ";" : "", mps[i], mps[i + 1]);
	free_mps(mps, nmps);
	return sb_detach(&sb, NULL);
}

static void
test_mounts_fedora(void **state)
{
	CLEANUP_FREE char *m = mounts(
		"# /etc/fstab\n"
		"UUID=f8bec63d-62ed-4aa4-893b-c2180e1011b7 / btrfs "
		"subvol=root,compress=zstd:1 0 0\n"
		"UUID=f8bec63d-62ed-4aa4-893b-c2180e1011b7 /boot btrfs "
		"subvol=/boot,compress=zstd:1 0 0\n"
		"UUID=7B77-95E7\t/boot/efi  vfat umask=0077,shortname=winnt 0 "
		"2\n"
		"LABEL=fedora /home btrfs subvol=home,compress=zstd:1 0 0\n"
		"/dev/disk/by-label/fedora /var btrfs subvol=var 0 0\n"
		"tmpfs /tmp tmpfs defaults 0 0\n"
		"none /proc proc defaults 0 0\n"
		"UUID=f8bec63d-62ed-4aa4-893b-c2180e1011b7 none swap sw 0 0\n"
		"\n   # indented comment\n",
		FED_ROOT, fed, 3);

	(void)state;
	assert_string_equal(m, "/=" FED_ROOT ";/boot=btrfsvol:/dev/sdb3/boot;"
			       "/boot/efi=/dev/sdb2;"
			       "/home=btrfsvol:/dev/sdb3/home;"
			       "/var=btrfsvol:/dev/sdb3/var");
}

/* Debian genericcloud names its filesystems by PARTUUID. */
static void
test_mounts_partuuid(void **state)
{
	static const struct inspquick_fs deb[] = {
		{.dev = "/dev/sda1",
		 .type = "ext4",
		 .uuid = "u1",
		 .label = "",
		 .partuuid = "aaaa-1",
		 .scheme = "gpt",
		 .number = 1},
		{.dev = "/dev/sda15",
		 .type = "vfat",
		 .uuid = "u15",
		 .label = "",
		 .partuuid = "aaaa-15",
		 .scheme = "gpt",
		 .number = 15},
	};
	CLEANUP_FREE char *m = mounts(
		"PARTUUID=aaaa-1 / ext4 rw,discard,errors=remount-ro 0 1\n"
		"/dev/disk/by-partuuid/aaaa-15 /boot/efi vfat defaults 0 0\n",
		"/dev/sda1", deb, 2);
	/* As blkid has it, case too (findfs would not find AAAA-1). */
	CLEANUP_FREE char *upper = mounts(
		"PARTUUID=AAAA-1 / ext4 rw,discard,errors=remount-ro 0 1\n",
		"/dev/sda1", deb, 2);
	/* No "/" line: libguestfs would not report one. */
	CLEANUP_FREE char *noroot =
		mounts("PARTUUID=aaaa-15 /boot/efi vfat defaults 0 0\n",
		       "/dev/sda1", deb, 2);

	(void)state;
	assert_string_equal(m, "/=/dev/sda1;/boot/efi=/dev/sda15");
	assert_string_equal(upper, "!/etc/fstab: 'PARTUUID=AAAA-1' names no "
				   "filesystem on the drive");
	assert_string_equal(noroot, "!/etc/fstab: no '/'");
}

static void
test_mounts_gives_up(void **state)
{
	static const struct {
		const char *fstab, *why;
	} cases[] = {
		{"UUID=0000 / btrfs subvol=root 0 0\n", "names no filesystem"},
		{"PARTUUID=11111111-0000-0000-0000-000000000009 / btrfs "
		 "subvol=root 0 0\n",
		 "names no filesystem"},
		{"/dev/sdb3 / btrfs subvol=root 0 0\n",
		 "is not UUID=, LABEL= or PARTUUID="},
		{"/dev/mapper/vg-root / ext4 defaults 0 0\n",
		 "is not UUID=, LABEL= or PARTUUID="},
		{"LABEL=\"fedora\" / btrfs subvol=root 0 0\n", "is not plain"},
		{"LABEL=fedora / btrfs compress=zstd:1 0 0\n",
		 "without one subvol="},
		{"LABEL=fedora / btrfs subvolid=256 0 0\n",
		 "without one subvol="},
		{"LABEL=fedora / btrfs subvol=root,subvolid=256 0 0\n",
		 "without one subvol="},
		{"LABEL=fedora / btrfs subvol=nosuch 0 0\n",
		 "no subvolume 'nosuch'"},
		{"LABEL=fedora / btrfs subvol=home 0 0\n",
		 "not the root found"},
		{"LABEL=fedora / btrfs subvol=root 0 0\n"
		 "LABEL=fedora /home btrfs subvol=home 0 0\n"
		 "LABEL=fedora /home btrfs subvol=var 0 0\n",
		 "mounted twice"},
		{"LABEL=EFI /boot/efi vfat noauto,umask=077 0 2\n", "noauto"},
		{"LABEL=fedora /srv\\040x btrfs subvol=var 0 0\n", "escape"},
		{"/srv/data /data none bind 0 0\n",
		 "is not UUID=, LABEL= or PARTUUID="},
		{"UUID=F8BEC63D-62ED-4AA4-893B-C2180E1011B7 / btrfs "
		 "subvol=root 0 0\n",
		 "names no filesystem"},
		{"LABEL=fedora / btrfs subvol=root,subvol=home 0 0\n",
		 "without one subvol="},
		/* Mount points libguestfs would write otherwise, or drop. */
		{"LABEL=fedora // btrfs subvol=root 0 0\n", "is not plain"},
		{"LABEL=fedora / btrfs subvol=root 0 0\n"
		 "LABEL=fedora /home/ btrfs subvol=home 0 0\n",
		 "'/home/' is not plain"},
		{"LABEL=fedora /./var btrfs subvol=var 0 0\n", "is not plain"},
		{"LABEL=fedora /a/../var btrfs subvol=var 0 0\n",
		 "is not plain"},
		{"LABEL=EFI /media/efi vfat defaults 0 0\n",
		 "libguestfs leaves out"},
		{"LABEL=EFI /sys/firmware/efi vfat defaults 0 0\n",
		 "libguestfs leaves out"},
		/* Lines libguestfs's fstab parser refuses (and with them the
		 * whole file). */
		{"LABEL=fedora /\n", "not 3 to 6 fields"},
		{"LABEL=fedora / btrfs subvol=root 0 0 extra\n",
		 "not 3 to 6 fields"},
		{"LABEL=fedora / btrfs subvol=root x 0\n", "not 3 to 6 fields"},
		{"LABEL=EFI /boot/efi vfat defaults 0 2\n", "no '/'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CLEANUP_FREE char *m = mounts(cases[i].fstab, FED_ROOT, fed, 3);

		if (m[0] != '!' || strstr(m, cases[i].why) == NULL)
			fail_msg("case %zu: '%s' gave '%s', want '!...%s'", i,
				 cases[i].fstab, m, cases[i].why);
	}
}

/* Two filesystems with one label (two copies of a base on one drive):
 * ambiguous, never a guess. */
static void
test_mounts_ambiguous(void **state)
{
	struct inspquick_fs two[2] = {fed[2], fed[2]};
	CLEANUP_FREE char *m = NULL;

	(void)state;
	two[1].dev = "/dev/sdb4";
	two[1].uuid = "other";
	m = mounts("LABEL=fedora / btrfs subvol=root 0 0\n", FED_ROOT, two, 2);
	assert_non_null(strstr(m, "!/etc/fstab: 'LABEL=fedora' names more "
				  "than one filesystem"));
}

static void
test_partition(void **state)
{
	struct image_desc d = {0};
	char *why = NULL;
	struct inspquick_fs after[4];
	static const struct inspquick_fs whole[] = {
		{.dev = "/dev/sdc", .type = "ext4", .uuid = "u", .label = ""},
	};

	(void)state;
	assert_int_equal(inspquick_partition(fed, 3, "/dev/sdb3", &d, &why), 0);
	assert_string_equal(d.ptable, "gpt");
	assert_int_equal(d.partnum, 3);
	assert_true(d.last);
	/* A partition after the root's: not the last. */
	memcpy(after, fed, sizeof(fed));
	after[3] = fed[0];
	after[3].dev = "/dev/sdb4";
	after[3].number = 4;
	after[3].start = 9208896;
	after[3].size = 100;
	assert_int_equal(inspquick_partition(after, 4, "/dev/sdb3", &d, &why),
			 0);
	assert_false(d.last);
	/* A filesystem on the whole disk. */
	assert_int_equal(inspquick_partition(whole, 1, "/dev/sdc", &d, &why),
			 0);
	assert_string_equal(d.ptable, "none");
	assert_int_equal(d.partnum, 0);
	assert_false(d.last);
	/* An MBR logical partition: its extended one would need growing. */
	after[2].scheme = "dos";
	after[2].number = 5;
	assert_int_equal(inspquick_partition(after, 3, "/dev/sdb3", &d, &why),
			 -ENOTSUP);
	assert_non_null(strstr(why, "partition 5 of a 'dos' table"));
	free(why);
	why = NULL;
	/* A partition blkid did not place. */
	after[2] = fed[2];
	after[0].scheme = NULL;
	assert_int_equal(inspquick_partition(after, 3, "/dev/sdb3", &d, &why),
			 -ENOTSUP);
	assert_non_null(strstr(why, "'/dev/sdb1'"));
	free(why);
	why = NULL;
	after[2].scheme = "dos";
	after[0] = fed[0];
	after[0].scheme = "dos";
	after[1].scheme = "dos";
	assert_int_equal(inspquick_partition(after, 3, "/dev/sdb3", &d, &why),
			 0);
	assert_string_equal(d.ptable, "msdos");
	image_desc_release(&d);
}

/* Parents first, whatever order fstab had: /boot before /boot/efi. */
static void
test_sort_mounts(void **state)
{
	char *mps[] = {"/boot/efi", "a", "/var",  "b", "/", "c",
		       "/boot",	    "d", "/home", "e", NULL};

	(void)state;
	image_desc_sort_mounts(mps, 10);
	assert_string_equal(mps[0], "/");
	assert_string_equal(mps[1], "c");
	assert_string_equal(mps[2], "/var");
	assert_string_equal(mps[4], "/boot");
	assert_string_equal(mps[5], "d");
	assert_string_equal(mps[6], "/home");
	assert_string_equal(mps[8], "/boot/efi");
	assert_string_equal(mps[9], "a");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_part_of),
		cmocka_unit_test(test_os_fedora),
		cmocka_unit_test(test_os_debian),
		cmocka_unit_test(test_os_quoting),
		cmocka_unit_test(test_os_gives_up),
		cmocka_unit_test(test_mounts_fedora),
		cmocka_unit_test(test_mounts_partuuid),
		cmocka_unit_test(test_mounts_gives_up),
		cmocka_unit_test(test_mounts_ambiguous),
		cmocka_unit_test(test_partition),
		cmocka_unit_test(test_sort_mounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
