/* The users step: accounts, groups and passwords in the guest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bake-int.h"

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

/* Replaces field 2 of name's line in /etc/shadow. */
static int
set_shadow(struct bake *b, struct vmjob *j, const struct user *u,
	   const char *hash)
{
	CLEANUP_FREE char *sh = NULL, *out = NULL;
	int r = image_read(b->im, "/etc/shadow", &sh, NULL);

	if (r < 0)
		return bake_fail(b, u->pos, r, "cannot read '/etc/shadow': %s",
				 image_error(b->im));
	if (shadow_set(sh, u->name, hash, &out) < 0)
		return bake_fail(b, u->pos, -ENOENT,
				 "user '%s' is missing from '/etc/shadow'",
				 u->name);
	r = image_write(b->im, "/etc/shadow", out, strlen(out));
	if (r < 0)
		return bake_fail(b, u->pos, r, "cannot write '/etc/shadow': %s",
				 image_error(b->im));
	/* Random salts and change dates: listed, content left out. */
	job_wrote(j, "/etc/shadow", false);
	return 0;
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

int
bake_step_users(struct bake *b, struct vmjob *j)
{
	const struct vm *vm = j->vm;
	struct accounts a = {0};
	int r = acct_load(b, j, &a);

	for (size_t i = 0; r == 0 && i < vm->nusers; i++) {
		const struct user *u = &vm->users[i];
		CLEANUP_FREE char *hash = NULL;
		struct strbuf groups = STRBUF_INIT;
		int id;

		/* Supplementary groups the guest lacks are created. */
		for (size_t k = 0; r == 0 && k < u->groups.n; k++) {
			const char *argv[] = {"groupadd", u->groups.v[k], NULL};

			sb_printf(&groups, "%s%s", k ? "," : "",
				  u->groups.v[k]);
			if (acct_lookup(a.group, u->groups.v[k], &id, NULL,
					NULL) == 0)
				continue;
			r = bake_guest_cmd(b, u->groups.pos[k], "groupadd",
					   argv);
			if (r == 0)
				r = acct_load(b, j, &a);
		}
		if (r == 0 &&
		    acct_lookup(a.passwd, u->name, &id, NULL, NULL) < 0) {
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
			r = bake_guest_cmd(b, u->pos, "useradd", argv);
		} else if (r == 0 && groups.len > 0) {
			const char *argv[] = {"usermod",  "-a",	   "-G",
					      groups.buf, u->name, NULL};

			r = bake_guest_cmd(b, u->pos, "usermod", argv);
		}
		sb_release(&groups);
		if (r == 0)
			r = acct_load(b, j, &a);
		if (r < 0)
			break;
		job_wrote(j, "/etc/passwd", true);
		job_wrote(j, "/etc/group", true);
		{
			CLEANUP_FREE char *home = NULL;

			if (acct_lookup(a.passwd, u->name, &id, NULL, &home) ==
				    0 &&
			    home != NULL && *home == '/')
				job_wrote(j, home, true);
		}
		r = user_password_hash(j, u, &hash);
		if (r < 0) {
			r = bake_fail(b, u->pos, r,
				      "no password hash for user '%s': %s",
				      u->name, strerror(-r));
			break;
		}
		r = set_shadow(b, j, u, hash != NULL ? hash : "!");
		if (r == 0)
			r = user_check(b, u, &a);
	}
	acct_release(&a);
	return r;
}
