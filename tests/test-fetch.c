/* fetch*.c against a real HTTP server on 127.0.0.1 (a thread of this test)
 * and a real OpenPGP key made by gpg at test time.  The server serves a
 * document root and can redirect, drop a connection mid-file, ignore Range
 * and go slowly. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"

#include "progress.h"
#include "digest.h"
#include "fetch.h"
#include "recipe.h"

#define IMAGE	   "Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2"
#define DEB_IMAGE  "debian-13-genericcloud-amd64.qcow2"
#define IMAGE_SIZE (300 * 1024 + 17)
#define CHUNK	   8192

/* --- the server -------------------------------------------------------- */

struct server {
	int lfd, port;
	pthread_t thread;
	atomic_bool stop;
	char *root;
	/* Modes, set by a test before its requests. */
	atomic_long drop_at; /* close after this many body bytes, once */
	atomic_bool ignore_range;
	atomic_int slow_ms; /* pause per CHUNK of body */
	/* What the server saw (of paths ending in .qcow2). */
	atomic_int image_gets, ranged_gets;
	atomic_long last_range;
	atomic_int requests;
};

static struct server srv;

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
reply(int fd, const char *status, const char *extra)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "HTTP/1.1 %s\r\nContent-Length: 0\r\n%sConnection: "
		 "close\r\n\r\n",
		 status, extra);
	send_all(fd, buf, strlen(buf));
}

static void
serve(int fd)
{
	char req[8192], method[16], path[1024], hdr[2048];
	CLEANUP_FREE char *file = NULL;
	char *data = NULL, *r;
	long start = -1, end, len;
	size_t n = 0, dlen;
	bool image;

	while (n < sizeof(req) - 1) {
		ssize_t got = recv(fd, req + n, sizeof(req) - 1 - n, 0);

		if (got <= 0)
			return;
		n += (size_t)got;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	if (sscanf(req, "%15s %1023s", method, path) != 2)
		return;
	atomic_fetch_add(&srv.requests, 1);
	if (str_starts_with(path, "/redir/")) {
		snprintf(hdr, sizeof(hdr),
			 "Location: http://127.0.0.1:%d/%s\r\n", srv.port,
			 path + 7);
		reply(fd, "302 Found", hdr);
		return;
	}
	if (strstr(path, "..") != NULL) {
		reply(fd, "403 Forbidden", "");
		return;
	}
	file = xasprintf("%s%s", srv.root, path);
	if (read_file(file, &data, &dlen) < 0) {
		reply(fd, "404 Not Found", "");
		return;
	}
	image = str_ends_with(path, ".qcow2");
	r = strcasestr(req, "\r\nRange: bytes=");
	if (r != NULL)
		start = strtol(r + 15, NULL, 10);
	if (image) {
		atomic_fetch_add(&srv.image_gets, 1);
		if (start >= 0) {
			atomic_fetch_add(&srv.ranged_gets, 1);
			srv.last_range = start;
		}
	}
	if (start >= 0 && !srv.ignore_range) {
		if ((size_t)start >= dlen) {
			snprintf(hdr, sizeof(hdr),
				 "Content-Range: bytes */%zu\r\n", dlen);
			reply(fd, "416 Range Not Satisfiable", hdr);
			free(data);
			return;
		}
		end = (long)dlen - 1;
		len = end - start + 1;
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 206 Partial Content\r\nContent-Length: "
			 "%ld\r\nContent-Range: bytes %ld-%ld/%zu\r\n"
			 "Connection: close\r\n\r\n",
			 len, start, end, dlen);
	} else {
		start = 0;
		len = (long)dlen;
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			 "Accept-Ranges: %s\r\nConnection: close\r\n\r\n",
			 dlen, srv.ignore_range ? "none" : "bytes");
	}
	send_all(fd, hdr, strlen(hdr));
	if (strcmp(method, "HEAD") != 0) {
		long drop = image ? atomic_exchange(&srv.drop_at, 0) : 0;
		long sent = 0;

		while (sent < len && (drop == 0 || sent < drop)) {
			long c = len - sent < CHUNK ? len - sent : CHUNK;

			if (drop != 0 && sent + c > drop)
				c = drop - sent;
			send_all(fd, data + start + sent, (size_t)c);
			sent += c;
			if (srv.slow_ms > 0) {
				struct timespec ts = {0,
						      srv.slow_ms * 1000000L};

				nanosleep(&ts, NULL);
			}
		}
	}
	free(data);
}

static void *
server_main(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		struct pollfd p = {.fd = srv.lfd, .events = POLLIN};
		struct timeval tv = {5, 0};
		int fd;

		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept(srv.lfd, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		serve(fd);
		shutdown(fd, SHUT_RDWR);
		close(fd);
	}
	return NULL;
}

static void
server_start(const char *root)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.root = xstrdup(root);
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(srv.lfd >= 0);
	assert_int_equal(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(srv.lfd, 16), 0);
	assert_int_equal(getsockname(srv.lfd, (struct sockaddr *)&a, &alen), 0);
	srv.port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&srv.thread, NULL, server_main, NULL),
			 0);
}

static void
server_stop(void)
{
	srv.stop = true;
	pthread_join(srv.thread, NULL);
	close(srv.lfd);
	free(srv.root);
}

static void
server_reset(void)
{
	srv.drop_at = 0;
	srv.ignore_range = false;
	srv.slow_ms = 0;
	srv.image_gets = srv.ranged_gets = srv.requests = 0;
	srv.last_range = -1;
}

/* --- the fixture: keys, image, checksum files -------------------------- */

struct world {
	char *tmp, *root, *gnupg;
	char fpr1[41], fpr2[41];
	char *image; /* bytes of the fake image */
	char sha256[DIGEST_HEX_MAX], sha512[DIGEST_HEX_MAX];
};

static struct world w;

static char *
url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d/%s", srv.port, path);
}

/* The whole of a file (test_read's inlining confuses GCC's
 * -Wdangling-pointer). */
static char *
slurp(const char *path)
{
	char *data = NULL;
	size_t len;

	assert_int_equal(read_file(path, &data, &len), 0);
	assert_non_null(data);
	return data;
}

static void
gen_key(const char *uid, char fpr[41])
{
	CLEANUP_FREE char *out = xasprintf("%s/fpr", w.tmp);
	CLEANUP_FREE char *text = NULL;
	char *p;

	assert_int_equal(test_sh("GNUPGHOME='%s' gpg --batch --quiet "
				 "--passphrase '' --quick-gen-key '%s' ed25519 "
				 "sign never 2>/dev/null",
				 w.gnupg, uid),
			 0);
	assert_int_equal(test_sh("GNUPGHOME='%s' gpg --batch --with-colons "
				 "--list-keys '%s' > '%s' 2>/dev/null",
				 w.gnupg, uid, out),
			 0);
	text = slurp(out);
	p = strstr(text, "\nfpr:::::::::");
	assert_non_null(p);
	memcpy(fpr, p + 13, 40);
	fpr[40] = '\0';
}

/* Writes text to ROOT/name, clear-signed by fpr. */
static void
write_signed(const char *name, const char *text, const char *fpr)
{
	CLEANUP_FREE char *plain = xasprintf("%s/plain.txt", w.tmp);
	CLEANUP_FREE char *out = xasprintf("%s/%s", w.root, name);

	test_write(plain, text);
	unlink(out);
	assert_int_equal(test_sh("GNUPGHOME='%s' gpg --batch --quiet --yes "
				 "--local-user %s --clearsign -o '%s' '%s' "
				 "2>/dev/null",
				 w.gnupg, fpr, out, plain),
			 0);
}

static void
put(const char *name, const void *data, size_t len)
{
	CLEANUP_FREE char *p = path_join(w.root, name);

	assert_int_equal(write_file_atomic(p, data, len, 0644), 0);
}

static int
group_setup(void **state)
{
	CLEANUP_FREE char *sums = NULL, *wrong = NULL, *other = NULL;
	CLEANUP_FREE char *signed_other = NULL, *p = NULL, *tampered = NULL;
	CLEANUP_FREE char *deb = NULL, *json = NULL, *link = NULL;
	char *hexp;
	uint32_t x = 12345;

	(void)state;
	if (test_sh("command -v gpg >/dev/null && command -v gpgv "
		    ">/dev/null") != 0) {
		fprintf(stderr, "skip: gpg and gpgv are needed\n");
		exit(77);
	}
	w.tmp = test_mkdtemp();
	w.root = path_join(w.tmp, "www");
	w.gnupg = path_join(w.tmp, "gnupg");
	assert_int_equal(mkdir(w.root, 0755), 0);
	assert_int_equal(mkdir(w.gnupg, 0700), 0);
	server_start(w.root);

	gen_key("Test Release Key <release@test.invalid>", w.fpr1);
	gen_key("Someone Else <other@test.invalid>", w.fpr2);
	/* Both keys in one armored file, like fedora.gpg. */
	p = path_join(w.root, "keys.asc");
	assert_int_equal(test_sh("GNUPGHOME='%s' gpg --batch --armor --export "
				 "%s %s > '%s'",
				 w.gnupg, w.fpr1, w.fpr2, p),
			 0);
	free(p);
	p = path_join(w.root, "keys.gpg");
	assert_int_equal(test_sh("GNUPGHOME='%s' gpg --batch --export %s > "
				 "'%s'",
				 w.gnupg, w.fpr1, p),
			 0);

	w.image = xmalloc(IMAGE_SIZE);
	for (size_t i = 0; i < IMAGE_SIZE; i++) {
		x = x * 1103515245u + 12345u;
		w.image[i] = (char)(x >> 16);
	}
	put(IMAGE, w.image, IMAGE_SIZE);
	put(DEB_IMAGE, w.image, IMAGE_SIZE);
	digest_buffer_hex(DIGEST_SHA256, w.image, IMAGE_SIZE, w.sha256);
	digest_buffer_hex(DIGEST_SHA512, w.image, IMAGE_SIZE, w.sha512);

	sums = xasprintf("# %s: %d bytes\nSHA256 (%s) = %s\n"
			 "SHA256 (other.iso) = %064d\n",
			 IMAGE, IMAGE_SIZE, IMAGE, w.sha256, 0);
	write_signed("good-CHECKSUM", sums, w.fpr1);
	/* Fedora's own name for it, for releases.json. */
	write_signed("Fedora-Cloud-44-1.7-x86_64-CHECKSUM", sums, w.fpr1);
	write_signed("unpinned-CHECKSUM", sums, w.fpr2);
	wrong = xstrdup(sums);
	hexp = strstr(wrong, w.sha256);
	hexp[0] = hexp[0] == '0' ? '1' : '0';
	write_signed("wrong-CHECKSUM", wrong, w.fpr1);

	/* A signed file whose text was changed afterwards. */
	free(p);
	p = path_join(w.root, "good-CHECKSUM");
	tampered = slurp(p);
	hexp = strstr(tampered, w.sha256);
	hexp[1] = hexp[1] == 'a' ? 'b' : 'a';
	put("tampered-CHECKSUM", tampered, strlen(tampered));

	/* The image's line only outside the signature. */
	other = xasprintf("SHA256 (other.iso) = %064d\n", 0);
	write_signed("appended-CHECKSUM", other, w.fpr1);
	free(p);
	p = path_join(w.root, "appended-CHECKSUM");
	signed_other = slurp(p);
	free(sums);
	sums = xasprintf("%sSHA256 (%s) = %s\n", signed_other, IMAGE, w.sha256);
	put("appended-CHECKSUM", sums, strlen(sums));

	deb = xasprintf("%0128d  other.raw\n%s  %s\n", 0, w.sha512, DEB_IMAGE);
	put("SHA512SUMS", deb, strlen(deb));

	link = url("pub/44/" IMAGE);
	json = xasprintf(
		"[{\"version\": \"43\", \"arch\": \"x86_64\", \"link\": "
		"\"http://127.0.0.1:%d/pub/43/x.qcow2\", \"variant\": "
		"\"Cloud\", \"subvariant\": \"Cloud_Base\", \"sha256\": "
		"\"%064d\", \"size\": \"1\"},\n"
		" {\"version\": \"44\", \"arch\": \"x86_64\", \"link\": "
		"\"%s\", \"variant\": \"Cloud\", \"subvariant\": "
		"\"Cloud_Base\", \"sha256\": \"%s\", \"size\": \"%d\"},\n"
		" {\"version\": \"44\", \"arch\": \"aarch64\", \"link\": "
		"\"http://127.0.0.1:%d/pub/44/a.qcow2\", \"variant\": "
		"\"Cloud\", \"subvariant\": \"Cloud_Base\", \"sha256\": "
		"\"%064d\", \"size\": \"1\"},\n"
		" {\"version\": \"45 Beta\", \"arch\": \"x86_64\", \"link\": "
		"\"http://127.0.0.1:%d/pub/45/b.qcow2\", \"variant\": "
		"\"Cloud\", \"subvariant\": \"Cloud_Base\", \"sha256\": "
		"\"%064d\", \"size\": \"1\"}]\n",
		srv.port, 0, link, w.sha256, IMAGE_SIZE, srv.port, 0, srv.port,
		0);
	put("releases.json", json, strlen(json));
	/* The same list, lying about the image's sha256. */
	hexp = strstr(json, w.sha256);
	hexp[0] = hexp[0] == '0' ? '1' : '0';
	put("releases-bad.json", json, strlen(json));
	free(p);
	p = path_join(w.root, "pub");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = path_join(w.root, "pub/44");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = xasprintf("%s/pub/44/%s", w.root, IMAGE);
	assert_int_equal(write_file_atomic(p, w.image, IMAGE_SIZE, 0644), 0);
	assert_int_equal(test_sh("cp '%s/Fedora-Cloud-44-1.7-x86_64-CHECKSUM' "
				 "'%s/pub/44/'",
				 w.root, w.root),
			 0);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	server_stop();
	test_sh("GNUPGHOME='%s' gpgconf --kill gpg-agent 2>/dev/null", w.gnupg);
	free(w.image);
	free(w.root);
	free(w.gnupg);
	test_rmdir(w.tmp);
	return 0;
}

/* Per test: a fresh cache and a server in its default mode. */
struct t {
	char *cache;
	struct fetch_ctx *ctx;
};

static int
setup(void **state)
{
	struct t *t = xcalloc(1, sizeof(*t));

	server_reset();
	t->cache = test_mkdtemp();
	t->ctx = fetch_ctx_new(t->cache, FETCH_ALLOW_HTTP);
	fetch_ctx_set_stall_timeout(t->ctx, 10);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	fetch_ctx_free(t->ctx);
	test_rmdir(t->cache);
	free(t);
	return 0;
}

/* A Fedora-like base on the test server. */
static void
fedora_base(struct base *b, const char *image_path, const char *sums)
{
	memset(b, 0, sizeof(*b));
	b->name = xstrdup("fedora-test");
	b->distro = DISTRO_FEDORA;
	b->url = url(image_path);
	b->checksum_url = url(sums);
	b->key_fingerprint = xstrdup(w.fpr1);
	b->key_url = url("keys.asc");
}

static void
base_clear(struct base *b)
{
	free(b->name);
	free(b->url);
	free(b->checksum_url);
	free(b->checksum);
	free(b->key_fingerprint);
	free(b->key_url);
}

static char *
final_path(const struct t *t, const char *alg, const char *hex,
	   const char *file)
{
	return xasprintf("%s/%s/%s/%s", t->cache, alg, hex, file);
}

static bool
present(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
assert_image(const char *path)
{
	char *data;
	size_t len;

	assert_int_equal(read_file(path, &data, &len), 0);
	assert_int_equal(len, IMAGE_SIZE);
	assert_memory_equal(data, w.image, IMAGE_SIZE);
	free(data);
}

/* Nothing but the final file and the lock in the image's directory. */
static void
assert_clean_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		assert_true(strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0 ||
			    strcmp(e->d_name, ".lock") == 0 ||
			    strcmp(e->d_name, IMAGE) == 0 ||
			    strcmp(e->d_name, DEB_IMAGE) == 0);
	closedir(d);
}

static void
resolve_ok(struct t *t, struct base *b, struct fetch_pin *pin)
{
	int r = fetch_resolve(t->ctx, b, pin);

	if (r < 0)
		fprintf(stderr, "resolve: %s\n", fetch_error(t->ctx));
	assert_int_equal(r, 0);
}

/* --- cases ------------------------------------------------------------- */

static void
test_good_download(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin;
	CLEANUP_FREE char *path = NULL, *path2 = NULL, *want = NULL;
	CLEANUP_FREE char *sum = xasprintf("sha256:%s", w.sha256);
	bool dl = false;

	fedora_base(&b, IMAGE, "good-CHECKSUM");
	resolve_ok(t, &b, &pin);
	assert_string_equal(pin.checksum, sum);
	assert_string_equal(pin.file, IMAGE);
	assert_string_equal(pin.url, b.url);
	assert_int_equal(pin.size, IMAGE_SIZE);
	assert_string_equal(pin.key_fingerprint, w.fpr1);

	assert_int_equal(fetch_image(t->ctx, &pin, &path, &dl), 0);
	assert_true(dl);
	want = final_path(t, "sha256", w.sha256, IMAGE);
	assert_string_equal(path, want);
	assert_image(path);
	assert_int_equal(srv.image_gets, 1);
	assert_int_equal(srv.ranged_gets, 0);
	*strrchr(want, '/') = '\0';
	assert_clean_dir(want);

	/* A second fetch reuses the cache. */
	assert_int_equal(fetch_image(t->ctx, &pin, &path2, &dl), 0);
	assert_false(dl);
	assert_string_equal(path2, path);
	assert_int_equal(srv.image_gets, 1);
	assert_string_equal(fetch_error(t->ctx), "");
	fetch_pin_clear(&pin);
	base_clear(&b);
}

static void
test_recipe_pin_agrees(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin;

	/* A recipe pin that agrees with the signed file passes... */
	fedora_base(&b, IMAGE, "good-CHECKSUM");
	b.checksum = xasprintf("sha256:%s", w.sha256);
	resolve_ok(t, &b, &pin);
	fetch_pin_clear(&pin);
	/* ...one that disagrees fails. */
	b.checksum[7] = b.checksum[7] == '0' ? '1' : '0';
	assert_int_equal(fetch_resolve(t->ctx, &b, &pin), -EBADMSG);
	assert_non_null(strstr(fetch_error(t->ctx), "pins"));
	base_clear(&b);
}

static void
test_wrong_checksum(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin;
	CLEANUP_FREE char *path = NULL, *fin = NULL, *part = NULL;

	fedora_base(&b, IMAGE, "wrong-CHECKSUM");
	resolve_ok(t, &b, &pin);
	assert_int_equal(fetch_image(t->ctx, &pin, &path, NULL), -EBADMSG);
	assert_null(path);
	assert_non_null(strstr(fetch_error(t->ctx), "checksum mismatch"));
	assert_non_null(strstr(fetch_error(t->ctx), w.sha256));
	fin = final_path(t, "sha256", pin.checksum + 7, IMAGE);
	part = xasprintf("%s.part", fin);
	assert_false(present(fin));
	assert_false(present(part));
	assert_int_equal(srv.image_gets, 1);
	fetch_pin_clear(&pin);
	base_clear(&b);
}

static void
test_larger_than_pinned(void **state)
{
	struct t *t = *state;
	struct fetch_pin pin = {0};
	CLEANUP_FREE char *path = NULL, *fin = NULL, *part = NULL;

	pin.url = url(IMAGE);
	pin.file = xstrdup(IMAGE);
	pin.size = IMAGE_SIZE - 1000;
	pin.checksum = xasprintf("sha256:%s", w.sha256);
	assert_int_equal(fetch_image(t->ctx, &pin, &path, NULL), -EFBIG);
	assert_non_null(strstr(fetch_error(t->ctx), "larger than the pinned"));
	fin = final_path(t, "sha256", w.sha256, IMAGE);
	part = xasprintf("%s.part", fin);
	assert_false(present(fin));
	assert_false(present(part));
	fetch_pin_clear(&pin);
}

static void
test_bad_signature(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin = {0};

	fedora_base(&b, IMAGE, "tampered-CHECKSUM");
	assert_int_equal(fetch_resolve(t->ctx, &b, &pin), -EKEYREJECTED);
	assert_non_null(strstr(fetch_error(t->ctx), "bad"));
	assert_null(pin.checksum);
	assert_int_equal(srv.image_gets, 0);
	base_clear(&b);
}

static void
test_unpinned_key(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin = {0};

	/* A good signature, by a key in the keyring that is not pinned. */
	fedora_base(&b, IMAGE, "unpinned-CHECKSUM");
	assert_int_equal(fetch_resolve(t->ctx, &b, &pin), -EKEYREJECTED);
	assert_non_null(strstr(fetch_error(t->ctx), w.fpr2));
	assert_non_null(strstr(fetch_error(t->ctx), "not by the pinned key"));
	base_clear(&b);

	/* A binary keyring without the signer's key. */
	fedora_base(&b, IMAGE, "unpinned-CHECKSUM");
	free(b.key_url);
	b.key_url = url("keys.gpg");
	assert_int_equal(fetch_resolve(t->ctx, &b, &pin), -EKEYREJECTED);
	assert_non_null(strstr(fetch_error(t->ctx), "not in the keyring"));
	base_clear(&b);

	/* Pinning the other key makes the same file trusted. */
	fedora_base(&b, IMAGE, "unpinned-CHECKSUM");
	memcpy(b.key_fingerprint, w.fpr2, 40);
	resolve_ok(t, &b, &pin);
	fetch_pin_clear(&pin);
	base_clear(&b);
}

static void
test_unsigned_lines_ignored(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin = {0};

	fedora_base(&b, IMAGE, "appended-CHECKSUM");
	assert_int_equal(fetch_resolve(t->ctx, &b, &pin), -ENOENT);
	assert_non_null(strstr(fetch_error(t->ctx), "has no checksum"));
	base_clear(&b);
}

static void
test_fedora_needs_key(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin = {0};

	fedora_base(&b, IMAGE, "good-CHECKSUM");
	free(b.key_fingerprint);
	b.key_fingerprint = NULL;
	assert_int_equal(fetch_resolve(t->ctx, &b, &pin), -EINVAL);
	assert_int_equal(srv.requests, 0);
	base_clear(&b);
}

static void
test_resume_after_drop(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin;
	CLEANUP_FREE char *path = NULL, *fin = NULL, *part = NULL;
	bool dl = false;

	fedora_base(&b, IMAGE, "good-CHECKSUM");
	resolve_ok(t, &b, &pin);
	fin = final_path(t, "sha256", w.sha256, IMAGE);
	part = xasprintf("%s.part", fin);

	srv.drop_at = 100000;
	assert_int_equal(fetch_image(t->ctx, &pin, &path, NULL), -ECONNRESET);
	assert_null(path);
	assert_false(present(fin));
	assert_int_equal(size_of(part), 100000);

	assert_int_equal(fetch_image(t->ctx, &pin, &path, &dl), 0);
	assert_true(dl);
	assert_int_equal(srv.image_gets, 2);
	assert_int_equal(srv.ranged_gets, 1);
	assert_int_equal(srv.last_range, 100000);
	assert_image(path);
	assert_false(present(part));
	fetch_pin_clear(&pin);
	base_clear(&b);
}

static void
test_server_ignores_range(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin;
	CLEANUP_FREE char *path = NULL, *fin = NULL, *part = NULL;
	CLEANUP_FREE char *dir = NULL;
	char junk[5000];

	fedora_base(&b, IMAGE, "good-CHECKSUM");
	resolve_ok(t, &b, &pin);
	fin = final_path(t, "sha256", w.sha256, IMAGE);
	part = xasprintf("%s.part", fin);
	dir = xstrndup(fin, (size_t)(strrchr(fin, '/') - fin));
	assert_int_equal(mkdir_p(dir, 0755), 0);
	/* A .part that does not even match: only a clean restart works. */
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(write_file_atomic(part, junk, sizeof(junk), 0644), 0);

	srv.ignore_range = true;
	assert_int_equal(fetch_image(t->ctx, &pin, &path, NULL), 0);
	assert_int_equal(srv.ranged_gets, 1);
	assert_int_equal(srv.image_gets, 1);
	assert_image(path);
	assert_false(present(part));
	fetch_pin_clear(&pin);
	base_clear(&b);
}

static void
test_stale_part_bad_range(void **state)
{
	struct t *t = *state;
	struct fetch_pin pin = {0};
	CLEANUP_FREE char *path = NULL, *fin = NULL, *part = NULL;
	CLEANUP_FREE char *dir = NULL;
	CLEANUP_FREE char *big = xcalloc(1, IMAGE_SIZE + 10);

	/* Size unknown, .part longer than the file: the server answers
	 * 416, the download restarts. */
	pin.url = url(IMAGE);
	pin.file = xstrdup(IMAGE);
	pin.checksum = xasprintf("sha256:%s", w.sha256);
	fin = final_path(t, "sha256", w.sha256, IMAGE);
	part = xasprintf("%s.part", fin);
	dir = xstrndup(fin, (size_t)(strrchr(fin, '/') - fin));
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_int_equal(write_file_atomic(part, big, IMAGE_SIZE + 10, 0644),
			 0);
	assert_int_equal(fetch_image(t->ctx, &pin, &path, NULL), 0);
	assert_image(path);
	assert_int_equal(srv.image_gets, 2);
	fetch_pin_clear(&pin);
}

static void
test_not_found(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin = {0};
	CLEANUP_FREE char *path = NULL, *fin = NULL, *part = NULL;

	/* The checksum file is missing. */
	fedora_base(&b, IMAGE, "no-such-CHECKSUM");
	assert_int_equal(fetch_resolve(t->ctx, &b, &pin), -ENOENT);
	assert_non_null(strstr(fetch_error(t->ctx), "404"));
	base_clear(&b);

	/* The image is missing. */
	pin.url = url("gone.qcow2");
	pin.file = xstrdup("gone.qcow2");
	pin.checksum = xasprintf("sha256:%s", w.sha256);
	assert_int_equal(fetch_image(t->ctx, &pin, &path, NULL), -ENOENT);
	assert_non_null(strstr(fetch_error(t->ctx), "404"));
	fin = final_path(t, "sha256", w.sha256, "gone.qcow2");
	part = xasprintf("%s.part", fin);
	assert_false(present(fin));
	assert_false(present(part));
	fetch_pin_clear(&pin);
}

static void
test_redirect(void **state)
{
	struct t *t = *state;
	struct base b;
	struct fetch_pin pin;
	CLEANUP_FREE char *path = NULL;

	fedora_base(&b, "redir/" IMAGE, "redir/good-CHECKSUM");
	free(b.key_url);
	b.key_url = url("redir/keys.asc");
	resolve_ok(t, &b, &pin);
	assert_string_equal(pin.file, IMAGE);
	assert_int_equal(fetch_image(t->ctx, &pin, &path, NULL), 0);
	assert_image(path);
	assert_int_equal(srv.image_gets, 1);
	fetch_pin_clear(&pin);
	base_clear(&b);
}

static void
test_plain_http_refused(void **state)
{
	struct t *t = *state;
	struct fetch_ctx *strict = fetch_ctx_new(t->cache, 0);
	struct base b;
	struct fetch_pin pin = {0};
	CLEANUP_FREE char *path = NULL;

	fedora_base(&b, IMAGE, "good-CHECKSUM");
	assert_int_equal(fetch_resolve(strict, &b, &pin), -EPERM);
	assert_non_null(strstr(fetch_error(strict), "--allow-http"));
	pin.url = url(IMAGE);
	pin.file = xstrdup(IMAGE);
	pin.checksum = xasprintf("sha256:%s", w.sha256);
	assert_int_equal(fetch_image(strict, &pin, &path, NULL), -EPERM);
	assert_int_equal(srv.requests, 0);
	fetch_pin_clear(&pin);
	base_clear(&b);
	fetch_ctx_free(strict);
}

static void
test_offline(void **state)
{
	struct t *t = *state;
	struct fetch_ctx *off =
		fetch_ctx_new(t->cache, FETCH_OFFLINE | FETCH_ALLOW_HTTP);
	struct base b;
	struct fetch_pin pin = {0}, rpin = {0};
	CLEANUP_FREE char *path = NULL, *path2 = NULL;
	bool dl = true;

	pin.url = url(IMAGE);
	pin.file = xstrdup(IMAGE);
	pin.checksum = xasprintf("sha256:%s", w.sha256);

	/* Empty cache: fails, naming the file, without a connection. */
	assert_int_equal(fetch_image(off, &pin, &path, NULL), -ENOENT);
	assert_non_null(strstr(fetch_error(off), IMAGE));
	assert_non_null(strstr(fetch_error(off), "not in the cache"));
	/* Resolving needs the network unless the recipe pins a checksum. */
	fedora_base(&b, IMAGE, "good-CHECKSUM");
	assert_int_equal(fetch_resolve(off, &b, &rpin), -ENETUNREACH);
	b.checksum = xasprintf("sha256:%s", w.sha256);
	assert_int_equal(fetch_resolve(off, &b, &rpin), 0);
	assert_string_equal(rpin.checksum, b.checksum);
	assert_int_equal(srv.requests, 0);

	/* Once cached, offline works. */
	assert_int_equal(fetch_image(t->ctx, &pin, &path, NULL), 0);
	assert_int_equal(srv.requests, 1);
	assert_int_equal(fetch_image(off, &pin, &path2, &dl), 0);
	assert_false(dl);
	assert_string_equal(path2, path);
	assert_int_equal(srv.requests, 1);

	fetch_pin_clear(&pin);
	fetch_pin_clear(&rpin);
	base_clear(&b);
	fetch_ctx_free(off);
}

static void
test_import(void **state)
{
	struct t *t = *state;
	struct fetch_ctx *off = fetch_ctx_new(t->cache, FETCH_OFFLINE);
	struct fetch_pin pin = {0};
	CLEANUP_FREE char *src = path_join(t->cache, "copied.qcow2");
	CLEANUP_FREE char *path = NULL, *fin = NULL, *dir = NULL;
	CLEANUP_FREE char *bad = xmalloc(IMAGE_SIZE);

	pin.url = xstrdup("https://example.invalid/" IMAGE);
	pin.file = xstrdup(IMAGE);
	pin.size = IMAGE_SIZE;
	pin.checksum = xasprintf("sha256:%s", w.sha256);
	fin = final_path(t, "sha256", w.sha256, IMAGE);
	dir = xstrndup(fin, (size_t)(strrchr(fin, '/') - fin));

	/* A corrupted copy is refused and leaves nothing behind. */
	memcpy(bad, w.image, IMAGE_SIZE);
	bad[IMAGE_SIZE / 2] ^= 1;
	assert_int_equal(write_file_atomic(src, bad, IMAGE_SIZE, 0644), 0);
	assert_int_equal(fetch_import(off, &pin, src, &path), -EBADMSG);
	assert_null(path);
	assert_false(present(fin));
	assert_clean_dir(dir);

	assert_int_equal(write_file_atomic(src, w.image, IMAGE_SIZE, 0644), 0);
	assert_int_equal(fetch_import(off, &pin, src, &path), 0);
	assert_string_equal(path, fin);
	assert_image(path);
	assert_clean_dir(dir);
	free(path);
	path = NULL;
	/* Now an offline fetch finds it. */
	assert_int_equal(fetch_image(off, &pin, &path, NULL), 0);
	assert_int_equal(srv.requests, 0);
	/* A missing source is an error, not a crash. */
	free(path);
	path = NULL;
	assert_int_equal(fetch_import(off, &pin, "/nonexistent/x", &path),
			 -ENOENT);
	fetch_pin_clear(&pin);
	fetch_ctx_free(off);
}

static void
test_concurrent(void **state)
{
	struct t *t = *state;
	struct fetch_pin pin = {0};
	CLEANUP_FREE char *fin = NULL, *dir = NULL;
	int go[2], status, results[2];
	pid_t pids[2];

	pin.url = url(IMAGE);
	pin.file = xstrdup(IMAGE);
	pin.checksum = xasprintf("sha256:%s", w.sha256);
	srv.slow_ms = 5; /* ~0.2 s per download */
	assert_int_equal(pipe(go), 0);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct fetch_ctx *c =
				fetch_ctx_new(t->cache, FETCH_ALLOW_HTTP);
			char *path = NULL, ch;
			bool dl = false;
			int r;

			close(go[1]);
			while (read(go[0], &ch, 1) < 0 && errno == EINTR)
				;
			r = fetch_image(c, &pin, &path, &dl);
			if (r < 0)
				_exit(10);
			_exit(dl ? 0 : 1);
		}
	}
	close(go[0]);
	close(go[1]); /* both start now */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		results[i] = WEXITSTATUS(status);
	}
	/* One downloaded, the other waited and reused it. */
	assert_int_equal(results[0] + results[1], 1);
	assert_int_equal(srv.image_gets, 1);
	fin = final_path(t, "sha256", w.sha256, IMAGE);
	assert_image(fin);
	dir = xstrndup(fin, (size_t)(strrchr(fin, '/') - fin));
	assert_clean_dir(dir);
	fetch_pin_clear(&pin);
}

static void
test_debian_sha512(void **state)
{
	struct t *t = *state;
	struct base b = {0};
	struct fetch_pin pin;
	CLEANUP_FREE char *path = NULL, *want = NULL;
	CLEANUP_FREE char *sum = xasprintf("sha512:%s", w.sha512);

	b.name = xstrdup("debian-test");
	b.distro = DISTRO_DEBIAN;
	b.url = url(DEB_IMAGE);
	b.checksum_url = url("SHA512SUMS");
	resolve_ok(t, &b, &pin);
	assert_string_equal(pin.checksum, sum);
	assert_null(pin.key_fingerprint);
	assert_int_equal(pin.size, 0);
	assert_int_equal(fetch_image(t->ctx, &pin, &path, NULL), 0);
	want = final_path(t, "sha512", w.sha512, DEB_IMAGE);
	assert_string_equal(path, want);
	assert_image(path);
	fetch_pin_clear(&pin);
	base_clear(&b);
}

static void
test_file_url(void **state)
{
	struct t *t = *state;
	struct fetch_ctx *strict = fetch_ctx_new(t->cache, FETCH_OFFLINE);
	struct base b = {0};
	struct fetch_pin pin;
	CLEANUP_FREE char *path = NULL;

	/* file:// works without --allow-http, even offline, resume too. */
	b.name = xstrdup("local");
	b.distro = DISTRO_FEDORA;
	b.url = xasprintf("file://%s/%s", w.root, IMAGE);
	b.checksum_url = xasprintf("file://%s/good-CHECKSUM", w.root);
	b.key_fingerprint = xstrdup(w.fpr1);
	b.key_url = xstrdup("keys.asc"); /* relative to the project */
	fetch_ctx_set_dir(t->ctx, w.root);
	resolve_ok(t, &b, &pin);
	assert_int_equal(fetch_image(strict, &pin, &path, NULL), 0);
	assert_image(path);
	assert_int_equal(srv.requests, 0);
	fetch_pin_clear(&pin);
	base_clear(&b);
	fetch_ctx_free(strict);
}

static void
test_fedora_release(void **state)
{
	struct t *t = *state;
	struct fetch_pin pin = {0};
	CLEANUP_FREE char *rel = url("releases.json");
	CLEANUP_FREE char *bad = url("releases-bad.json");
	CLEANUP_FREE char *keys = url("keys.asc");
	CLEANUP_FREE char *img = url("pub/44/" IMAGE);
	CLEANUP_FREE char *path = NULL;

	assert_int_equal(fetch_fedora_release(t->ctx, rel, "44", "x86_64", keys,
					      w.fpr1, &pin),
			 0);
	assert_string_equal(pin.url, img);
	assert_string_equal(pin.file, IMAGE);
	assert_int_equal(pin.size, IMAGE_SIZE);
	assert_string_equal(pin.key_fingerprint, w.fpr1);
	assert_int_equal(fetch_image(t->ctx, &pin, &path, NULL), 0);
	assert_image(path);
	fetch_pin_clear(&pin);

	/* NULL: the newest numeric release, 44 here ("45 Beta" is not). */
	assert_int_equal(fetch_fedora_release(t->ctx, rel, NULL, "x86_64", keys,
					      w.fpr1, &pin),
			 0);
	assert_string_equal(pin.url, img);
	fetch_pin_clear(&pin);

	/* The new release's key is not pinned. */
	assert_int_equal(fetch_fedora_release(t->ctx, rel, "44", "x86_64", keys,
					      w.fpr2, &pin),
			 -EKEYREJECTED);
	/* releases.json and the signed CHECKSUM disagree. */
	assert_int_equal(fetch_fedora_release(t->ctx, bad, "44", "x86_64", keys,
					      w.fpr1, &pin),
			 -EBADMSG);
	/* No such release. */
	assert_int_equal(fetch_fedora_release(t->ctx, rel, "99", "x86_64", keys,
					      w.fpr1, &pin),
			 -ENOENT);
}

static void
test_releases_json_fixture(void **state)
{
	CLEANUP_FREE char *json = NULL, *v = NULL, *link = NULL, *sha = NULL;
	size_t len;

	(void)state;
	/* A sample shaped like fedoraproject.org/releases.json. */
	assert_int_equal(
		read_file(TEST_FIXTURES "/fetch/releases.json", &json, &len),
		0);
	assert_int_equal(
		fedora_release_find(json, len, "44", "x86_64", &v, &link, &sha),
		0);
	assert_string_equal(v, "44");
	assert_string_equal(link, "https://download.fedoraproject.org/pub/"
				  "fedora/linux/releases/44/Cloud/x86_64/"
				  "images/Fedora-Cloud-Base-Generic-44-1.7."
				  "x86_64.qcow2");
	assert_string_equal(sha, "28680fe5b371a5a82ebf43a31926e086a168e5994"
				 "9d03969c5093e7071f90b7f");
	free(v);
	free(link);
	free(sha);
	assert_int_equal(fedora_release_find(json, len, NULL, "aarch64", &v,
					     &link, &sha),
			 0);
	assert_string_equal(v, "44");
	assert_non_null(strstr(link, "aarch64"));
	free(v);
	free(link);
	free(sha);
	v = link = sha = NULL;
	assert_int_equal(
		fedora_release_find(json, len, "42", "x86_64", &v, &link, &sha),
		-ENOENT);
	assert_int_equal(fedora_release_find("{\"a\": 1}", 8, "44", "x86_64",
					     &v, &link, &sha),
			 -EINVAL);
	assert_int_equal(
		fedora_release_find("[{", 2, "44", "x86_64", &v, &link, &sha),
		-EINVAL);
}

static void
test_cache_dir(void **state)
{
	char *d = NULL;

	(void)state;
	assert_int_equal(fetch_cache_dir("/x/y", &d), 0);
	assert_string_equal(d, "/x/y");
	free(d);
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	assert_int_equal(fetch_cache_dir(NULL, &d), 0);
	assert_string_equal(d, "/xdg/sbx-build");
	free(d);
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/home/u", 1);
	assert_int_equal(fetch_cache_dir(NULL, &d), 0);
	assert_string_equal(d, "/home/u/.cache/sbx-build");
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_download, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recipe_pin_agrees, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_checksum, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_larger_than_pinned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_signature, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unpinned_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unsigned_lines_ignored,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fedora_needs_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resume_after_drop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_server_ignores_range,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_part_bad_range,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_redirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_http_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_offline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_debian_sha512, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fedora_release, setup,
						teardown),
		cmocka_unit_test(test_releases_json_fixture),
		cmocka_unit_test(test_cache_dir),
	};

	/* No progress bars in test output. */
	progress_enable(false);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
