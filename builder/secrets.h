/* Secrets the build generates (user passwords, service passwords): kept
 * under out/secrets/VM/ (directories 0700, files 0600, written
 * atomically), generated from getrandom(2) the first time and reused
 * afterwards.  And password hashing through libxcrypt (yescrypt); this is
 * the only module that uses libxcrypt. */
#ifndef SBX_SECRETS_H
#define SBX_SECRETS_H

#include <stddef.h>

#include "render.h"

struct vm;

struct secret_store {
	struct render_secret *v; /* names and values owned by the store */
	size_t n;
};

/* Every secret vm needs, in recipe order: "user:NAME" for each user with
 * 'password: random', then each service secret (by its name).  Reads
 * DIR/VM/FILE (FILE: the name with ':' as '-'), or generates and writes
 * it when missing and the recipe lets the build generate it.  A file
 * readable by others is refused (-EPERM); a secret that must not be
 * generated and is missing gives -ENOENT.  On failure *ret_path (if not
 * NULL) names the file at fault; free it. */
int secrets_load(const char *dir, const struct vm *vm, struct secret_store *ret,
		 char **ret_path);
void secret_store_release(struct secret_store *s);
/* The value of a secret, or NULL. */
const char *secret_store_get(const struct secret_store *s, const char *name);
/* The file name of a secret under DIR/VM/. */
char *secret_file_name(const char *name);

/* A random password: 24 characters of [A-Za-z0-9] (~142 bits). */
int secret_random_password(char **ret);

/* A yescrypt hash ("$y$...") of password with a fresh random salt. */
int password_hash(const char *password, char **ret);
/* 0 when password matches hash, -EACCES when not, -EINVAL for a hash
 * libxcrypt cannot use. */
int password_verify(const char *password, const char *hash);

#endif
