/* fetch-verify.c: checksum lines, checksum strings, fingerprints and the
 * file name a URL names, without a network or gpgv. */
#include "testutil.h"

#include "digest.h"
#include "fetch-int.h"

static void
found(const char *text, const char *file, const char *want, uint64_t size)
{
	char *sum = NULL;
	uint64_t got = 1;

	assert_int_equal(fetch_checksum_find(text, file, &sum, &got), 0);
	assert_string_equal(sum, want);
	assert_int_equal(got, size);
	free(sum);
}

static void
test_checksum_find(void **state)
{
	const char *h64 = "0123456789ABCDEF0123456789abcdef"
			  "0123456789abcdef0123456789abcdef";
	const char *l64 = "sha256:0123456789abcdef0123456789abcdef"
			  "0123456789abcdef0123456789abcdef";
	char gnu[256], bsd[512], *sum = NULL;
	uint64_t size;

	(void)state;
	/* Debian: "hex  file", upper-case hex comes out lower-case. */
	snprintf(gnu, sizeof(gnu), "%s  other.qcow2\n%s  disk.qcow2\r\n", l64,
		 h64);
	found(gnu, "disk.qcow2", l64, 0);
	/* Fedora: BSD lines and the size comment. */
	snprintf(bsd, sizeof(bsd),
		 "# disk.qcow2: 4096 bytes\nSHA256 (disk.qcow2) = %s\n", h64);
	found(bsd, "disk.qcow2", l64, 4096);
	/* A file of another name, a prefix of it, a short hex: not found. */
	assert_int_equal(fetch_checksum_find(gnu, "disk", &sum, &size),
			 -ENOENT);
	assert_int_equal(fetch_checksum_find("abcd  disk.qcow2\n", "disk.qcow2",
					     &sum, &size),
			 -ENOENT);
	assert_int_equal(fetch_checksum_find("", "disk.qcow2", &sum, &size),
			 -ENOENT);
	assert_null(sum);
}

static void
test_parse_checksum(void **state)
{
	char hex[DIGEST_HEX_MAX], in[128];
	enum digest_alg alg;

	(void)state;
	snprintf(in, sizeof(in), "sha256:%064d", 7);
	in[8] = 'A';
	assert_int_equal(fetch_parse_checksum(in, &alg, hex), 0);
	assert_int_equal(alg, DIGEST_SHA256);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(hex[1], 'a');
	assert_int_not_equal(fetch_parse_checksum("sha256:abc", &alg, hex), 0);
	assert_int_not_equal(fetch_parse_checksum("md5:abc", &alg, hex), 0);
	assert_int_not_equal(fetch_parse_checksum("nocolon", &alg, hex), 0);
	assert_int_not_equal(fetch_parse_checksum(NULL, &alg, hex), 0);
}

static void
test_fingerprint(void **state)
{
	char out[FPR_LEN + 1];

	(void)state;
	fetch_normalize_fpr("b7c5 d7d6 3509 4798 6c11  aa86 c4c4 bdc2 "
			    "0000 1111",
			    out);
	assert_string_equal(out, "B7C5D7D6350947986C11AA86C4C4BDC200001111");
	fetch_normalize_fpr("B7C5D7D6350947986C11AA86C4C4BDC2000011", out);
	assert_string_equal(out, "");
	fetch_normalize_fpr("B7C5D7D6350947986C11AA86C4C4BDC20000111Z", out);
	assert_string_equal(out, "");
	fetch_normalize_fpr("B7C5D7D6350947986C11AA86C4C4BDC2000011112", out);
	assert_string_equal(out, "");
}

static void
test_file_names(void **state)
{
	char *s;

	(void)state;
	s = fetch_url_basename("https://h/a/b/disk.qcow2?x=1#f");
	assert_string_equal(s, "disk.qcow2");
	free(s);
	assert_true(fetch_is_hex("09afAF", 6));
	assert_false(fetch_is_hex("09ag", 4));
	assert_true(fetch_valid_file_name("disk.qcow2"));
	assert_false(fetch_valid_file_name(".hidden"));
	assert_false(fetch_valid_file_name("a/b"));
	assert_false(fetch_valid_file_name(""));
	assert_false(fetch_valid_file_name(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_find),
		cmocka_unit_test(test_parse_checksum),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_file_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
