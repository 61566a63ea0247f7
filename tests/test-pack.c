/* pack*.c: bundles made from a real (tiny) out/, unpacked for real, and
 * hostile bundles crafted here with libarchive. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <archive.h>
#include <archive_entry.h>

#include "testutil.h"

#include "digest.h"
#include "pack.h"

#define FIX TEST_FIXTURES "/pack"

struct ctx {
	char *dir;    /* scratch, removed at the end */
	char *proj;   /* dir/proj: out/ and sbx.lock */
	char *out;    /* dir/proj/out */
	char *lock;   /* dir/proj/sbx.lock */
	char *bundle; /* dir/plain.tar.zst, packed once */
	char *signed_bundle;
	char *key;     /* dir/key (ed25519, no passphrase) */
	char *signers; /* dir/allowed_signers: tester@example.com */
	char *other;   /* dir/other_signers: someone else's key */
};

static struct ctx C;

static const struct pack_options plain_opts = {.mtime = 1700000000};

static char *
at(const char *a, const char *b)
{
	return path_join(a, b);
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void
copy_fixture(const char *name, const char *dir)
{
	CLEANUP_FREE char *src = at(FIX, name);
	CLEANUP_FREE char *dst = at(dir, name);
	CLEANUP_FREE char *data = NULL;
	size_t len;

	assert_int_equal(read_file(src, &data, &len), 0);
	assert_int_equal(write_file_atomic(dst, data, len, 0755), 0);
}

static bool
same_file(const char *a, const char *b)
{
	CLEANUP_FREE char *x = NULL;
	CLEANUP_FREE char *y = NULL;
	size_t lx, ly;

	assert_int_equal(read_file(a, &x, &lx), 0);
	assert_int_equal(read_file(b, &y, &ly), 0);
	return lx == ly && memcmp(x, y, lx) == 0;
}

/* Names in dir, sorted, joined by ' ' (for "nothing left behind"). */
static char *
listing(const char *dir)
{
	struct dirent **v;
	struct strbuf sb = STRBUF_INIT;
	int n = scandir(dir, &v, NULL, alphasort);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(v[i]->d_name, ".") != 0 &&
		    strcmp(v[i]->d_name, "..") != 0) {
			if (sb.len > 0)
				sb_putc(&sb, ' ');
			sb_puts(&sb, v[i]->d_name);
		}
		free(v[i]);
	}
	free(v);
	return sb_detach(&sb, NULL);
}

static int
group_setup(void **state)
{
	CLEANUP_FREE char *base = NULL;
	CLEANUP_FREE char *secrets = NULL;
	CLEANUP_FREE char *pw = NULL;
	CLEANUP_FREE char *why = NULL;
	struct pack_options so = plain_opts;

	(void)state;
	C.dir = test_mkdtemp();
	C.proj = at(C.dir, "proj");
	C.out = at(C.proj, "out");
	C.lock = at(C.proj, "sbx.lock");
	C.bundle = at(C.dir, "plain.tar.zst");
	C.signed_bundle = at(C.dir, "signed.tar.zst");
	C.key = at(C.dir, "key");
	C.signers = at(C.dir, "allowed_signers");
	C.other = at(C.dir, "other_signers");
	secrets = at(C.out, "secrets");
	assert_int_equal(mkdir_p(secrets, 0700), 0);
	base = at(C.dir, "base.qcow2");

	/* dev.qcow2 is an overlay on base.qcow2 (like a real build), with
	 * data in both layers; proxy.qcow2 stands alone. */
	assert_int_equal(
		test_sh("qemu-img create -q -f qcow2 '%s' 8M && "
			"qemu-io -c 'write -P 0xab 0 1M' "
			"-c 'write -P 0x5a 5M 64k' '%s' >/dev/null && "
			"qemu-img create -q -f qcow2 -b '%s' -F qcow2 "
			"'%s/dev.qcow2' && "
			"qemu-io -c 'write -P 0x22 2M 1M' '%s/dev.qcow2' "
			">/dev/null && "
			"qemu-img create -q -f qcow2 '%s/proxy.qcow2' 4M && "
			"qemu-io -c 'write -P 0x33 0 256k' '%s/proxy.qcow2' "
			">/dev/null",
			base, base, base, C.out, C.out, C.out, C.out),
		0);
	copy_fixture("run-dev.sh", C.out);
	copy_fixture("run-proxy.sh", C.out);
	copy_fixture("dev.manifest", C.out);
	copy_fixture("proxy.manifest", C.out);
	copy_fixture("dev.xml", C.out);
	copy_fixture("sbx.lock", C.proj);
	pw = at(secrets, "password");
	test_write(pw, "SECRET-c0ffee-MUST-NOT-SHIP\n");

	assert_int_equal(test_sh("ssh-keygen -q -t ed25519 -N '' -C '' "
				 "-f '%s' && ssh-keygen -q -t ed25519 -N '' "
				 "-C '' -f '%s.other' && "
				 "printf 'tester@example.com "
				 "namespaces=\"sbx-build\" %%s\\n' "
				 "\"$(cat '%s.pub')\" > '%s' && "
				 "printf 'tester@example.com %%s\\n' "
				 "\"$(cat '%s.other.pub')\" > '%s'",
				 C.key, C.key, C.key, C.signers, C.key,
				 C.other),
			 0);

	assert_int_equal(
		pack_bundle(C.out, C.lock, C.bundle, &plain_opts, &why), 0);
	so.sign_key = C.key;
	assert_int_equal(pack_bundle(C.out, C.lock, C.signed_bundle, &so, &why),
			 0);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	test_rmdir(C.dir);
	free(C.proj);
	free(C.out);
	free(C.lock);
	free(C.bundle);
	free(C.signed_bundle);
	free(C.key);
	free(C.signers);
	free(C.other);
	return 0;
}

/* A fresh scratch directory per test, in *state. */
static int
setup(void **state)
{
	*state = test_mkdtemp();
	return 0;
}

static int
teardown(void **state)
{
	test_rmdir(*state);
	return 0;
}

/* Unpacks into scratch/t, expecting a refusal that mentions want, and
 * checks that scratch holds exactly what it held before. */
static void
expect_refused(const char *scratch, const char *bundle,
	       const struct unpack_options *uo, const char *want)
{
	CLEANUP_FREE char *target = at(scratch, "t");
	CLEANUP_FREE char *before = listing(scratch);
	CLEANUP_FREE char *after = NULL;
	CLEANUP_FREE char *why = NULL;
	struct unpack_info info = {0};
	static const struct unpack_options none;
	int r;

	r = unpack_bundle(bundle, target, uo ? uo : &none, &info, &why);
	if (r == 0 || why == NULL || strstr(why, want) == NULL)
		print_error("want a refusal with '%s', got %d: %s\n", want, r,
			    why ? why : "(no reason)");
	assert_true(r < 0);
	assert_non_null(why);
	assert_non_null(strstr(why, want));
	assert_false(exists(target));
	after = listing(scratch);
	assert_string_equal(before, after);
	assert_false(exists("/tmp/sbx-test-pack-evil"));
}

static void
why_reset(char **why)
{
	free(*why);
	*why = NULL;
}

/* ---- crafting bundles ------------------------------------------------ */

struct ent {
	const char *name;
	const char *data; /* regular files */
	mode_t type;	  /* 0: AE_IFREG */
	const char *link; /* symlink or (hard) hard link target */
	bool hard;
};

static void
craft_raw(const char *path, const struct ent *v, size_t n)
{
	struct archive *a = archive_write_new();

	assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_format_pax_restricted(a),
			 ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t len = v[i].data ? strlen(v[i].data) : 0;

		archive_entry_set_pathname(e, v[i].name);
		archive_entry_set_filetype(e, v[i].type ? v[i].type : AE_IFREG);
		archive_entry_set_perm(e, 0644);
		if (v[i].link != NULL && v[i].hard)
			archive_entry_set_hardlink(e, v[i].link);
		else if (v[i].link != NULL)
			archive_entry_set_symlink(e, v[i].link);
		if (v[i].type == AE_IFCHR || v[i].type == AE_IFBLK)
			archive_entry_set_rdev(e, makedev(1, 3));
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (len > 0)
			assert_int_equal(archive_write_data(a, v[i].data, len),
					 (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* SHA256SUMS listing the regular files of listed[] (their names and
 * data), then ents[] as given. */
static void
craft(const char *path, const struct ent *listed, size_t nl,
      const struct ent *ents, size_t ne)
{
	struct strbuf sb = STRBUF_INIT;
	struct ent *all = xcalloc(ne + 1, sizeof(*all));
	char hex[DIGEST_HEX_MAX];

	for (size_t i = 0; i < nl; i++)
		sb_printf(&sb, "# size %zu  %s\n",
			  listed[i].data ? strlen(listed[i].data) : 0,
			  listed[i].name);
	for (size_t i = 0; i < nl; i++) {
		const char *d = listed[i].data ? listed[i].data : "";

		digest_buffer_hex(DIGEST_SHA256, d, strlen(d), hex);
		sb_printf(&sb, "%s  %s\n", hex, listed[i].name);
	}
	all[0] = (struct ent){.name = "SHA256SUMS", .data = sb.buf};
	memcpy(all + 1, ents, ne * sizeof(*ents));
	craft_raw(path, all, ne + 1);
	free(all);
	sb_release(&sb);
}

static const struct ent readme = {.name = "README", .data = "hello\n"};

/* The crafting itself is sound: a well-formed crafted bundle unpacks. */
static void
test_crafted_control(void **state)
{
	const char *s = *state;
	CLEANUP_FREE char *b = at(s, "b.tar.zst");
	CLEANUP_FREE char *t = at(s, "t");
	CLEANUP_FREE char *f = at(t, "README");
	CLEANUP_FREE char *why = NULL;
	CLEANUP_FREE char *got = NULL;
	static const struct unpack_options none;
	struct unpack_info info = {0};

	craft(b, &readme, 1, &readme, 1);
	assert_int_equal(unpack_bundle(b, t, &none, &info, &why), 0);
	assert_int_equal(info.n_files, 2);
	assert_false(info.is_signed);
	got = test_read(f);
	assert_string_equal(got, "hello\n");
	unpack_info_clear(&info);
}

struct hostile {
	const char *what;
	struct ent listed[3];
	struct ent ents[3];
	const char *want;
};

static const struct hostile hostile[] = {
	{"absolute path",
	 {readme},
	 {readme, {.name = "/tmp/sbx-test-pack-evil", .data = "x"}},
	 "absolute path"},
	{"dot-dot",
	 {readme},
	 {readme, {.name = "../evil", .data = "x"}},
	 "leaves the bundle"},
	{"dot-dot inside",
	 {readme},
	 {readme, {.name = "a/../../evil", .data = "x"}},
	 "leaves the bundle"},
	{"subdirectory",
	 {readme},
	 {readme, {.name = "sub/evil", .data = "x"}},
	 "not a plain top-level file name"},
	{"symlink out",
	 {readme, {.name = "link"}},
	 {readme, {.name = "link", .type = AE_IFLNK, .link = "/etc/passwd"}},
	 "symbolic link"},
	{"symlink in",
	 {readme, {.name = "link"}},
	 {readme, {.name = "link", .type = AE_IFLNK, .link = "README"}},
	 "symbolic link"},
	{"hard link out",
	 {readme, {.name = "h"}},
	 {readme, {.name = "h", .link = "../../etc/passwd", .hard = true}},
	 "hard link"},
	{"hard link in",
	 {readme, {.name = "h"}},
	 {readme, {.name = "h", .link = "README", .hard = true}},
	 "hard link"},
	{"character device",
	 {readme, {.name = "null"}},
	 {readme, {.name = "null", .type = AE_IFCHR}},
	 "character device"},
	{"block device",
	 {readme, {.name = "disk"}},
	 {readme, {.name = "disk", .type = AE_IFBLK}},
	 "block device"},
	{"fifo",
	 {readme, {.name = "pipe"}},
	 {readme, {.name = "pipe", .type = AE_IFIFO}},
	 "fifo"},
	{"directory",
	 {readme},
	 {readme, {.name = "dir", .type = AE_IFDIR}},
	 "directory"},
	{"duplicate entry", {readme}, {readme, readme}, "duplicate entry"},
	{"duplicate SHA256SUMS",
	 {readme},
	 {readme, {.name = "SHA256SUMS", .data = ""}},
	 "duplicate entry"},
	{"unlisted file",
	 {readme},
	 {readme, {.name = "extra", .data = "x"}},
	 "not listed in SHA256SUMS"},
	{"missing file",
	 {readme, {.name = "dev.qcow2", .data = "x"}},
	 {readme},
	 "'dev.qcow2' is missing"},
	{"wrong checksum",
	 {readme},
	 {{.name = "README", .data = "hellO\n"}},
	 "checksum mismatch"},
	{"unsafe name in SHA256SUMS",
	 {{.name = "../evil", .data = "x"}},
	 {readme},
	 "unsafe file name"},
};

static size_t
n_ents(const struct ent *v, size_t max)
{
	size_t n = 0;

	while (n < max && v[n].name != NULL)
		n++;
	return n;
}

static void
test_hostile(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		const struct hostile *h = &hostile[i];
		CLEANUP_FREE char *d = xasprintf("%s/%zu", (char *)*state, i);
		CLEANUP_FREE char *b = at(d, "b.tar.zst");

		print_message("  hostile: %s\n", h->what);
		assert_int_equal(mkdir_p(d, 0755), 0);
		craft(b, h->listed, n_ents(h->listed, 3), h->ents,
		      n_ents(h->ents, 3));
		expect_refused(d, b, NULL, h->want);
	}
}

static void
test_sums_not_first(void **state)
{
	CLEANUP_FREE char *b = at(*state, "b.tar.zst");
	struct ent v[] = {readme, {.name = "SHA256SUMS", .data = ""}};

	craft_raw(b, v, 2);
	expect_refused(*state, b, NULL, "starts with 'README'");
	craft_raw(b, v, 0);
	expect_refused(*state, b, NULL, "empty");
}

static void
test_bad_sums(void **state)
{
	CLEANUP_FREE char *b = at(*state, "b.tar.zst");
	struct ent v[] = {{.name = "SHA256SUMS", .data = "deadbeef  README\n"},
			  readme};

	craft_raw(b, v, 2);
	expect_refused(*state, b, NULL, "SHA256SUMS line 1");
}

/* ---- real bundles ---------------------------------------------------- */

static const char *const copied[] = {
	"run-dev.sh",	  "run-proxy.sh", "dev.manifest",
	"proxy.manifest", "dev.xml",
};

static void
test_roundtrip(void **state)
{
	CLEANUP_FREE char *t = at(*state, "unpacked");
	CLEANUP_FREE char *why = NULL;
	CLEANUP_FREE char *names = NULL;
	CLEANUP_FREE char *lock = NULL;
	static const struct unpack_options none;
	struct unpack_info info = {0};
	struct stat st;

	assert_int_equal(unpack_bundle(C.bundle, t, &none, &info, &why), 0);
	assert_int_equal(info.n_vms, 2);
	assert_int_equal(info.n_files, 10);
	assert_false(info.is_signed);
	assert_null(info.signer);
	unpack_info_clear(&info);

	/* Exactly these files: no secrets, no proxy.xml (there was none). */
	names = listing(t);
	assert_string_equal(names, "README SHA256SUMS dev.manifest dev.qcow2 "
				   "dev.xml proxy.manifest proxy.qcow2 "
				   "run-dev.sh run-proxy.sh sbx.lock");
	for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
		CLEANUP_FREE char *a = at(C.out, copied[i]);
		CLEANUP_FREE char *b = at(t, copied[i]);

		assert_true(same_file(a, b));
	}
	lock = at(t, "sbx.lock");
	assert_true(same_file(C.lock, lock));
	{
		CLEANUP_FREE char *sh = at(t, "run-dev.sh");
		CLEANUP_FREE char *man = at(t, "dev.manifest");

		assert_int_equal(stat(sh, &st), 0);
		assert_true(st.st_mode & S_IXUSR);
		assert_int_equal(stat(man, &st), 0);
		assert_false(st.st_mode & 0111);
	}

	/* Sound, standalone images with the same guest-visible content as
	 * the overlay + backing file they came from. */
	assert_int_equal(test_sh("cd '%s' && qemu-img check -q dev.qcow2 && "
				 "qemu-img check -q proxy.qcow2",
				 t),
			 0);
	assert_int_equal(test_sh("qemu-img info '%s/dev.qcow2' | "
				 "grep -q 'backing file:'",
				 C.out),
			 0);
	assert_int_equal(test_sh("qemu-img info '%s/dev.qcow2' | "
				 "grep -qi backing",
				 t),
			 1);
	assert_int_equal(test_sh("qemu-img info '%s/dev.qcow2' | "
				 "grep -q 'compression type'",
				 t),
			 0);
	assert_int_equal(test_sh("qemu-img compare -q '%s/dev.qcow2' "
				 "'%s/dev.qcow2' && qemu-img compare -q "
				 "'%s/proxy.qcow2' '%s/proxy.qcow2'",
				 C.out, t, C.out, t),
			 0);
	/* The recipient can check by hand too. */
	assert_int_equal(
		test_sh("cd '%s' && sha256sum --quiet -c SHA256SUMS", t), 0);
	/* Not one byte of out/secrets/ in the stream. */
	assert_int_equal(
		test_sh("zstd -qdc '%s' | grep -qa c0ffee-MUST-NOT", C.bundle),
		1);
}

/* The tar headers: SHA256SUMS first, the rest sorted, owner 0:0 with no
 * names, one mtime, modes from the name. */
static void
test_layout(void **state)
{
	static const char *const order[] = {
		"SHA256SUMS",	"README",	  "dev.manifest", "dev.qcow2",
		"dev.xml",	"proxy.manifest", "proxy.qcow2",  "run-dev.sh",
		"run-proxy.sh", "sbx.lock",
	};
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t i = 0;

	(void)state;
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, C.bundle, 65536),
			 ARCHIVE_OK);
	assert_int_equal(archive_filter_code(a, 0), ARCHIVE_FILTER_ZSTD);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		assert_true(i < ARRAY_SIZE(order));
		assert_string_equal(name, order[i]);
		assert_int_equal(archive_entry_filetype(e), AE_IFREG);
		assert_int_equal(archive_entry_uid(e), 0);
		assert_int_equal(archive_entry_gid(e), 0);
		assert_true(archive_entry_uname(e) == NULL ||
			    *archive_entry_uname(e) == '\0');
		assert_true(archive_entry_gname(e) == NULL ||
			    *archive_entry_gname(e) == '\0');
		assert_int_equal(archive_entry_mtime(e), plain_opts.mtime);
		assert_int_equal(archive_entry_perm(e),
				 str_starts_with(name, "run-") ? 0755 : 0644);
		i++;
	}
	assert_int_equal(i, ARRAY_SIZE(order));
	archive_read_free(a);
}

static void
test_deterministic(void **state)
{
	CLEANUP_FREE char *b2 = at(*state, "again.tar.zst");
	CLEANUP_FREE char *b3 = at(*state, "later.tar.zst");
	CLEANUP_FREE char *s2 = at(*state, "again-signed.tar.zst");
	CLEANUP_FREE char *c1 = at(*state, "c1.qcow2");
	CLEANUP_FREE char *c2 = at(*state, "c2.qcow2");
	CLEANUP_FREE char *why = NULL;
	struct pack_options later = plain_opts, so = plain_opts;

	/* qemu-img convert -c itself is deterministic. */
	assert_int_equal(test_sh("for f in '%s' '%s'; do qemu-img convert "
				 "-c -f qcow2 -O qcow2 '%s/dev.qcow2' \"$f\" "
				 "|| exit 1; done",
				 c1, c2, C.out),
			 0);
	assert_true(same_file(c1, c2));

	assert_int_equal(pack_bundle(C.out, C.lock, b2, &plain_opts, &why), 0);
	assert_true(same_file(C.bundle, b2));
	/* Ed25519 signatures are deterministic too. */
	so.sign_key = C.key;
	why_reset(&why);
	assert_int_equal(pack_bundle(C.out, C.lock, s2, &so, &why), 0);
	assert_true(same_file(C.signed_bundle, s2));
	/* And the mtime really comes from the options. */
	later.mtime++;
	why_reset(&why);
	assert_int_equal(pack_bundle(C.out, C.lock, b3, &later, &why), 0);
	assert_false(same_file(C.bundle, b3));
	/* Nothing but the three bundles and two images is left around. */
	{
		CLEANUP_FREE char *names = listing(*state);

		assert_string_equal(names, "again-signed.tar.zst again.tar.zst "
					   "c1.qcow2 c2.qcow2 later.tar.zst");
	}
}

static void
decompress(const char *path, struct strbuf *sb)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char buf[65536];
	la_ssize_t n;

	archive_read_support_filter_zstd(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 65536) == ARCHIVE_OK &&
	    archive_read_next_header(a, &e) == ARCHIVE_OK)
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
			sb_add(sb, buf, (size_t)n);
	archive_read_free(a);
}

/* Flipped bytes all through the bundle: each is refused, unless the zstd
 * stream still decodes to the very same tar (zstd has a few don't-care
 * bits) — then nothing changed that unpack could write. */
static void
test_flipped_byte(void **state)
{
	CLEANUP_FREE char *data = NULL;
	CLEANUP_FREE char *f = at(*state, "flipped.tar.zst");
	CLEANUP_FREE char *t = at(*state, "t");
	struct strbuf orig = STRBUF_INIT;
	static const struct unpack_options none;
	size_t len, tried = 0, refused = 0;

	assert_int_equal(read_file(C.bundle, &data, &len), 0);
	decompress(C.bundle, &orig);
	assert_true(orig.len > 0);
	for (size_t off = 0; off < len; off += 1 + len / 97) {
		CLEANUP_FREE char *why = NULL;
		struct unpack_info info = {0};
		int r;

		data[off] ^= 0x10;
		assert_int_equal(write_file_atomic(f, data, len, 0644), 0);
		data[off] ^= 0x10;
		r = unpack_bundle(f, t, &none, &info, &why);
		tried++;
		if (r < 0) {
			refused++;
			assert_false(exists(t));
		} else {
			struct strbuf got = STRBUF_INIT;

			decompress(f, &got);
			assert_true(got.len <= orig.len);
			assert_memory_equal(got.buf, orig.buf, got.len);
			/* Only the tar's trailing zeros may be cut short. */
			for (size_t i = got.len; i < orig.len; i++)
				assert_int_equal(orig.buf[i], 0);
			sb_release(&got);
			unpack_info_clear(&info);
			assert_int_equal(rm_rf(t), 0);
		}
	}
	sb_release(&orig);
	print_message("  %zu of %zu flips refused\n", refused, tried);
	assert_true(refused * 10 >= tried * 8);

	/* A flip inside a member's data, repacked so only SHA256SUMS can
	 * notice. */
	{
		struct ent v[] = {{.name = "README", .data = "hellO\n"}};

		craft(f, &readme, 1, v, 1);
		expect_refused(*state, f, NULL, "checksum mismatch");
	}
}

static void
test_truncated(void **state)
{
	CLEANUP_FREE char *data = NULL;
	CLEANUP_FREE char *f = at(*state, "cut.tar.zst");
	size_t len;
	size_t cuts[] = {1, 2, 16, 100, 0, 0, 0};

	assert_int_equal(read_file(C.bundle, &data, &len), 0);
	cuts[4] = len / 2;
	cuts[5] = len - 100;
	cuts[6] = len; /* empty file */
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		assert_int_equal(
			write_file_atomic(f, data, len - cuts[i], 0644), 0);
		expect_refused(*state, f, NULL, i == 6 ? "" : "truncated");
	}
}

static void
test_target(void **state)
{
	CLEANUP_FREE char *t = at(*state, "t");
	CLEANUP_FREE char *x = at(t, "x");
	CLEANUP_FREE char *why = NULL;
	CLEANUP_FREE char *t2 = at(*state, "t2/");
	CLEANUP_FREE char *t3 = at(*state, "t3");
	static const struct unpack_options none;
	struct unpack_info info = {0};

	/* An existing, non-empty target is never touched. */
	assert_int_equal(mkdir_p(t, 0755), 0);
	test_write(x, "keep\n");
	assert_true(unpack_bundle(C.bundle, t, &none, &info, &why) < 0);
	assert_non_null(strstr(why, "not empty"));
	{
		CLEANUP_FREE char *names = listing(t);

		assert_string_equal(names, "x");
	}
	/* An empty one is filled (a trailing slash is fine). */
	assert_int_equal(mkdir_p(t2, 0755), 0);
	why_reset(&why);
	assert_int_equal(unpack_bundle(C.bundle, t2, &none, &info, &why), 0);
	unpack_info_clear(&info);
	/* A missing bundle is refused cleanly. */
	assert_int_equal(
		unpack_bundle("/nonexistent.tar.zst", t3, &none, &info, &why),
		-ENOENT);
}

static void
test_pack_errors(void **state)
{
	CLEANUP_FREE char *out = at(*state, "out");
	CLEANUP_FREE char *img = at(out, "vm.qcow2");
	CLEANUP_FREE char *b = at(*state, "b.tar.zst");
	CLEANUP_FREE char *why = NULL;
	struct pack_options bad = plain_opts;

	assert_int_equal(mkdir_p(out, 0755), 0);
	assert_int_equal(pack_bundle(out, NULL, b, &plain_opts, &why), -ENOENT);
	assert_non_null(strstr(why, "no images"));
	assert_int_equal(test_sh("qemu-img create -q -f qcow2 '%s' 1M", img),
			 0);
	why_reset(&why);
	assert_int_equal(pack_bundle(out, NULL, b, &plain_opts, &why), -ENOENT);
	assert_non_null(strstr(why, "run-vm.sh"));
	/* An image qemu-img cannot read. */
	copy_fixture("run-dev.sh", out);
	assert_int_equal(unlink(img), 0);
	{
		CLEANUP_FREE char *dev = at(out, "dev.qcow2");

		test_write(dev, "not a qcow2 image\n");
		why_reset(&why);
		assert_true(pack_bundle(out, NULL, b, &plain_opts, &why) < 0);
		assert_non_null(strstr(why, "cannot convert"));
		assert_int_equal(
			test_sh("qemu-img create -q -f qcow2 '%s' 1M", dev), 0);
	}
	/* A key that is not there, or cannot sign. */
	bad.sign_key = "/nonexistent/key";
	why_reset(&why);
	assert_int_equal(pack_bundle(out, NULL, b, &bad, &why), -ENOENT);
	assert_non_null(strstr(why, "cannot read key"));
	{
		CLEANUP_FREE char *key = at(*state, "badkey");

		assert_int_equal(write_file_atomic(key, "junk\n", 5, 0600), 0);
		bad.sign_key = key;
		why_reset(&why);
		assert_true(pack_bundle(out, NULL, b, &bad, &why) < 0);
		assert_non_null(strstr(why, "cannot sign"));
		assert_int_equal(unlink(key), 0);
	}
	/* Nothing but out/ remains: no bundle, no temporary files. */
	{
		CLEANUP_FREE char *names = listing(*state);

		assert_string_equal(names, "out");
	}
	{
		int64_t v;

		assert_int_equal(pack_parse_epoch(NULL, &v), 0);
		assert_int_equal(v, 0);
		assert_int_equal(pack_parse_epoch("1700000000", &v), 0);
		assert_int_equal(v, 1700000000);
		assert_int_equal(pack_parse_epoch("-1", &v), -EINVAL);
		assert_int_equal(pack_parse_epoch("12x", &v), -EINVAL);
		assert_int_equal(pack_parse_epoch("99999999999999999999", &v),
				 -EINVAL);
	}
}

/* ---- signatures ------------------------------------------------------ */

static void
test_signature_good(void **state)
{
	CLEANUP_FREE char *t = at(*state, "t");
	CLEANUP_FREE char *t2 = at(*state, "t2");
	CLEANUP_FREE char *t3 = at(*state, "t3");
	CLEANUP_FREE char *why = NULL;
	struct unpack_options uo = {.allowed_signers = C.signers};
	static const struct unpack_options none;
	struct unpack_info info = {0};

	assert_int_equal(unpack_bundle(C.signed_bundle, t, &uo, &info, &why),
			 0);
	assert_true(info.is_signed);
	assert_string_equal(info.signer, "tester@example.com");
	assert_int_equal(info.n_files, 11);
	unpack_info_clear(&info);
	/* The recipient can verify by hand what unpack verified. */
	assert_int_equal(test_sh("cd '%s' && ssh-keygen -Y verify -f '%s' "
				 "-I tester@example.com -n sbx-build "
				 "-s SHA256SUMS.sig < SHA256SUMS >/dev/null",
				 t, C.signers),
			 0);

	uo.identity = "tester@example.com";
	why_reset(&why);
	assert_int_equal(unpack_bundle(C.signed_bundle, t2, &uo, &info, &why),
			 0);
	assert_string_equal(info.signer, "tester@example.com");
	unpack_info_clear(&info);

	/* Signed, but nobody asked: unpacked, reported as not checked. */
	why_reset(&why);
	assert_int_equal(unpack_bundle(C.signed_bundle, t3, &none, &info, &why),
			 0);
	assert_true(info.is_signed);
	assert_null(info.signer);
	unpack_info_clear(&info);
}

static void
test_signature_bad(void **state)
{
	CLEANUP_FREE char *b = at(*state, "b.tar.zst");
	CLEANUP_FREE char *sums = at(*state, "SHA256SUMS");
	CLEANUP_FREE char *sig = NULL;
	CLEANUP_FREE char *ns = NULL;
	struct unpack_options uo = {.allowed_signers = C.signers};
	struct unpack_options other = {.allowed_signers = C.other};
	struct unpack_options wrong_id = {.allowed_signers = C.signers,
					  .identity = "mallory@example.com"};
	char hex[DIGEST_HEX_MAX];

	/* Missing while required; signers file missing. */
	{
		struct unpack_options gone = {.allowed_signers =
						      "/nonexistent"};

		expect_refused(*state, C.signed_bundle, &gone, "cannot read");
	}
	expect_refused(*state, C.bundle, &uo, "not signed");
	/* A key nobody trusts, or a principal that is not the signer. */
	expect_refused(*state, C.signed_bundle, &other, "bad signature");
	expect_refused(*state, C.signed_bundle, &wrong_id, "bad signature");

	/* A good signature over other SHA256SUMS. */
	test_write(sums, "0000000000000000000000000000000000000000000000000000"
			 "000000000000  README\n");
	assert_int_equal(test_sh("ssh-keygen -q -Y sign -f '%s' -n sbx-build "
				 "'%s' 2>/dev/null",
				 C.key, sums),
			 0);
	{
		CLEANUP_FREE char *p = xasprintf("%s.sig", sums);

		sig = test_read(p);
		assert_int_equal(unlink(p), 0);
	}
	digest_buffer_hex(DIGEST_SHA256, readme.data, strlen(readme.data), hex);
	{
		CLEANUP_FREE char *text =
			xasprintf("# size %zu  README\n%s  README\n",
				  strlen(readme.data), hex);
		struct ent v[] = {{.name = "SHA256SUMS", .data = text},
				  {.name = "SHA256SUMS.sig", .data = sig},
				  readme};

		craft_raw(b, v, 3);
		assert_int_equal(unlink(sums), 0);
		expect_refused(*state, b, &uo, "bad signature");

		/* The right text, signed in another namespace. */
		test_write(sums, text);
		assert_int_equal(test_sh("ssh-keygen -q -Y sign -f '%s' "
					 "-n file '%s' 2>/dev/null",
					 C.key, sums),
				 0);
		{
			CLEANUP_FREE char *p = xasprintf("%s.sig", sums);

			ns = test_read(p);
			assert_int_equal(unlink(p), 0);
		}
		assert_int_equal(unlink(sums), 0);
		v[1].data = ns;
		craft_raw(b, v, 3);
		expect_refused(*state, b, &uo, "bad signature");

		/* Garbage in place of a signature. */
		v[1].data = "-----BEGIN SSH SIGNATURE-----\nAAAA\n"
			    "-----END SSH SIGNATURE-----\n";
		craft_raw(b, v, 3);
		expect_refused(*state, b, &uo, "bad signature");
	}
}

/* ---- sizes, free space, signatures without signers (issue 19) -------- */

/* A bundle whose README is listed as "hello\n" (6 bytes) but holds n
 * bytes of 'a': the zstd bomb in small. */
static void
craft_inflated(const char *b, size_t n)
{
	char hex[DIGEST_HEX_MAX];
	char *big = xmalloc(n + 1);
	CLEANUP_FREE char *sums = NULL;

	memset(big, 'a', n);
	big[n] = '\0';
	digest_buffer_hex(DIGEST_SHA256, readme.data, strlen(readme.data), hex);
	sums = xasprintf("# size 6  README\n%s  README\n", hex);
	{
		struct ent v[] = {{.name = "SHA256SUMS", .data = sums},
				  {.name = "README", .data = big}};

		craft_raw(b, v, 2);
	}
	free(big);
}

static void
test_inflated_member(void **state)
{
	CLEANUP_FREE char *b = at(*state, "b.tar.zst");
	CLEANUP_FREE char *t = at(*state, "t");
	struct stat st;
	pid_t pid;
	int status;

	craft_inflated(b, 64u << 20);
	assert_int_equal(stat(b, &st), 0);
	assert_true(st.st_size < 64 * 1024); /* a few KB on disk */
	expect_refused(*state, b, NULL, "SHA256SUMS says 6");

	/* Under a 64 KiB file size limit: a write beyond it would fail with
	 * EFBIG and give another reason; the refusal must come first. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {64 * 1024, 64 * 1024};
		static const struct unpack_options none;
		struct unpack_info info = {0};
		char *why = NULL;
		int r;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(3);
		r = unpack_bundle(b, t, &none, &info, &why);
		_exit(r < 0 && why != NULL &&
				      strstr(why, "SHA256SUMS says 6") != NULL
			      ? 0
			      : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(exists(t));
}

static void
test_sizes_required(void **state)
{
	CLEANUP_FREE char *b = at(*state, "b.tar.zst");
	CLEANUP_FREE char *t = at(*state, "t");
	CLEANUP_FREE char *why = NULL;
	CLEANUP_FREE char *sums = NULL;
	CLEANUP_FREE char *huge = NULL;
	static const struct unpack_options none;
	struct unpack_info info = {0};
	char hex[DIGEST_HEX_MAX];

	digest_buffer_hex(DIGEST_SHA256, readme.data, strlen(readme.data), hex);
	/* Made before sizes were recorded: refused, with the way out. */
	sums = xasprintf("%s  README\n", hex);
	{
		struct ent v[] = {{.name = "SHA256SUMS", .data = sums}, readme};

		craft_raw(b, v, 2);
		expect_refused(*state, b, NULL, "gives no size for 'README'");
	}
	/* More than the file system holds: refused before any member. */
	huge = xasprintf("# size 1152921504606846976  README\n%s  README\n",
			 hex);
	{
		struct ent v[] = {{.name = "SHA256SUMS", .data = huge}, readme};

		craft_raw(b, v, 2);
		expect_refused(*state, b, NULL, "are free in");
	}
	/* Malformed or stray size lines. */
	{
		CLEANUP_FREE char *bad =
			xasprintf("# size six  README\n%s  README\n", hex);
		CLEANUP_FREE char *stray = xasprintf(
			"# size 6  README\n# size 1  other\n%s  README\n", hex);
		struct ent v[] = {{.name = "SHA256SUMS", .data = bad}, readme};

		craft_raw(b, v, 2);
		expect_refused(*state, b, NULL, "not '# size <bytes>  <name>'");
		v[0].data = stray;
		craft_raw(b, v, 2);
		expect_refused(*state, b, NULL, "size for 'other' but no");
	}
	/* What pack writes unpacks, and sha256sum -c still reads it. */
	assert_int_equal(unpack_bundle(C.bundle, t, &none, &info, &why), 0);
	unpack_info_clear(&info);
	assert_int_equal(test_sh("grep -q '^# size [0-9]*  dev.qcow2$' "
				 "'%s/SHA256SUMS' && cd '%s' && "
				 "sha256sum -c --quiet SHA256SUMS",
				 t, t),
			 0);
}

/* One byte of the signature changed: refused even without signers. */
static void
test_signature_corrupt(void **state)
{
	CLEANUP_FREE char *b = at(*state, "b.tar.zst");
	CLEANUP_FREE char *sums = at(*state, "SHA256SUMS");
	CLEANUP_FREE char *sigp = at(*state, "SHA256SUMS.sig");
	CLEANUP_FREE char *text = NULL;
	CLEANUP_FREE char *sig = NULL;
	CLEANUP_FREE char *t = at(*state, "t");
	CLEANUP_FREE char *why = NULL;
	static const struct unpack_options none;
	struct unpack_info info = {0};
	char hex[DIGEST_HEX_MAX];
	char *end, *line;

	digest_buffer_hex(DIGEST_SHA256, readme.data, strlen(readme.data), hex);
	text = xasprintf("# size %zu  README\n%s  README\n",
			 strlen(readme.data), hex);
	test_write(sums, text);
	assert_int_equal(test_sh("ssh-keygen -q -Y sign -f '%s' -n sbx-build "
				 "'%s' 2>/dev/null",
				 C.key, sums),
			 0);
	sig = test_read(sigp);
	assert_int_equal(unlink(sigp), 0);
	assert_int_equal(unlink(sums), 0);
	{
		struct ent v[] = {{.name = "SHA256SUMS", .data = text},
				  {.name = "SHA256SUMS.sig", .data = sig},
				  readme};

		/* Control: intact, it unpacks (signature not checked). */
		craft_raw(b, v, 3);
		assert_int_equal(unpack_bundle(b, t, &none, &info, &why), 0);
		assert_true(info.is_signed);
		unpack_info_clear(&info);
		assert_int_equal(rm_rf(t), 0);

		/* The last base64 line holds the signature bytes. */
		end = strstr(sig, "\n-----END SSH SIGNATURE-----");
		assert_non_null(end);
		*end = '\0';
		line = strrchr(sig, '\n');
		*end = '\n';
		assert_non_null(line);
		line[4] = line[4] == 'A' ? 'B' : 'A';
		craft_raw(b, v, 3);
		expect_refused(*state, b, NULL, "bad signature");

		/* A signature over other text (SHA256SUMS changed). */
		line[4] = line[4] == 'A' ? 'B' : 'A';
		v[0].data = "# size 6  README\n"
			    "0000000000000000000000000000000000000000000000000"
			    "000000000000000  README\n";
		craft_raw(b, v, 3);
		expect_refused(*state, b, NULL, "bad signature");
	}
}

/* pack -o never replaces what is not a regular file. */
static void
test_pack_target(void **state)
{
	CLEANUP_FREE char *fifo = at(*state, "fifo");
	CLEANUP_FREE char *dev = at(*state, "devlink");
	CLEANUP_FREE char *dir = at(*state, "dir");
	CLEANUP_FREE char *why = NULL;
	CLEANUP_FREE char *names = NULL;
	struct stat st;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink("/dev/null", dev), 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(pack_bundle(C.out, C.lock, fifo, &plain_opts, &why),
			 -EEXIST);
	assert_non_null(strstr(why, "is not a regular file"));
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	why_reset(&why);
	assert_int_equal(pack_bundle(C.out, C.lock, dev, &plain_opts, &why),
			 -EEXIST);
	assert_int_equal(lstat(dev, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	why_reset(&why);
	assert_int_equal(pack_bundle(C.out, C.lock, dir, &plain_opts, &why),
			 -EEXIST);
	/* Nothing beside them: no temporary file, no work directory. */
	names = listing(*state);
	assert_string_equal(names, "devlink dir fifo");
}

/* ---- the commands ---------------------------------------------------- */

static void
test_cli(void **state)
{
	const char *s = *state;

	if (access("./sbx-build", X_OK) != 0) {
		print_message("  ./sbx-build not built, skipping\n");
		return;
	}
	assert_int_equal(test_sh("SOURCE_DATE_EPOCH=1700000000 ./sbx-build -q "
				 "-C '%s' pack -o '%s/b.tar.zst' "
				 "--sign '%s'",
				 C.proj, s, C.key),
			 0);
	assert_int_equal(
		test_sh("cmp -s '%s/b.tar.zst' '%s'", s, C.signed_bundle), 0);
	assert_int_equal(test_sh("SOURCE_DATE_EPOCH=x ./sbx-build -q -C '%s' "
				 "pack -o '%s/x.tar.zst' 2>/dev/null",
				 C.proj, s),
			 1);
	assert_int_equal(
		test_sh("./sbx-build -q -C '%s' unpack -C '%s/u' "
			"--allowed-signers '%s' '%s/b.tar.zst' 2>/dev/null",
			s, s, C.signers, s),
		0);
	assert_int_equal(test_sh("test -x '%s/u/run-dev.sh'", s), 0);
	/* Without -C the target is the project's out/. */
	assert_int_equal(test_sh("./sbx-build -q -C '%s' unpack "
				 "'%s/b.tar.zst' 2>/dev/null && "
				 "test -f '%s/out/dev.qcow2'",
				 s, s, s),
			 0);
	assert_int_equal(test_sh("./sbx-build -q unpack -C '%s/v' "
				 "--allowed-signers '%s' '%s' 2>/dev/null",
				 s, C.signers, C.bundle),
			 1);
	assert_int_equal(test_sh("./sbx-build unpack --bogus x 2>/dev/null"),
			 2);
	assert_int_equal(test_sh("./sbx-build unpack 2>/dev/null"), 2);
	assert_int_equal(test_sh("./sbx-build pack extra 2>/dev/null"), 2);
	assert_int_equal(test_sh("./sbx-build unpack --identity x y "
				 "2>/dev/null"),
			 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deterministic, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crafted_control, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sums_not_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_sums, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_good, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_signature_bad, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_inflated_member, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sizes_required, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_signature_corrupt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pack_target, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
