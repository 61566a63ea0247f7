/* secrets: out/secrets/ generated once (0700 directories, 0600 files),
 * reused, refused when others can read them; yescrypt hashes that
 * libxcrypt verifies. */
#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>

#include "testutil.h"

#include "recipe.h"
#include "secrets.h"

static struct recipe_set *
load(void)
{
	struct recipe_set *set = NULL;
	struct diag_list *d = NULL;

	assert_int_equal(recipe_set_load(".", &set, &d), 0);
	diag_list_free(d);
	return set;
}

static unsigned
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
test_generate_and_reuse(void **state)
{
	struct recipe_set *set = load();
	const struct vm *vm = recipe_find_vm(set, "proxy");
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *sd = path_join(dir, "out/secrets");
	CLEANUP_FREE char *pw = path_join(sd, "proxy/user-sbx");
	CLEANUP_FREE char *ph = path_join(sd, "proxy/pihole-password");
	CLEANUP_FREE char *first = NULL;
	struct secret_store s, s2;
	const char *v;

	(void)state;
	assert_int_equal(secrets_load(sd, vm, &s, NULL), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].name, "user:sbx");
	assert_string_equal(s.v[1].name, "pihole-password");
	v = secret_store_get(&s, "pihole-password");
	assert_non_null(v);
	assert_int_equal(strlen(v), 24);
	assert_string_not_equal(v, "admin");
	assert_string_not_equal(v, secret_store_get(&s, "user:sbx"));
	assert_int_equal(mode_of(sd), 0700);
	{
		CLEANUP_FREE char *pd = path_join(sd, "proxy");

		assert_int_equal(mode_of(pd), 0700);
	}
	assert_int_equal(mode_of(pw), 0600);
	assert_int_equal(mode_of(ph), 0600);
	first = test_read(ph);
	assert_int_equal(strlen(first), 25); /* value + newline */
	assert_int_equal(first[24], '\n');

	/* Reused, not regenerated. */
	assert_int_equal(secrets_load(sd, vm, &s2, NULL), 0);
	assert_string_equal(secret_store_get(&s2, "pihole-password"), v);
	assert_string_equal(secret_store_get(&s2, "user:sbx"),
			    secret_store_get(&s, "user:sbx"));
	secret_store_release(&s2);
	secret_store_release(&s);
	test_rmdir(dir);
	recipe_set_free(set);
}

static void
test_refuse_readable(void **state)
{
	struct recipe_set *set = load();
	const struct vm *vm = recipe_find_vm(set, "dev");
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *sd = path_join(dir, "secrets");
	CLEANUP_FREE char *pw = path_join(sd, "dev/user-dev");
	struct secret_store s;
	char *bad = NULL;

	(void)state;
	assert_int_equal(secrets_load(sd, vm, &s, NULL), 0);
	secret_store_release(&s);
	assert_int_equal(chmod(pw, 0644), 0);
	assert_int_equal(secrets_load(sd, vm, &s, &bad), -EPERM);
	assert_string_equal(bad, pw);
	free(bad);
	/* An empty file is no secret either. */
	assert_int_equal(chmod(pw, 0600), 0);
	assert_int_equal(truncate(pw, 0), 0);
	assert_int_equal(secrets_load(sd, vm, &s, &bad), -ENODATA);
	free(bad);
	test_rmdir(dir);
	recipe_set_free(set);
}

static void
test_not_generated(void **state)
{
	struct recipe_set *set = NULL;
	struct diag_list *d = NULL;
	char *text = test_read("recipes/proxy.yaml");
	char *at = strstr(text, "env: FTLCONF_webserver_api_password");
	char *edited;
	const char *names[2] = {"recipes/bases.yaml", "recipes/proxy.yaml"};
	const char *texts[2];
	char *dir = test_mkdtemp();
	struct secret_store s;
	char *bad = NULL;

	(void)state;
	assert_non_null(at);
	edited = xasprintf("%.*sgenerate: false\n        %s", (int)(at - text),
			   text, at);
	texts[0] = test_read("recipes/bases.yaml");
	texts[1] = edited;
	assert_int_equal(recipe_set_load_texts(".", names, texts, 2, &set, &d),
			 0);
	assert_int_equal(
		secrets_load(dir, recipe_find_vm(set, "proxy"), &s, &bad),
		-ENOENT);
	assert_non_null(strstr(bad, "proxy/pihole-password"));
	free(bad);
	free((char *)texts[0]);
	free(edited);
	free(text);
	diag_list_free(d);
	recipe_set_free(set);
	test_rmdir(dir);
}

static void
test_random_password(void **state)
{
	CLEANUP_FREE char *a = NULL;
	CLEANUP_FREE char *b = NULL;

	(void)state;
	assert_int_equal(secret_random_password(&a), 0);
	assert_int_equal(secret_random_password(&b), 0);
	assert_int_equal(strlen(a), 24);
	for (const char *p = a; *p; p++)
		assert_true(isalnum((unsigned char)*p));
	assert_string_not_equal(a, b);
}

static void
test_hash(void **state)
{
	CLEANUP_FREE char *h1 = NULL;
	CLEANUP_FREE char *h2 = NULL;

	(void)state;
	assert_int_equal(password_hash("correct horse", &h1), 0);
	assert_int_equal(password_hash("correct horse", &h2), 0);
	assert_true(str_starts_with(h1, "$y$"));
	assert_string_not_equal(h1, h2); /* fresh salts */
	assert_int_equal(password_verify("correct horse", h1), 0);
	assert_int_equal(password_verify("correct horse", h2), 0);
	assert_int_equal(password_verify("wrong horse", h1), -EACCES);
	assert_int_equal(password_verify("x", "not a hash"), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_and_reuse),
		cmocka_unit_test(test_refuse_readable),
		cmocka_unit_test(test_not_generated),
		cmocka_unit_test(test_random_password),
		cmocka_unit_test(test_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
