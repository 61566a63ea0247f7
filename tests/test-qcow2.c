/* qcow2.c: the backing file name read from a qcow2 header, checked
 * against headers written here and, when qemu-img is there, a real one. */
#include "testutil.h"

#include "qcow2.h"

/* A version 3 header naming backing at offset 0x200. */
static void
write_header(const char *path, const char *magic, const char *backing)
{
	unsigned char h[0x200 + 256] = {0};
	size_t len = strlen(backing);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	memcpy(h, magic, 4);
	h[7] = 3;
	h[14] = 0x02; /* offset 0x200, big-endian u64 */
	h[19] = (unsigned char)len;
	memcpy(h + 0x200, backing, len);
	assert_int_equal(fwrite(h, 1, 0x200 + len, f), 0x200 + len);
	assert_int_equal(fclose(f), 0);
}

static void
test_header(void **state)
{
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *img = path_join(dir, "vm.qcow2");

	(void)state;
	write_header(img, "QFI\xfb", "/cache/base.qcow2");
	assert_true(qcow2_backed_by(img, "/cache/base.qcow2"));
	assert_false(qcow2_backed_by(img, "/cache/base.qcow"));
	assert_false(qcow2_backed_by(img, "/cache/base.qcow2x"));
	assert_false(qcow2_backed_by(img, "/moved/base.qcow2"));
	assert_false(qcow2_backed_by(img, ""));
	write_header(img, "QFI\xfa", "/cache/base.qcow2");
	assert_false(qcow2_backed_by(img, "/cache/base.qcow2"));
	assert_false(qcow2_backed_by("/nonexistent/x.qcow2", "/a"));
	test_rmdir(dir);
}

static void
test_qemu_img(void **state)
{
	char *dir;
	CLEANUP_FREE char *base = NULL, *img = NULL;
	char cmd[1024];

	(void)state;
	test_need("qemu-img");
	dir = test_mkdtemp();
	base = path_join(dir, "base.qcow2");
	img = path_join(dir, "vm.qcow2");
	snprintf(cmd, sizeof(cmd),
		 "qemu-img create -q -f qcow2 %s 1M && qemu-img create -q -f "
		 "qcow2 -F qcow2 -b %s %s 2M",
		 base, base, img);
	assert_int_equal(system(cmd), 0);
	assert_true(qcow2_backed_by(img, base));
	assert_false(qcow2_backed_by(base, base));
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_qemu_img),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
