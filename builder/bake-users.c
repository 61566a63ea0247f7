/* The users step: accounts, groups and passwords in the guest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bake-int.h"
#include "escape.h"
#include "shadow.h"

/* The crypt(3) hash for a user's shadow entry, or NULL to leave the
 * account locked. */
static int
user_password_hash(struct vmjob *j, const struct user *u, char **ret)
{
	CLEANUP_FREE char *name = NULL;
	const char *pw;

	*ret = NULL;
	switch (u->password) {
	case PASSWORD_LOCKED:
		return 0;
	case PASSWORD_HASH:
		*ret = xstrdup(u->password_hash);
		return 0;
	case PASSWORD_RANDOM:
		name = xasprintf("user:%s", u->name);
		pw = secret_store_get(&j->secrets, name);
		if (pw == NULL)
			return -ENOENT;
		return password_hash(pw, ret);
	}
	return -EINVAL;
}

/* The user's sudoers entry and baked keys are rendered files (render-users.c),
 * written by the files step; here only check the account exists. */
static int
user_check(struct bake *b, const struct user *u, const struct accounts *a)
{
	CLEANUP_FREE char *home = NULL;
	int uid, gid;

	if (acct_lookup(a->passwd, u->name, &uid, &gid, &home) < 0)
		return bake_fail(b, u->pos, -ENOENT,
				 "user '%s' was not created in the guest",
				 u->name);
	return 0;
}

/* One shell line, failing with a marker naming the user that asked.  A
 * groupadd runs only when the group is still missing then: an earlier
 * useradd may have made it (the user's own group). */
static void
script_line(struct strbuf *sh, const char *const *argv, size_t who)
{
	if (strcmp(argv[0], "groupadd") == 0) {
		sb_puts(sh, "getent group ");
		esc_sh_quote(sh, argv[1]);
		sb_puts(sh, " >/dev/null || ");
	}
	for (size_t i = 0; argv[i] != NULL; i++) {
		sb_puts(sh, i ? " " : "");
		esc_sh_quote(sh, argv[i]);
	}
	sb_printf(sh,
		  " || { echo 'sbx-build: failed for user %zu' >&2; "
		  "exit 1; }\n",
		  who);
}

/* The groupadd, useradd and usermod lines every user needs, in order;
 * the accounts database a is what the guest holds before them. */
static void
users_script(const struct vm *vm, const struct accounts *a, struct strbuf *sh)
{
	struct strbuf made = STRBUF_INIT; /* ",g1,g2," scheduled groups */
	int id;

	sb_puts(&made, ",");
	for (size_t i = 0; i < vm->nusers; i++) {
		const struct user *u = &vm->users[i];
		struct strbuf groups = STRBUF_INIT;

		for (size_t k = 0; k < u->groups.n; k++) {
			const char *g = u->groups.v[k];
			CLEANUP_FREE char *tag = xasprintf(",%s,", g);
			const char *argv[] = {"groupadd", g, NULL};

			sb_printf(&groups, "%s%s", k ? "," : "", g);
			if (acct_lookup(a->group, g, &id, NULL, NULL) == 0 ||
			    strstr(made.buf, tag) != NULL)
				continue;
			script_line(sh, argv, i);
			sb_printf(&made, "%s,", g);
		}
		if (acct_lookup(a->passwd, u->name, &id, NULL, NULL) < 0) {
			const char *argv[10];
			size_t n = 0;

			argv[n++] = "useradd";
			argv[n++] = "-m";
			if (u->shell != NULL) {
				argv[n++] = "-s";
				argv[n++] = u->shell;
			}
			if (groups.len > 0) {
				argv[n++] = "-G";
				argv[n++] = groups.buf;
			}
			argv[n++] = u->name;
			argv[n] = NULL;
			script_line(sh, argv, i);
		} else if (groups.len > 0) {
			const char *argv[] = {"usermod",  "-a",	   "-G",
					      groups.buf, u->name, NULL};

			script_line(sh, argv, i);
		}
		sb_release(&groups);
	}
	sb_release(&made);
}

/* Runs the script in the guest: one command for every user. */
static int
run_script(struct bake *b, struct vmjob *j, const char *sh)
{
	const struct vm *vm = j->vm;
	const char *argv[] = {"/bin/sh", "-c", sh, NULL};
	const char *at;
	size_t who = 0;
	int r = image_command(b->im, argv, NULL);

	acct_release(&j->acct); /* changed: read again */
	if (r == 0)
		return 0;
	at = strstr(image_error(b->im), "failed for user ");
	if (at != NULL)
		who = strtoul(at + strlen("failed for user "), NULL, 10);
	if (who >= vm->nusers)
		who = 0;
	return bake_fail(b, vm->users[who].pos, r,
			 "cannot create user '%s' (groupadd, useradd, "
			 "usermod): %s",
			 vm->users[who].name, image_error(b->im));
}

/* Every user's password field in /etc/shadow, read and written once. */
static int
set_passwords(struct bake *b, struct vmjob *j)
{
	const struct vm *vm = j->vm;
	CLEANUP_FREE char *sh = NULL;
	int r = image_read(b->im, "/etc/shadow", &sh, NULL);

	if (r < 0)
		return bake_fail(b, vm->pos, r, "cannot read '/etc/shadow': %s",
				 image_error(b->im));
	for (size_t i = 0; i < vm->nusers; i++) {
		const struct user *u = &vm->users[i];
		CLEANUP_FREE char *hash = NULL;
		char *out = NULL;

		r = user_password_hash(j, u, &hash);
		if (r < 0)
			return bake_fail(b, u->pos, r,
					 "no password hash for user '%s': %s",
					 u->name, strerror(-r));
		if (shadow_set(sh, u->name, hash != NULL ? hash : "!", &out) <
		    0)
			return bake_fail(b, u->pos, -ENOENT,
					 "user '%s' is missing from "
					 "'/etc/shadow'",
					 u->name);
		free(sh);
		sh = out;
	}
	r = image_write(b->im, "/etc/shadow", sh, strlen(sh));
	if (r < 0)
		return bake_fail(b, vm->pos, r,
				 "cannot write '/etc/shadow': %s",
				 image_error(b->im));
	/* Random salts and change dates: listed, content left out. */
	job_wrote(j, "/etc/shadow", false);
	return 0;
}

int
bake_step_users(struct bake *b, struct vmjob *j)
{
	const struct vm *vm = j->vm;
	struct accounts a = {0};
	struct strbuf sh = STRBUF_INIT;
	int r = acct_load(b, j, &a);

	if (r == 0)
		users_script(vm, &a, &sh);
	if (r == 0 && sh.len > 0)
		r = run_script(b, j, sh.buf);
	sb_release(&sh);
	if (r == 0 && vm->nusers > 0) {
		/* Listed before they are read back: listing them drops the
		 * accounts kept in j (acct_load). */
		job_wrote(j, "/etc/passwd", true);
		job_wrote(j, "/etc/group", true);
		r = acct_load(b, j, &a);
	}
	for (size_t i = 0; r == 0 && i < vm->nusers; i++) {
		CLEANUP_FREE char *home = NULL;
		int id;

		r = user_check(b, &vm->users[i], &a);
		if (r < 0)
			break;
		if (acct_lookup(a.passwd, vm->users[i].name, &id, NULL,
				&home) == 0 &&
		    home != NULL && *home == '/')
			job_wrote(j, home, true);
	}
	if (r == 0 && vm->nusers > 0)
		r = set_passwords(b, j);
	acct_release(&a);
	return r;
}
