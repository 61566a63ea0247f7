/* Secrets under out/secrets/ and password hashes (libxcrypt). */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recipe.h"
#include "secrets.h"
#include "util.h"

#define PASSWORD_LEN 24

static int
random_bytes(void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
secret_random_password(char **ret)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz"
				  "0123456789";
	char *pw = xmalloc(PASSWORD_LEN + 1);
	size_t n = 0;

	while (n < PASSWORD_LEN) {
		unsigned char b[32];
		int r = random_bytes(b, sizeof(b));

		if (r < 0) {
			free(pw);
			return r;
		}
		/* Rejection sampling: 248 = 4 * 62, no modulo bias. */
		for (size_t i = 0; i < sizeof(b) && n < PASSWORD_LEN; i++)
			if (b[i] < 248)
				pw[n++] = set[b[i] % 62];
	}
	pw[n] = '\0';
	*ret = pw;
	return 0;
}

int
password_hash(const char *password, char **ret)
{
	struct crypt_data *cd;
	char *salt;
	char *h;
	int r = 0;

	errno = 0;
	/* NULL random bytes: libxcrypt takes them from the OS. */
	salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (salt == NULL)
		return errno ? -errno : -EINVAL;
	cd = xcalloc(1, sizeof(*cd));
	errno = 0;
	h = crypt_r(password, salt, cd);
	if (h == NULL || h[0] == '*')
		r = errno ? -errno : -EINVAL;
	else
		*ret = xstrdup(h);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	free(salt);
	return r;
}

int
password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *h = crypt_r(password, hash, cd);
	int r;

	if (h == NULL || h[0] == '*')
		r = -EINVAL;
	else
		r = strcmp(h, hash) == 0 ? 0 : -EACCES;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

char *
secret_file_name(const char *name)
{
	char *s = xstrdup(name);

	for (char *p = s; *p; p++)
		if (*p == ':' || *p == '/')
			*p = '-';
	return s;
}

void
secret_store_release(struct secret_store *s)
{
	for (size_t i = 0; i < s->n; i++) {
		char *v = (char *)s->v[i].value;

		explicit_bzero(v, strlen(v));
		free(v);
		free((char *)s->v[i].name);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

const char *
secret_store_get(const struct secret_store *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return s->v[i].value;
	return NULL;
}

static int
ensure_private_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((st.st_mode & 077) != 0 && chmod(path, 0700) < 0)
		return -errno;
	return 0;
}

/* Reads one secret: the first line, without its newline. */
static int
read_secret(const char *path, char **ret)
{
	struct stat st;
	char *data;
	size_t len;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((st.st_mode & 077) != 0)
		return -EPERM;
	r = read_file(path, &data, &len);
	if (r < 0)
		return r;
	data[strcspn(data, "\r\n")] = '\0';
	if (data[0] == '\0') {
		free(data);
		return -ENODATA;
	}
	*ret = data;
	return 0;
}

static int
load_one(const char *vmdir, const char *name, bool generate, char **ret,
	 char **ret_path)
{
	CLEANUP_FREE char *file = secret_file_name(name);
	char *path = path_join(vmdir, file);
	char *v = NULL;
	int r;

	r = read_secret(path, &v);
	if (r == -ENOENT && generate) {
		CLEANUP_FREE char *line = NULL;

		r = secret_random_password(&v);
		if (r == 0) {
			line = xasprintf("%s\n", v);
			r = write_file_atomic(path, line, strlen(line), 0600);
			explicit_bzero(line, strlen(line));
		}
		if (r < 0 && v != NULL) {
			explicit_bzero(v, strlen(v));
			free(v);
		}
	}
	if (r < 0) {
		*ret_path = path;
		return r;
	}
	free(path);
	*ret = v;
	return 0;
}

static void
store_add(struct secret_store *s, size_t *cap, const char *name, char *value)
{
	s->v = xgrow(s->v, cap, s->n + 1, sizeof(*s->v));
	s->v[s->n].name = xstrdup(name);
	s->v[s->n].value = value;
	s->n++;
}

int
secrets_load(const char *dir, const struct vm *vm, struct secret_store *ret,
	     char **ret_path)
{
	struct secret_store s = {0};
	CLEANUP_FREE char *vmdir = path_join(dir, vm->name);
	char *bad = NULL;
	size_t cap = 0;
	int r;

	r = mkdir_p(dir, 0700);
	if (r == 0)
		r = ensure_private_dir(dir);
	if (r < 0) {
		bad = xstrdup(dir);
		goto out;
	}
	r = ensure_private_dir(vmdir);
	if (r < 0) {
		bad = xstrdup(vmdir);
		goto out;
	}
	for (size_t i = 0; i < vm->nusers && r == 0; i++) {
		const struct user *u = &vm->users[i];
		CLEANUP_FREE char *name = NULL;
		char *v;

		if (u->password != PASSWORD_RANDOM)
			continue;
		name = xasprintf(RENDER_SECRET_USER "%s", u->name);
		r = load_one(vmdir, name, true, &v, &bad);
		if (r == 0)
			store_add(&s, &cap, name, v);
	}
	for (size_t i = 0; i < vm->nservices && r == 0; i++) {
		const struct service *svc = &vm->services[i];

		for (size_t j = 0; j < svc->nsecrets && r == 0; j++) {
			const struct secret *sec = &svc->secrets[j];
			char *v;

			if (secret_store_get(&s, sec->name) != NULL)
				continue;
			r = load_one(vmdir, sec->name, sec->generate, &v, &bad);
			if (r == 0)
				store_add(&s, &cap, sec->name, v);
		}
	}
out:
	if (r < 0) {
		secret_store_release(&s);
		if (ret_path != NULL)
			*ret_path = bad;
		else
			free(bad);
		return r;
	}
	*ret = s;
	return 0;
}
